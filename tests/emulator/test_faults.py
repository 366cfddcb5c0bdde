"""Injected faults: error answers that change nothing, dropped connections, delays."""

from __future__ import annotations

import time

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.emulator import BotApiEmulator, Faults, Limits, SimChat

GROUP = -1001234


@pytest.fixture
def limits() -> Limits:
    return Limits(enabled=False)


@pytest.fixture
def group(emu: BotApiEmulator) -> SimChat:
    return emu.group(GROUP, "Volunteers")


async def test_error_answers_do_not_act(bot: Bot, emu: BotApiEmulator, group: SimChat) -> None:
    emu.faults = Faults(error_rate=1.0, status=500, methods=["sendMessage"])
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(GROUP, "card")
    assert group.messages() == []
    assert (await bot.get_me()).id == emu.bot_id, "other methods are untouched"
    assert emu.calls[-2].status == 500 and emu.count(status=500) == 1


async def test_faults_follow_the_seed(bot: Bot, emu: BotApiEmulator, group: SimChat) -> None:
    async def pattern() -> list[bool]:
        emu.faults = Faults(error_rate=0.5, seed=7)
        outcomes = []
        for number in range(16):
            try:
                await bot.send_message(GROUP, f"card {number}")
                outcomes.append(True)
            except NetworkError:
                outcomes.append(False)
        return outcomes

    first = await pattern()
    assert 0 < sum(first) < 16
    assert await pattern() == first
    assert len(group.messages()) == 2 * sum(first)


@pytest.mark.parametrize("after_action", [False, True])
async def test_dropped_connections(
    bot: Bot, emu: BotApiEmulator, group: SimChat, after_action: bool
) -> None:
    emu.faults = Faults(drop_rate=1.0, drop_after_action=after_action)
    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "card")
    assert len(group.messages()) == (1 if after_action else 0)
    assert emu.calls[-1].status == 0
    emu.faults = None
    assert (await bot.send_message(GROUP, "after")).text == "after"


async def test_delay(bot: Bot, emu: BotApiEmulator) -> None:
    emu.faults = Faults(delay=0.2, methods=["getMe"])
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.19


def test_fault_shares_are_checked() -> None:
    with pytest.raises(ValueError, match="must not exceed 1"):
        Faults(error_rate=0.6, drop_rate=0.6)
