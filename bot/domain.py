"""The domain model: plain values, no Telegram types.

A ``Need`` is a household's request for help as the group sees it; its ``PrivateDetails`` are
kept apart and only ever shown to the claimer and coordinators. A ``Claim`` is a long-term
pairing between a volunteer (and their team) and a need; released claims stay as history.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime


class NeedState(enum.StrEnum):
    """Where a need stands."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, as Telegram told us: the facts we keep about a person."""

    user_id: int
    display_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person the bot has seen."""

    user_id: int
    display_name: str
    username: str | None
    language: str | None
    language_code: str | None
    team: str | None
    started_bot: bool


@dataclass(frozen=True, slots=True)
class Group:
    """A group chat the bot is in and can post needs to."""

    chat_id: int
    title: str


@dataclass(frozen=True, slots=True, repr=False)
class PrivateDetails:
    """A household's private details: never shown in the group, the logs or button data."""

    name: str | None = None
    address: str | None = None
    phone: str | None = None
    health: str | None = None
    notes: str | None = None

    def is_empty(self) -> bool:
        """Whether no detail is filled in."""
        return all(getattr(self, f.name) is None for f in fields(self))

    def values(self) -> list[str]:
        """The filled-in details, for checks that they never leak."""
        return [v for f in fields(self) if (v := getattr(self, f.name)) is not None]

    def __repr__(self) -> str:
        # Which details are there, never what they say: a stray log line leaks nothing.
        filled = [f.name for f in fields(self) if getattr(self, f.name) is not None]
        return f"PrivateDetails(filled={filled})"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a need now."""

    claim_id: int
    user_id: int
    display_name: str
    team: str | None
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class Need:
    """A need as the group sees it, with who holds it."""

    id: int
    chat_id: int
    card_message_id: int | None
    summary: str
    created_by: int
    created_at: datetime
    closed_at: datetime | None
    holder: Holder | None

    @property
    def state(self) -> NeedState:
        """Open, claimed or closed, derived from the record."""
        if self.closed_at is not None:
            return NeedState.CLOSED
        return NeedState.CLAIMED if self.holder else NeedState.OPEN


@dataclass(frozen=True, slots=True)
class Pairing:
    """A volunteer's active claim on a need."""

    need: Need
    claim_id: int
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """One claim in a need's history, active or ended."""

    id: int
    need_id: int
    volunteer_id: int
    team: str | None
    claimed_at: datetime
    assigned_by: int | None
    released_at: datetime | None
    released_by: int | None
    release_reason: str | None


class ClaimOutcome(enum.StrEnum):
    """How a tap on Claim ended."""

    WON = "won"
    ALREADY_YOURS = "already_yours"
    TAKEN = "taken"
    LIMIT_REACHED = "limit_reached"
    NOT_FOUND = "not_found"
    CLOSED = "closed"
    WRONG_CARD = "wrong_card"  # the tapped message is not this need's card (forged data)


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where a tap came from: the chat and message that carried the button."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The answer to a claim attempt; ``need`` is its state right after the decision."""

    outcome: ClaimOutcome
    need: Need | None
    open_claims: int = 0
    # What the answer needs about the tapper, read with the decision: their chosen language
    # (None: go by Telegram's language_code) and whether they have started the bot.
    language: str | None = None
    started_bot: bool = False
    # The winner's household details, read in the same trip as the decision (None otherwise).
    details: PrivateDetails | None = field(default=None, repr=False)


class ReleaseOutcome(enum.StrEnum):
    """How a release, free or reassignment ended."""

    RELEASED = "released"
    NOT_HOLDER = "not_holder"
    NOT_CLAIMED = "not_claimed"
    NOT_FOUND = "not_found"
    UNKNOWN_PERSON = "unknown_person"
    SAME_PERSON = "same_person"


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """The answer to a release; ``previous`` is who held the need before."""

    outcome: ReleaseOutcome
    need: Need | None
    previous: Holder | None = None


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Progress of needs in a group (or everywhere)."""

    total: int
    open: int
    claimed: int
    closed: int
