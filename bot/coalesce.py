"""Edits of group messages, coalesced per message and timed per group.

A group takes about 20 messages a minute, sends and edits together. In a claim rush every tap
changes some card or board; editing each time would spend the group's budget on states that
last a second, and leave the final state waiting behind them. So, per group:

- the first change after a quiet spell is shown at once (one claim on a calm day is seen
  without delay);
- further changes only mark their message; once the group has been quiet for ``quiet``
  seconds, every marked message is edited once, oldest change first;
- a message is never left showing an old state for more than ``stale`` seconds, however long
  the rush goes on.

A 53-need drive claimed in a rush then costs a handful of edits, and the group is current a
couple of seconds after the last change (BENCHMARKS.md, "A drive at Telegram's pace").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeAlias

log = logging.getLogger(__name__)

# (chat id, what, message id): what is "card" (a card or a board) or "progress".
Key: TypeAlias = tuple[int, str, int]

QUIET_SECONDS = 2.0
STALE_SECONDS = 15.0


@dataclass
class _Group:
    dirty: dict[Key, float] = field(default_factory=dict)  # first unshown change, loop time
    last_change: float = float("-inf")
    leading: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class GroupEdits:
    """Runs ``edit(key)`` for changed messages, as the module docstring describes.

    ``edit`` reads the message's current state itself and must not raise for Telegram's
    answers (it logs them); an unexpected error is logged here and the others go on.
    """

    def __init__(
        self,
        edit: Callable[[Key], Awaitable[None]],
        quiet: float = QUIET_SECONDS,
        stale: float = STALE_SECONDS,
    ) -> None:
        self._edit = edit
        self.quiet = quiet
        self.stale = stale
        self._groups: dict[int, _Group] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._hurry = False

    def changed(self, key: Key) -> None:
        """The state ``key`` shows has changed."""
        chat_id = key[0]
        now = asyncio.get_running_loop().time()
        group = self._groups.setdefault(chat_id, _Group())
        calm = now - group.last_change >= self.quiet
        group.dirty.setdefault(key, now)
        group.last_change = now
        if chat_id in self._workers:
            group.wake.set()
            return
        group.leading = calm
        task = asyncio.get_running_loop().create_task(self._work(chat_id, group))
        self._workers[chat_id] = task

    def pending(self) -> list[asyncio.Task[None]]:
        """The groups' workers still running."""
        return list(self._workers.values())

    def hurry(self, now: bool = True) -> None:
        """Edit every marked message at once, without waiting for quiet (at shutdown), until
        called with False."""
        self._hurry = now
        for group in self._groups.values():
            group.wake.set()

    async def _work(self, chat_id: int, group: _Group) -> None:
        loop = asyncio.get_running_loop()
        try:
            while group.dirty:
                if group.leading:
                    group.leading = False
                    await self._edit_one(group, min(group.dirty, key=group.dirty.__getitem__))
                    continue
                due = min(group.last_change + self.quiet, min(group.dirty.values()) + self.stale)
                wait = due - loop.time()
                if wait > 0 and not self._hurry:
                    group.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(group.wake.wait(), wait)
                    continue
                for key in sorted(group.dirty, key=group.dirty.__getitem__):
                    if key in group.dirty:
                        await self._edit_one(group, key)
        finally:
            del self._workers[chat_id]
            if not group.dirty and len(self._groups) > 1024:
                self._forget_calm_groups(loop.time())

    async def _edit_one(self, group: _Group, key: Key) -> None:
        del group.dirty[key]
        try:
            await self._edit(key)
        except Exception as exc:
            log.error("a group message was not updated: %s", type(exc).__name__, exc_info=exc)

    def _forget_calm_groups(self, now: float) -> None:
        for chat_id, group in list(self._groups.items()):
            if chat_id not in self._workers and now - group.last_change >= self.quiet:
                del self._groups[chat_id]
