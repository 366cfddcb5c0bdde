"""End to end: the real bot (in-process or `claimbot run` as a subprocess) over HTTP on the
local Bot API emulator, driven by simulated people."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import build_application, running
from bot.config import config_from_mapping
from bot.emulator import BotApiEmulator, Limits, SimChat, SimMessage, SimUser

ROOT = Path(__file__).parent.parent.parent
TOKEN = "424242:E2E-token-not-for-telegram"
USERNAME = "claimbot_e2e_bot"
GROUP_ID = -1009000000001
COORDINATOR_ID = 777001


def bot_settings(emu: BotApiEmulator, db_path: Path, **telegram: Any) -> dict[str, Any]:
    """A config mapping that points the bot at the emulator."""
    return {
        "telegram": {"base_url": emu.base_url, "poll_timeout": 1, **telegram},
        "database": {"path": str(db_path)},
        "coordinators": [COORDINATOR_ID],
        "language": "en",
    }


@pytest.fixture
def limits() -> Limits:
    """Telegram's flood limits, but a private chat may take short bursts, as Telegram's does
    (the emulator's 1/s window is strict), so a conversation's quick replies are not 429s."""
    return Limits(overall_per_second=30, group_per_minute=20, private_per_second=5)


@pytest.fixture
async def emu(limits: Limits) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, USERNAME, limits=limits) as emulator:
        yield emulator


@pytest.fixture
def group(emu: BotApiEmulator) -> SimChat:
    chat = emu.group(GROUP_ID, "Volunteers")
    # Promoting the bot sends it a my_chat_member update: that is how it learns of the group.
    emu.set_bot_admin(chat)
    return chat


@pytest.fixture
async def coordinator(emu: BotApiEmulator) -> SimUser:
    person = emu.user(COORDINATOR_ID, "Coordinator", last_name="Chen", language_code="en")
    await person.start_bot()
    return person


BotRunner = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def run_bot(emu: BotApiEmulator, tmp_path: Path) -> BotRunner:
    """Run the real Application in this process, polling the emulator."""

    @contextlib.asynccontextmanager
    async def runner(**telegram: Any) -> AsyncIterator[Any]:
        settings = bot_settings(emu, tmp_path / "bot.db", token=TOKEN, **telegram)
        app = build_application(config_from_mapping(settings, env={}))
        async with running(app, polling=True, poll_timeout=1):
            yield app

    return runner


class BotProcess:
    """`claimbot run` as a child process, with the token in the environment."""

    def __init__(self, config_path: Path, env: dict[str, str] | None = None) -> None:
        self.config_path = config_path
        self.env = env or {}
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "CLAIMBOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), **self.env}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(self.config_path),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def kill(self) -> bytes:
        """SIGKILL: no shutdown code runs, like a crash or a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        _, err = await self.process.communicate()
        return err

    async def stop(self) -> bytes:
        """SIGINT, as Ctrl-C: a clean shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(self.process.communicate(), 30)
        return err


@pytest.fixture
async def bot_process(emu: BotApiEmulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    settings = bot_settings(emu, tmp_path / "bot.db")
    settings["logging"] = {"level": "DEBUG"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    proc = BotProcess(path)
    yield proc
    if proc.process is not None and proc.process.returncode is None:
        await proc.kill()


def cards(emu: BotApiEmulator) -> list[SimMessage]:
    """The need cards in the group."""
    return [m for m in emu.messages(GROUP_ID) if (m.text or "").startswith("Need #")]


async def post(
    emu: BotApiEmulator, coordinator: SimUser, group: SimChat, summary: str
) -> SimMessage:
    """A coordinator posts a need in the group; returns its card once it is there."""
    before = len(cards(emu))
    await coordinator.send(group, f"/post@{USERNAME} {summary}")
    await emu.wait_for(lambda: len(cards(emu)) > before, timeout=15)
    return cards(emu)[before]
