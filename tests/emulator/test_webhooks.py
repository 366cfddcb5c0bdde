"""Webhooks: setWebhook, updates POSTed to the URL with the secret token, retried on failure,
getUpdates refused meanwhile; a plain aiohttp server on loopback plays the bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.emulator import BotApiEmulator
from bot.emulator.webhooks import SECRET_HEADER
from tests.emulator.conftest import RawApi

SECRET = "s3cret_Token-1"


@dataclass
class Receiver:
    """A webhook endpoint: answers each POST with the next status (then 200), keeps the
    updates it accepted and the headers of every request."""

    statuses: list[int] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    hold: asyncio.Event | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if self.hold is not None:
            await self.hold.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.accepted.append(await request.json())
        return web.Response(status=status)

    def texts(self) -> list[str]:
        return [u["message"]["text"] for u in self.accepted if "message" in u]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook/path", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook.url = f"http://127.0.0.1:{port}/hook/path"
    yield hook
    if hook.hold is not None:
        hook.hold.set()
    await runner.cleanup()


async def test_updates_are_posted_in_order_with_the_secret_token(
    emu: BotApiEmulator, api: RawApi, receiver: Receiver
) -> None:
    alice = emu.user(1001, "Alice")
    await alice.send_private("before the webhook")
    status, body = await api("setWebhook", url=receiver.url, secret_token=SECRET)
    assert status == 200 and body["result"] is True
    for text in ("one", "two", "three"):
        await alice.send_private(text)
    await emu.wait_for(lambda: len(receiver.accepted) == 4)
    assert receiver.texts() == ["before the webhook", "one", "two", "three"]
    ids = [u["update_id"] for u in receiver.accepted]
    assert ids == sorted(ids)
    assert all(h[SECRET_HEADER] == SECRET for h in receiver.headers)
    assert all(h["Content-Type"] == "application/json" for h in receiver.headers)
    _, info = await api("getWebhookInfo")
    assert info["result"]["url"] == receiver.url
    assert info["result"]["pending_update_count"] == 0
    assert "last_error_date" not in info["result"]
    # Meanwhile getUpdates is refused, as Telegram refuses it.
    status, body = await api("getUpdates")
    assert status == 409 and "webhook is active" in body["description"]


async def test_a_refused_update_is_sent_again_and_the_error_shown(
    emu: BotApiEmulator, api: RawApi, receiver: Receiver
) -> None:
    emu.webhooks.retry_base = 0.01
    receiver.statuses = [403, 500, 500]
    await api("setWebhook", url=receiver.url, secret_token=SECRET)
    alice = emu.user(1001, "Alice")
    await alice.send_private("first")
    await alice.send_private("second")
    await emu.wait_for(lambda: len(receiver.accepted) == 2)
    # The failed update went again (at once, then after doubling delays) and the next one of
    # the same chat waited for it: the order holds.
    assert receiver.texts() == ["first", "second"]
    attempts = [(d.update_id, d.status) for d in emu.webhook_deliveries]
    first_id = receiver.accepted[0]["update_id"]
    assert attempts[:4] == [(first_id, 403), (first_id, 500), (first_id, 500), (first_id, 200)]
    info = emu.webhook_info()
    error = "Wrong response from the webhook: 500 Internal Server Error"
    assert info["last_error_message"] == error
    assert info["pending_update_count"] == 0


async def test_an_unreachable_webhook_keeps_updates_until_it_answers(
    emu: BotApiEmulator, api: RawApi, receiver: Receiver
) -> None:
    emu.webhooks.retry_base = 0.01
    dead = receiver.url.replace("/hook/path", "/nothing-here")  # 404 from the server
    await api("setWebhook", url=dead)
    await emu.user(1001, "Alice").send_private("kept")
    await emu.wait_for(lambda: emu.webhook_info().get("last_error_message"))
    assert emu.pending_updates == 1 and receiver.accepted == []
    await api("setWebhook", url=receiver.url)
    await emu.wait_for(lambda: receiver.texts() == ["kept"])
    assert emu.pending_updates == 0


async def test_one_chat_at_a_time_many_chats_at_once(
    emu: BotApiEmulator, api: RawApi, receiver: Receiver
) -> None:
    receiver.hold = asyncio.Event()
    await api("setWebhook", url=receiver.url, max_connections=3)
    people = [emu.user(1001 + n, f"P{n}") for n in range(5)]
    for person in people:
        await person.send_private("a")
        await person.send_private("b")
    # Held at the receiver: three requests at once (max_connections), one per chat.
    await emu.wait_for(lambda: len(receiver.headers) == 3)
    await asyncio.sleep(0.05)
    assert len(receiver.headers) == 3
    receiver.hold.set()
    await emu.wait_for(lambda: len(receiver.accepted) == 10)
    for person in people:
        mine = [
            u["message"]["text"]
            for u in receiver.accepted
            if u["message"]["chat"]["id"] == person.user_id
        ]
        assert mine == ["a", "b"]


async def test_set_webhook_checks_and_delete_webhook_goes_back_to_polling(
    emu: BotApiEmulator, api: RawApi
) -> None:
    status, body = await api("setWebhook", url="ftp://example.org/hook")
    assert status == 400 and "HTTPS URL must be provided" in body["description"]
    status, body = await api("setWebhook", url="https://example.org/", secret_token="no spaces")
    assert status == 400 and "secret token" in body["description"]
    # Recorded, but never sent anywhere off this machine.
    assert (await api("setWebhook", url="https://example.org/hook", max_connections=500))[0]
    await emu.user(1001, "Alice").send_private("stays here")
    info = await emu.wait_for(
        lambda: emu.webhook_info() if "last_error_message" in emu.webhook_info() else None
    )
    assert info["max_connections"] == 100 and info["pending_update_count"] == 1
    assert "loopback" in info["last_error_message"]
    assert (await api("deleteWebhook"))[0] == 200
    _, body = await api("getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["stays here"]
    _, info_body = await api("getWebhookInfo")
    assert info_body["result"]["url"] == ""
