"""Telegram's flood limits end to end: posts paced within them, 429s waited out, none lost."""

from __future__ import annotations

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
