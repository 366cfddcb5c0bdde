"""The whole record for an export: every need with its private details, every claim, every
visit, with people's names as they are now. Coordinators' exports only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain import CANCELLED, NeedState, PrivateDetails
from storage.db import Database, from_db_time

_NEEDS = """
    SELECT n.id, n.chat_id, g.title AS group_title, n.summary, n.created_at, n.closed_at,
           n.closed_as, n.purged_at IS NOT NULL AS purged,
           (SELECT group_concat(name, ', ') FROM (
                SELECT p2.display_name AS name FROM claims c2
                JOIN people p2 ON p2.user_id = c2.volunteer_id
                WHERE c2.need_id = n.id AND c2.released_at IS NULL ORDER BY c2.id)) AS holder,
           (SELECT group_concat(team, ', ') FROM (
                SELECT DISTINCT c3.team FROM claims c3
                WHERE c3.need_id = n.id AND c3.released_at IS NULL AND c3.team IS NOT NULL
                ORDER BY c3.id)) AS team,
           c.volunteer_id, c.claimed_at,
           (SELECT MAX(visited_at) FROM visits WHERE need_id = n.id) AS last_visited_at,
           d.name, d.address, d.phone, d.health, d.notes
    FROM needs n
    LEFT JOIN groups g ON g.chat_id = n.chat_id
    LEFT JOIN claims c ON c.id = (
        SELECT MIN(id) FROM claims WHERE need_id = n.id AND released_at IS NULL
    )
    LEFT JOIN need_details d ON d.need_id = n.id
    ORDER BY n.id
"""
_CLAIMS = """
    SELECT c.id, c.need_id, c.volunteer_id, p.display_name AS volunteer, c.team, c.claimed_at,
           c.assigned_by, a.display_name AS assigner, c.released_at, c.released_by,
           r.display_name AS releaser, c.release_reason
    FROM claims c
    LEFT JOIN people p ON p.user_id = c.volunteer_id
    LEFT JOIN people a ON a.user_id = c.assigned_by
    LEFT JOIN people r ON r.user_id = c.released_by
    ORDER BY c.id
"""
_VISITS = """
    SELECT v.id, v.need_id, v.volunteer_id, p.display_name AS volunteer, c.team, v.visited_at,
           v.done, v.note, v.photo_file_id IS NOT NULL AS photo, v.concern, v.purged
    FROM visits v
    LEFT JOIN claims c ON c.id = v.claim_id
    LEFT JOIN people p ON p.user_id = v.volunteer_id
    ORDER BY v.visited_at, v.id
"""


@dataclass(frozen=True, slots=True)
class NeedEntry:
    """A need as the record shows it: where it was posted, who holds it, its details."""

    id: int
    group: str  # the group's title, or its chat id if the bot never learnt it
    summary: str
    state: NeedState
    holder: str | None
    team: str | None
    claimed_at: datetime | None
    last_visited_at: datetime | None
    details: PrivateDetails
    purged: bool = False  # its private details were purged (privacy.retention_days)


@dataclass(frozen=True, slots=True)
class ClaimEntry:
    """One claim, active or ended, with who made, assigned and ended it."""

    id: int
    need_id: int
    volunteer: str
    team: str | None
    claimed_at: datetime
    assigned_by: str | None
    ended_at: datetime | None
    ended_by: str | None
    how_ended: str | None  # released, freed or reassigned; None while active


@dataclass(frozen=True, slots=True)
class VisitEntry:
    """One visit logged, with the team of the claim it was logged under."""

    id: int
    need_id: int
    volunteer: str
    team: str | None
    visited_at: datetime
    done: tuple[str, ...]  # checklist keys (config visits.checklist)
    note: str | None
    photo: bool
    concern: bool
    purged: bool = False  # its note and photo were purged with its need's details


@dataclass(frozen=True, slots=True)
class Record:
    """Everything an export holds, oldest first."""

    needs: list[NeedEntry]
    claims: list[ClaimEntry]
    visits: list[VisitEntry]


def _name(name: str | None, user_id: int | None) -> str | None:
    """A person's name now; their id if the bot never recorded them."""
    if user_id is None:
        return None
    return name if name is not None else str(user_id)


def _need(row: aiosqlite.Row) -> NeedEntry:
    if row["closed_at"] is not None:
        cancelled = row["closed_as"] == CANCELLED
        state = NeedState.CANCELLED if cancelled else NeedState.CLOSED
    else:
        state = NeedState.OPEN if row["volunteer_id"] is None else NeedState.CLAIMED
    return NeedEntry(
        id=row["id"],
        group=row["group_title"] or str(row["chat_id"]),
        summary=row["summary"],
        state=state,
        holder=_name(row["holder"], row["volunteer_id"]),
        team=row["team"],
        claimed_at=from_db_time(row["claimed_at"]),
        last_visited_at=from_db_time(row["last_visited_at"]),
        details=PrivateDetails(
            name=row["name"],
            address=row["address"],
            phone=row["phone"],
            health=row["health"],
            notes=row["notes"],
        ),
        purged=bool(row["purged"]),
    )


def _claim(row: aiosqlite.Row) -> ClaimEntry:
    return ClaimEntry(
        id=row["id"],
        need_id=row["need_id"],
        volunteer=_name(row["volunteer"], row["volunteer_id"]) or "",
        team=row["team"],
        claimed_at=from_db_time(row["claimed_at"]),  # type: ignore[arg-type]
        assigned_by=_name(row["assigner"], row["assigned_by"]),
        ended_at=from_db_time(row["released_at"]),
        ended_by=_name(row["releaser"], row["released_by"]),
        how_ended=row["release_reason"],
    )


def _visit(row: aiosqlite.Row) -> VisitEntry:
    return VisitEntry(
        id=row["id"],
        need_id=row["need_id"],
        volunteer=_name(row["volunteer"], row["volunteer_id"]) or "",
        team=row["team"],
        visited_at=from_db_time(row["visited_at"]),  # type: ignore[arg-type]
        done=tuple(json.loads(row["done"] or "[]")),
        note=row["note"],
        photo=bool(row["photo"]),
        concern=bool(row["concern"]),
        purged=bool(row["purged"]),
    )


async def record(db: Database) -> Record:
    """The whole record, on the reader.

    Three reads, not one transaction: the reader is shared, and a transaction held open on it
    would show every other task's reads an old snapshot meanwhile. A claim made between the
    reads may show in one table and not yet in another; the next export has it whole.
    """
    needs = [_need(row) for row in await db.fetch_all(_NEEDS)]
    claims = [_claim(row) for row in await db.fetch_all(_CLAIMS)]
    visits = [_visit(row) for row in await db.fetch_all(_VISITS)]
    return Record(needs, claims, visits)
