"""The Bot API emulator: the simulated Telegram served over HTTP, plus what tests read back.

``BotApiEmulator`` is the one object tests, the demo and the benchmarks hold. It is the World
(people, chats, messages, updates: ``world.py``), served to the bot by an HttpFront
(``routes.py``) through the Bot API methods (``methods.py``); what it adds is the log of the
bot's calls and the waiting and counting that tests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, TypeVar

from bot.emulator.methods import BotApiMethods
from bot.emulator.model import SimCallbackQuery, SimChat, SimMessage, SimUser
from bot.emulator.routes import HttpFront
from bot.emulator.timing import Clock, FaultPlan, Faults, Limits
from bot.emulator.webhooks import Delivery, WebhookSender
from bot.emulator.wire import JSON, ApiCall
from bot.emulator.world import World

log = logging.getLogger(__name__)

T = TypeVar("T")


class BotApiEmulator(World):
    """A local Telegram Bot API for one bot: HTTP for the bot, Python for simulated people."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "claimbot_demo_bot",
        limits: Limits | None = None,
        faults: Faults | None = None,
        *,
        bot_name: str = "Claimbot",
        clock: Clock | Callable[[], float] | None = None,
        record_calls: bool = True,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '123456:secret'")
        super().__init__(int(bot_id), bot_username, bot_name=bot_name, clock=clock, limits=limits)
        self.token: Final = token
        self.record_calls = record_calls
        self.calls: list[ApiCall] = []
        # Called with each call as it is answered (the command line prints them).
        self.on_call: Callable[[ApiCall], None] | None = None
        self._counts: Counter[tuple[str, int]] = Counter()
        methods = BotApiMethods(self).by_name()
        plan = FaultPlan(faults) if faults else None
        self._http = HttpFront(token, methods, self.file_paths, self._record, plan)
        self.webhooks = WebhookSender(self)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on a loopback address (port 0: any free port); returns base_url."""
        base_url = await self._http.start(host, port)
        self.updates.closing = False
        self.webhooks.start()
        return base_url

    async def stop(self) -> None:
        """Stop listening and delivering; a waiting getUpdates answers at once."""
        self.updates.close()
        await self.webhooks.stop()
        await self._http.stop()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What goes into ApplicationBuilder().base_url(): http://127.0.0.1:<port>/bot."""
        return self._http.base_url

    @property
    def base_file_url(self) -> str:
        """What goes into ApplicationBuilder().base_file_url(), for getFile downloads."""
        return self.base_url.removesuffix("/bot") + "/file/bot"

    @property
    def limits(self) -> Limits:
        """The flood limits in force; assign to change them at runtime."""
        return self.flood.limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        self.flood.limits = limits

    @property
    def faults(self) -> Faults | None:
        """The injected faults in force; assign to change them (restarts the seeded sequence)."""
        plan = self._http.fault_plan
        return plan.faults if plan else None

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._http.fault_plan = FaultPlan(faults) if faults else None

    # -- reading back -------------------------------------------------------------------------

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self.updates)

    @property
    def flood_rejections(self) -> int:
        """How many calls were answered 429 Too Many Requests."""
        return self.flood.rejections

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every attempt to deliver an update to the webhook, with the answer's status."""
        return self.webhooks.deliveries

    def webhook_info(self) -> JSON:
        """What getWebhookInfo would answer now."""
        return BotApiMethods(self).get_webhook_info({})

    def count(self, method: str | None = None, status: int | None = None) -> int:
        """How many calls were made, optionally of one method and/or with one HTTP status."""
        return sum(
            number
            for (name, code), number in self._counts.items()
            if (method is None or name == method) and (status is None or code == status)
        )

    def call_counts(self) -> dict[tuple[str, int], int]:
        """Calls per (method, HTTP status); status 0 is a dropped connection."""
        return dict(self._counts)

    def unanswered_callback_queries(self) -> list[SimCallbackQuery]:
        """Taps the bot has not answered yet."""
        return [q for q in self.callback_queries.values() if q.answer is None]

    def callback_answer(self, query_id: str) -> JSON | None:
        """The answerCallbackQuery parameters for a tap, or None while unanswered."""
        query = self.callback_queries.get(query_id)
        return query.answer if query is not None else None

    def _record(self, method: str, params: JSON, status: int, description: str | None) -> None:
        """Count and log one answered (or dropped) call."""
        self._counts[method, status] += 1
        if self.record_calls or self.on_call is not None:
            call = ApiCall(method, params, self.clock.now(), status, description)
            if self.record_calls:
                self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)
        if status != 200:
            log.debug("%s -> %s %s", method, status, description)
        self.changed()

    # -- waiting ------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - the emulator's API, like asyncio.wait_for
        *,
        what: str | None = None,
    ) -> T:
        """Wait until predicate() is truthy, checked after each change; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(predicate, timeout, what))
            waiter = self.next_change()
            with contextlib.suppress(TimeoutError):  # one last check of the predicate above
                await asyncio.wait_for(waiter, remaining)

    async def wait_for_message(
        self,
        chat: SimChat | SimUser | int,
        match: str | Callable[[SimMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SimMessage:
        """Wait for a bot message in a chat whose text contains ``match`` (or satisfies it)."""
        accepts: Callable[[SimMessage], bool]
        if match is None:
            accepts = bool
        elif isinstance(match, str):
            needle = match

            def accepts(message: SimMessage) -> bool:
                return needle in (message.text or message.caption or "")

        else:
            accepts = match

        target = self.chat(chat)

        def newest() -> SimMessage | None:
            for message_id in reversed(target.bot_message_ids):
                message = target.by_id[message_id]
                if not message.deleted and accepts(message):
                    return message
            return None

        what = f"a bot message in chat {target.chat_id} matching {match!r}"
        return await self.wait_for(newest, timeout, what=what)

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """Wait for the bot's answerCallbackQuery to a tap; returns text, show_alert, url."""
        if query_id not in self.callback_queries:
            raise LookupError(f"no callback query {query_id}")
        return await self.wait_for(
            lambda: self.callback_answer(query_id),
            timeout,
            what=f"an answer to callback query {query_id}",
        )

    def _timeout_message(
        self, predicate: Callable[[], Any], timeout: float, what: str | None
    ) -> str:
        if what is None:
            try:
                what = inspect.getsource(predicate).strip()
            except (OSError, TypeError):
                what = getattr(predicate, "__qualname__", repr(predicate))
        recent = (
            ", ".join(f"{call.method}={call.status}" for call in self.calls[-8:])
            or "none recorded"
        )
        return (
            f"not within {timeout} s: {what}; pending updates: {self.pending_updates}; "
            f"last API calls: {recent}"
        )
