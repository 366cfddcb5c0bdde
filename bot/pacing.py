"""Outgoing requests paced under Telegram's flood limits, with each slot taken at the wire.

Telegram counts message-producing calls in sliding windows (about 30 a second overall and 20
a minute in one group) and answers 429 with ``retry_after`` beyond them. PTB's AIORateLimiter
reached 22% of that rate against such windows (BENCHMARKS.md, section 3): its bucket lets a
second's worth through at once, it admits a request long before the request reaches the
wire, and after a 429 pause everything admitted goes at once and earns the next 429. It also
holds back answers to taps during the pause, past Telegram's 15 s deadline.

``PacedRateLimiter`` turns the sketch in ``bench/outbound.py`` (88-89% of the allowed rate,
nothing lost) into the product's limiter. A paced request, in order:

1. waits for its chat's turn: one request per chat at a time, first come first served, so a
   chat's messages arrive in the order they were sent, retries included;
2. in a group, waits until the group's window has room for it;
3. takes one of ``in_flight`` sending slots, so few requests are ever inside httpx (its pool
   bookkeeping cost grows with what is queued in it). Slots go by arrival, so a message that
   waited for its chat's turn or its group's window goes next, not behind a fan-out that
   was queued after it;
4. takes the overall slot, after any 429 pause, when both the pace and the overall window
   allow it, and goes out at once.

The overall limit is a steady pace with a tiny burst, so that no second ever holds more than
the limit, even right after a quiet spell or a pause. A pace reckoned at our end is not
enough on its own: Telegram counts a message when it arrives, and requests held up on the
way (a stalled process at either end, the network) arrive together. In bench/outbound.py a
50 ms stall let 15 of the 16 requests in flight land in the next second's window on top of
its full pace, and the one 429 a run drew cost 3% of the rate. So each limit is also kept as
Telegram keeps it, a sliding window, but reckoned from what we know for sure: a message
arrives after it is sent and before its answer comes back. The window counts every message
still in flight, and each answered one until a window's length after its answer. Then no
window at Telegram's end can ever hold more than the limit, however the messages bunched on
the way. For a group that is the same as counting from the answers, because one request per
chat is in flight at a time. Up to the group's limit may go at once (a coordinator's five new
cards appear together). The group's window is stretched by ``1 / share``, which keeps its rate
at ``share`` of the limit; the overall window is Telegram's own (the limit in one second), as
the pace keeps the overall rate, and the window only stops bunched messages from overfilling
a second. A send holds its place in the window from when it goes until a window's length
after its answer, so with answers taking ``r`` seconds the window lets ``limit / (1 + r)``
a second through: it holds the rate under the pace only while answers take longer than the
pace's spare (53 ms at 95%). Stretched too, it would do so whatever the answers took.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, TypeAlias

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]
Callback: TypeAlias = Callable[..., Coroutine[Any, Any, Result]]
ChatKey: TypeAlias = int | str

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


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whether PTB gives a timedelta or (old) an int."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


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


class _Slots:
    """``size`` sending slots, handed out by arrival ticket (lowest first), not by asking order.

    A request that waited for its chat's turn or its group's window asks late; by its ticket
    it still goes before everything that arrived after it.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    async def acquire(self, ticket: int) -> None:
        """Take a free slot, or wait until one is handed over to this ticket."""
        if self._free > 0:  # a free slot means nobody waits: release hands slots over
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (ticket, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        """Hand the slot to the waiting request that arrived first, or free it."""
        while self._waiters:
            _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class _Turns:
    """One request per chat at a time, in the order they came.

    A fan-out sends one message to each of thousands of chats, and all of them enter at once:
    a chat nobody else waits for costs a dictionary entry and nothing more (no lock, no
    queue), so letting them in holds back the first sends as little as it can.
    """

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        # A chat whose turn is taken; its queue of waiting requests, once there is one.
        self._queues: dict[ChatKey, deque[asyncio.Future[None]] | None] = {}

    async def take(self, chat: ChatKey) -> None:
        """Take the chat's turn, waiting for the requests before this one to give it up."""
        queues = self._queues
        if chat not in queues:
            queues[chat] = None
            return
        queue = queues[chat]
        if queue is None:
            queue = queues[chat] = deque()
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give(chat)  # handed the turn just as it was cancelled: pass it on
            raise

    def give(self, chat: ChatKey) -> None:
        """Hand the chat's turn to the next waiting request, or free it."""
        queue = self._queues[chat]
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        del self._queues[chat]


class PacedRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter that keeps a steady ``share`` of Telegram's flood limits.

    Requests without a chat (getMe, setMyCommands...), reads (get*) and answers with a
    deadline (answerCallbackQuery...) go out at once and are never held by a 429 pause; a
    429 of their own is waited out by that request alone, and an answer is never retried.
    Message-producing requests with a chat are paced to ``share`` of ``overall_per_second``,
    and in groups also kept to ``share`` of ``group_per_minute`` (see the module's docstring
    for the order in which a request takes its turn and slots, and for the windows). A 429
    pauses every paced request for its ``retry_after`` + ``PAUSE_MARGIN``, and the request is
    retried up to ``max_retries`` times (``rate_limit_args``, an int, overrides it per call);
    after that the ``RetryAfter`` goes to the caller.

    As with AIORateLimiter, a group addressed once by id and once by @username counts as two.
    """

    __slots__ = (
        "_answer_waiter",
        "_answered",
        "_group_sent",
        "_group_window",
        "_in_flight",
        "_max_retries",
        "_overall",
        "_overall_due",
        "_overall_window",
        "_paused_until",
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
        self._overall = Pace.under(overall_per_second, self.OVERALL_WINDOW, share)
        # Telegram's own window: the pace keeps the rate at share; this stops bunching.
        self._overall_window = Window(max(1, math.floor(overall_per_second)), self.OVERALL_WINDOW)
        self._group_window = Window.under(group_per_minute, self.GROUP_WINDOW, share)
        self._max_retries = max_retries
        # asyncio's primitives bind to the running loop on first use, not here.
        self._sending = _Slots(in_flight)
        self._wire = asyncio.Lock()
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
        rate_limit_args: int | None,
    ) -> Result:
        """Send one request: paced if it puts a message in a chat, at once otherwise."""
        retries = self._max_retries
        if isinstance(rate_limit_args, int) and not isinstance(rate_limit_args, bool):
            retries = rate_limit_args
        if endpoint in DEADLINE_ANSWERS:
            return await callback(*args, **kwargs)
        chat = chat_key(data.get("chat_id"))
        if chat is None or endpoint.startswith("get"):
            return await self._unpaced(callback, args, kwargs, endpoint, retries)
        ticket = next(self._tickets)
        turns = self._turns
        await turns.take(chat)
        try:
            return await self._paced(callback, args, kwargs, endpoint, chat, ticket, retries)
        finally:
            turns.give(chat)

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
        ticket: int,
        retries: int,
    ) -> Result:
        """Send in the chat's turn, within the windows and the overall pace; retry 429s."""
        group = chat if is_group(chat) else None
        if group is not None:
            await self._group_ready(group)
        # A retry keeps its sending slot: nothing goes out during the pause anyway, and the
        # rejected request then goes out among the first after it, not behind a fan-out.
        sending = self._sending
        await sending.acquire(ticket)
        try:
            attempt = 0
            while True:
                await self._take_slot(group)
                try:
                    result = await callback(*args, **kwargs)
                except RetryAfter as error:
                    # Telegram did not count the rejected message; neither do we.
                    self._answered_now(group, counted=False)
                    wait = retry_seconds(error)
                    if attempt >= retries:
                        log.warning(
                            "%s to %s: still 429 after %d retries, giving up",
                            endpoint,
                            chat,
                            attempt,
                        )
                        raise
                    attempt += 1
                    log.info("%s to %s: 429, pausing paced sends for %.1f s", endpoint, chat, wait)
                    self._pause(wait + PAUSE_MARGIN)
                    continue
                except BaseException:
                    # It may have arrived (an answer lost, a wait cancelled): counted as if
                    # it arrived now, the latest it can have.
                    self._answered_now(group, counted=True)
                    raise
                self._answered_now(group, counted=True)
                return result
        finally:
            sending.release()

    async def _group_ready(self, group: ChatKey) -> None:
        """Wait until the group's window has room, counting from the answers to its sends."""
        loop = asyncio.get_running_loop()
        while True:
            sent = self._group_sent.get(group)
            wait = -math.inf if sent is None else self._group_window.opens(sent) - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _take_slot(self, group: ChatKey | None) -> None:
        """Wait out any pause and for the pace and the overall window, then count the send.

        The slot is taken only once the request is clear to go, so one taken during a pause
        is never used: the pause is checked again after every wait. The lock makes the slots
        first come, first served among the requests holding a sending slot.
        """
        loop = asyncio.get_running_loop()
        async with self._wire:
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

    def _answered_now(self, group: ChatKey | None, *, counted: bool) -> None:
        """A paced send came back: counted (it may have arrived) or refused with a 429."""
        now = asyncio.get_running_loop().time()
        self._in_flight -= 1
        if counted:
            self._answered.append(now)
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

    def _pause(self, seconds: float) -> None:
        """Hold paced requests for ``seconds`` from now, unless held longer already."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)
