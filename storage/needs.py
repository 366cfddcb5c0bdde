"""Needs, their private details, and their claims (the pairing history)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain import (
    Actor,
    CardRef,
    ClaimOutcome,
    ClaimRecord,
    ClaimResult,
    Holder,
    Need,
    Pairing,
    PrivateDetails,
    ReleaseOutcome,
    ReleaseResult,
    StatusCounts,
)
from storage import audit, people
from storage.db import Database, begin, from_db_time, to_db_time

# A need with its active claim (if any) and the holder's name, in one row.
_NEED_SELECT = """
    SELECT n.id, n.chat_id, n.card_message_id, n.summary, n.created_by, n.created_at,
           n.closed_at, c.id AS claim_id, c.volunteer_id, c.team, c.claimed_at,
           p.display_name
    FROM needs n
    LEFT JOIN claims c ON c.need_id = n.id AND c.released_at IS NULL
    LEFT JOIN people p ON p.user_id = c.volunteer_id
"""


def _need(row: aiosqlite.Row) -> Need:
    holder = None
    if row["claim_id"] is not None:
        holder = Holder(
            claim_id=row["claim_id"],
            user_id=row["volunteer_id"],
            display_name=row["display_name"],
            team=row["team"],
            claimed_at=from_db_time(row["claimed_at"]),  # type: ignore[arg-type]
        )
    return Need(
        id=row["id"],
        chat_id=row["chat_id"],
        card_message_id=row["card_message_id"],
        summary=row["summary"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
        closed_at=from_db_time(row["closed_at"]),
        holder=holder,
    )


async def _need_in(conn: aiosqlite.Connection, need_id: int) -> Need | None:
    rows = await conn.execute_fetchall(f"{_NEED_SELECT} WHERE n.id = ?", (need_id,))
    return _need(next(iter(rows))) if rows else None


# The need, who holds it, and what the tapper's decision needs about the tapper: one read.
_CLAIM_VIEW = f"""
    SELECT * FROM ({_NEED_SELECT} WHERE n.id = :need)
    LEFT JOIN (
        SELECT (SELECT COUNT(*) FROM claims
                WHERE volunteer_id = :me AND released_at IS NULL) AS held,
               me.language AS my_language, me.started_bot AS my_started_bot
        FROM (SELECT 1) LEFT JOIN people me ON me.user_id = :me
    )
"""


async def create(
    db: Database,
    chat_id: int,
    summary: str,
    details: PrivateDetails,
    author: Actor,
    now: datetime,
) -> Need:
    """Record a new open need; its card is posted afterwards (see ``set_card``)."""
    async with db.transaction() as conn:
        await people.upsert_in(conn, author, now)
        cursor = await conn.execute(
            "INSERT INTO needs (chat_id, summary, created_by, created_at) VALUES (?, ?, ?, ?)",
            (chat_id, summary, author.user_id, to_db_time(now)),
        )
        need_id = cursor.lastrowid
        assert need_id is not None
        if not details.is_empty():
            await conn.execute(
                "INSERT INTO need_details (need_id, name, address, phone, health, notes)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    need_id,
                    details.name,
                    details.address,
                    details.phone,
                    details.health,
                    details.notes,
                ),
            )
        await audit.record(conn, now, author.user_id, "posted", need_id, chat_id=chat_id)
        need = await _need_in(conn, need_id)
    assert need is not None
    return need


async def set_card(db: Database, need_id: int, message_id: int) -> None:
    """Remember the group message that shows this need's card."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE needs SET card_message_id = ? WHERE id = ?", (message_id, need_id)
        )


async def get(db: Database, need_id: int) -> Need | None:
    """A need by number."""
    return await _need_in(db.reader, need_id)


async def details(db: Database, need_id: int) -> PrivateDetails:
    """A need's private details (empty if none were given)."""
    row = await db.fetch_one(
        "SELECT name, address, phone, health, notes FROM need_details WHERE need_id = ?",
        (need_id,),
    )
    if row is None:
        return PrivateDetails()
    return PrivateDetails(**{key: row[key] for key in row.keys()})  # noqa: SIM118


async def unposted(db: Database) -> list[Need]:
    """Open needs whose card never reached the group (the bot stopped before it was sent)."""
    rows = await db.fetch_all(
        f"{_NEED_SELECT} WHERE n.card_message_id IS NULL AND n.closed_at IS NULL ORDER BY n.id"
    )
    return [_need(row) for row in rows]


async def status(db: Database, chat_id: int | None = None) -> StatusCounts:
    """Counts of needs by state, in one group or everywhere."""
    row = await db.fetch_one(
        """
        SELECT COUNT(*) AS total,
               SUM(n.closed_at IS NOT NULL) AS closed,
               SUM(n.closed_at IS NULL AND c.id IS NOT NULL) AS claimed
        FROM needs n LEFT JOIN claims c ON c.need_id = n.id AND c.released_at IS NULL
        WHERE ?1 IS NULL OR n.chat_id = ?1
        """,
        (chat_id,),
    )
    assert row is not None
    total, closed, claimed = row["total"], row["closed"] or 0, row["claimed"] or 0
    return StatusCounts(total=total, open=total - closed - claimed, claimed=claimed, closed=closed)


async def pairings_of(db: Database, user_id: int) -> list[Pairing]:
    """A volunteer's active claims, oldest first."""
    rows = await db.fetch_all(
        f"{_NEED_SELECT} WHERE c.volunteer_id = ? ORDER BY c.claimed_at", (user_id,)
    )
    return [
        Pairing(need=need, claim_id=need.holder.claim_id, claimed_at=need.holder.claimed_at)
        for need in map(_need, rows)
        if need.holder is not None
    ]


_SETTLED = frozenset({ClaimOutcome.TAKEN, ClaimOutcome.ALREADY_YOURS, ClaimOutcome.CLOSED})


@dataclasses.dataclass(frozen=True, slots=True)
class _Look:
    """A need and the tapper, as one read saw them."""

    need: Need
    held: int
    tapper: dict[str, Any]


async def _look(conn: aiosqlite.Connection, need_id: int, user_id: int) -> _Look | None:
    rows = list(await conn.execute_fetchall(_CLAIM_VIEW, {"need": need_id, "me": user_id}))
    if not rows:
        return None
    row = rows[0]
    tapper = {"language": row["my_language"], "started_bot": bool(row["my_started_bot"])}
    return _Look(_need(row), int(row["held"]), tapper)


def _refusal(
    look: _Look | None, user_id: int, card: CardRef | None, max_open_claims: int | None
) -> ClaimResult | None:
    """Why this tap cannot win, or None if it can (``max_open_claims`` None: not checked)."""
    if look is None:
        return ClaimResult(ClaimOutcome.NOT_FOUND, None)
    need, tapper = look.need, look.tapper
    if card is not None and (card.chat_id, card.message_id) != (
        need.chat_id,
        need.card_message_id,
    ):
        return ClaimResult(ClaimOutcome.WRONG_CARD, None, **tapper)
    if need.closed_at is not None:
        return ClaimResult(ClaimOutcome.CLOSED, need, **tapper)
    if need.holder is not None:
        mine = need.holder.user_id == user_id
        outcome = ClaimOutcome.ALREADY_YOURS if mine else ClaimOutcome.TAKEN
        return ClaimResult(outcome, need, **tapper)
    if max_open_claims is not None and look.held >= max_open_claims:
        return ClaimResult(ClaimOutcome.LIMIT_REACHED, need, open_claims=look.held, **tapper)
    return None


async def claim(
    db: Database,
    need_id: int,
    volunteer: Actor,
    max_open_claims: int,
    now: datetime,
    card: CardRef | None = None,
) -> ClaimResult:
    """Decide a tap on Claim: the first caller to reach the writer wins, exactly once.

    With ``card``, the tap counts only if it came from the need's own card: button data can
    be forged, and a claim from any other message would hand a stranger the details.

    Most taps in a burst lose. So a first look, on the reader and without the lock, answers
    a tap on a need already held (or missing, or closed) at once, with no disk write; those
    reads go through one thread in order, so a tap that looked first reaches the lock first.
    A tap that may win looks again under the writer lock, and only a winner writes (the
    person, the claim, the audit row, in one transaction).
    """
    user_id = volunteer.user_id
    # The first look is only trusted while no release is under way or queued: one could free
    # the need for this tap, which must then be decided in turn, under the lock.
    if not db.frees_under_way:
        refusal = _refusal(await _look(db.reader, need_id, user_id), user_id, card, None)
        # Only a need already held or closed is answered from the first look: "no such
        # card" may be a card still being recorded, so that waits for the writer.
        if refusal is not None and refusal.outcome in _SETTLED and not db.frees_under_way:
            return refusal
    async with db.serialised() as conn:
        look = await _look(conn, need_id, user_id)
        refusal = _refusal(look, user_id, card, max_open_claims)
        if refusal is not None:
            return refusal
        assert look is not None
        async with begin(conn):
            await people.upsert_in(conn, volunteer, now)
            inserted = await conn.execute_fetchall(
                "INSERT INTO claims (need_id, volunteer_id, team, claimed_at)"
                " SELECT ?, user_id, team, ? FROM people WHERE user_id = ? RETURNING id, team",
                (need_id, to_db_time(now), user_id),
            )
            claim_id, team = next(iter(inserted))
            await audit.record(conn, now, user_id, "claimed", need_id, claim_id)
    holder = Holder(claim_id, user_id, volunteer.display_name, team, now)
    won = dataclasses.replace(look.need, holder=holder)
    return ClaimResult(ClaimOutcome.WON, won, open_claims=look.held + 1, **look.tapper)


async def _end_active_claim(
    conn: aiosqlite.Connection, need: Need, actor_id: int, reason: str, now: datetime
) -> None:
    assert need.holder is not None
    await conn.execute(
        "UPDATE claims SET released_at = ?, released_by = ?, release_reason = ?"
        " WHERE id = ? AND released_at IS NULL",
        (to_db_time(now), actor_id, reason, need.holder.claim_id),
    )
    await audit.record(
        conn,
        now,
        actor_id,
        reason,
        need.id,
        need.holder.claim_id,
        volunteer_id=need.holder.user_id,
    )


async def _released(
    conn: aiosqlite.Connection, need: Need, actor_id: int, reason: str, now: datetime
) -> ReleaseResult:
    """End the need's active claim inside the caller's transaction; the need as it is now."""
    await _end_active_claim(conn, need, actor_id, reason, now)
    after = await _need_in(conn, need.id)
    return ReleaseResult(ReleaseOutcome.RELEASED, after, previous=need.holder)


async def release(
    db: Database, need_id: int, actor_id: int, as_coordinator: bool, now: datetime
) -> ReleaseResult:
    """End the active claim on a need: by its holder ("released") or a coordinator ("freed")."""
    with db.freeing():
        async with db.transaction() as conn:
            need = await _need_in(conn, need_id)
            if need is None:
                return ReleaseResult(ReleaseOutcome.NOT_FOUND, None)
            if need.holder is None:
                return ReleaseResult(ReleaseOutcome.NOT_CLAIMED, need)
            is_holder = need.holder.user_id == actor_id
            if not is_holder and not as_coordinator:
                return ReleaseResult(ReleaseOutcome.NOT_HOLDER, need)
            reason = "released" if is_holder else "freed"
            return await _released(conn, need, actor_id, reason, now)


async def release_claim(
    db: Database, claim_id: int, holder_id: int, now: datetime
) -> ReleaseResult:
    """The holder ends one particular pairing (a Release button names its claim).

    A button left over from an ended pairing changes nothing, whoever taps it.
    """
    with db.freeing():
        async with db.transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT need_id FROM claims"
                    " WHERE id = ? AND volunteer_id = ? AND released_at IS NULL",
                    (claim_id, holder_id),
                )
            )
            if not rows:
                return ReleaseResult(ReleaseOutcome.NOT_HOLDER, None)
            need = await _need_in(conn, rows[0]["need_id"])
            assert need is not None and need.holder is not None
            return await _released(conn, need, holder_id, "released", now)


async def reassign(
    db: Database, need_id: int, to_user_id: int, coordinator_id: int, now: datetime
) -> ReleaseResult:
    """A coordinator gives a need to someone else (or to someone, if it was open)."""
    with db.freeing():
        async with db.transaction() as conn:
            need = await _need_in(conn, need_id)
            if need is None:
                return ReleaseResult(ReleaseOutcome.NOT_FOUND, None)
            if not await conn.execute_fetchall(
                "SELECT 1 FROM people WHERE user_id = ?", (to_user_id,)
            ):
                return ReleaseResult(ReleaseOutcome.UNKNOWN_PERSON, need)
            if need.holder is not None:
                if need.holder.user_id == to_user_id:
                    return ReleaseResult(ReleaseOutcome.SAME_PERSON, need)
                await _end_active_claim(conn, need, coordinator_id, "reassigned", now)
            cursor = await conn.execute(
                "INSERT INTO claims (need_id, volunteer_id, team, claimed_at, assigned_by)"
                " SELECT ?, user_id, team, ?, ? FROM people WHERE user_id = ?",
                (need_id, to_db_time(now), coordinator_id, to_user_id),
            )
            await audit.record(
                conn,
                now,
                coordinator_id,
                "assigned",
                need_id,
                cursor.lastrowid,
                volunteer_id=to_user_id,
            )
            after = await _need_in(conn, need_id)
        return ReleaseResult(ReleaseOutcome.RELEASED, after, previous=need.holder)


async def claim_history(db: Database, need_id: int) -> list[ClaimRecord]:
    """Every claim ever made on a need, oldest first (the household's history)."""
    rows = await db.fetch_all(
        "SELECT id, need_id, volunteer_id, team, claimed_at, assigned_by, released_at,"
        " released_by, release_reason FROM claims WHERE need_id = ? ORDER BY id",
        (need_id,),
    )
    return [
        ClaimRecord(
            id=row["id"],
            need_id=row["need_id"],
            volunteer_id=row["volunteer_id"],
            team=row["team"],
            claimed_at=from_db_time(row["claimed_at"]),  # type: ignore[arg-type]
            assigned_by=row["assigned_by"],
            released_at=from_db_time(row["released_at"]),
            released_by=row["released_by"],
            release_reason=row["release_reason"],
        )
        for row in rows
    ]
