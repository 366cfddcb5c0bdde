"""The per-team limit end to end over HTTP: a burst of taps by one team's members on several
needs, decided in the order Telegram delivered them."""

from __future__ import annotations

import asyncio

from bot.app import build_application, running
from bot.config import config_from_mapping
from tests.e2e.conftest import TOKEN, bot_settings, cards, post
from tests.e2e.test_claim_loop import people

TEAM = "Youth Team"


async def test_a_burst_over_the_team_limit_keeps_first_come_and_names_the_limit(
    emu, group, coordinator, tmp_path
):
    settings = {
        **bot_settings(emu, tmp_path / "bot.db", token=TOKEN),
        "teams": [TEAM],
        "limits": {"max_open_claims_per_team": 2},
    }
    app = build_application(config_from_mapping(settings, env={}))
    async with running(app, polling=True, poll_timeout=1):
        shown = [await post(emu, coordinator, group, f"Household {n}") for n in range(3)]
        crowd = await people(emu, 30)
        for person in crowd:
            await person.send_private(f"/team {TEAM}")

        def all_picked() -> bool:
            last = [emu.last_message(p) for p in crowd]
            return all(m is not None and TEAM in (m.text or "") for m in last)

        await emu.wait_for(all_picked, 15)
        # Member n taps need n % 3 + 1: the first two taps win, and no later tap on the third.
        taps = await asyncio.gather(
            *(p.tap(shown[n % 3], f"c:{n % 3 + 1}") for n, p in enumerate(crowd))
        )
        answers = [
            a["text"]
            for a in await asyncio.gather(*(emu.wait_callback_answer(q, 10) for q in taps))
        ]
        assert [a.startswith("It's yours") for a in answers[:2]] == [True, True]
        limit = (
            f"Your team {TEAM} already holds 2 open claims; a team may hold at most 2."
            " Nothing was claimed."
        )
        assert all(a == limit for a in answers[2::3]), answers[2::3]
        assert all(a == "Already claimed by V0 Tester." for a in answers[3::3])
        assert all(a == "Already claimed by V1 Tester." for a in answers[4::3])
        await emu.wait_for(
            lambda: f"Claimed by V1 Tester ({TEAM})" in (cards(emu)[1].text or ""), 10
        )
        assert cards(emu)[2].buttons != [], "the third need is still open"
        # A volunteer in no team is not held back by it.
        (outsider,) = await people(emu, 1, start=6000)
        tap = await outsider.tap(shown[2], "c:3")
        assert (await emu.wait_callback_answer(tap, 10))["text"].startswith("It's yours")
