"""Webhook mode end to end over HTTP: the emulator POSTs updates to the real bot's webhook
(python-telegram-bot's own server), with the secret token; the bot answers through the
Bot API as in polling mode."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.app import build_application, running
from bot.config import config_from_mapping
from bot.emulator import BotApiEmulator, SimChat, SimUser
from tests.e2e.conftest import TOKEN, BotProcess, bot_settings, cards, post
from tests.e2e.test_claim_loop import people

SECRET = "hook-secret_42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def webhook_settings(emu: BotApiEmulator, db: Path, **telegram: Any) -> dict[str, Any]:
    """The e2e config in webhook mode on a free port: the emulator, like a self-hosted Bot
    API server, posts to http:// on loopback."""
    port = free_port()
    webhook = {
        "url": f"http://127.0.0.1:{port}/claimbot/hook",
        "listen": "127.0.0.1",
        "port": port,
        "secret_token": SECRET,
    }
    return bot_settings(emu, db, webhook=webhook, **telegram)


@contextlib.asynccontextmanager
async def webhook_bot(emu: BotApiEmulator, tmp_path: Path) -> AsyncIterator[str]:
    """The real Application in webhook mode in this process; yields its webhook URL."""
    settings = webhook_settings(emu, tmp_path / "bot.db", token=TOKEN)
    config = config_from_mapping(settings, env={})
    webhook = config.telegram.webhook
    assert webhook is not None
    async with running(build_application(config), webhook=webhook):
        yield webhook.url


async def test_a_post_and_a_claim_burst_over_the_webhook(
    emu: BotApiEmulator, group: SimChat, coordinator: SimUser, tmp_path: Path
) -> None:
    async with webhook_bot(emu, tmp_path) as url:
        info = emu.webhook_info()
        assert info["url"] == url and emu.webhooks is not None
        card = await post(emu, coordinator, group, "Empty-nest elder needs rice and oil")
        crowd = [*await people(emu, 1), *await people(emu, 39, start=5001, started=False)]
        taps = await asyncio.gather(*(p.tap(card, "c:1") for p in crowd))
        answers = await asyncio.gather(*(emu.wait_callback_answer(q, 15) for q in taps))
        # Taps of different people come over parallel connections, as from Telegram: the
        # first to reach the bot wins, exactly once, and every other tapper is told who.
        won = [n for n, a in enumerate(answers) if a["text"].startswith("It's yours")]
        assert len(won) == 1
        winner = crowd[won[0]]
        holder = f"{winner.first_name} {winner.last_name}"
        others = [a["text"] for n, a in enumerate(answers) if n != won[0]]
        assert others == [f"Already claimed by {holder}."] * 39
        await emu.wait_for(lambda: f"Claimed by {holder}" in (cards(emu)[0].text or ""), 15)
    # Every update went by POST, none by getUpdates, and each was taken (200) once. The
    # updates queued before the start may have found nobody there at first: python-telegram-
    # bot calls setWebhook before its server listens, and Telegram sends again (status 0).
    assert emu.count("getUpdates") == 0
    assert emu.count("setWebhook", 200) == 1
    taken = [d.update_id for d in emu.webhook_deliveries if d.status == 200]
    assert len(taken) == len(set(taken)) >= 42
    assert {d.status for d in emu.webhook_deliveries} <= {0, 200}
    assert emu.pending_updates == 0


async def test_a_wrong_secret_token_is_refused(
    emu: BotApiEmulator, group: SimChat, coordinator: SimUser, tmp_path: Path
) -> None:
    emu.webhooks.retry_base = 0.05
    async with webhook_bot(emu, tmp_path) as url:
        await emu.wait_for_message(coordinator, "Hello", timeout=15)
        forged = {
            "update_id": 999999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": group.chat_id, "type": "supergroup", "title": "Volunteers"},
                "from": coordinator.to_dict(),
                "text": "/post@claimbot_e2e_bot Forged need",
                "entities": [{"type": "bot_command", "offset": 0, "length": 22}],
            },
        }
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}):
                response = await client.post(url, json=forged, headers=headers)
                assert response.status_code == 403
        # The emulator told a wrong secret (as if the bot's config changed): refused and
        # retried, until Telegram has the right one again.
        async with httpx.AsyncClient() as client:
            api = f"{emu.base_url}{emu.token}"
            await client.post(f"{api}/setWebhook", json={"url": url, "secret_token": "stale"})
            await coordinator.send(group, "/post@claimbot_e2e_bot Rice for Grandma Li")
            await emu.wait_for(lambda: any(d.status == 403 for d in emu.webhook_deliveries), 15)
            info = emu.webhook_info()
            assert info["last_error_message"].startswith("Wrong response from the webhook: 403")
            assert info["pending_update_count"] == 1 and cards(emu) == []
            await client.post(f"{api}/setWebhook", json={"url": url, "secret_token": SECRET})
        await emu.wait_for(lambda: len(cards(emu)) == 1, timeout=15)
        assert "Rice for Grandma Li" in (cards(emu)[0].text or "")
        assert not any("Forged" in (m.text or "") for m in emu.messages(group))


@pytest.fixture
async def webhook_process(emu: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    settings = webhook_settings(emu, tmp_path / "bot.db")
    settings["logging"] = {"level": "DEBUG"}
    secret = settings["telegram"]["webhook"].pop("secret_token")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    proc = BotProcess(path, env={"CLAIMBOT_WEBHOOK_SECRET": secret})
    yield proc
    if proc.process is not None and proc.process.returncode is None:
        await proc.kill()


async def test_claimbot_run_in_webhook_mode(
    emu: BotApiEmulator, group: SimChat, coordinator: SimUser, webhook_process: BotProcess
) -> None:
    await webhook_process.start()
    card = await post(emu, coordinator, group, "Single parent needs tutoring")
    (alice,) = await people(emu, 1)
    won = await emu.wait_callback_answer(await alice.tap(card, "c:1"), 15)
    assert won["text"].startswith("It's yours")
    log = (await webhook_process.stop()).decode()
    assert webhook_process.process is not None and webhook_process.process.returncode == 0
    assert "webhook mode" in log, log[-2000:]
    assert SECRET not in log and TOKEN.split(":")[1] not in log
    assert emu.count("getUpdates") == 0 and emu.count("setWebhook", 200) == 1
