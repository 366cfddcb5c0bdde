"""Outgoing requests paced under Telegram's flood limits, with each slot taken at the wire.

Telegram takes about 30 messages a second overall, 20 a minute in one group and one a second
in one chat, and answers 429 with ``retry_after`` beyond them. PTB's AIORateLimiter paces when
it admits a request, not when the request reaches the wire, and pauses everything on any 429,
so under a fan-out it drew 429s and reached a fraction of the allowed rate.
``PacedRateLimiter`` keeps each limit as Telegram counts it, from what we know for sure at our
end, and a 429 holds back only what it concerns. Bulk sends (a reminder fan-out) only fill
what urgent ones (a winner's details, a card edit, a reply) leave. How it was shaped and what
it reaches: BENCHMARKS.md, "Pacing: how the limiter was shaped" and "Reminder fan-out with
urgent sends first".
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, TypeAlias

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]
Callback: TypeAlias = Callable[..., Coroutine[Any, Any, Result]]
ChatKey: TypeAlias = int | str
# A call's ``rate_limit_args``: its max_retries, or {"bulk": True, "max_retries": n}.
RateLimitArgs: TypeAlias = int | Mapping[str, object]

# Added to every retry_after: Telegram's seconds are whole, and a retry right on the boundary
# can land a moment before the window has moved on.
PAUSE_MARGIN = 0.1
# Answers to a person's action are useless after Telegram's deadline (15 s for a tap), and
# the handler waits on them: they go out at once and are never retried.
DEADLINE_ANSWERS = frozenset(
    {
        "answerCallbackQuery",
        "answerInlineQuery",
        "answerPreCheckoutQuery",
        "answerShippingQuery",
        "answerWebAppQuery",
    }
)
# Forget a group's sends once they have left its window, but only look when this many groups
# are remembered: a sweep costs a pass over all of them.
PRUNE_GROUPS_OVER = 1024
# The same for the chats held back (a 429's pause, a private chat's spacing): swept when there
# are this many, or twice as many as the last sweep left.
PRUNE_CHATS_OVER = 1024


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whether PTB gives a timedelta or (old) an int."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def request_options(args: RateLimitArgs | None, max_retries: int) -> tuple[int, bool]:
    """A call's retries and whether it is bulk, from its ``rate_limit_args``."""
    if isinstance(args, Mapping):
        unknown = set(args) - {"bulk", "max_retries"}
        if unknown:
            raise ValueError(f"rate_limit_args: unknown keys {sorted(unknown)}")
        retries = args.get("max_retries", max_retries)
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ValueError(f"rate_limit_args: max_retries must be an int >= 0, not {retries!r}")
        return retries, bool(args.get("bulk", False))
    if isinstance(args, int) and not isinstance(args, bool):
        return args, False
    return max_retries, False


def chat_key(chat_id: object) -> ChatKey | None:
    """The chat a request goes to, as one key per chat (a numeric string becomes its int)."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text  # "@channelusername": only supergroups and channels have one


def is_group(chat: ChatKey) -> bool:
    """Whether the per-group limit applies: groups and channels have negative ids or @names."""
    return isinstance(chat, str) or chat < 0


@dataclass(frozen=True, slots=True)
class Pace:
    """A steady pace under a sliding-window limit (GCRA: a due time per message).

    Used for the overall limit, where a burst of a window's worth would reach the server as
    one.

    ``interval`` is the time between messages at ``share`` of the limit. ``tolerance`` is how
    far ahead of its due time a message may go, which lets a late wake-up catch up instead of
    losing time. Any window of ``window`` seconds then holds at most
    ``1 + floor((window + jitter + tolerance) / interval)`` messages, which stays within
    ``limit`` as long as ``jitter + tolerance < window * (1 - share) / share``. Timer
    lateness is a millisecond or so, so the tolerance takes a quarter of that spare time and
    jitter the rest. Jitter beyond that (a stall on the way) is caught by the overall
    ``Window``, reckoned from the answers, not by the pace.
    """

    interval: float
    tolerance: float

    @classmethod
    def under(cls, limit: float, window: float, share: float) -> Pace:
        """The pace for ``limit`` messages per ``window`` seconds, run at ``share`` of it."""
        return cls(window / (limit * share), window * (1 - share) / share / 4)

    def earliest(self, due: float) -> float:
        """When a message that is due at ``due`` may go."""
        return due - self.tolerance

    def after(self, due: float, now: float) -> float:
        """When the next message is due, once one went out at ``now``."""
        return max(due, now) + self.interval


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding-window limit: ``size`` sends per ``seconds``, reckoned from their answers.

    ``answered`` holds when the answers to the latest sends came back (oldest first), and
    ``in_flight`` counts the sends not answered yet. A send may go when those in flight and
    those answered in the last ``seconds`` are fewer than ``size``. Telegram counts a message
    when it arrives, between its send and its answer; whatever the delays on the way, any
    window of ``seconds`` at Telegram's end then holds at most ``size``: of the messages that
    arrived in it, the last one sent saw every other one either in flight or answered after
    the window began. ``under`` stretches Telegram's window by ``1 / share``, so that the
    rate is ``share`` of the limit.
    """

    size: int
    seconds: float

    @classmethod
    def under(cls, limit: float, window: float, share: float) -> Window:
        """The window for ``limit`` sends per ``window`` seconds, run at ``share`` of it."""
        size = max(1, math.floor(limit))
        return cls(size, window * size / (limit * share))

    def opens(self, answered: deque[float], in_flight: int = 0) -> float:
        """When one more send fits; ``math.inf`` if it waits for an answer first."""
        room = self.size - in_flight  # answered sends that may still be in the window, + 1
        if room <= 0:
            return math.inf
        if len(answered) < room:
            return -math.inf
        return answered[-room] + self.seconds


URGENT = 0
BULK = 1


@dataclass(eq=False, slots=True)
class _Place:
    """A paced request's place in every queue: urgent before bulk, then by arrival ticket.

    A bulk request that holds a chat's turn an urgent one waits for is made urgent (``rank``),
    so the urgent one never waits behind the fan-out by way of its chat.
    """

    ticket: int
    rank: int


class _Slots:
    """``size`` slots, handed out by place (urgent first, then lowest ticket), not asking order.

    A request that waited for its chat's turn or its group's window asks late; by its ticket
    it still goes before everything of its rank that arrived after it.
    """

    __slots__ = ("_free", "_waiters", "_waiting")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiting: dict[int, asyncio.Future[None]] = {}  # by ticket, for ``hurry``

    async def acquire(self, place: _Place) -> None:
        """Take a free slot, or wait until one is handed over to this place."""
        if self._free > 0:  # a free slot means nobody waits: release hands slots over
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (place.rank, place.ticket, waiter))
        self._waiting[place.ticket] = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            raise
        finally:
            del self._waiting[place.ticket]

    def hurry(self, place: _Place) -> None:
        """Move a waiting place up to its new rank (its old entry is skipped once served)."""
        waiter = self._waiting.get(place.ticket)
        if waiter is not None:
            heapq.heappush(self._waiters, (place.rank, place.ticket, waiter))

    def release(self) -> None:
        """Hand the slot to the first waiting place, or free it."""
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class _Turns:
    """One request per chat at a time: urgent ones first, then in the order they came.

    A fan-out sends one message to each of thousands of chats, and all of them enter at once:
    a chat nobody else waits for costs a dictionary entry and nothing more (no queue), so
    letting them in holds back the first sends as little as it can.
    """

    __slots__ = ("_holders", "_queues")

    def __init__(self) -> None:
        self._holders: dict[ChatKey, _Place] = {}  # whose turn each busy chat is
        self._queues: dict[ChatKey, list[tuple[int, int, _Place, asyncio.Future[None]]]] = {}

    def holder(self, chat: ChatKey) -> _Place | None:
        """The request whose turn it is in the chat, if any."""
        return self._holders.get(chat)

    async def take(self, chat: ChatKey, place: _Place) -> None:
        """Take the chat's turn, waiting for the requests ahead of this one to give it up."""
        if chat not in self._holders:
            self._holders[chat] = place
            return
        queue = self._queues.get(chat)
        if queue is None:
            queue = self._queues[chat] = []
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(queue, (place.rank, place.ticket, place, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give(chat)  # handed the turn just as it was cancelled: pass it on
            raise

    def give(self, chat: ChatKey) -> None:
        """Hand the chat's turn to the first waiting request, or free it."""
        queue = self._queues.get(chat)
        while queue:
            _, _, place, waiter = heapq.heappop(queue)
            if not waiter.done():
                self._holders[chat] = place
                waiter.set_result(None)
                return
        self._queues.pop(chat, None)
        del self._holders[chat]


class PacedRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """PTB rate limiter that keeps a steady ``share`` of Telegram's flood limits.

    A request made with ``rate_limit_args={"bulk": True}`` (a reminder fan-out) is bulk; every
    other one is urgent (a winner's details, a card edit, a reply) and goes before every bulk
    request still waiting, in each step below: bulk only fills what urgent ones leave.

    Requests without a chat (getMe, setMyCommands...), reads (get*) and answers with a
    deadline (answerCallbackQuery...) go out at once and are never held by a 429 pause; a
    429 of their own is waited out by that request alone, and an answer is never retried.
    A request that puts something in a chat, in order:

    1. waits for the chat's turn: one request per chat at a time, urgent first, then first
       come first served, so a chat's messages of one kind arrive in the order they were
       sent, retries included; a bulk request holding the turn an urgent one waits for is made
       urgent;
    2. waits out the chat's 429 pause; in a group, until the group's window has room; in a
       private chat, if ``private_per_second`` is given, until ``1 / private_per_second``
       after the answer to its previous message there;
    3. takes one of ``in_flight`` sending slots, by order of arrival, so few requests are ever
       inside httpx and one that waited in step 2 goes before those that arrived after it;
    4. takes the overall slot when the pace, the overall window and any overall pause allow.

    A 429 pauses the chat it came from for its ``retry_after`` + ``PAUSE_MARGIN``, and every
    paced request if another chat is still paused (see ``_pause``). The request is retried up
    to ``max_retries`` times (``rate_limit_args``: an int, or ``"max_retries"`` beside
    ``"bulk"``, overrides it per call); after that the ``RetryAfter`` goes to the caller.

    As with AIORateLimiter, a group addressed once by id and once by @username counts as two.
    """

    __slots__ = (
        "_answer_waiter",
        "_answered",
        "_chats_held",
        "_group_sent",
        "_group_window",
        "_in_flight",
        "_last_refused",
        "_max_retries",
        "_overall",
        "_overall_due",
        "_overall_window",
        "_paused_until",
        "_private_interval",
        "_prune_chats_at",
        "_sending",
        "_tickets",
        "_turns",
        "_wire",
    )

    # Telegram's windows, in seconds. A test may shorten them in a subclass.
    OVERALL_WINDOW: ClassVar[float] = 1.0
    GROUP_WINDOW: ClassVar[float] = 60.0

    def __init__(
        self,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        max_retries: int = 5,
        share: float = 0.95,
        in_flight: int = 16,
        private_per_second: float | None = None,
    ) -> None:
        if not overall_per_second > 0:
            raise ValueError(f"overall_per_second must be above 0, not {overall_per_second}")
        if not group_per_minute > 0:
            raise ValueError(f"group_per_minute must be above 0, not {group_per_minute}")
        if max_retries < 0:
            raise ValueError(f"max_retries must not be negative, not {max_retries}")
        if not 0 < share <= 1:
            raise ValueError(f"share must be above 0 and at most 1, not {share}")
        if in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, not {in_flight}")
        if private_per_second is not None and not private_per_second > 0:
            raise ValueError(f"private_per_second must be above 0, not {private_per_second}")
        self._overall = Pace.under(overall_per_second, self.OVERALL_WINDOW, share)
        # Telegram's own window: the pace keeps the rate at share; this stops bunching.
        self._overall_window = Window(max(1, math.floor(overall_per_second)), self.OVERALL_WINDOW)
        self._group_window = Window.under(group_per_minute, self.GROUP_WINDOW, share)
        self._max_retries = max_retries
        # Telegram's "about one a second" in a private chat allows short bursts; None: no spacing.
        self._private_interval = 0.0 if private_per_second is None else 1 / private_per_second
        # asyncio's primitives bind to the running loop on first use, not here.
        self._sending = _Slots(in_flight)
        self._wire = _Slots(1)
        self._tickets = itertools.count()
        self._turns = _Turns()
        self._overall_due = -math.inf
        # Paced sends not answered yet, and when the latest ones were answered.
        self._in_flight = 0
        self._answered: deque[float] = deque(maxlen=self._overall_window.size)
        self._answer_waiter: asyncio.Future[None] | None = None
        # Per group: when its latest sends were answered (the last one: sent, while in flight).
        self._group_sent: dict[ChatKey, deque[float]] = {}
        self._paused_until = -math.inf
        # Per chat: no paced send before this time (a 429's pause, a private chat's spacing).
        self._chats_held: dict[ChatKey, float] = {}
        self._prune_chats_at = PRUNE_CHATS_OVER
        # The chat whose 429 pause ends last, and when it ends.
        self._last_refused: tuple[ChatKey, float] | None = None

    async def initialize(self) -> None:
        """Nothing to set up; ExtBot calls this on every initialize, so it must not reset."""

    async def shutdown(self) -> None:
        """Nothing to release: requests still waiting finish or are cancelled by their owner."""

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> Result:
        """Send one request: paced if it puts a message in a chat, at once otherwise."""
        retries, bulk = request_options(rate_limit_args, self._max_retries)
        if endpoint in DEADLINE_ANSWERS:
            return await callback(*args, **kwargs)
        chat = chat_key(data.get("chat_id"))
        if chat is None or endpoint.startswith("get"):
            return await self._unpaced(callback, args, kwargs, endpoint, retries)
        place = _Place(next(self._tickets), BULK if bulk else URGENT)
        turns = self._turns
        if not bulk:
            self._hurry(turns.holder(chat))
        await turns.take(chat, place)
        try:
            return await self._paced(callback, args, kwargs, endpoint, chat, place, retries)
        finally:
            turns.give(chat)

    def _hurry(self, place: _Place | None) -> None:
        """Make a bulk request urgent: an urgent one waits for it to give up its chat's turn."""
        if place is not None and place.rank == BULK:
            place.rank = URGENT
            self._sending.hurry(place)
            self._wire.hurry(place)

    async def _unpaced(
        self, callback: Callback, args: Any, kwargs: dict[str, Any], endpoint: str, retries: int
    ) -> Result:
        """Send at once; a 429 of its own is waited out by this request alone."""
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= retries:
                    log.warning("%s: still 429 after %d retries, giving up", endpoint, attempt)
                    raise
                attempt += 1
                await asyncio.sleep(retry_seconds(error) + PAUSE_MARGIN)

    async def _paced(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat: ChatKey,
        place: _Place,
        retries: int,
    ) -> Result:
        """Send in the chat's turn, within its limits and the overall pace; retry 429s."""
        group = chat if is_group(chat) else None
        attempt = 0
        while True:
            await self._chat_ready(chat, group)
            try:
                return await self._send(callback, args, kwargs, chat, group, place)
            except RetryAfter as error:
                if attempt >= retries:
                    log.warning(
                        "%s to %s: still 429 after %d retries, giving up", endpoint, chat, attempt
                    )
                    raise
                attempt += 1
                self._pause(chat, retry_seconds(error) + PAUSE_MARGIN, endpoint)

    async def _send(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        chat: ChatKey,
        group: ChatKey | None,
        place: _Place,
    ) -> Result:
        """One attempt: a sending slot, the overall slot, then the request itself.

        A retry gives its sending slot back while its chat is paused, and takes one again by
        its first ticket, so it goes out among the first of its rank after the pause.
        """
        sending = self._sending
        await sending.acquire(place)
        try:
            await self._take_slot(group, place)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter:
                # Telegram did not count the rejected message; neither do we.
                self._answered_now(chat, group, counted=False)
                raise
            except BaseException:
                # It may have arrived (an answer lost, a wait cancelled): counted as if it
                # arrived now, the latest it can have.
                self._answered_now(chat, group, counted=True)
                raise
            self._answered_now(chat, group, counted=True)
            return result
        finally:
            sending.release()

    async def _chat_ready(self, chat: ChatKey, group: ChatKey | None) -> None:
        """Wait out the chat's pause or spacing, and in a group for room in its window."""
        loop = asyncio.get_running_loop()
        while True:
            ready = self._chats_held.get(chat, -math.inf)
            sent = None if group is None else self._group_sent.get(group)
            if sent is not None:
                ready = max(ready, self._group_window.opens(sent))
            wait = ready - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _take_slot(self, group: ChatKey | None, place: _Place) -> None:
        """Wait out any pause and for the pace and the overall window, then count the send.

        The slot is taken only once the request is clear to go, so one taken during a pause
        is never used: the pause is checked again after every wait. One request at a time
        waits here, the others in order of place, among those holding a sending slot.
        """
        loop = asyncio.get_running_loop()
        await self._wire.acquire(place)
        try:
            while True:
                now = loop.time()
                ready = max(
                    self._paused_until,
                    self._overall.earliest(self._overall_due),
                    self._overall_window.opens(self._answered, self._in_flight),
                )
                if ready <= now:
                    break
                if ready < math.inf:
                    await asyncio.sleep(ready - now)
                    continue
                # The window is full of sends in flight: only an answer makes room.
                waiter = self._answer_waiter = loop.create_future()
                try:
                    await waiter
                finally:
                    self._answer_waiter = None
            self._overall_due = self._overall.after(self._overall_due, now)
            self._in_flight += 1
            if group is None:
                return
            sent = self._group_sent.get(group)
            if sent is None:
                if len(self._group_sent) >= PRUNE_GROUPS_OVER:
                    self._forget_idle_groups(now)
                sent = self._group_sent[group] = deque(maxlen=self._group_window.size)
            sent.append(now)
        finally:
            self._wire.release()

    def _answered_now(self, chat: ChatKey, group: ChatKey | None, *, counted: bool) -> None:
        """A paced send came back: counted (it may have arrived) or refused with a 429."""
        now = asyncio.get_running_loop().time()
        self._in_flight -= 1
        if counted:
            self._answered.append(now)
            if group is None and self._private_interval > 0:
                # It arrived before its answer: from here on, the next one lands far enough
                # behind it, whatever the delays on the way.
                self._hold(chat, now + self._private_interval, now)
        if group is not None:
            # The group's last entry is this send's: one request per chat is in flight.
            sent = self._group_sent.get(group)
            if sent:
                if counted:
                    sent[-1] = now
                else:
                    # The group's window had room for it and still has after the pause.
                    # (What the full deque dropped for it had left the window already.)
                    sent.pop()
            elif counted:  # forgotten while in flight for longer than the window
                self._group_sent[group] = deque([now], maxlen=self._group_window.size)
        waiter = self._answer_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _forget_idle_groups(self, now: float) -> None:
        """Drop groups whose sends have all left the window: a fresh start would be the same."""
        horizon = now - self._group_window.seconds
        for group in [g for g, sent in self._group_sent.items() if not sent or sent[-1] < horizon]:
            del self._group_sent[group]

    def _pause(self, chat: ChatKey, seconds: float, endpoint: str) -> None:
        """Hold the chat's paced sends for ``seconds``; every chat's if another is held too.

        Telegram does not say which limit a 429 is for. One chat refused is taken as that
        chat's limit (a person's or a group's); a second chat refused while the first is still
        paused, as the bot's overall limit.
        """
        now = asyncio.get_running_loop().time()
        until = now + seconds
        last = self._last_refused
        overall = last is not None and last[0] != chat and last[1] > now
        if overall:
            self._paused_until = max(self._paused_until, until)
        if last is None or last[1] <= until:
            self._last_refused = (chat, until)
        self._hold(chat, until, now)
        held = "every paced send" if overall else "this chat"
        log.info("%s to %s: 429, pausing %s for %.1f s", endpoint, chat, held, seconds)

    def _hold(self, chat: ChatKey, until: float, now: float) -> None:
        """No paced send to ``chat`` before ``until`` (or later, if held longer already)."""
        held = self._chats_held
        if chat not in held and len(held) >= self._prune_chats_at:
            for free in [c for c, at in held.items() if at <= now]:
                del held[free]
            self._prune_chats_at = max(PRUNE_CHATS_OVER, 2 * len(held))
        held[chat] = max(held.get(chat, -math.inf), until)
