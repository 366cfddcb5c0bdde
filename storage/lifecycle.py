"""A need's life after posting: a coordinator edits it, closes it as done, cancels it or
reopens it; and, once a closed need has been kept long enough, its private details go.

Each change is one transaction holding the writer with the need read in it, so it is decided
on the need as it stands, and recorded in the audit log with who made it (never a detail).
The card follows by itself: the triggers bump the need's version on what a card shows.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import aiosqlite

from bot.domain import (
    CANCELLED,
    DONE,
    Closing,
    Holder,
    LifeOutcome,
    LifeResult,
    PrivateDetails,
    Purged,
    life_refusal,
)
from storage import audit, reminders
from storage.db import Database, from_db_time, to_db_time
from storage.needs import _end_active_claim, _need_in

_DETAIL_FIELDS = tuple(f.name for f in fields(PrivateDetails))
# A closed need kept past its time, whose private details are still there.
_TO_PURGE = "SELECT id FROM needs WHERE closed_at < ? AND purged_at IS NULL"


async def _details_in(conn: aiosqlite.Connection, need_id: int) -> PrivateDetails:
    rows = await conn.execute_fetchall(
        f"SELECT {', '.join(_DETAIL_FIELDS)} FROM need_details WHERE need_id = ?", (need_id,)
    )
    row = next(iter(rows), None)
    if row is None:
        return PrivateDetails()
    return PrivateDetails(**{name: row[name] for name in _DETAIL_FIELDS})


async def _write_details(
    conn: aiosqlite.Connection, need_id: int, details: PrivateDetails
) -> None:
    await conn.execute("DELETE FROM need_details WHERE need_id = ?", (need_id,))
    if not details.is_empty():
        await conn.execute(
            f"INSERT INTO need_details (need_id, {', '.join(_DETAIL_FIELDS)})"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (need_id, *(getattr(details, name) for name in _DETAIL_FIELDS)),
        )
    # Details given again (after a reopen) are no longer "purged".
    await conn.execute("UPDATE needs SET purged_at = NULL WHERE id = ?", (need_id,))


async def edit(
    db: Database,
    need_id: int,
    summary: str,
    details: PrivateDetails,
    coordinator_id: int,
    now: datetime,
) -> LifeResult:
    """Give an open or claimed need this public summary and these private details."""
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        refusal = life_refusal(need)
        if refusal is not None:
            return LifeResult(refusal, need)
        assert need is not None
        before = await _details_in(conn, need_id)
        changed = [f for f in _DETAIL_FIELDS if getattr(before, f) != getattr(details, f)]
        summary_changed = summary != need.summary
        if not changed and not summary_changed:
            return LifeResult(LifeOutcome.UNCHANGED, need, need.holder)
        async with db.begin(conn):
            if summary_changed:
                await conn.execute("UPDATE needs SET summary = ? WHERE id = ?", (summary, need_id))
            if changed:
                await _write_details(conn, need_id, details)
            names = ["summary"] * summary_changed + changed  # which fields, never what they say
            await audit.record(conn, now, coordinator_id, "need_edited", need_id, fields=names)
            after = await _need_in(conn, need_id)
    assert after is not None
    return LifeResult(
        LifeOutcome.EDITED, after, after.holder, summary_changed, bool(changed), after.others
    )


async def close(
    db: Database,
    need_id: int,
    closed_as: str,
    note: str | None,
    coordinator_id: int,
    now: datetime,
) -> LifeResult:
    """Close an open or claimed need as done, or cancel it (``closed_as``).

    A pairing still active ends with it, as history ("closed" or "cancelled"), and its
    pending reminders are cancelled.
    """
    assert closed_as in (DONE, CANCELLED)
    reason = "closed" if closed_as == DONE else CANCELLED
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        refusal = life_refusal(need)
        if refusal is not None:
            return LifeResult(refusal, need)
        assert need is not None
        async with db.begin(conn):
            await _end_active_claim(conn, need, coordinator_id, reason, now)
            for holder in need.holders:
                await reminders.cancel_for_claim_in(conn, holder.claim_id, f"need {reason}")
            await conn.execute(
                "UPDATE needs SET closed_at = ?, closed_by = ?, closed_as = ?, close_note = ?"
                " WHERE id = ?",
                (to_db_time(now), coordinator_id, closed_as, note, need_id),
            )
            await audit.record(
                conn, now, coordinator_id, f"need_{reason}", need_id, note=note is not None
            )
            after = await _need_in(conn, need_id)
    outcome = LifeOutcome.CLOSED if closed_as == DONE else LifeOutcome.CANCELLED
    return LifeResult(outcome, after, need.holder, others=need.others)


async def reopen(db: Database, need_id: int, coordinator_id: int, now: datetime) -> LifeResult:
    """Open a closed or cancelled need again: claimable, with no holder. ``holder`` in the
    result is whose pairing its closing ended, if any (a coordinator may /reassign it)."""
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        refusal = life_refusal(need, reopening=True)
        if refusal is not None:
            return LifeResult(refusal, need)
        assert need is not None and need.closed_at is not None
        holder = await _ended_by_closing(conn, need_id, need.closed_at)
        async with db.begin(conn):
            await conn.execute(
                "UPDATE needs SET closed_at = NULL, closed_by = NULL, closed_as = NULL,"
                " close_note = NULL WHERE id = ?",
                (need_id,),
            )
            await audit.record(conn, now, coordinator_id, "need_reopened", need_id)
            after = await _need_in(conn, need_id)
    return LifeResult(LifeOutcome.REOPENED, after, holder)


async def _ended_by_closing(
    conn: aiosqlite.Connection, need_id: int, closed_at: datetime
) -> Holder | None:
    rows = await conn.execute_fetchall(
        "SELECT c.id, c.volunteer_id, p.display_name, c.team, c.claimed_at"
        " FROM claims c JOIN people p ON p.user_id = c.volunteer_id"
        " WHERE c.need_id = ? AND c.released_at = ? AND c.release_reason IN (?, ?)"
        " ORDER BY c.id DESC LIMIT 1",
        (need_id, to_db_time(closed_at), "closed", CANCELLED),
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    claimed_at = from_db_time(row["claimed_at"])
    assert claimed_at is not None
    return Holder(row["id"], row["volunteer_id"], row["display_name"], row["team"], claimed_at)


async def closing(db: Database, need_id: int) -> Closing:
    """The closing note and purge time of a need (both None for a need never closed)."""
    row = await db.fetch_one("SELECT close_note, purged_at FROM needs WHERE id = ?", (need_id,))
    if row is None:
        return Closing(None, None)
    return Closing(row["close_note"], from_db_time(row["purged_at"]))


async def purge(db: Database, closed_before: datetime, now: datetime) -> Purged:
    """Remove the private details of needs closed or cancelled before ``closed_before``:
    name, address, phone, health and notes, the closing note, the notes and photos of their
    visits, and any form still open on them. Each need once: a second run finds nothing.

    What stays is the record: the public summary, who claimed and visited when, what was
    done, and the audit log. One audit entry tells how many (never what).
    """
    cutoff = to_db_time(closed_before)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE visits SET note = NULL, photo_file_id = NULL, purged = 1"
            f" WHERE need_id IN ({_TO_PURGE})"
            " AND (note IS NOT NULL OR photo_file_id IS NOT NULL)",
            (cutoff,),
        )
        visits = cursor.rowcount
        for table in ("need_details", "drafts", "visit_drafts"):
            await conn.execute(f"DELETE FROM {table} WHERE need_id IN ({_TO_PURGE})", (cutoff,))
        cursor = await conn.execute(
            f"UPDATE needs SET close_note = NULL, purged_at = ? WHERE id IN ({_TO_PURGE})",
            (to_db_time(now), cutoff),
        )
        purged = Purged(needs=cursor.rowcount, visits=visits)
        if purged.needs:
            await audit.record(
                conn,
                now,
                None,
                "details_purged",
                needs=purged.needs,
                visits=purged.visits,
                closed_before=cutoff,
            )
    return purged
