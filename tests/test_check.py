"""``claimbot check`` as a process against the local Bot API emulator: the config, the token
(getMe), each known group (getChat, getChatMember) and the database, one line a fact; exit 0
only if all is well, and the token never printed."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from telegram import ChatMember, ChatPermissions

from bot.__main__ import BotRights, bot_rights
from bot.emulator import BotApiEmulator
from storage import people
from storage.db import Database
from storage.migrations import MIGRATIONS

ROOT = Path(__file__).parent.parent
TOKEN = "4242:check-never-printed-SECRET"
USERNAME = "claimbot_check_bot"
GOOD_GROUP = -1009000000101
MEMBER_GROUP = -1009000000102
GONE_GROUP = -1009000000103


def write_config(tmp_path: Path, base_url: str, connect_timeout: float = 30) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f'telegram:\n  token: "{TOKEN}"\n  base_url: {base_url}\n'
        f"  connect_timeout: {connect_timeout}\n"
        f"coordinators: [1]\ndatabase:\n  path: {tmp_path / 'bot.db'}\n",
        encoding="utf-8",
    )
    return path


async def remember_groups(tmp_path: Path, groups: dict[int, str]) -> None:
    """The groups the bot knows, as it records them when it hears from them."""
    async with Database(tmp_path / "bot.db") as db:
        for chat_id, title in groups.items():
            await people.remember_group(db, chat_id, title, datetime.now(UTC))


async def check(config: Path) -> tuple[int, str, str]:
    """Run ``claimbot check``; its exit status, stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if k != "CLAIMBOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot", "check", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_good_setup_reports_each_fact_and_exits_0(tmp_path: Path) -> None:
    async with BotApiEmulator(TOKEN, USERNAME) as emu:
        emu.group(GOOD_GROUP, "Volunteers", bot_admin=True)
        await remember_groups(tmp_path, {GOOD_GROUP: "Volunteers"})
        status, out, err = await check(write_config(tmp_path, emu.base_url))
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("ok    config: valid (")
    assert f"ok    database: {tmp_path / 'bot.db'}: schema version {len(MIGRATIONS)}, " in out
    assert "ok    token: accepted by the Bot API at http://127.0.0.1:" in out
    assert f"the bot is @{USERNAME}" in out
    assert "note  privacy mode: on;" in out  # the emulator's bot keeps Telegram's default
    assert f'ok    group {GOOD_GROUP} "Volunteers": administrator; may post, pin and delete' in out
    assert lines[-1] == "claimbot check: all is well"
    assert "FAIL" not in out
    assert "SECRET" not in out + err


async def test_a_group_the_bot_was_removed_from_is_a_problem(tmp_path: Path) -> None:
    async with BotApiEmulator(TOKEN, USERNAME) as emu:
        emu.group(GOOD_GROUP, "Volunteers", bot_admin=True)
        emu.group(MEMBER_GROUP, "Branch 3")  # a plain member: may post, not pin or delete
        emu.remove_bot(emu.group(GONE_GROUP, "Old drive"))
        groups = {GOOD_GROUP: "Volunteers", MEMBER_GROUP: "Branch 3", GONE_GROUP: "Old drive"}
        await remember_groups(tmp_path, groups)
        status, out, err = await check(write_config(tmp_path, emu.base_url))
    assert status == 1, out + err
    assert f'FAIL  group {GONE_GROUP} "Old drive": not reachable (' in out
    assert "kicked" in out
    line = f'note  group {MEMBER_GROUP} "Branch 3": member; may post, may not pin or delete ('
    assert line in out
    assert f'ok    group {GOOD_GROUP} "Volunteers": administrator' in out
    assert out.splitlines()[-1] == "claimbot check: 1 problem(s), marked FAIL"
    assert "SECRET" not in out + err


async def test_a_refused_token_fails_without_printing_it(tmp_path: Path) -> None:
    async with BotApiEmulator(token="123456:the-right-one") as emu:
        await remember_groups(tmp_path, {GOOD_GROUP: "Volunteers"})
        status, out, err = await check(write_config(tmp_path, emu.base_url))
    assert status == 1, out + err
    assert "FAIL  telegram.token: the Bot API refused the token" in out
    assert "note  groups: 1 known, not checked without the Bot API" in out
    assert "Traceback" not in out + err
    assert "SECRET" not in out + err


async def test_an_unreachable_bot_api_fails_within_the_connect_timeout(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/bot", connect_timeout=2)
    started = time.monotonic()
    status, out, err = await check(config)
    took = time.monotonic() - started
    assert status == 1, out + err
    assert "FAIL  telegram.connect_timeout: no Bot API answered at http://127.0.0.1:" in out
    # The database is not there yet: a fresh install, not a problem in itself.
    assert "note  database: " in out and "does not exist yet" in out
    assert not (tmp_path / "bot.db").exists(), "check creates nothing"
    assert took < 2 + 15, took  # the timeout, and the interpreter's start
    assert "Traceback" not in out + err
    assert "SECRET" not in out + err


async def test_a_broken_config_exits_2_as_run_does(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  token: not-a-token\ncoordinators: []\n", encoding="utf-8")
    status, out, err = await check(path)
    assert status == 2, out + err
    assert "claimbot: config error: telegram.token: does not look like a bot token" in err
    assert out == ""


BOT = {"id": 424242, "is_bot": True, "first_name": "Claimbot"}
ADMIN_RIGHTS = dict.fromkeys(
    (
        "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
        "can_manage_video_chats", "can_restrict_members", "can_promote_members",
        "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
        "can_delete_stories",
    ),
    True,
)  # fmt: skip
RESTRICTED = dict.fromkeys(
    (
        "is_member", "can_change_info", "can_invite_users", "can_pin_messages",
        "can_send_messages", "can_send_polls", "can_send_other_messages",
        "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
        "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
        "can_send_voice_notes", "can_edit_tag", "can_react_to_messages",
    ),
    False,
)  # fmt: skip


def member(status: str, **fields: object) -> ChatMember:
    """A ChatMember as getChatMember answers it."""
    parsed = ChatMember.de_json({"status": status, "user": BOT, **fields}, None)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("who", "permissions", "rights"),
    [
        (
            member("administrator", **ADMIN_RIGHTS, can_pin_messages=False),
            None,
            BotRights("administrator", True, False, True),
        ),
        (
            member("administrator", **{**ADMIN_RIGHTS, "can_delete_messages": False}),
            None,
            BotRights("administrator", True, False, False),
        ),
        (member("member"), None, BotRights("member", True, False, False)),
        (
            member("member"),
            ChatPermissions(can_send_messages=False, can_pin_messages=True),
            BotRights("member", False, True, False),
        ),
        (
            member("restricted", **{**RESTRICTED, "can_send_messages": True}, until_date=0),
            None,
            BotRights("restricted", True, False, False),
        ),
        (member("left"), None, BotRights("left", False, False, False)),
        (member("kicked", until_date=0), None, BotRights("kicked", False, False, False)),
    ],
)
def test_the_bots_rights_from_its_membership(
    who: ChatMember, permissions: ChatPermissions | None, rights: BotRights
) -> None:
    assert bot_rights(who, permissions) == rights


async def test_the_webhook_as_telegram_has_it(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/claimbot"  # a loopback port nothing listens on
    async with BotApiEmulator(TOKEN, USERNAME) as emu:
        path = write_config(tmp_path, emu.base_url)
        _, out, _ = await check(path)
        assert "ok    updates: long polling" in out
        webhook = f"  webhook:\n    url: {url}\n    secret_token: abc\n"
        text = path.read_text(encoding="utf-8").replace("coordinators:", webhook + "coordinators:")
        path.write_text(text, encoding="utf-8")
        status, out, _ = await check(path)
        assert status == 0, out
        assert f"note  webhook: not set at Telegram yet; claimbot run sets {url}" in out
        emu.webhooks.retry_base = 0.01
        async with httpx.AsyncClient() as client:
            await client.post(f"{emu.base_url}{emu.token}/setWebhook", json={"url": url})
        await emu.user(5, "Eve").send_private("hello")
        await emu.wait_for(lambda: emu.webhook_info().get("last_error_message"))
        _, out, _ = await check(path)
    assert f"note  webhook: set at {url}, 1 update(s) waiting; Telegram's last delivery" in out
    assert "Connection failed" in out
