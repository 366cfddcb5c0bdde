"""Fixtures for the emulator's own tests: a running emulator and clients that talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot

from bot.emulator import BotApiEmulator, Clock, Limits

TOKEN = "123456:TEST-emulator"
USERNAME = "claimbot_demo_bot"


@pytest.fixture
def clock() -> Clock:
    """Real time that a test can jump ahead with advance()."""
    return Clock()


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
async def emu(clock: Clock, limits: Limits) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, USERNAME, limits=limits, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url) as client:
        yield client


class RawApi:
    """Plain HTTP to the emulator, for what python-telegram-bot would not send."""

    def __init__(self, client: httpx.AsyncClient, emu: BotApiEmulator) -> None:
        self.client = client
        self.emu = emu

    async def __call__(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            f"{self.emu.base_url}{self.emu.token}/{method}", json=params
        )
        return response.status_code, response.json()


@pytest.fixture
async def api(emu: BotApiEmulator) -> AsyncIterator[RawApi]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield RawApi(client, emu)
