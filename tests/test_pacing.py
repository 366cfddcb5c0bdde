"""PacedRateLimiter: sliding windows never overfilled, near the limit, 429s waited out in order.

Most tests drive the limiter directly with a fake wire that timestamps each request as it
arrives (and answers 429 on demand, holds requests up on the way, loses answers); the last few
run PTB's ExtBot against the emulator. Windows are shortened (``ShortMinute``, ``Blink``,
``Tenth``) so a test runs in seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest
from telegram.error import NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.emulator import BotApiEmulator, Limits
from bot.pacing import (
    PAUSE_MARGIN,
    PacedRateLimiter,
    RateLimitArgs,
    Result,
    chat_key,
    is_group,
)

SHARE = 0.95
# asyncio's timers may wake a little early or late; a pause is checked with this much slack.
SLACK = 0.02
# How a reminder fan-out marks its sends.
BULK: RateLimitArgs = {"bulk": True}


class ShortMinute(PacedRateLimiter):
    """Counts a group's messages per second instead of per minute."""

    GROUP_WINDOW = 1.0


class Blink(PacedRateLimiter):
    """Counts a group's messages per fifth of a second."""

    GROUP_WINDOW = 0.2


class Tenth(PacedRateLimiter):
    """Counts all messages per tenth of a second instead of per second."""

    OVERALL_WINDOW = 0.1


class Wire:
    """A fake Bot API call: records when each request arrived, answers 429 when told to.

    A request may be held up on the way: for a while of its own (``late``), or while the
    ``road`` is closed. ``sent`` then records when it arrived, as Telegram counts it. An
    arrived request's answer may be lost (``lose``: a NetworkError) or never come (``hang``).
    """

    def __init__(self, delay: float = 0.005, seed: int | None = None) -> None:
        self.delay = delay
        self.random = random.Random(seed) if seed is not None else None
        self.sent: list[tuple[object, int, float]] = []  # accepted: chat, number, time
        self.attempts: list[tuple[object, int, float]] = []  # every call, rejected ones too
        self.refuse: dict[tuple[object, int], list[float]] = {}  # retry_after seconds to give
        self.refused_at: list[float] = []
        self.refused = asyncio.Event()
        self.active = 0
        self.most_active = 0
        self.late: dict[tuple[object, int], float] = {}  # seconds on the way
        self.road = asyncio.Event()
        self.road.set()
        self.lose: set[tuple[object, int]] = set()
        self.hang: set[tuple[object, int]] = set()
        self.arrived = asyncio.Event()

    def refuse_next(self, chat: object, number: int, *retry_after: float) -> None:
        """Answer the next calls for this message with 429 and these retry_after seconds."""
        self.refuse[(chat, number)] = list(retry_after)

    async def __call__(self, chat: object, number: int) -> Result:
        loop = asyncio.get_running_loop()
        if (chat, number) in self.late:
            await asyncio.sleep(self.late[chat, number])
        await self.road.wait()
        now = loop.time()
        self.attempts.append((chat, number, now))
        pending = self.refuse.get((chat, number))
        if pending:
            self.refused_at.append(now)
            self.refused.set()
            raise RetryAfter(timedelta(seconds=pending.pop(0)))
        self.sent.append((chat, number, now))
        self.arrived.set()
        if (chat, number) in self.lose:
            raise NetworkError("answer lost")
        if (chat, number) in self.hang:
            await asyncio.Event().wait()
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            delay = self.delay if self.random is None else self.random.uniform(0, self.delay)
            await asyncio.sleep(delay)
        finally:
            self.active -= 1
        return {"chat": chat, "number": number}

    async def until_sent(self, count: int, chat: object | None = None) -> None:
        """Wait until this many requests (to one chat or all) have arrived."""
        while len(self.times(chat)) < count:
            self.arrived.clear()
            await self.arrived.wait()

    def times(self, chat: object | None = None) -> list[float]:
        """When the accepted requests went out, for one chat or all."""
        return [at for c, _, at in self.sent if chat is None or c == chat]

    def order(self, chat: object) -> list[int]:
        """The numbers of one chat's accepted requests, in the order they went out."""
        return [number for c, number, _ in self.sent if c == chat]


async def send(
    limiter: PacedRateLimiter,
    wire: Wire,
    chat: object,
    number: int,
    endpoint: str = "sendMessage",
    rate_limit_args: RateLimitArgs | None = None,
) -> Result:
    """One request through the limiter, as ExtBot makes it."""
    data: dict[str, object] = {"text": f"#{number}"}
    if chat is not None:
        data["chat_id"] = chat
    return await limiter.process_request(wire, (chat, number), {}, endpoint, data, rate_limit_args)


def most_in_window(times: Sequence[float], window: float) -> int:
    """The most requests in any window of ``window`` seconds, both ends included."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] > window:
            first += 1
        most = max(most, last - first + 1)
    return most


def sustained_share(times: Sequence[float], limit: float, window: float) -> float:
    """The rate between the first and the last request, as a share of limit per window."""
    ordered = sorted(times)
    return (len(ordered) - 1) / (ordered[-1] - ordered[0]) / (limit / window)


def share_of_least(times: Sequence[float], limit: int, window: float) -> float:
    """The least time a sliding window allows for these sends, over the time they took.

    As in bench/outbound.py: a window's worth may go at once, then the rest at the window's
    rate.
    """
    least = (len(times) - limit) * window / limit
    return least / (max(times) - min(times))


async def test_group_messages_fill_each_groups_window_but_never_overfill_it() -> None:
    limiter = ShortMinute(overall_per_second=5000, group_per_minute=50)
    wire = Wire(delay=0)  # a group's requests go one at a time: replies would add up
    groups = [-1001, -1002]
    jobs = [send(limiter, wire, g, n) for n in range(100) for g in groups]
    results = await asyncio.gather(*jobs)
    assert results == [{"chat": g, "number": n} for n in range(100) for g in groups]
    for group in groups:
        times = wire.times(group)
        assert most_in_window(times, 1.0) <= 50
        assert share_of_least(times, 50, 1.0) >= 0.85
        assert wire.order(group) == list(range(100))


async def test_overall_pace_holds_right_after_a_quiet_spell() -> None:
    # A bucket of a second's worth would let 40 out at once, and nearly 40 more 0.3 s later.
    limiter = PacedRateLimiter(overall_per_second=60, in_flight=4)
    wire = Wire(delay=0.02)
    await asyncio.gather(*(send(limiter, wire, chat, 0) for chat in range(1, 41)))
    await asyncio.sleep(0.3)
    await asyncio.gather(*(send(limiter, wire, chat, 1) for chat in range(1, 41)))
    times = wire.times()
    assert len(times) == 80
    assert most_in_window(times, 1.0) <= 60
    assert sustained_share(times[:40], 60, 1.0) >= 0.85
    assert sustained_share(times[40:], 60, 1.0) >= 0.85
    assert wire.most_active <= 4


async def test_a_groups_window_counts_from_when_its_messages_went_out() -> None:
    # The group's messages queue behind a fan-out; slots handed out while they waited would
    # let them all out together when it drains.
    limiter = Blink(overall_per_second=100, group_per_minute=10)
    wire = Wire()
    fan_out = [send(limiter, wire, chat, 0) for chat in range(1, 51)]
    cards = [send(limiter, wire, -1001, n) for n in range(12)]
    await asyncio.gather(*fan_out, *cards)
    assert len(wire.sent) == 62
    assert most_in_window(wire.times(-1001), Blink.GROUP_WINDOW) <= 10
    assert most_in_window(wire.times(), 1.0) <= 100
    assert wire.order(-1001) == list(range(12))


async def test_messages_held_up_on_the_way_never_overfill_the_window_they_land_in() -> None:
    # While the road is closed, the requests in flight pile up, and they all arrive when it
    # opens. Reckoned from when they went out, the pace would send a second's worth on top.
    limiter = PacedRateLimiter(overall_per_second=60, in_flight=16)
    wire = Wire(delay=0.002)
    jobs = [asyncio.create_task(send(limiter, wire, chat, 0)) for chat in range(1, 151)]
    await wire.until_sent(40)
    wire.road.clear()
    await asyncio.sleep(0.4)
    opened = asyncio.get_running_loop().time()
    wire.road.set()
    await asyncio.gather(*jobs)
    times = wire.times()
    assert len(times) == 150
    assert len([at for at in times if opened <= at < opened + 0.01]) >= 10  # they bunched
    assert most_in_window(times, 1.0) <= 60


async def test_a_window_full_of_sends_in_flight_waits_for_their_answers() -> None:
    # Five a second. The first five are slow to arrive, so the window is full of sends in
    # flight; the quick ones after them must not land in the same second.
    limiter = PacedRateLimiter(overall_per_second=5, in_flight=16)
    wire = Wire(delay=0.002)
    for chat in range(1, 6):
        wire.late[chat, 0] = 0.8
    results = await asyncio.gather(*(send(limiter, wire, chat, 0) for chat in range(1, 11)))
    assert results == [{"chat": chat, "number": 0} for chat in range(1, 11)]
    assert most_in_window(wire.times(), 1.0) <= 5


async def test_a_groups_window_counts_from_the_answers_to_its_messages() -> None:
    # The first card is slow to arrive; the next, quick, must still keep out of its window.
    limiter = Blink(overall_per_second=100, group_per_minute=1)
    wire = Wire(delay=0)
    wire.late[-1001, 0] = 0.3
    await asyncio.gather(*(send(limiter, wire, -1001, n) for n in range(3)))
    times = wire.times(-1001)
    assert wire.order(-1001) == [0, 1, 2]
    assert most_in_window(times, Blink.GROUP_WINDOW) <= 1


async def test_refused_lost_and_cancelled_sends_give_their_place_back() -> None:
    # One message per window: a place kept by any of these would hold every later send.
    limiter = Tenth(overall_per_second=1, in_flight=4, max_retries=2)
    wire = Wire(delay=0)
    wire.refuse_next(1, 0, 0.01, 0.01)
    wire.lose.add((2, 0))
    wire.hang.add((3, 0))
    assert await send(limiter, wire, 1, 0) == {"chat": 1, "number": 0}
    with pytest.raises(NetworkError):
        await send(limiter, wire, 2, 0)
    hung = asyncio.create_task(send(limiter, wire, 3, 0))
    queued = asyncio.create_task(send(limiter, wire, 3, 1))  # waits for the chat's turn
    await wire.until_sent(1, chat=3)
    hung.cancel()
    queued.cancel()
    await asyncio.gather(hung, queued, return_exceptions=True)
    later = [send(limiter, wire, 3, 2), *(send(limiter, wire, chat, 1) for chat in (1, 2, 4))]
    results = await asyncio.wait_for(asyncio.gather(*later), timeout=10)
    assert results == [{"chat": chat, "number": n} for chat, n in [(3, 2), (1, 1), (2, 1), (4, 1)]]
    assert wire.order(3) == [0, 2]
    assert most_in_window(wire.times(), Tenth.OVERALL_WINDOW) <= 1


async def test_a_chats_next_message_goes_before_a_fan_out_queued_after_it() -> None:
    limiter = PacedRateLimiter(overall_per_second=100, in_flight=2)
    wire = Wire(delay=0.02)
    first = [send(limiter, wire, 1, n) for n in range(2)]
    fan_out = [send(limiter, wire, chat, 0) for chat in range(2, 42)]
    await asyncio.gather(*first, *fan_out)
    # The second waits for the first's answer, then takes the next free slot by arrival.
    assert [chat for chat, _, _ in wire.sent].index(1, 1) <= 4


async def bulk_fan_out(
    limiter: PacedRateLimiter, wire: Wire, chats: range, started: int
) -> list[asyncio.Task[Result]]:
    """A reminder round: one bulk message to each chat, all queued at once; returns once
    ``started`` of them have arrived."""
    fan_out = [
        asyncio.create_task(send(limiter, wire, chat, 0, rate_limit_args=BULK)) for chat in chats
    ]
    await wire.until_sent(started)
    return fan_out


async def stop(tasks: list[asyncio.Task[Result]]) -> None:
    """Cancel what is left of a fan-out and wait until it is gone."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_urgent_message_goes_before_a_thousand_bulk_ones_queued_ahead_of_it() -> None:
    limiter = PacedRateLimiter(overall_per_second=100)
    wire = Wire(delay=0.02)
    fan_out = await bulk_fan_out(limiter, wire, range(1, 1001), started=20)
    loop = asyncio.get_running_loop()
    issued, ahead = loop.time(), len(wire.sent)
    # Behind the fan-out it would wait ten seconds.
    assert await asyncio.wait_for(send(limiter, wire, 5000, 0), timeout=2) == {
        "chat": 5000,
        "number": 0,
    }
    assert loop.time() - issued < PacedRateLimiter.OVERALL_WINDOW
    # Only the sends already at the wire went before it.
    assert [chat for chat, _, _ in wire.sent].index(5000) - ahead <= 4
    await stop(fan_out)
    assert most_in_window(wire.times(), 1.0) <= 100


async def test_an_urgent_message_hurries_the_bulk_one_holding_its_chats_turn() -> None:
    # Chat 900's reminder is queued near the end of the fan-out; the claimer's details for
    # that chat wait for it to go first, so it goes at once too.
    limiter = PacedRateLimiter(overall_per_second=100)
    wire = Wire(delay=0.02)
    fan_out = await bulk_fan_out(limiter, wire, range(1, 1001), started=20)
    issued = asyncio.get_running_loop().time()
    details = send(limiter, wire, 900, 1)
    assert await asyncio.wait_for(details, timeout=2) == {"chat": 900, "number": 1}
    assert wire.order(900) == [0, 1]
    assert wire.times(900)[1] - issued < PacedRateLimiter.OVERALL_WINDOW
    assert len([at for at in wire.times() if at < wire.times(900)[0]]) < 40
    await stop(fan_out)


async def test_in_a_group_urgent_messages_go_before_its_waiting_bulk_ones_within_its_window() -> (
    None
):
    limiter = Blink(overall_per_second=1000, group_per_minute=2)
    wire = Wire(delay=0)
    bulk = [send(limiter, wire, -1001, n, rate_limit_args=BULK) for n in range(4)]
    urgent = [send(limiter, wire, -1001, n) for n in (4, 5)]
    await asyncio.gather(*bulk, *urgent)
    # The first bulk message held the group's turn; the edits go next, in their own order.
    assert wire.order(-1001) == [0, 4, 5, 1, 2, 3]
    assert most_in_window(wire.times(-1001), Blink.GROUP_WINDOW) <= 2


async def test_bulk_fills_the_pipe_around_urgent_messages_and_keeps_the_limit() -> None:
    limiter = PacedRateLimiter(overall_per_second=200)
    wire = Wire(delay=0.02, seed=3)
    loop = asyncio.get_running_loop()
    fan_out = [send(limiter, wire, chat, 0, rate_limit_args=BULK) for chat in range(1, 601)]

    async def details(chat: int) -> float:
        await asyncio.sleep(0.25 * (chat - 10_000))
        issued = loop.time()
        await send(limiter, wire, chat, 1)
        return loop.time() - issued

    probes = asyncio.gather(*(details(chat) for chat in range(10_001, 10_011)))
    await asyncio.gather(*fan_out)
    waits = await probes
    times = wire.times()
    assert len(times) == 610 and len(set(wire.sent)) == 610
    assert max(waits) < 0.2  # against about 2.5 s behind the fan-out
    assert most_in_window(times, 1.0) <= 200
    assert sustained_share(times, 200, 1.0) >= 0.9


async def test_tap_answers_and_reads_pass_at_once_during_a_429_pause() -> None:
    limiter = PacedRateLimiter()
    wire = Wire()
    wire.refuse_next(1, 0, 0.5)
    refused = asyncio.create_task(send(limiter, wire, 1, 0))
    await wire.refused.wait()
    await asyncio.sleep(0)  # the limiter takes the 429 in and starts the pause
    started = asyncio.get_running_loop().time()
    held = asyncio.create_task(send(limiter, wire, 1, 1))
    assert await send(limiter, wire, None, 1, "answerCallbackQuery") == {"chat": None, "number": 1}
    assert await send(limiter, wire, None, 2, "getMe")
    assert await send(limiter, wire, -1001, 3, "getChatMember")
    answered = asyncio.get_running_loop().time() - started
    assert answered < 0.1
    assert not held.done()
    assert await refused == {"chat": 1, "number": 0}
    assert await held == {"chat": 1, "number": 1}
    pause_end = wire.refused_at[0] + 0.5 + PAUSE_MARGIN - SLACK
    assert min(wire.times(1)) >= pause_end


async def test_a_groups_429_is_waited_out_by_that_group_alone() -> None:
    limiter = ShortMinute(overall_per_second=100, group_per_minute=100, max_retries=2)
    wire = Wire()
    wire.refuse_next(-1001, 0, 0.3, 0.3)
    first = asyncio.create_task(send(limiter, wire, -1001, 0))
    await wire.refused.wait()
    next_card = asyncio.create_task(send(limiter, wire, -1001, 1))
    others = [send(limiter, wire, chat, 0) for chat in (1, 2, 3, -1002)]
    await asyncio.gather(*others)
    assert not first.done() and not next_card.done()
    assert await first == {"chat": -1001, "number": 0}
    assert await next_card == {"chat": -1001, "number": 1}
    attempts = [at for chat, _, at in wire.attempts if chat == -1001]
    assert len(attempts) == 4
    pause = 0.3 + PAUSE_MARGIN - SLACK
    assert attempts[1] - attempts[0] >= pause and attempts[2] - attempts[1] >= pause
    assert wire.order(-1001) == [0, 1]
    # The private chats and the other group went during the pause, not after it.
    assert max(at for chat, _, at in wire.sent if chat != -1001) < wire.refused_at[0] + 0.1


async def test_a_private_chats_429_pauses_that_chat_alone() -> None:
    limiter = PacedRateLimiter(overall_per_second=1000)
    wire = Wire()
    wire.refuse_next(1, 0, 0.5)
    refused = asyncio.create_task(send(limiter, wire, 1, 0))
    await wire.refused.wait()
    await asyncio.gather(*(send(limiter, wire, chat, 0) for chat in range(2, 12)))
    others_done = asyncio.get_running_loop().time()
    assert not refused.done()
    assert await refused == {"chat": 1, "number": 0}
    assert others_done - wire.refused_at[0] < 0.2
    assert wire.times(1)[0] - wire.refused_at[0] >= 0.5 + PAUSE_MARGIN - SLACK


async def test_429s_in_two_chats_at_once_pause_every_chat() -> None:
    # Telegram does not say which limit a 429 is for: two chats refused together are taken
    # as the bot's overall limit.
    limiter = PacedRateLimiter()
    wire = Wire()
    wire.refuse_next(1, 0, 0.4)
    wire.refuse_next(-1001, 0, 0.4)
    first = asyncio.create_task(send(limiter, wire, 1, 0))
    await wire.refused.wait()
    wire.refused.clear()
    second = asyncio.create_task(send(limiter, wire, -1001, 0))
    await wire.refused.wait()
    await asyncio.sleep(0)  # the limiter takes the second 429 in
    assert await send(limiter, wire, 2, 0) == {"chat": 2, "number": 0}
    await asyncio.gather(first, second)
    assert wire.times(2)[0] >= wire.refused_at[1] + 0.4 + PAUSE_MARGIN - SLACK


async def test_a_private_chats_messages_go_an_interval_after_the_last_answer() -> None:
    limiter = PacedRateLimiter(overall_per_second=1000, private_per_second=5)
    wire = Wire(delay=0.05)
    chat_sends = asyncio.gather(*(send(limiter, wire, 7, n) for n in range(4)))
    await wire.until_sent(1, chat=7)
    others = await asyncio.gather(*(send(limiter, wire, chat, 0) for chat in (8, 9, -1001)))
    others_done = asyncio.get_running_loop().time()
    assert others == [{"chat": chat, "number": 0} for chat in (8, 9, -1001)]
    assert await chat_sends == [{"chat": 7, "number": n} for n in range(4)]
    times = wire.times(7)
    assert wire.order(7) == [0, 1, 2, 3]
    # Each one waits for the answer to the one before (0.05 s) and then 0.2 s more.
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.2 + 0.05 - SLACK
    # Other chats are not held back by it.
    assert others_done - times[0] < 0.2


async def test_retries_run_out_and_the_429_reaches_the_caller() -> None:
    limiter = PacedRateLimiter(max_retries=2)
    wire = Wire()
    cases: list[tuple[int, RateLimitArgs | None, int]] = [
        (1, None, 3),
        (2, 0, 1),
        (3, 1, 2),
        (4, {"bulk": True, "max_retries": 1}, 2),
        (5, BULK, 3),
    ]
    for chat, retries, calls in cases:
        wire.refuse_next(chat, 0, *[0.05] * 5)
        with pytest.raises(RetryAfter):
            await send(limiter, wire, chat, 0, rate_limit_args=retries)
        assert len([a for a in wire.attempts if a[0] == chat]) == calls
    # An answer to a tap is never retried: late, it is refused anyway.
    wire.refuse_next(None, 9, 0.05)
    with pytest.raises(RetryAfter):
        await send(limiter, wire, None, 9, "answerCallbackQuery")
    assert len([a for a in wire.attempts if a[:2] == (None, 9)]) == 1
    assert not wire.sent


async def test_a_reads_own_429_is_retried_without_pausing_messages() -> None:
    limiter = PacedRateLimiter()
    wire = Wire()
    wire.refuse_next(None, 0, 0.3)
    read = asyncio.create_task(send(limiter, wire, None, 0, "getMe"))
    await wire.refused.wait()
    started = asyncio.get_running_loop().time()
    assert await send(limiter, wire, 1, 0) == {"chat": 1, "number": 0}
    assert asyncio.get_running_loop().time() - started < 0.1
    assert await read == {"chat": None, "number": 0}
    read_at = [at for chat, _, at in wire.sent if chat is None]
    assert read_at[0] - wire.refused_at[0] >= 0.3 + PAUSE_MARGIN - SLACK


async def test_each_chat_keeps_its_order_through_429s_and_uneven_replies() -> None:
    limiter = ShortMinute(overall_per_second=300, group_per_minute=300)
    wire = Wire(delay=0.01, seed=7)
    chats = [11, 12, -1001]
    wire.refuse_next(11, 0, 0.1)
    wire.refuse_next(-1001, 3, 0.1)
    wire.refuse_next(12, 7, 0.1, 0.1)
    jobs = [send(limiter, wire, chat, n) for n in range(15) for chat in chats]
    results = await asyncio.gather(*jobs)
    assert results == [{"chat": chat, "number": n} for n in range(15) for chat in chats]
    for chat in chats:
        assert wire.order(chat) == list(range(15))


async def test_usernames_and_numeric_strings_are_paced_as_groups() -> None:
    assert chat_key("@volunteers") == "@volunteers" and is_group("@volunteers")
    assert chat_key("-100123") == -100123 and is_group(-100123)
    assert chat_key(42) == 42 and not is_group(42)
    assert chat_key(None) is None
    limiter = Blink(overall_per_second=1000, group_per_minute=2)
    wire = Wire(delay=0)
    for chats in (["@volunteers"] * 3, [-100123, "-100123", -100123], [42] * 3):
        await asyncio.gather(*(send(limiter, wire, chat, n) for n, chat in enumerate(chats)))
    at = [sent_at for _, _, sent_at in wire.sent]
    window = 0.2 / SHARE
    # Two per window: the third waits for the first to leave it; a private chat does not.
    assert at[2] - at[0] >= window - SLACK
    assert at[5] - at[3] >= window - SLACK
    assert at[8] - at[6] < 0.05


@pytest.mark.parametrize(
    "rate_limit_args", [{"bluk": True}, {"bulk": True, "max_retries": -1}, {"max_retries": "2"}]
)
async def test_rate_limit_args_it_cannot_read_are_refused(rate_limit_args: RateLimitArgs) -> None:
    wire = Wire()
    with pytest.raises(ValueError, match="rate_limit_args"):
        await send(PacedRateLimiter(), wire, 1, 0, rate_limit_args=rate_limit_args)
    assert not wire.attempts


@pytest.mark.parametrize(
    "settings",
    [
        {"share": 0},
        {"share": 1.2},
        {"overall_per_second": 0},
        {"group_per_minute": -1},
        {"max_retries": -1},
        {"in_flight": 0},
        {"private_per_second": 0},
    ],
)
def test_settings_out_of_range_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        PacedRateLimiter(**settings)  # type: ignore[arg-type]


async def test_extbot_against_the_emulator_sends_at_the_paced_rate() -> None:
    limits = Limits(overall_per_second=20, group_per_minute=None, private_per_second=None)
    async with BotApiEmulator(token="123456:TEST", limits=limits) as emu:
        users = [emu.user(n, f"Volunteer {n}") for n in range(1, 7)]
        for user in users:
            await user.start_bot()
        limiter = PacedRateLimiter(overall_per_second=20, share=SHARE)
        async with ExtBot(emu.token, base_url=emu.base_url, rate_limiter=limiter) as bot:
            started = time.monotonic()
            await asyncio.gather(
                *(bot.send_message(u.user_id, f"{n}") for n in range(10) for u in users)
            )
            elapsed = time.monotonic() - started
        assert emu.flood_rejections <= 1
        for user in users:
            assert [m.text for m in user.private_messages()] == [f"{n}" for n in range(10)]
        sent = [c.time for c in emu.calls if c.method == "sendMessage" and c.status == 200]
        assert most_in_window(sent, 1.0) <= 20
    least = 60 / (20 * SHARE)
    assert 0.9 * least <= elapsed <= 1.1 * least


async def test_extbot_answers_a_tap_at_once_while_it_waits_out_a_real_429() -> None:
    # The emulator allows 4 a second, the limiter is told 20: the fifth message earns a 429.
    limits = Limits(overall_per_second=4, group_per_minute=None, private_per_second=None)
    async with BotApiEmulator(token="123456:TEST", limits=limits) as emu:
        users = [emu.user(n, f"Volunteer {n}") for n in range(1, 4)]
        for user in users:
            await user.start_bot()
        limiter = PacedRateLimiter(overall_per_second=20, max_retries=3)
        async with ExtBot(emu.token, base_url=emu.base_url, rate_limiter=limiter) as bot:
            sends = [
                asyncio.create_task(bot.send_message(u.user_id, f"{n}"))
                for n in range(2)
                for u in users
            ]
            await emu.wait_for(lambda: emu.flood_rejections > 0, timeout=5)
            await asyncio.sleep(0.1)  # the limiter has read the 429 and is pausing
            query = await users[0].tap(users[0].private_messages()[0], "c:1")
            started = time.monotonic()
            assert await bot.answer_callback_query(query, "Yours")
            answered = time.monotonic() - started
            delivered_then = emu.count("sendMessage", 200)
            await asyncio.gather(*sends)
        assert answered < 0.3
        assert delivered_then < 6
        assert (await emu.wait_callback_answer(query, timeout=1))["text"] == "Yours"
        for user in users:
            assert [m.text for m in user.private_messages()] == ["0", "1"]


async def test_extbot_sends_a_reply_before_the_reminders_queued_ahead_of_it() -> None:
    # PTB hands ``rate_limit_args`` to the limiter as given: the reminders are bulk.
    limits = Limits(overall_per_second=20, group_per_minute=None, private_per_second=None)
    async with BotApiEmulator(token="123456:TEST", limits=limits) as emu:
        users = [emu.user(n, f"Volunteer {n}") for n in range(1, 31)]
        for user in users:
            await user.start_bot()
        limiter = PacedRateLimiter(overall_per_second=20)
        async with ExtBot(emu.token, base_url=emu.base_url, rate_limiter=limiter) as bot:
            reminders = [
                asyncio.create_task(
                    bot.send_message(u.user_id, f"reminder {n}", rate_limit_args=BULK)
                )
                for n in range(2)
                for u in users
            ]
            await emu.wait_for(lambda: emu.count("sendMessage", 200) >= 10, timeout=5)
            started = time.monotonic()
            await bot.send_message(users[-1].user_id, "Need #1 is yours.")
            answered = time.monotonic() - started
            await asyncio.gather(*reminders)
        assert answered < 0.5  # behind the reminders: about 2.5 s
        assert emu.flood_rejections == 0
        texts = [m.text for m in users[-1].private_messages()]
        assert texts == ["reminder 0", "Need #1 is yours.", "reminder 1"]
        for user in users[:-1]:
            assert [m.text for m in user.private_messages()] == ["reminder 0", "reminder 1"]


async def test_extbot_spaces_a_private_chats_messages_for_a_strict_server() -> None:
    # The emulator holds each private chat to one message in any second, strictly.
    limits = Limits(overall_per_second=None, group_per_minute=None, private_per_second=1)
    async with BotApiEmulator(token="123456:TEST", limits=limits) as emu:
        users = [emu.user(n, f"Volunteer {n}") for n in range(1, 4)]
        for user in users:
            await user.start_bot()
        limiter = PacedRateLimiter(private_per_second=1)
        async with ExtBot(emu.token, base_url=emu.base_url, rate_limiter=limiter) as bot:
            await asyncio.gather(
                *(bot.send_message(u.user_id, f"{n}") for n in range(3) for u in users)
            )
        assert emu.flood_rejections == 0
        sent = [c for c in emu.calls if c.method == "sendMessage" and c.status == 200]
        for user in users:
            assert [m.text for m in user.private_messages()] == ["0", "1", "2"]
            times = [c.time for c in sent if int(c.params["chat_id"]) == user.user_id]
            assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0
