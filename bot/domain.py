"""The domain model: plain values, no Telegram types.

A ``Need`` is a household's request for help as the group sees it; its ``PrivateDetails`` are
kept apart and only ever shown to the claimer and coordinators. A ``Claim`` is a long-term
pairing between a volunteer (and their team) and a need; released claims stay as history.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime


class NeedState(enum.StrEnum):
    """Where a need stands."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"  # closed as done
    CANCELLED = "cancelled"


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
    team: str | None  # the name of the team they claim for, None: no team
    started_bot: bool
    team_id: int | None = None


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


def fingerprint(summary: str, details: PrivateDetails) -> str:
    """What recognises a household already posted in a group: its public summary with its
    name, address and phone, compared without case or spacing. A digest, so the column
    holding it says nothing about the household."""
    parts = [summary, details.name or "", details.address or "", details.phone or ""]
    text = "\x1f".join(" ".join(part.casefold().split()) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class NewNeed:
    """A need about to be recorded: from /post, or a spreadsheet row (``line`` is its line in
    the file, for reports)."""

    summary: str
    details: PrivateDetails
    category: str | None = None
    area: str | None = None
    line: int | None = None
    slots: int = 1  # how many volunteers it takes

    @property
    def fingerprint(self) -> str:
        """See ``fingerprint``."""
        return fingerprint(self.summary, self.details)


# How a coordinator closes a need (needs.closed_as); the ended claim's reason says the same.
DONE = "done"
CANCELLED = "cancelled"


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
    # Bumped by the database on every change the card shows; the card last showed
    # ``card_version`` (None: not known to show any).
    version: int = 1
    card_version: int | None = None
    last_visited_at: datetime | None = None
    # Posted on a board (one group message listing several needs), or alone on a card (None).
    board_id: int | None = None
    # Public labels from a spreadsheet: what kind of household, which neighbourhood.
    category: str | None = None
    area: str | None = None
    # How a closed need ended: "done" or "cancelled" (None: not closed, or closed as done
    # before the bot told the two apart).
    closed_as: str | None = None
    # How many volunteers it takes (a cleaning day for three); ``holder`` holds the first
    # place taken, ``others`` the rest, in the order they were taken.
    slots: int = 1
    others: tuple[Holder, ...] = ()

    @property
    def holders(self) -> tuple[Holder, ...]:
        """Everyone holding a place on this need, first taken first."""
        return (self.holder, *self.others) if self.holder is not None else ()

    @property
    def full(self) -> bool:
        """Whether every place is taken."""
        return len(self.holders) >= self.slots

    def holder_of(self, user_id: int) -> Holder | None:
        """The place ``user_id`` holds on this need, if any."""
        return next((h for h in self.holders if h.user_id == user_id), None)

    @property
    def state(self) -> NeedState:
        """Open (a place is free), claimed (every place taken), closed (done) or cancelled,
        derived from the record."""
        if self.closed_at is not None:
            return NeedState.CANCELLED if self.closed_as == CANCELLED else NeedState.CLOSED
        return NeedState.CLAIMED if self.full else NeedState.OPEN


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
    volunteer_name: str
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
    NO_TEAM = "no_team"  # limits.require_team, teams exist, and the tapper picked none
    TEAM_LIMIT_REACHED = "team_limit_reached"
    NOT_FOUND = "not_found"
    CLOSED = "closed"
    WRONG_CARD = "wrong_card"  # the tapped message is not this need's card (forged data)


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where a tap came from: the chat and message that carried the button."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class TeamCheck:
    """What the claim rule knows of the tapper's team, read with the need in the same read."""

    team_id: int | None  # the team the tapper claims for (None: none)
    open_claims: int  # open claims recorded for that team
    max_open_claims: int | None = None  # limits.max_open_claims_per_team (None: no limit)
    team_required: bool = False  # limits.require_team, and at least one team exists


def claim_outcome(
    need: Need | None,
    tapper_id: int,
    open_claims: int,
    max_open_claims: int,
    card: CardRef | None,
    team: TeamCheck | None = None,
) -> ClaimOutcome:
    """The claim rule: what a tap on ``card`` does to ``need`` as it stands now.

    The caller decides taps one at a time in the order they came, so the first tap on an
    open need wins. A tap counts only from the need's own card: button data can be forged,
    and a claim from any other message would hand a stranger the household's details.
    A volunteer's own limit comes before their team's: it is the one they can act on.
    """
    if need is None:
        return ClaimOutcome.NOT_FOUND
    if card is not None and (card.chat_id, card.message_id) != (
        need.chat_id,
        need.card_message_id,
    ):
        return ClaimOutcome.WRONG_CARD
    if need.closed_at is not None:
        return ClaimOutcome.CLOSED
    if need.holder_of(tapper_id) is not None:
        return ClaimOutcome.ALREADY_YOURS
    if need.full:
        return ClaimOutcome.TAKEN
    if open_claims >= max_open_claims:
        return ClaimOutcome.LIMIT_REACHED
    if team is not None and team.team_id is None and team.team_required:
        return ClaimOutcome.NO_TEAM
    if (
        team is not None
        and team.team_id is not None
        and team.max_open_claims is not None
        and team.open_claims >= team.max_open_claims
    ):
        return ClaimOutcome.TEAM_LIMIT_REACHED
    return ClaimOutcome.WON


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a tap did: ``need`` as it stands after it, the tapper's open claims, and the
    tapper as recorded before it, if it was read (None: never seen, or not read)."""

    outcome: ClaimOutcome
    need: Need | None
    open_claims: int = 0
    tapper: Person | None = None
    team_open_claims: int = 0  # the open claims of the tapper's team, as read


class ReleaseOutcome(enum.StrEnum):
    """How a release, free or reassignment ended."""

    RELEASED = "released"  # the holder gave it up, or a coordinator freed it
    ASSIGNED = "assigned"  # a coordinator gave it to someone
    NOT_ALLOWED = "not_allowed"  # a volunteer tried a coordinator's change
    NOT_HOLDER = "not_holder"
    NOT_CLAIMED = "not_claimed"
    NO_PAIRING = "no_pairing"  # /release with no number, from someone who holds nothing
    WHICH_ONE = "which_one"  # /release with no number, from someone who holds several
    NOT_FOUND = "not_found"
    UNKNOWN_PERSON = "unknown_person"
    SAME_PERSON = "same_person"
    FULL = "full"  # every place of a need for several is taken


def release_refusal(
    need: Need | None, actor_id: int, as_coordinator: bool
) -> ReleaseOutcome | None:
    """Why ``actor_id`` may not end the claim on ``need``, or None if they may."""
    if need is None:
        return ReleaseOutcome.NOT_FOUND
    if need.holder is None:
        return ReleaseOutcome.NOT_CLAIMED
    if need.holder_of(actor_id) is None and not as_coordinator:
        return ReleaseOutcome.NOT_HOLDER
    return None


def assign_refusal(need: Need | None, to_user_id: int) -> ReleaseOutcome | None:
    """Why a coordinator may not give ``need`` to ``to_user_id``, or None if they may."""
    if need is None:
        return ReleaseOutcome.NOT_FOUND
    if need.holder_of(to_user_id) is not None:
        return ReleaseOutcome.SAME_PERSON
    if need.full and need.slots > 1:
        # Several places, all taken: which one to end is the coordinator's call (/free).
        return ReleaseOutcome.FULL
    return None


# The most places one need may have: a card lists every holder's name.
MAX_SLOTS = 20


class SlotsOutcome(enum.StrEnum):
    """How setting a need's places ended."""

    SET = "set"
    UNCHANGED = "unchanged"
    NOT_FOUND = "not_found"
    CLOSED = "closed"
    BELOW_HOLDERS = "below_holders"
    OUT_OF_RANGE = "out_of_range"


def slots_refusal(need: Need | None, slots: int) -> SlotsOutcome | None:
    """Why ``need`` may not take ``slots`` places, or None if it may."""
    if not 1 <= slots <= MAX_SLOTS:
        return SlotsOutcome.OUT_OF_RANGE
    if need is None:
        return SlotsOutcome.NOT_FOUND
    if need.closed_at is not None:
        return SlotsOutcome.CLOSED
    if slots < len(need.holders):
        return SlotsOutcome.BELOW_HOLDERS
    if slots == need.slots:
        return SlotsOutcome.UNCHANGED
    return None


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """The answer to a release or reassignment; ``previous`` is who held the need before."""

    outcome: ReleaseOutcome
    need: Need | None
    previous: Holder | None = None
    # Everyone whose place ended (a coordinator's /free ends every place of a need).
    ended: tuple[Holder, ...] = ()
    # WHICH_ONE: the needs the person holds, to choose from.
    choices: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Progress of needs in a group (or everywhere)."""

    total: int
    open: int
    claimed: int
    closed: int


@dataclass(frozen=True, slots=True)
class TeamTally:
    """One team's line on a progress board."""

    team: str
    claimed: int
    visited: int


@dataclass(frozen=True, slots=True)
class Progress:
    """A group's drive at a glance: needs by state, and the teams' share of it."""

    total: int
    open: int
    claimed: int
    visited: int
    closed: int
    teams: list[TeamTally]
    other_teams: int


@dataclass(frozen=True, slots=True)
class Visit:
    """A claimer's visit to their household: what was done, a note, a photo, a concern."""

    id: int
    need_id: int
    claim_id: int
    volunteer_id: int
    visited_at: datetime
    done: tuple[str, ...]  # checklist keys (config visits.checklist)
    note: str | None
    photo_file_id: str | None
    concern: bool


class ReminderState(enum.StrEnum):
    """Where one reminder occurrence stands; "sending" is marked before the send, so a crash
    in between never sends it twice."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One occurrence of a reminder: one message to one chat, due at one moment (UTC)."""

    id: int
    kind: str
    key: str  # what makes it unique: planning the same occurrence twice adds nothing
    due_at: datetime
    chat_id: int | None
    need_id: int | None
    claim_id: int | None
    parent_id: int | None
    payload: dict[str, object]
    state: ReminderState
    attempts: int
    last_error: str | None


class LifeOutcome(enum.StrEnum):
    """How a coordinator's edit, close, cancel or reopen of a need ended."""

    EDITED = "edited"
    UNCHANGED = "unchanged"  # an edit that changed nothing
    CLOSED = "closed"  # closed as done
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    NOT_ALLOWED = "not_allowed"  # not a coordinator
    NOT_FOUND = "not_found"
    ALREADY_CLOSED = "already_closed"  # closed or cancelled already: nothing changed
    NOT_CLOSED = "not_closed"  # reopening a need that is not closed


@dataclass(frozen=True, slots=True)
class LifeResult:
    """What a change to a need's life did: the need after it, the holder whose pairing it
    ended (closing, cancelling) or who held it when it closed (reopening), and for an edit
    whether the public summary and the private details changed."""

    outcome: LifeOutcome
    need: Need | None
    holder: Holder | None = None
    summary_changed: bool = False
    details_changed: bool = False
    others: tuple[Holder, ...] = ()  # the other places' holders, of a need for several

    @property
    def holders(self) -> tuple[Holder, ...]:
        """Everyone concerned: ``holder`` and ``others``."""
        return (self.holder, *self.others) if self.holder is not None else ()


def life_refusal(need: Need | None, reopening: bool = False) -> LifeOutcome | None:
    """Why a need cannot be edited, closed or cancelled (or, ``reopening``, reopened)."""
    if need is None:
        return LifeOutcome.NOT_FOUND
    closed = need.closed_at is not None
    if reopening:
        return None if closed else LifeOutcome.NOT_CLOSED
    return LifeOutcome.ALREADY_CLOSED if closed else None


@dataclass(frozen=True, slots=True)
class Closing:
    """What coordinators see of a need's end: the note given when closing it, and when its
    private details were purged (None: not purged)."""

    note: str | None
    purged_at: datetime | None


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge of private details removed: needs whose details went, visits whose
    note or photo went."""

    needs: int
    visits: int


# A team's name shows on cards and buttons: one line, short enough for a button.
TEAM_NAME_MAX_LENGTH = 60
# What /team takes as a coordinator's word or as "no team", so never a team's name.
TEAM_RESERVED_NAMES = frozenset({"add", "remove", "-"})


@dataclass(frozen=True, slots=True)
class Team:
    """A team volunteers claim for (a party branch, a volunteer team), as coordinators set it.

    ``in_config``: listed in the config's ``teams:``, so only the config file removes it.
    """

    id: int
    name: str
    in_config: bool = False
    members: int = 0
    open_claims: int = 0


def clean_team_name(text: str) -> str:
    """A team's name as typed, on one line: control and format characters dropped (they
    garble cards and buttons, or hide a name inside another), spaces collapsed."""
    spaced = (" " if ch.isspace() or unicodedata.category(ch)[0] == "Z" else ch for ch in text)
    return " ".join("".join(ch for ch in spaced if unicodedata.category(ch)[0] != "C").split())


def team_key(name: str) -> str:
    """What makes two names one team: ASCII letters in any case (SQLite's ``lower``, which the
    schema's key uses too, so the two never disagree)."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def team_name_problem(name: str) -> str | None:
    """None if a cleaned name can be a team's, else the catalog key saying why not."""
    if not name:
        return "team_name_empty"
    if len(name) > TEAM_NAME_MAX_LENGTH:
        return "team_name_too_long"
    if team_key(name) in TEAM_RESERVED_NAMES:
        return "team_name_reserved"
    return None


# The most teams at once: the /team picker is one message of buttons, two to a row, which
# Telegram caps at 100 buttons.
MAX_TEAMS = 90


class TeamOutcome(enum.StrEnum):
    """How adding, removing or picking a team ended."""

    ADDED = "added"
    REMOVED = "removed"
    CHOSEN = "chosen"
    EXISTS = "exists"
    TOO_MANY = "too_many"
    UNKNOWN = "unknown"  # no such team (or no longer): a stale or forged choice too
    IN_CONFIG = "in_config"  # listed in the config file, so only the file removes it
    BAD_NAME = "bad_name"
    NOT_ALLOWED = "not_allowed"  # a volunteer tried a coordinator's change


@dataclass(frozen=True, slots=True)
class TeamResult:
    """What a team change did: the team it named (None: none, or no team chosen), the
    members a removal left without a team, and why a name was refused (a catalog key)."""

    outcome: TeamOutcome
    team: Team | None = None
    members: tuple[int, ...] = ()
    problem: str | None = None
