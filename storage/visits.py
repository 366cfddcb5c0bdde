"""Visits logged by claimers, and the visit form in progress (one per claimer, kept across
restarts until it is finished or cancelled)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain import Visit
from storage import audit
from storage.db import Database, from_db_time, to_db_time

_DRAFT_COLUMNS = (
    "user_id",
    "claim_id",
    "need_id",
    "step",
    "done",
    "note",
    "photo_file_id",
    "updated_at",
)
_DRAFT_SELECT = f"SELECT {', '.join(_DRAFT_COLUMNS)} FROM visit_drafts"
_DRAFT_SAVE = (
    f"INSERT OR REPLACE INTO visit_drafts ({', '.join(_DRAFT_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _DRAFT_COLUMNS)})"
)
_VISIT_SELECT = (
    "SELECT id, need_id, claim_id, volunteer_id, visited_at, done, note, photo_file_id, concern"
    " FROM visits"
)


@dataclass(frozen=True, slots=True)
class VisitDraft:
    """A visit being logged: the pairing, the step the form is at, and what was given so far."""

    user_id: int
    claim_id: int
    need_id: int
    step: str = "done"
    done: tuple[str, ...] = ()
    note: str | None = None
    photo_file_id: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Logged:
    """What finishing a form did. ``draft`` is None when the form was not there as read (a
    second tap, or a change in between): nothing was written. ``visit`` is None when the
    pairing had ended: the form is dropped, no visit written."""

    draft: VisitDraft | None
    visit: Visit | None


def _draft(row: aiosqlite.Row) -> VisitDraft:
    return VisitDraft(
        user_id=row["user_id"],
        claim_id=row["claim_id"],
        need_id=row["need_id"],
        step=row["step"],
        done=tuple(json.loads(row["done"])),
        note=row["note"],
        photo_file_id=row["photo_file_id"],
        updated_at=from_db_time(row["updated_at"]),
    )


def _visit(row: aiosqlite.Row) -> Visit:
    return Visit(
        id=row["id"],
        need_id=row["need_id"],
        claim_id=row["claim_id"],
        volunteer_id=row["volunteer_id"],
        visited_at=from_db_time(row["visited_at"]),  # type: ignore[arg-type]
        done=tuple(json.loads(row["done"])),
        note=row["note"],
        photo_file_id=row["photo_file_id"],
        concern=bool(row["concern"]),
    )


async def get_draft(db: Database, user_id: int) -> VisitDraft | None:
    """The visit form a person has open, if any."""
    row = await db.fetch_one(f"{_DRAFT_SELECT} WHERE user_id = ?", (user_id,))
    return _draft(row) if row else None


async def save_draft(db: Database, draft: VisitDraft, now: datetime) -> VisitDraft:
    """Keep a form as it now stands (a new one replaces any older one of that person)."""
    saved = VisitDraft(
        draft.user_id,
        draft.claim_id,
        draft.need_id,
        draft.step,
        draft.done,
        draft.note,
        draft.photo_file_id,
        now,
    )
    await db.execute(
        _DRAFT_SAVE,
        (
            saved.user_id,
            saved.claim_id,
            saved.need_id,
            saved.step,
            json.dumps(list(saved.done)),
            saved.note,
            saved.photo_file_id,
            to_db_time(now),
        ),
    )
    return saved


async def delete_draft(db: Database, user_id: int) -> bool:
    """Drop a person's visit form; False if there was none."""
    return await db.execute("DELETE FROM visit_drafts WHERE user_id = ?", (user_id,)) > 0


async def need_of_claim(db: Database, claim_id: int) -> int | None:
    """The need a claim (active or ended) was made on, if the claim exists."""
    row = await db.fetch_one("SELECT need_id FROM claims WHERE id = ?", (claim_id,))
    return int(row["need_id"]) if row else None


async def log_visit(db: Database, draft: VisitDraft, concern: bool, now: datetime) -> Logged:
    """Turn the form ``draft`` (as read) into a visit, if its pairing is still the filler's.

    One transaction: the form is taken only if it is exactly as read, so a double tap logs
    one visit; the claim is checked to be active and the filler's in the same transaction.
    """
    assert draft.updated_at is not None, "a draft as read from the database"
    async with db.transaction() as conn:
        taken = await conn.execute(
            "DELETE FROM visit_drafts"
            " WHERE user_id = ? AND claim_id = ? AND step = ? AND updated_at = ?",
            (draft.user_id, draft.claim_id, draft.step, to_db_time(draft.updated_at)),
        )
        if taken.rowcount != 1:
            return Logged(None, None)
        held = await conn.execute_fetchall(
            "SELECT 1 FROM claims WHERE id = ? AND volunteer_id = ? AND released_at IS NULL",
            (draft.claim_id, draft.user_id),
        )
        if not list(held):
            return Logged(draft, None)
        visit = await _insert_visit(conn, draft, concern, now)
        # What was done and whether there is a concern; never the note (it may name people).
        await audit.record(
            conn, now, draft.user_id, "visited", draft.need_id, draft.claim_id, concern=concern
        )
    return Logged(draft, visit)


async def _insert_visit(
    conn: aiosqlite.Connection, draft: VisitDraft, concern: bool, now: datetime
) -> Visit:
    cursor = await conn.execute(
        "INSERT INTO visits"
        " (need_id, claim_id, volunteer_id, visited_at, done, note, photo_file_id, concern)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            draft.need_id,
            draft.claim_id,
            draft.user_id,
            to_db_time(now),
            json.dumps(list(draft.done)),
            draft.note,
            draft.photo_file_id,
            int(concern),
        ),
    )
    assert cursor.lastrowid is not None
    return Visit(
        id=cursor.lastrowid,
        need_id=draft.need_id,
        claim_id=draft.claim_id,
        volunteer_id=draft.user_id,
        visited_at=now,
        done=draft.done,
        note=draft.note,
        photo_file_id=draft.photo_file_id,
        concern=concern,
    )


async def of_need(db: Database, need_id: int) -> list[Visit]:
    """Every visit to a household, oldest first."""
    rows = await db.fetch_all(
        f"{_VISIT_SELECT} WHERE need_id = ? ORDER BY visited_at, id", (need_id,)
    )
    return [_visit(row) for row in rows]
