"""Needs for several volunteers: places taken first come per place, released one by one."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from bot.domain import (
    ClaimOutcome,
    Holder,
    Need,
    NeedState,
    ReleaseOutcome,
    SlotsOutcome,
    assign_refusal,
    claim_outcome,
    slots_refusal,
)
from bot.render import card_markup, card_text
from storage import boards, export, needs
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, user
from tests.test_handlers import COORDINATOR, Harness, claim_button
from tests.test_handlers import harness as handlers_harness
from tests.test_storage import NOW, post

harness = handlers_harness  # the real Application on a fake Bot API


def holder(user_id: int, claim_id: int | None = None) -> Holder:
    return Holder(claim_id or user_id, user_id, f"V{user_id}", None, NOW)


def need_with(slots: int, *user_ids: int) -> Need:
    held = [holder(u) for u in user_ids]
    first = held[0] if held else None
    return Need(1, GROUP_ID, 7, "cleaning day", 1, NOW, None, first, slots=slots,
                others=tuple(held[1:]))


# -- the rules ---------------------------------------------------------------------------------


def test_a_need_for_three_is_open_until_its_third_place_is_taken():
    assert claim_outcome(need_with(3, 5, 6), 7, 0, 3, None) is ClaimOutcome.WON
    assert claim_outcome(need_with(3, 5, 6), 6, 1, 3, None) is ClaimOutcome.ALREADY_YOURS
    assert claim_outcome(need_with(3, 5, 6, 7), 8, 0, 3, None) is ClaimOutcome.TAKEN
    assert need_with(3, 5, 6).state is NeedState.OPEN
    assert need_with(3, 5, 6, 7).state is NeedState.CLAIMED
    assert need_with(1, 5).state is NeedState.CLAIMED  # one place: as it always was
    assert need_with(3, 5, 6).holder_of(6) == holder(6)


def test_places_cannot_go_below_the_holders_and_a_full_need_for_several_is_not_reassigned():
    assert slots_refusal(need_with(3, 5, 6), 1) is SlotsOutcome.BELOW_HOLDERS
    assert slots_refusal(need_with(3, 5, 6), 2) is None
    assert slots_refusal(need_with(3), 3) is SlotsOutcome.UNCHANGED
    assert slots_refusal(need_with(3), 0) is SlotsOutcome.OUT_OF_RANGE
    assert slots_refusal(need_with(3), 21) is SlotsOutcome.OUT_OF_RANGE
    assert slots_refusal(None, 2) is SlotsOutcome.NOT_FOUND
    assert assign_refusal(need_with(2, 5, 6), 7) is ReleaseOutcome.FULL
    assert assign_refusal(need_with(2, 5), 7) is None
    assert assign_refusal(need_with(2, 5), 5) is ReleaseOutcome.SAME_PERSON
    assert assign_refusal(need_with(1, 5), 7) is None  # one place: it changes hands


def test_a_card_shows_who_holds_which_places_and_keeps_its_button_until_full():
    text = card_text(need_with(3, 5, 6), "en")
    assert "Claimed 2 of 3: V5, V6" in text and "1 of 3 places open" in text
    assert card_markup(need_with(3, 5, 6), "en") is not None
    assert card_markup(need_with(3, 5, 6, 7), "en") is None
    assert "3 of 3 places open" in card_text(need_with(3), "en")


# -- storage, on a real SQLite file ----------------------------------------------------------


async def test_three_places_fifty_tappers_exactly_three_winners_first_come(db):
    need_id = await post(db)
    outcome, _ = await needs.set_slots(db, need_id, 3, COORDINATOR_ID, NOW)
    assert outcome is SlotsOutcome.SET
    results = await asyncio.gather(
        *(needs.claim(db, need_id, actor(1000 + i), 3, NOW) for i in range(50))
    )
    won = [i for i, r in enumerate(results) if r.outcome is ClaimOutcome.WON]
    assert won == [0, 1, 2], "the first three callers, in the order they asked"
    assert all(r.outcome is ClaimOutcome.TAKEN for r in results[3:])
    need = await needs.get(db, need_id)
    assert [h.user_id for h in need.holders] == [1000, 1001, 1002]
    assert need.state is NeedState.CLAIMED
    counts = await needs.status(db)
    assert (counts.total, counts.claimed, counts.open) == (1, 1, 0)
    # The database itself refuses a fourth place, whoever writes.
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO claims (need_id, volunteer_id, claimed_at) VALUES (?, 77, 'x')",
                (need_id,),
            )


async def test_a_holder_releases_their_own_place_and_a_coordinator_frees_them_all(db):
    need_id = await post(db)
    await needs.set_slots(db, need_id, 3, COORDINATOR_ID, NOW)
    for volunteer in (5, 6, 7):
        await needs.claim(db, need_id, actor(volunteer), 3, NOW)
    assert (await needs.set_slots(db, need_id, 2, COORDINATOR_ID, NOW))[0] is (
        SlotsOutcome.BELOW_HOLDERS
    )
    result = await needs.release(db, need_id, 6, False, NOW)
    assert [h.user_id for h in result.ended] == [6]
    assert [h.user_id for h in result.need.holders] == [5, 7]
    assert (await needs.claim(db, need_id, actor(8), 3, NOW)).outcome is ClaimOutcome.WON
    refused = await needs.reassign(db, need_id, 6, COORDINATOR_ID, NOW)  # known, holds none
    assert refused.outcome is ReleaseOutcome.FULL
    pairings = await needs.pairings_of(db, 8)
    assert [p.need.id for p in pairings] == [need_id]
    assert pairings[0].claim_id == (await needs.get(db, need_id)).holder_of(8).claim_id
    freed = await needs.release(db, need_id, COORDINATOR_ID, True, NOW)
    assert sorted(h.user_id for h in freed.ended) == [5, 7, 8]
    assert (await needs.get(db, need_id)).holders == ()


# -- through the real Application ------------------------------------------------------------


async def test_slots_command_and_taps_on_a_card_for_three(harness: Harness):
    card = await harness.post_card("Spring cleaning at the Dongfeng home, three helpers")
    await harness.group_command(user(5, "Alice"), "/slots 1 3")
    assert harness.api.texts_to(GROUP_ID)[-1] == "Only coordinators can do that."
    await harness.group_command(COORDINATOR, "/slots 1 x")
    assert "Usage: /slots" in harness.api.texts_to(GROUP_ID)[-1]
    await harness.group_command(COORDINATOR, "/slots 1 3")
    assert any("now takes 3 volunteer(s)" in text for text in harness.api.texts_to(GROUP_ID))
    edits = harness.api.of("editMessageText")
    assert "3 of 3 places open" in edits[-1].params["text"]
    for volunteer, name in ((5, "Alice"), (6, "Bob"), (7, "Carol")):
        await harness.tap_card(user(volunteer, name), card)
        assert harness.last_answer()["text"].startswith("It's yours")
        assert "need #1" in harness.private_texts(volunteer)[0]
    await harness.tap_card(user(8, "Dan"), card)
    assert harness.last_answer()["text"] == "All 3 places are taken: Alice, Bob, Carol."
    final = harness.api.of("editMessageText")[-1]
    assert "Claimed 3 of 3: Alice, Bob, Carol" in final.params["text"]
    markup = final.params.get("reply_markup")
    assert not markup or not json.loads(markup).get("inline_keyboard")
    await harness.private(user(6, "Bob"), "/release 1")
    assert "1 of 3 places open" in harness.api.of("editMessageText")[-1].params["text"]
    await harness.tap_card(user(8, "Dan"), card, claim_button(card))
    assert harness.last_answer()["text"].startswith("It's yours")
    await harness.group_command(COORDINATOR, "/free 1")
    assert any("Alice" in t and "Dan" in t for t in harness.api.texts_to(GROUP_ID)[-3:])
    for volunteer in (5, 7, 8):
        assert harness.private_texts(volunteer)[-1] == (
            "A coordinator ended your pairing with need #1."
        )
    assert (await harness.service.need(1)).holders == ()


async def test_the_record_lists_a_need_for_several_once_with_every_holder(db):
    need_id = await post(db)
    await needs.set_slots(db, need_id, 3, COORDINATOR_ID, NOW)
    for volunteer in (5, 6):
        await needs.claim(db, need_id, actor(volunteer, f"V{volunteer}"), 3, NOW)
    entries = (await export.record(db)).needs
    assert len(entries) == 1
    assert entries[0].holder == "V5, V6"
    progress = await boards.progress(db, GROUP_ID)
    assert (progress.total, progress.claimed, progress.open) == (1, 1, 0)
    assert [(t.team, t.claimed) for t in progress.teams] == [("", 2)]
