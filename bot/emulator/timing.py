"""The emulator's sense of time, flood-limit windows and fault injection."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass


class Clock:
    """Seconds since the epoch as the emulator sees them; tests move it with advance().

    By default it follows the real clock (shifted by whatever was advanced), so a running bot's
    own timers and the emulator's flood windows keep agreeing; ``Clock.frozen(t)`` stands still
    until advanced.
    """

    __slots__ = ("_fixed", "_offset", "_source")

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._fixed: float | None = None

    @classmethod
    def frozen(cls, at: float = 1_700_000_000.0) -> Clock:
        """A clock that stands at ``at`` until advanced."""
        clock = cls()
        clock._fixed = at
        return clock

    def now(self) -> float:
        """The current time in seconds since the epoch."""
        base = self._fixed if self._fixed is not None else self._source()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Jump ahead (or back, with a negative number)."""
        self._offset += seconds


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's flood limits; a window set to None is not enforced.

    ``time_scale`` runs Telegram's clock that many times faster for the limits: the same
    counts in windows of 1/k second and 60/k seconds (benchmarks scale a drive of an hour
    into minutes so; scaling the counts instead would let the first minute's 20k go at once).
    """

    overall_per_second: int | None = 30
    group_per_minute: int | None = 20
    private_per_second: int | None = 1
    enabled: bool = True
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be above 0, not {self.time_scale}")


def _wait(window: deque[float], limit: int | None, span: float, now: float) -> float:
    """Seconds until one more event fits into ``window`` (0 if it fits now)."""
    horizon = now - span
    while window and window[0] <= horizon:
        window.popleft()
    if limit is None or len(window) < limit:
        return 0.0
    # The event that must leave the window before another one may enter it.
    return window[len(window) - limit] + span - now


class FloodControl:
    """Sliding windows of message-producing calls: overall, per group, per private chat."""

    __slots__ = ("_overall", "_per_chat", "limits", "rejections")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}
        self.rejections = 0

    def retry_after(self, chat_id: int, is_group: bool, now: float) -> int | None:
        """Whole seconds to wait before this chat may get another message, or None if it may."""
        limits = self.limits
        if not limits.enabled:
            return None
        chat_window = self._per_chat.get(chat_id)
        if chat_window is None:
            chat_window = self._per_chat[chat_id] = deque()
        second = 1.0 / limits.time_scale
        wait = _wait(self._overall, limits.overall_per_second, second, now)
        if is_group:
            wait = max(wait, _wait(chat_window, limits.group_per_minute, 60 * second, now))
        else:
            wait = max(wait, _wait(chat_window, limits.private_per_second, second, now))
        if wait <= 0:
            return None
        self.rejections += 1
        return max(1, math.ceil(wait))

    def record(self, chat_id: int, now: float) -> None:
        """Count one delivered message-producing call."""
        if not self.limits.enabled:
            return
        self._overall.append(now)
        window = self._per_chat.get(chat_id)
        if window is None:
            window = self._per_chat[chat_id] = deque()
        window.append(now)


@dataclass(frozen=True, slots=True)
class Faults:
    """Injected failures for matching calls: an error answer, a dropped connection, a delay.

    ``methods`` None means every method except getUpdates. ``drop_after_action`` says whether
    a dropped call took effect before the connection closed (Telegram can do either).
    """

    error_rate: float = 0.0
    status: int = 500
    delay: float = 0.0
    drop_rate: float = 0.0
    methods: Collection[str] | None = None
    seed: int = 0
    drop_after_action: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.error_rate <= 1 and 0 <= self.drop_rate <= 1):
            raise ValueError("error_rate and drop_rate are shares between 0 and 1")
        if self.error_rate + self.drop_rate > 1:
            raise ValueError("error_rate + drop_rate must not exceed 1")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status")
        if self.delay < 0:
            raise ValueError("delay must not be negative")


class FaultPlan:
    """Decides, reproducibly from the seed, what happens to each matching call."""

    __slots__ = ("_methods", "_random", "faults")

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._methods = (
            None if faults.methods is None else {name.lower() for name in faults.methods}
        )

    def applies(self, method: str) -> bool:
        """Whether the faults cover this method."""
        if self._methods is None:
            return method != "getUpdates"
        return method.lower() in self._methods

    def decide(self) -> str | None:
        """ "error", "drop" or None (answer normally) for one matching call."""
        faults = self.faults
        if not faults.error_rate and not faults.drop_rate:
            return None
        roll = self._random.random()
        if roll < faults.error_rate:
            return "error"
        if roll < faults.error_rate + faults.drop_rate:
            return "drop"
        return None
