"""The updates Telegram keeps for the bot until getUpdates confirms them, and long polling."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from typing import Final

from bot.emulator.timing import Clock
from bot.emulator.wire import JSON, ApiError

UPDATE_LIFETIME: Final = 24 * 3600.0
# getUpdates without allowed_updates delivers every type except these three.
ALL_UPDATE_TYPES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES: Final = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
TERMINATED: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)


class UpdateQueue:
    """Pending updates with their ids, and the one getUpdates call that may wait for them."""

    def __init__(self, clock: Clock, on_change: Callable[[], None]) -> None:
        self.allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.closing = False  # the server is stopping: polls answer at once
        self._clock = clock
        self._on_change = on_change
        self._updates: deque[tuple[int, float, JSON]] = deque()
        self._next_update_id = 1
        self._poll_waiter: asyncio.Future[bool] | None = None

    def __len__(self) -> int:
        return len(self._updates)

    def put(self, kind: str, payload: JSON) -> None:
        """Queue an update of this kind and wake the waiting poll."""
        # Telegram does not even keep updates of the kinds the bot opted out of.
        if kind not in self.allowed:
            return
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._updates.append((update_id, self._clock.now(), update))
        self._wake()
        self._on_change()

    def pending(self) -> list[tuple[int, JSON]]:
        """Every update not yet confirmed, oldest first, with its id (for webhook delivery);
        those older than Telegram keeps them are dropped first."""
        self._confirm(0)
        return [(update_id, update) for update_id, _, update in self._updates]

    def confirm_one(self, update_id: int) -> None:
        """Drop one update, delivered to the webhook (deliveries finish in any order)."""
        for index, (pending_id, _, _) in enumerate(self._updates):
            if pending_id == update_id:
                del self._updates[index]
                return

    def clear(self) -> None:
        """Drop every pending update (drop_pending_updates)."""
        self._updates.clear()

    def close(self) -> None:
        """The server stops: a waiting poll answers now, later ones do not wait."""
        self.closing = True
        self._wake()

    async def poll(self, offset: int, limit: int, timeout: float) -> list[JSON]:  # noqa: ASYNC109
        """Confirm updates below ``offset``, then up to ``limit`` updates, waiting if none."""
        # Like Telegram, a new request ends the one still waiting (409 for it).
        previous, self._poll_waiter = self._poll_waiter, None
        if previous is not None and not previous.done():
            previous.set_result(False)
        self._confirm(offset)
        if not self._updates and timeout > 0 and not self.closing:
            waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                await asyncio.wait([waiter], timeout=timeout)
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if waiter.done() and not waiter.result():
                raise ApiError(409, TERMINATED)
            waiter.cancel()
        return [update for _, _, update in itertools.islice(self._updates, limit)]

    def _wake(self) -> None:
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset > 0:
            while updates and updates[0][0] < offset:
                updates.popleft()
        elif offset < 0:
            while len(updates) > -offset:
                updates.popleft()
        horizon = self._clock.now() - UPDATE_LIFETIME
        while updates and updates[0][1] < horizon:
            updates.popleft()
