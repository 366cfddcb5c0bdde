"""Flood limits, people who never started the bot, blocked bots and kicked bots."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from bot.emulator import BotApiEmulator, Clock, Limits
from bot.emulator.timing import FloodControl


@pytest.fixture
def limits() -> Limits:
    return Limits(overall_per_second=30, group_per_minute=3, private_per_second=1)


@pytest.fixture
def clock() -> Clock:
    return Clock.frozen()


async def test_flood_limit_raises_retry_after(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, "Volunteers")
    for number in range(3):
        await bot.send_message(group.chat_id, f"card {number}")
    emu.clock.advance(10)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(group.chat_id, "one too many")
    # The oldest of the three leaves the minute window 50 s from now.
    assert raised.value.retry_after == dt.timedelta(seconds=50)
    assert emu.flood_rejections == 1 and emu.count("sendMessage", 429) == 1
    emu.clock.advance(50)
    await bot.send_message(group.chat_id, "fits again")


async def test_private_chat_needs_start_then_deep_link_opens_it(
    bot: Bot, emu: BotApiEmulator
) -> None:
    alice = emu.user(1001, "Alice")
    with pytest.raises(Forbidden, match=r"(?i)bot can.t initiate conversation with a user"):
        await bot.send_message(alice.user_id, "details")
    await alice.open_link("https://t.me/claimbot_demo_bot?start=d-12_ab")
    updates = await bot.get_updates()
    assert updates[-1].message is not None and updates[-1].message.text == "/start d-12_ab"
    assert (await bot.send_message(alice.user_id, "details")).text == "details"

    alice.block_bot()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        emu.clock.advance(2)
        await bot.send_message(alice.user_id, "again")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    change = updates[-1].my_chat_member
    assert change is not None and change.new_chat_member.status == "kicked"


async def test_removed_from_group(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, "Volunteers")
    emu.remove_bot(group)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(group.chat_id, "card")
    change = (await bot.get_updates())[-1].my_chat_member
    assert change is not None and change.new_chat_member.status == "kicked"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100999, "nobody here")


async def test_python_telegram_bot_rate_limiter_waits_out_a_429() -> None:
    # Real time: the rate limiter sleeps retry_after for real, and the window slides meanwhile.
    async with BotApiEmulator(limits=Limits(private_per_second=1)) as emu:
        alice = emu.user(1001, "Alice")
        await alice.start_bot()
        limiter = AIORateLimiter(max_retries=2)
        async with ExtBot(emu.token, base_url=emu.base_url, rate_limiter=limiter) as bot:
            started = time.monotonic()
            await bot.send_message(alice.user_id, "one")
            await bot.send_message(alice.user_id, "two")
            assert time.monotonic() - started >= 0.9
        assert emu.count("sendMessage", 429) == 1
        assert [m.text for m in alice.private_messages()] == ["one", "two"]


def test_time_scale_shortens_the_windows_not_the_counts() -> None:
    # Ten times faster: 3 a group's "minute" of 6 s, 30 in a "second" of 0.1 s.
    flood = FloodControl(Limits(group_per_minute=3, time_scale=10))
    for at in (100.0, 101.0, 102.0):
        assert flood.retry_after(-100, True, at) is None
        flood.record(-100, at)
    assert flood.retry_after(-100, True, 103.0) == 3  # the first leaves the window at 106
    assert flood.retry_after(-100, True, 106.0) is None
    for n in range(30):
        flood.record(1, 200.0 + n / 1000)
    assert flood.retry_after(2, False, 200.05) == 1  # whole seconds, as Telegram says
    assert flood.retry_after(2, False, 200.1) is None
    with pytest.raises(ValueError, match="time_scale"):
        Limits(time_scale=0)
