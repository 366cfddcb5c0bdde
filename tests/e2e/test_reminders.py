"""Reminders end to end over HTTP: the real bot and its real JobQueue, on the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import build_application, running
from bot.config import config_from_mapping
from bot.emulator import BotApiEmulator
from tests.e2e.conftest import TOKEN, bot_settings, post

FOLLOW_UP_AFTER = 20  # seconds


async def test_a_claimer_gets_a_follow_up_and_a_blocked_one_is_reported(
    emu: BotApiEmulator, group, coordinator, tmp_path: Path
):
    settings = bot_settings(emu, tmp_path / "bot.db", token=TOKEN)
    settings["reminders"] = {
        "follow_up_after": f"{FOLLOW_UP_AFTER}s",
        "check_every": "2s",
        # Real time of day here: no quiet hours, digests or holidays to get in the way.
        "quiet_hours": None,
        "unclaimed_digest": None,
        "country": None,
    }
    app = build_application(config_from_mapping(settings, env={}))
    loop = asyncio.get_running_loop()
    async with running(app, polling=True, poll_timeout=1):
        alice = emu.user(5001, "Alice", last_name="Li", language_code="en")
        bob = emu.user(5002, "Bob", last_name="Wu", language_code="en")
        for person in (alice, bob):
            await person.start_bot()
            await emu.wait_for_message(person, "Hello", timeout=10)
        cards = [await post(emu, coordinator, group, f"Household {n}") for n in (1, 2)]
        for person, card, data in ((alice, cards[0], "c:1"), (bob, cards[1], "c:2")):
            answer = await emu.wait_callback_answer(await person.tap(card, data), 10)
            assert answer["text"].startswith("It's yours")
        claimed = loop.time()
        await emu.wait_for_message(bob, "You are paired with", timeout=10)
        bob.block_bot()

        follow_up = await emu.wait_for_message(alice, "How is need #1 doing?", timeout=35)
        waited = loop.time() - claimed
        assert FOLLOW_UP_AFTER - 1 <= waited <= FOLLOW_UP_AFTER + 10, waited
        assert "/visit 1" in (follow_up.text or "")
        assert follow_up.callback_data == ["v:1"]

        note = await emu.wait_for_message(coordinator, "I cannot reach Bob Wu", timeout=15)
        assert "#2" in (note.text or "")
        assert not any("How is need" in (m.text or "") for m in bob.private_messages())
        # Told once, and Alice's follow-up went out once, whatever runs came since.
        await asyncio.sleep(3)
        notes = [m for m in emu.private_messages(coordinator) if "cannot reach" in (m.text or "")]
        assert len(notes) == 1
        assert sum("How is need" in (m.text or "") for m in alice.private_messages()) == 1
