"""Telegram's flood limits end to end: posts paced within them, 429s waited out, none lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.emulator import BotApiEmulator, Limits
from tests.e2e.conftest import GROUP_ID, USERNAME, cards


def group_sends(emu: BotApiEmulator, status: int) -> int:
    """sendMessage calls to the group answered with this status."""
    return sum(
        1
        for call in emu.calls
        if call.method == "sendMessage"
        and call.status == status
        and int(call.params.get("chat_id", 0)) == GROUP_ID
    )


@pytest.fixture
def limits() -> Limits:
    # Strict per-second limits keep these tests short; per-group minutes work the same way.
    return Limits(overall_per_second=5, group_per_minute=None, private_per_second=None)


async def test_flood_of_posts_is_paced_and_nothing_is_lost(emu, group, coordinator, run_bot):
    async with run_bot(rate_limit={"overall_per_second": 5, "group_per_minute": 1000}):
        for n in range(20):
            await coordinator.send(group, f"/post@{USERNAME} household {n}")
        await emu.wait_for(lambda: len(cards(emu)) == 20, timeout=30)
        numbers = sorted(int((c.text or "").split("#")[1].split()[0]) for c in cards(emu))
        assert numbers == list(range(1, 21))
        # Every 429 the emulator answered was waited out and retried until it went through,
        # and nothing was sent twice.
        assert group_sends(emu, 200) == 20


async def test_429_from_a_stricter_server_is_retried(emu, group, coordinator, run_bot):
    emu.limits = Limits(overall_per_second=2, group_per_minute=None, private_per_second=None)
    async with run_bot(rate_limit={"overall_per_second": 30, "max_retries": 10}):
        for n in range(6):
            await coordinator.send(group, f"/post@{USERNAME} household {n}")
        await emu.wait_for(lambda: len(cards(emu)) == 6, timeout=30)
        assert emu.flood_rejections > 0
        assert group_sends(emu, 429) == emu.flood_rejections
        assert group_sends(emu, 200) == 6


async def test_a_429_on_a_card_edit_does_not_hold_back_tap_answers(
    emu, group, coordinator, run_bot
):
    emu.limits = Limits(overall_per_second=None, group_per_minute=3, private_per_second=None)
    async with run_bot(rate_limit={"group_per_minute": 1000}):
        await coordinator.send(group, f"/post@{USERNAME} first household")
        await coordinator.send(group, f"/post@{USERNAME} second household")
        await emu.wait_for(lambda: len(cards(emu)) == 2, timeout=10)
        alice, bob, carol = (emu.user(8000 + n, f"P{n}") for n in range(3))
        await bob.start_bot()  # answered at once; his details then wait out the 429 pause
        await emu.wait_callback_answer(await alice.tap(cards(emu)[0], "c:1"), 10)
        await emu.wait_for(lambda: "Claimed" in (cards(emu)[0].text or ""), 10)
        # Near the end of the minute, so the 429 below asks for a wait of about 3 s.
        emu.clock.advance(57)
        # The group's third message this minute went to need 1's card; need 2's card edit
        # now gets a 429 with a long retry_after, which the rate limiter waits out...
        await emu.wait_callback_answer(await bob.tap(cards(emu)[1], "c:2"), 10)
        await emu.wait_for(lambda: emu.flood_rejections > 0, 10)
        await asyncio.sleep(0.3)  # the bot has read the 429 and is waiting it out
        # ...while a tap is still answered at once.
        tapped = emu.clock.now()
        answer = await emu.wait_callback_answer(await carol.tap(cards(emu)[1], "c:2"), 5)
        assert answer["text"] == "Already claimed by P1."
        assert emu.callback_queries[next(reversed(emu.callback_queries))].answered_at - tapped < 1


async def test_taps_are_answered_while_many_cards_wait_for_the_group_limit(
    emu, group, coordinator, run_bot, monkeypatch
):
    from bot import delivery

    monkeypatch.setattr(delivery, "DRAIN_SECONDS", 0.5)  # the queued cards are not waited for
    emu.limits = Limits(overall_per_second=None, group_per_minute=3, private_per_second=None)
    async with run_bot(rate_limit={"group_per_minute": 3}):
        # More posts than update-processing slots (8), most of them waiting for the group.
        for n in range(12):
            await coordinator.send(group, f"/post@{USERNAME} household {n}")
        await emu.wait_for(lambda: len(cards(emu)) >= 1, timeout=10)
        volunteer = emu.user(8100, "Quick")
        tapped = emu.clock.now()
        answer = await emu.wait_callback_answer(await volunteer.tap(cards(emu)[0], "c:1"), 5)
        assert answer["text"].startswith("It's yours")
        query = emu.callback_queries[next(reversed(emu.callback_queries))]
        assert query.answered_at - tapped < 2
        assert len(cards(emu)) < 12, "the group limit still holds the rest back"
