"""Webhook delivery: the bot's updates pushed to its URL by POST, as the Bot API server does.

While a webhook is set (setWebhook), each pending update is POSTed as JSON to the URL with
the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret token was given. A 2xx answer
confirms it; anything else (a wrong secret's 403, a refused connection) is recorded as the
webhook's last error and the update is sent again, as tdlib/telegram-bot-api's WebhookActor
does: at once after the first failure, then after 2, 4, 8... seconds up to a minute, or after
the answer's Retry-After; dropped once older than the 24 hours Telegram keeps updates.

Updates go out over up to ``max_connections`` requests at once, but those of one queue one
at a time, in order: a chat's messages and membership changes, or one person's taps (so two
people's taps on one card may reach the bot in either order, as from Telegram).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from bot.emulator.model import Webhook
from bot.emulator.wire import JSON
from bot.emulator.world import World

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
MAX_RESEND_DELAY: Final = 60.0
NOT_LOOPBACK: Final = "the emulator delivers webhooks to loopback addresses only"


@dataclass(slots=True)
class _Retry:
    """An update whose delivery failed: how often, and when it may go again."""

    failures: int = 0
    delay: float = 1.0
    not_before: float = 0.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver an update: its id and the answer (0: no connection)."""

    update_id: int
    status: int


def queue_of(update: JSON) -> tuple[str, int]:
    """The queue an update waits in: the chat of a message, the person of a tap."""
    if "callback_query" in update:
        return "user", int(update["callback_query"]["from"]["id"])
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        if kind in update:
            return "chat", int(update[kind]["chat"]["id"])
    return "update", int(update["update_id"])


def deliverable(url: str) -> bool:
    """Whether the emulator sends to this URL: loopback hosts only, never the internet."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSender:
    """Delivers the world's pending updates to its webhook while one is set."""

    def __init__(self, world: World, *, retry_base: float = 1.0, timeout: float = 10.0) -> None:
        self.world = world
        # Seconds the resend delays are counted in: 1 as in Telegram; tests may shorten it.
        self.retry_base = retry_base
        self.deliveries: list[Delivery] = []
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        # Updates on their way: id -> their queue and the request's task.
        self._sending: dict[int, tuple[tuple[str, int], asyncio.Task[None]]] = {}
        self._retries: dict[int, _Retry] = {}

    def start(self) -> None:
        """Begin delivering (in the background, for as long as the emulator runs)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop delivering; requests on the way are abandoned (their updates stay pending)."""
        task, self._task = self._task, None
        tasks = [sending for _, sending in self._sending.values()]
        tasks += [task] if task else []
        for pending in tasks:
            pending.cancel()
        for pending in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        self._sending.clear()

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                change = self.world.next_change()
                wake_at = self._dispatch(session)
                loop = asyncio.get_running_loop()
                wait = None if wake_at is None else max(0.0, wake_at - loop.time())
                await asyncio.wait([change], timeout=wait)

    def _dispatch(self, session: aiohttp.ClientSession) -> float | None:
        """Send what may go now; when the next retry falls due (loop time), if any."""
        webhook = self.world.webhook
        if webhook is None:
            return None
        if not deliverable(webhook.url):
            if webhook.last_error_message != NOT_LOOPBACK:
                webhook.last_error_date = int(time.time())
                webhook.last_error_message = NOT_LOOPBACK
            return None
        loop = asyncio.get_running_loop()
        now = loop.time()
        busy = {queue for queue, _ in self._sending.values()}
        wake_at: float | None = None
        for update_id, update in self.world.updates.pending():
            queue = queue_of(update)
            if queue in busy:
                continue  # an older update of this queue goes first
            busy.add(queue)
            retry = self._retries.get(update_id)
            if retry is not None and retry.not_before > now:
                wake_at = min(wake_at or retry.not_before, retry.not_before)
                continue
            if len(self._sending) >= webhook.max_connections:
                break
            task = loop.create_task(self._send(session, webhook, update_id, update))
            self._sending[update_id] = (queue, task)
        return wake_at

    async def _send(
        self, session: aiohttp.ClientSession, webhook: Webhook, update_id: int, update: JSON
    ) -> None:
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        status, error, retry_after = 0, None, 0.0
        try:
            async with session.post(webhook.url, json=update, headers=headers) as response:
                await response.read()
                status = response.status
                if not 200 <= status <= 299:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
                    retry_after = _seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc.__class__.__name__}"
        finally:
            self._sending.pop(update_id, None)
        self.deliveries.append(Delivery(update_id, status))
        if error is None:
            self._retries.pop(update_id, None)
            self.world.updates.confirm_one(update_id)
        else:
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            self._failed(update_id, retry_after)
        self.world.changed()

    def _failed(self, update_id: int, retry_after: float) -> None:
        """When a failed update goes again: at once the first time, then after doubling
        delays up to a minute, or after the webhook's Retry-After."""
        retry = self._retries.setdefault(update_id, _Retry())
        delay = retry_after
        if not retry_after and retry.failures > 0:
            retry.delay = min(MAX_RESEND_DELAY, retry.delay * 2)
            delay = retry.delay * self.retry_base
        retry.failures += 1
        retry.not_before = asyncio.get_running_loop().time() + delay


def _seconds(value: str | None) -> float:
    try:
        return min(max(float(value or 0), 0.0), 3600.0)
    except ValueError:
        return 0.0
