"""A need for three over HTTP: 50 volunteers tap at once, the first three delivered win."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import USERNAME, cards, post
from tests.e2e.test_claim_loop import people


async def test_three_places_fifty_tappers_three_winners_in_delivery_order(
    emu, group, coordinator, run_bot
):
    async with run_bot():
        card = await post(emu, coordinator, group, "Spring cleaning day: three helpers")
        await coordinator.send(group, f"/slots@{USERNAME} 1 3")
        await emu.wait_for(lambda: "3 of 3 places open" in (cards(emu)[0].text or ""), 10)
        crowd = await people(emu, 50)
        taps = [await person.tap(card, "c:1") for person in crowd]  # delivered in this order
        answers = await asyncio.gather(*(emu.wait_callback_answer(q, 15) for q in taps))
        won = [i for i, a in enumerate(answers) if a["text"].startswith("It's yours")]
        assert won == [0, 1, 2]
        names = "V0 Tester, V1 Tester, V2 Tester"
        assert all(a["text"] == f"All 3 places are taken: {names}." for a in answers[3:])
        await emu.wait_for(lambda: f"Claimed 3 of 3: {names}" in (cards(emu)[0].text or ""), 15)
        assert cards(emu)[0].buttons == []
        for winner in crowd[:3]:
            await emu.wait_for(lambda w=winner: "need #1" in (emu.last_message(w).text or ""), 10)
        assert emu.flood_rejections == 0
