"""Needs, their private details, and their claims (the pairing history)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable
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
from storage.db import Database, from_db_time, immediate, to_db_time

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
               me.language AS my_language, me.started_bot AS my_started_bot,
               me.display_name AS my_name
        FROM (SELECT 1) LEFT JOIN people me ON me.user_id = :me
    )
"""
# The same, with the household's details, for the decision on the writer (only a winner's
# details leave it).
_DECIDE_VIEW = f"""
    SELECT v.*, d.name AS detail_name, d.address AS detail_address, d.phone AS detail_phone,
           d.health AS detail_health, d.notes AS detail_notes
    FROM ({_CLAIM_VIEW}) AS v LEFT JOIN need_details d ON d.need_id = v.id
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
        changed = await people.upsert_in(conn, author, now)
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
    if changed:
        db.forget_holder(author.user_id)
    assert need is not None
    return need


async def set_card(db: Database, need_id: int, message_id: int) -> None:
    """Remember the group message that shows this need's card."""
    async with db.unsettling_transaction(need_id) as conn:
        await conn.execute(
            "UPDATE needs SET card_message_id = ? WHERE id = ?", (message_id, need_id)
        )


async def get(db: Database, need_id: int) -> Need | None:
    """A need by number."""
    return await _need_in(db.reader, need_id)


_DETAIL_FIELDS = ("name", "address", "phone", "health", "notes")
_DETAILS_SELECT = f"SELECT {', '.join(_DETAIL_FIELDS)} FROM need_details WHERE need_id = ?"


def _details(rows: Iterable[sqlite3.Row]) -> PrivateDetails:
    for row in rows:
        return PrivateDetails(**{key: row[key] for key in row.keys()})  # noqa: SIM118
    return PrivateDetails()


async def details(db: Database, need_id: int) -> PrivateDetails:
    """A need's private details (empty if none were given)."""
    return _details(await db.fetch_all(_DETAILS_SELECT, (need_id,)))


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
# At most this many settled needs are kept in memory (a few megabytes); then it starts over.
SETTLED_KEPT = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class _Look:
    """A need and the tapper, as one read saw them."""

    need: Need
    held: int
    tapper: dict[str, Any]
    name: str | None = None  # the tapper's name as recorded (None: not recorded yet)


def _parse_look(rows: Iterable[sqlite3.Row]) -> _Look | None:
    for row in rows:
        tapper = {"language": row["my_language"], "started_bot": bool(row["my_started_bot"])}
        return _Look(_need(row), int(row["held"]), tapper, row["my_name"])
    return None


async def _look(conn: aiosqlite.Connection, need_id: int, user_id: int) -> _Look | None:
    return _parse_look(await conn.execute_fetchall(_CLAIM_VIEW, {"need": need_id, "me": user_id}))


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
    reads go through one thread in order, so a tap that looked first reaches the writer first.
    A tap that may win is decided on the writer (see ``_decide``), in turn with every write.
    """
    user_id = volunteer.user_id
    mark = db.unsettled_mark()
    remembered = None if db.unsettled_since(mark) else db.settled.get(need_id)
    if remembered is not None:
        look = _Look(remembered, 0, {"language": db.languages.get(user_id)})
        refusal = _refusal(look, user_id, card, None)
        if refusal is not None and refusal.outcome in _SETTLED:
            return refusal
    # Every other tap passes the reader's queue, in the order the taps came, before it can
    # reach the writer, even while its look cannot be trusted: so a later tap never gets to
    # the writer ahead of an earlier one.
    refusal = _refusal(await _look(db.reader, need_id, user_id), user_id, card, None)
    # Only a need already held or closed is answered from the first look: "no such card"
    # may be a card still being recorded, so that waits for the writer.
    if refusal is not None and refusal.outcome in _SETTLED and not db.unsettled_since(mark):
        _remember(db, refusal.need)
        return refusal
    result, renamed = await db.write(_decide, need_id, volunteer, max_open_claims, now, card)
    if renamed:
        db.forget_holder(user_id)
    if (result.outcome in _SETTLED or result.outcome is ClaimOutcome.WON) and not (
        db.unsettled_since(mark)
    ):
        _remember(db, result.need)
    return result


def _remember(db: Database, need: Need | None) -> None:
    """Keep a settled need in memory, so its next taps are answered without a read."""
    assert need is not None
    if len(db.settled) >= SETTLED_KEPT:
        db.settled.clear()
    db.settled[need.id] = need


def _decide(
    conn: sqlite3.Connection,
    need_id: int,
    volunteer: Actor,
    max_open_claims: int,
    now: datetime,
    card: CardRef | None,
) -> tuple[ClaimResult, bool]:
    """Look again and, if the tap wins, write the claim: one function on the writer's thread.

    Only a winner writes (the person, the claim, the audit row); the household's details are
    read with the look, so the winner's private message needs no further read. Also says
    whether the winner's recorded name changed.
    """
    user_id = volunteer.user_id
    # Every write goes through this thread one at a time, so nothing can change between this
    # look and the writes below: a refusal needs no transaction at all.
    rows = conn.execute(_DECIDE_VIEW, {"need": need_id, "me": user_id}).fetchall()
    look = _parse_look(rows)
    refusal = _refusal(look, user_id, card, max_open_claims)
    if refusal is not None:
        return refusal, False
    assert look is not None
    with immediate(conn):
        for statement in people.upsert_statements(volunteer, now):
            conn.execute(*statement)
        ((claim_id, team),) = conn.execute(
            "INSERT INTO claims (need_id, volunteer_id, team, claimed_at)"
            " SELECT ?, user_id, team, ? FROM people WHERE user_id = ? RETURNING id, team",
            (need_id, to_db_time(now), user_id),
        ).fetchall()
        conn.execute(*audit.entry(now, user_id, "claimed", need_id, claim_id))
    details = PrivateDetails(**{field: rows[0][f"detail_{field}"] for field in _DETAIL_FIELDS})
    holder = Holder(claim_id, user_id, volunteer.display_name, team, now)
    won = dataclasses.replace(look.need, holder=holder)
    result = ClaimResult(
        ClaimOutcome.WON, won, open_claims=look.held + 1, details=details, **look.tapper
    )
    return result, look.name is not None and look.name != volunteer.display_name


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
    async with db.unsettling_transaction(need_id) as conn:
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
    async with db.unsettling_transaction() as conn:
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
    async with db.unsettling_transaction(need_id) as conn:
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
