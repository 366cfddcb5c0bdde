"""The claim and release rules as pure functions: no database, no Telegram."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import (
    CardRef,
    ClaimOutcome,
    Holder,
    Need,
    ReleaseOutcome,
    TeamCheck,
    assign_refusal,
    claim_outcome,
    clean_team_name,
    release_refusal,
)

NOW = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
CARD = CardRef(chat_id=-100, message_id=7)


def need(holder_id: int | None = None, closed: bool = False) -> Need:
    holder = Holder(9, holder_id, f"Volunteer {holder_id}", None, NOW) if holder_id else None
    return Need(
        id=1,
        chat_id=CARD.chat_id,
        card_message_id=CARD.message_id,
        summary="rice and oil",
        created_by=1,
        created_at=NOW,
        closed_at=NOW if closed else None,
        holder=holder,
    )


@pytest.mark.parametrize(
    ("subject", "tapper", "held", "card", "expected"),
    [
        (need(), 5, 0, CARD, ClaimOutcome.WON),
        (need(), 5, 2, None, ClaimOutcome.WON),
        (need(), 5, 3, CARD, ClaimOutcome.LIMIT_REACHED),
        (need(holder_id=6), 5, 0, CARD, ClaimOutcome.TAKEN),
        (need(holder_id=5), 5, 1, CARD, ClaimOutcome.ALREADY_YOURS),
        (need(holder_id=5), 5, 3, CARD, ClaimOutcome.ALREADY_YOURS),
        (need(closed=True), 5, 0, CARD, ClaimOutcome.CLOSED),
        (None, 5, 0, CARD, ClaimOutcome.NOT_FOUND),
        # Forged data: the right need, but tapped on another message or in another chat.
        (need(), 5, 0, CardRef(CARD.chat_id, 8), ClaimOutcome.WRONG_CARD),
        (need(), 5, 0, CardRef(5, CARD.message_id), ClaimOutcome.WRONG_CARD),
        (need(holder_id=6), 5, 0, CardRef(5, 1), ClaimOutcome.WRONG_CARD),
    ],
)
def test_claim_rule(subject, tapper, held, card, expected):
    assert claim_outcome(subject, tapper, held, 3, card) is expected


def test_a_need_whose_card_is_not_recorded_yet_cannot_be_claimed_from_a_button():
    unposted = Need(1, CARD.chat_id, None, "x", 1, NOW, None, None)
    assert claim_outcome(unposted, 5, 0, 3, CARD) is ClaimOutcome.WRONG_CARD


@pytest.mark.parametrize(
    ("subject", "actor", "as_coordinator", "expected"),
    [
        (need(holder_id=5), 5, False, None),
        (need(holder_id=5), 6, True, None),
        (need(holder_id=5), 6, False, ReleaseOutcome.NOT_HOLDER),
        (need(), 5, False, ReleaseOutcome.NOT_CLAIMED),
        (need(), 5, True, ReleaseOutcome.NOT_CLAIMED),
        (None, 5, True, ReleaseOutcome.NOT_FOUND),
    ],
)
def test_release_rule(subject, actor, as_coordinator, expected):
    assert release_refusal(subject, actor, as_coordinator) is expected


def test_assign_rule():
    assert assign_refusal(need(holder_id=5), 6) is None
    assert assign_refusal(need(), 6) is None
    assert assign_refusal(need(holder_id=5), 5) is ReleaseOutcome.SAME_PERSON
    assert assign_refusal(None, 5) is ReleaseOutcome.NOT_FOUND


# -- teams in the claim rule --


@pytest.mark.parametrize(
    ("held", "team", "expected"),
    [
        (0, None, ClaimOutcome.WON),
        (0, TeamCheck(None, 0, 2, team_required=False), ClaimOutcome.WON),
        (0, TeamCheck(None, 0, None, team_required=True), ClaimOutcome.NO_TEAM),
        (0, TeamCheck(4, 1, 2), ClaimOutcome.WON),
        (0, TeamCheck(4, 2, 2), ClaimOutcome.TEAM_LIMIT_REACHED),
        (0, TeamCheck(4, 7, 2), ClaimOutcome.TEAM_LIMIT_REACHED),  # over, by reassignment
        (0, TeamCheck(4, 50, None), ClaimOutcome.WON),  # no team limit
        (0, TeamCheck(4, 0, None, team_required=True), ClaimOutcome.WON),
        # The volunteer's own limit first: it is the one they can act on.
        (3, TeamCheck(4, 2, 2), ClaimOutcome.LIMIT_REACHED),
        (3, TeamCheck(None, 0, None, team_required=True), ClaimOutcome.LIMIT_REACHED),
    ],
)
def test_team_rules_of_a_claim(held, team, expected):
    assert claim_outcome(need(), 5, held, 3, CARD, team) is expected


def test_team_rules_do_not_touch_a_need_that_is_not_open():
    full = TeamCheck(4, 9, 2)
    assert claim_outcome(need(closed=True), 5, 0, 3, CARD, full) is ClaimOutcome.CLOSED
    forged = CardRef(CARD.chat_id, 8)
    assert claim_outcome(need(), 5, 0, 3, forged, full) is ClaimOutcome.WRONG_CARD


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("  Party   Branch\t3 ", "Party Branch 3"),
        ("Branch\n4", "Branch 4"),
        ("Bran\u200bch\u202e 5", "Branch 5"),  # zero-width and bidi controls dropped
        ("青年\u3000志愿队", "青年 志愿队"),  # an ideographic space is a space
        ("\u200b\u200b", ""),
    ],
)
def test_team_names_are_cleaned(typed, cleaned):
    assert clean_team_name(typed) == cleaned
