"""``claimbot run`` as a process: it refuses to start, with exit status 2 and a line that
names the key, when the Bot API cannot be reached in time or refuses the token, or the
database file cannot be written."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator

ROOT = Path(__file__).parent.parent
TOKEN = "4242:never-printed-SECRET"


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(tmp_path: Path, base_url: str, connect_timeout: float = 60) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f'telegram:\n  token: "{TOKEN}"\n  base_url: {base_url}\n'
        f"  connect_timeout: {connect_timeout}\n"
        f"coordinators: [1]\ndatabase:\n  path: {tmp_path / 'bot.db'}\n",
        encoding="utf-8",
    )
    return path


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "run", "--config", str(config)]


def environment() -> dict[str, str]:
    """This process's environment without a token of its own, which would win."""
    return {k: v for k, v in os.environ.items() if k != "CLAIMBOT_TOKEN"}


def test_an_unreachable_bot_api_is_retried_aloud_then_given_up(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/bot", connect_timeout=3)
    started = time.monotonic()
    result = subprocess.run(
        command(config), cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=60
    )
    took = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"Bot API at http://127.0.0.1:{port} not reachable" in result.stderr
    assert "retrying" in result.stderr
    assert "telegram.connect_timeout: no Bot API answered" in result.stderr
    assert "Traceback" not in output
    assert "SECRET" not in output
    assert took >= 3


@pytest.mark.parametrize("path", ["/bot", "/not-a-bot-api"])
async def test_a_refused_token_ends_it_at_once(tmp_path: Path, path: str) -> None:
    # The emulator answers 401 to another token and 404 to a path that is not its API.
    async with BotApiEmulator(token="123456:the-right-one") as emu:
        base_url = emu.base_url.removesuffix("/bot") + path
        config = write_config(tmp_path, base_url)
        process = await asyncio.create_subprocess_exec(
            *command(config),
            cwd=ROOT,
            env=environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    output = (out + err).decode()
    assert process.returncode == 2, output
    assert "claimbot: telegram.token: the Bot API refused the token" in output
    assert "and that telegram.base_url (http://127.0.0.1:" in output
    assert "retrying" not in output
    assert "Traceback" not in output
    assert "SECRET" not in output


def test_a_database_file_it_cannot_write_is_refused_at_start(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/bot", connect_timeout=3)
    database = tmp_path / "bot.db"
    sqlite3.connect(database).close()
    database.chmod(0o444)
    run = command(config)
    if os.geteuid() == 0:
        # Root may write any file; in a user namespace of its own it may not.
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare")
        run = ["unshare", "--user", *run]
    result = subprocess.run(
        run, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "claimbot: config error: database.path:" in result.stderr
    assert "readonly database" in result.stderr
    assert "not reachable" not in result.stderr, "refused before reaching for the Bot API"
