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
4. takes the overall slot, after any 429 pause, and goes out at once.

The overall limit is a steady pace with a tiny burst, so that no second ever holds more than
the limit, even right after a quiet spell or a pause. The group limit is kept as Telegram
keeps it, a sliding window, reckoned from when the group's messages actually went out: up to
the limit may go at once (a coordinator's five new cards appear together), and a window
stretched by ``1 / share`` leaves room for the network's jitter. Reckoning from admission
instead would let a group's messages that queued behind a fan-out or a pause out together.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
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
    jitter the rest: with half each, bench/outbound.py drew a 429 in the first second of
    every run, from requests delayed while the first connections opened.
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


@dataclass(slots=True)
class _Turn:
    """One chat's queue: its lock, and how many requests hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding-window limit kept at the wire: ``size`` sends per ``seconds``.

    A send may go when fewer than ``size`` sends went out in the last ``seconds``, so any
    window of that length holds at most ``size``. The window is Telegram's stretched by
    ``1 / share``: the rate is ``share`` of the limit, and the spare time absorbs jitter.
    """

    size: int
    seconds: float

    @classmethod
    def under(cls, limit: float, window: float, share: float) -> Window:
        """The window for ``limit`` sends per ``window`` seconds, run at ``share`` of it."""
        size = max(1, math.floor(limit))
        return cls(size, window * size / (limit * share))

    def opens(self, sent: deque[float]) -> float:
        """When one more send fits, given the times of the sends so far (oldest first)."""
        if len(sent) < self.size:
            return -math.inf
        return sent[-self.size] + self.seconds


class _Slots:
    """``size`` sending slots, handed out by arrival ticket (lowest first), not by asking order.

    A request that waited for its chat's turn or its group's window asks late; by its ticket
    it still goes before everything that arrived after it.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @contextlib.asynccontextmanager
    async def hold(self, ticket: int) -> AsyncIterator[None]:
        """Hold a slot for as long as the block runs."""
        await self._acquire(ticket)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, ticket: int) -> None:
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
                self._release()  # handed a slot just as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        """Hand the slot to the waiting request that arrived first, or free it."""
        while self._waiters:
            _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class PacedRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter that keeps a steady ``share`` of Telegram's flood limits.

    Requests without a chat (getMe, setMyCommands...), reads (get*) and answers with a
    deadline (answerCallbackQuery...) go out at once and are never held by a 429 pause; a
    429 of their own is waited out by that request alone, and an answer is never retried.
    Message-producing requests with a chat are paced to ``share`` of ``overall_per_second``,
    and in groups also kept to ``share`` of ``group_per_minute`` (see the module's docstring
    for the order in which a request takes its turn and slots). A 429 pauses every paced
    request for its ``retry_after`` + ``PAUSE_MARGIN``, and the request is retried up to
    ``max_retries`` times (``rate_limit_args``, an int, overrides it per call); after that
    the ``RetryAfter`` goes to the caller.

    As with AIORateLimiter, a group addressed once by id and once by @username counts as two.
    """

    __slots__ = (
        "_group_sent",
        "_group_window",
        "_max_retries",
        "_overall",
        "_overall_due",
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
        self._group_window = Window.under(group_per_minute, self.GROUP_WINDOW, share)
        self._max_retries = max_retries
        # asyncio's primitives bind to the running loop on first use, not here.
        self._sending = _Slots(in_flight)
        self._wire = asyncio.Lock()
        self._tickets = itertools.count()
        self._turns: dict[ChatKey, _Turn] = {}
        self._overall_due = -math.inf
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
        async with self._turn(chat):
            return await self._paced(callback, args, kwargs, endpoint, chat, ticket, retries)

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
        """Send in the chat's turn, within the group's window and the overall pace; retry 429s."""
        group = chat if is_group(chat) else None
        if group is not None:
            await self._group_ready(group)
        # A retry keeps its sending slot: nothing goes out during the pause anyway, and the
        # rejected request then goes out among the first after it, not behind a fan-out.
        async with self._sending.hold(ticket):
            attempt = 0
            while True:
                await self._take_slot(group)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as error:
                    sent = None if group is None else self._group_sent.get(group)
                    if sent:
                        # Telegram did not count the rejected message; neither do we. The
                        # group's window had room for it, and it is still this chat's turn,
                        # so it still has after the pause. (What the full deque dropped for
                        # it had left the window already.)
                        sent.pop()
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

    @contextlib.asynccontextmanager
    async def _turn(self, chat: ChatKey) -> AsyncIterator[None]:
        """Hold the chat's turn: one request per chat at a time, in the order they came."""
        turn = self._turns.get(chat)
        if turn is None:
            turn = self._turns[chat] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[chat]

    async def _group_ready(self, group: ChatKey) -> None:
        """Wait until the group's window has room, counting the sends that went out."""
        loop = asyncio.get_running_loop()
        while True:
            sent = self._group_sent.get(group)
            wait = -math.inf if sent is None else self._group_window.opens(sent) - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _take_slot(self, group: ChatKey | None) -> None:
        """Wait out any pause, take the overall slot, and count the send in its group.

        The slot is taken only once the request is clear to go, so one taken during a pause
        is never used: the pause is checked again after every wait. The lock makes the slots
        first come, first served among the requests holding a sending slot.
        """
        loop = asyncio.get_running_loop()
        async with self._wire:
            while True:
                now = loop.time()
                ready = max(self._paused_until, self._overall.earliest(self._overall_due))
                if ready <= now:
                    break
                await asyncio.sleep(ready - now)
            self._overall_due = self._overall.after(self._overall_due, now)
            if group is None:
                return
            sent = self._group_sent.get(group)
            if sent is None:
                if len(self._group_sent) >= PRUNE_GROUPS_OVER:
                    self._forget_idle_groups(now)
                sent = self._group_sent[group] = deque(maxlen=self._group_window.size)
            sent.append(now)

    def _forget_idle_groups(self, now: float) -> None:
        """Drop groups whose sends have all left the window: a fresh start would be the same."""
        horizon = now - self._group_window.seconds
        for group in [g for g, sent in self._group_sent.items() if not sent or sent[-1] < horizon]:
            del self._group_sent[group]

    def _pause(self, seconds: float) -> None:
        """Hold paced requests for ``seconds`` from now, unless held longer already."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)
