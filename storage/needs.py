"""Needs, their private details, and their claims (the pairing history)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import aiosqlite

from bot.domain import (
    Actor,
    CardRef,
    ClaimOutcome,
    ClaimRecord,
    ClaimResult,
    Holder,
    Need,
    NeedState,
    Pairing,
    PrivateDetails,
    ReleaseOutcome,
    ReleaseResult,
    SlotsOutcome,
    StatusCounts,
    TeamCheck,
    assign_refusal,
    claim_outcome,
    fingerprint,
    release_refusal,
    slots_refusal,
)
from storage import audit, people
from storage.db import Database, from_db_time, to_db_time

# A need with its first active claim (if any) and the holder's name, in one row; a need
# for several volunteers carries the other places' holders as JSON (read only for those).
_NEED_SELECT = """
    SELECT n.id, n.chat_id, n.card_message_id, n.summary, n.created_by, n.created_at,
           n.closed_at, n.version, n.card_version, n.board_id, n.category, n.area, n.closed_as,
           n.slots, c.id AS claim_id, c.volunteer_id, c.team,
           c.claimed_at, p.display_name,
           (SELECT MAX(visited_at) FROM visits WHERE need_id = n.id) AS last_visited_at,
           CASE WHEN n.slots > 1 THEN (
               SELECT json_group_array(json_array(o.id, o.volunteer_id, o.display_name, o.team,
                                                  o.claimed_at))
               FROM (SELECT c2.id, c2.volunteer_id, p2.display_name, c2.team, c2.claimed_at
                     FROM claims c2 JOIN people p2 ON p2.user_id = c2.volunteer_id
                     WHERE c2.need_id = n.id AND c2.released_at IS NULL AND c2.id <> c.id
                     ORDER BY c2.id) o
           ) END AS others
    FROM needs n
    LEFT JOIN claims c ON c.id = (
        SELECT MIN(id) FROM claims WHERE need_id = n.id AND released_at IS NULL
    )
    LEFT JOIN people p ON p.user_id = c.volunteer_id
"""


def _others(text: str | None) -> tuple[Holder, ...]:
    if not text:
        return ()
    return tuple(
        Holder(claim_id, user_id, name, team, from_db_time(at))  # type: ignore[arg-type]
        for claim_id, user_id, name, team, at in json.loads(text)
    )


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
        version=row["version"],
        card_version=row["card_version"],
        last_visited_at=from_db_time(row["last_visited_at"]),
        board_id=row["board_id"],
        category=row["category"],
        area=row["area"],
        closed_as=row["closed_as"],
        slots=row["slots"],
        others=_others(row["others"]),
    )


async def _need_in(conn: aiosqlite.Connection, need_id: int) -> Need | None:
    rows = await conn.execute_fetchall(f"{_NEED_SELECT} WHERE n.id = ?", (need_id,))
    return _need(next(iter(rows))) if rows else None


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
            "INSERT INTO needs (chat_id, summary, created_by, created_at, fingerprint)"
            " VALUES (?, ?, ?, ?, ?)",
            (chat_id, summary, author.user_id, to_db_time(now), fingerprint(summary, details)),
        )
        need_id = cursor.lastrowid
        assert need_id is not None
        if not details.is_empty():
            await conn.execute(
                "INSERT INTO need_details (need_id, name, address, phone, health, notes)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (need_id, *(getattr(details, name) for name in _DETAIL_FIELDS)),
            )
        await audit.record(conn, now, author.user_id, "posted", need_id, chat_id=chat_id)
        need = await _need_in(conn, need_id)
    assert need is not None
    return need


async def set_card(db: Database, need_id: int, message_id: int, version: int) -> None:
    """Remember the group message that shows this need's card, as of ``version``."""
    await db.execute(
        "UPDATE needs SET card_message_id = ?, card_version = ? WHERE id = ?",
        (message_id, version, need_id),
    )


async def card_shown(db: Database, need_id: int, version: int) -> None:
    """The need's card now shows it as of ``version``."""
    await db.execute(
        "UPDATE needs SET card_version = ?1"
        " WHERE id = ?2 AND (card_version IS NULL OR card_version < ?1)",
        (version, need_id),
    )


async def stale_cards(db: Database) -> list[int]:
    """Needs whose card shows an older state than theirs (the bot stopped before the edit)."""
    rows = await db.fetch_all(
        "SELECT id FROM needs"
        " WHERE card_message_id IS NOT NULL AND card_version IS NOT version ORDER BY id"
    )
    return [row["id"] for row in rows]


async def get(db: Database, need_id: int) -> Need | None:
    """A need by number."""
    return await _need_in(db.reader, need_id)


_DETAIL_FIELDS = ("name", "address", "phone", "health", "notes")
_DETAILS_SELECT = f"SELECT {', '.join(_DETAIL_FIELDS)} FROM need_details WHERE need_id = ?"


async def details(db: Database, need_id: int) -> PrivateDetails:
    """A need's private details (empty if none were given)."""
    row = await db.fetch_one(_DETAILS_SELECT, (need_id,))
    if row is None:
        return PrivateDetails()
    return PrivateDetails(**{name: row[name] for name in _DETAIL_FIELDS})


async def select(db: Database, where: str, params: tuple[object, ...] = ()) -> list[Need]:
    """Needs matching ``where`` (over ``needs n``), as the group sees them."""
    rows = await db.fetch_all(f"{_NEED_SELECT} WHERE {where}", params)
    return [_need(row) for row in rows]


async def unposted(db: Database) -> list[Need]:
    """Open needs whose card never reached the group (the bot stopped before it was sent).
    Needs on a board are posted with their board (storage.boards.outbox)."""
    return await select(
        db,
        "n.card_message_id IS NULL AND n.closed_at IS NULL AND n.board_id IS NULL ORDER BY n.id",
    )


async def status(db: Database, chat_id: int | None = None) -> StatusCounts:
    """Counts of needs by state, in one group or everywhere."""
    row = await db.fetch_one(
        """
        SELECT COUNT(*) AS total,
               SUM(n.closed_at IS NOT NULL) AS closed,
               SUM(n.closed_at IS NULL AND EXISTS (
                   SELECT 1 FROM claims c WHERE c.need_id = n.id AND c.released_at IS NULL
               )) AS claimed
        FROM needs n
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
        f"{_NEED_SELECT} WHERE n.id IN (SELECT need_id FROM claims"
        " WHERE volunteer_id = ?1 AND released_at IS NULL)",
        (user_id,),
    )
    pairings = [
        Pairing(need=need, claim_id=held.claim_id, claimed_at=held.claimed_at)
        for need in map(_need, rows)
        if (held := need.holder_of(user_id)) is not None
    ]
    return sorted(pairings, key=lambda pairing: (pairing.claimed_at, pairing.claim_id))


# The need, the tapper as recorded (if at all) with their team, how many needs the tapper
# holds and how many their team holds (both counted on partial indexes of open claims), and
# whether any team exists to pick.
_CLAIM_READ = f"""
    SELECT v.*, me.user_id AS me_user_id, me.display_name AS me_display_name,
           me.username AS me_username, me.language AS me_language,
           me.language_code AS me_language_code, me_team.name AS me_team,
           me.team_id AS me_team_id, me.started_bot AS me_started_bot,
           (SELECT COUNT(*) FROM claims WHERE volunteer_id = ?1 AND released_at IS NULL) AS held,
           (SELECT COUNT(*) FROM claims WHERE team_id = me.team_id AND released_at IS NULL)
               AS team_held,
           EXISTS (SELECT 1 FROM teams WHERE removed_at IS NULL) AS teams_exist
    FROM (SELECT 1) LEFT JOIN ({_NEED_SELECT} WHERE n.id = ?2) v
    LEFT JOIN people me ON me.user_id = ?1
    LEFT JOIN teams me_team ON me_team.id = me.team_id
"""
# A new claim records the team its volunteer claims for now: its name, as history, and the
# team it counts for.
_CLAIM_INSERT = """
    INSERT INTO claims (need_id, volunteer_id, team, team_id, claimed_at, assigned_by)
    SELECT ?1, p.user_id, t.name, t.id, ?2, ?3
    FROM people p LEFT JOIN teams t ON t.id = p.team_id WHERE p.user_id = ?4
    RETURNING id, team
"""


@dataclasses.dataclass(frozen=True, slots=True)
class TeamRules:
    """The config's team rules for a claim: ``limits.max_open_claims_per_team`` and
    ``limits.require_team``."""

    max_open_claims: int | None = None
    required: bool = False


async def claim(
    db: Database,
    need_id: int,
    volunteer: Actor,
    max_open_claims: int,
    now: datetime,
    card: CardRef | None = None,
    team_rules: TeamRules | None = None,
) -> ClaimResult:
    """Decide a tap on Claim by the claim rule; only a winner writes.

    One read (the need, and the tapper as recorded) and, for a winner, one transaction, both
    holding the writer in turn with every other write, in the order the taps asked: so the
    first tap on an open need wins, exactly once. A tap on a need already held or closed,
    as the database keeps it, is answered without either (see Database.kept_need).
    """
    kept = db.kept_need(need_id)
    if kept is not None:
        return ClaimResult(claim_outcome(kept, volunteer.user_id, 0, max_open_claims, card), kept)
    async with db.serialised(for_claim=True) as conn:
        ((row),) = await conn.execute_fetchall(_CLAIM_READ, (volunteer.user_id, need_id))
        need = _need(row) if row["id"] is not None else None
        tapper = people.from_row(row, prefix="me_") if row["me_user_id"] is not None else None
        held, team_held = int(row["held"]), int(row["team_held"])
        team_rules = team_rules or TeamRules()
        team = TeamCheck(
            row["me_team_id"],
            team_held,
            team_rules.max_open_claims,
            team_rules.required and bool(row["teams_exist"]),
        )
        outcome = claim_outcome(need, volunteer.user_id, held, max_open_claims, card, team)
        if outcome is not ClaimOutcome.WON:
            if need is not None and need.state is not NeedState.OPEN:
                db.keep_need(need)
            return ClaimResult(outcome, need, held, tapper, team_held)
        assert need is not None
        async with db.begin(conn):
            if tapper is None or not people.is_current(tapper, volunteer):
                await people.upsert_in(conn, volunteer, now)
            ((claim_id, team_name),) = await conn.execute_fetchall(
                _CLAIM_INSERT, (need_id, to_db_time(now), None, volunteer.user_id)
            )
            await audit.record(conn, now, volunteer.user_id, "claimed", need_id, claim_id)
        holder = Holder(claim_id, volunteer.user_id, volunteer.display_name, team_name, now)
        # The claim's trigger bumped the need's version by one, and nothing else changed it.
        won = dataclasses.replace(
            need,
            holder=need.holder or holder,
            others=(*need.others, holder) if need.holder else (),
            version=need.version + 1,
        )
        if won.full:
            db.keep_need(won)
    team_after = team_held + 1 if team.team_id is not None else 0
    return ClaimResult(outcome, won, held + 1, tapper, team_after)


async def _end_active_claim(
    conn: aiosqlite.Connection,
    need: Need,
    actor_id: int,
    reason: str,
    now: datetime,
    holder: Holder | None = None,
) -> None:
    """End one place on ``need`` (``holder``'s), or every place taken on it."""
    for ended in (holder,) if holder is not None else need.holders:
        await conn.execute(
            "UPDATE claims SET released_at = ?, released_by = ?, release_reason = ?"
            " WHERE id = ? AND released_at IS NULL",
            (to_db_time(now), actor_id, reason, ended.claim_id),
        )
        await audit.record(
            conn, now, actor_id, reason, need.id, ended.claim_id, volunteer_id=ended.user_id
        )


async def release(
    db: Database, need_id: int, actor_id: int, as_coordinator: bool, now: datetime
) -> ReleaseResult:
    """End the active claim on a need: by its holder ("released") or a coordinator ("freed")."""
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        refusal = release_refusal(need, actor_id, as_coordinator)
        if refusal is not None:
            return ReleaseResult(refusal, need)
        assert need is not None and need.holder is not None
        # A holder gives up their own place; a coordinator who holds none frees them all.
        own = need.holder_of(actor_id)
        ended = (own,) if own is not None else need.holders
        async with db.begin(conn):
            await _end_active_claim(
                conn, need, actor_id, "released" if own else "freed", now, holder=own
            )
            after = await _need_in(conn, need_id)
    return ReleaseResult(ReleaseOutcome.RELEASED, after, previous=ended[0], ended=ended)


async def release_only(db: Database, holder_id: int, now: datetime) -> ReleaseResult:
    """/release with no number: the person's only pairing ends. What they hold is read in the
    same turn as the release, so a tap decided just before it is taken into account."""
    async with db.serialised() as conn:
        rows = await conn.execute_fetchall(
            "SELECT need_id FROM claims WHERE volunteer_id = ? AND released_at IS NULL"
            " ORDER BY claimed_at, id",
            (holder_id,),
        )
        held = tuple(int(row["need_id"]) for row in rows)
        if len(held) != 1:
            outcome = ReleaseOutcome.WHICH_ONE if held else ReleaseOutcome.NO_PAIRING
            return ReleaseResult(outcome, None, choices=held)
        need = await _need_in(conn, held[0])
        own = need.holder_of(holder_id) if need is not None else None
        assert need is not None and own is not None
        async with db.begin(conn):
            await _end_active_claim(conn, need, holder_id, "released", now, holder=own)
            after = await _need_in(conn, need.id)
    return ReleaseResult(ReleaseOutcome.RELEASED, after, previous=own, ended=(own,))


async def release_claim(
    db: Database, claim_id: int, holder_id: int, now: datetime
) -> ReleaseResult:
    """The holder ends one particular pairing (a Release button names its claim).

    A button left over from an ended pairing changes nothing, whoever taps it.
    """
    async with db.serialised() as conn:
        rows = await conn.execute_fetchall(
            "SELECT need_id FROM claims WHERE id = ? AND volunteer_id = ?", (claim_id, holder_id)
        )
        if not rows:
            return ReleaseResult(ReleaseOutcome.NOT_HOLDER, None)
        need = await _need_in(conn, next(iter(rows))["need_id"])
        own = need.holder_of(holder_id) if need is not None else None
        if need is None or own is None or own.claim_id != claim_id:
            return ReleaseResult(ReleaseOutcome.NOT_HOLDER, None)
        async with db.begin(conn):
            await _end_active_claim(conn, need, holder_id, "released", now, holder=own)
            after = await _need_in(conn, need.id)
    return ReleaseResult(ReleaseOutcome.RELEASED, after, previous=own, ended=(own,))


async def reassign(
    db: Database, need_id: int, to: int | str, coordinator_id: int, now: datetime
) -> ReleaseResult:
    """A coordinator gives a need to someone else (or to someone, if it was open).

    ``to`` is a user id or a @username (without the @), looked up in the same turn.
    """
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        to_user_id = await people.user_id_in(conn, to)
        if to_user_id is None:
            return ReleaseResult(ReleaseOutcome.UNKNOWN_PERSON, need)
        refusal = assign_refusal(need, to_user_id)
        if refusal is not None:
            same = need.holder_of(to_user_id) if need is not None else None
            return ReleaseResult(refusal, need, previous=same)
        assert need is not None
        # A need for one changes hands; a need for several with a free place gains a holder.
        replaced = need.holder if need.full else None
        async with db.begin(conn):
            if replaced is not None:
                await _end_active_claim(conn, need, coordinator_id, "reassigned", now, replaced)
            # A coordinator's assignment is not held to the claim limits.
            ((claim_id, _),) = await conn.execute_fetchall(
                _CLAIM_INSERT, (need_id, to_db_time(now), coordinator_id, to_user_id)
            )
            await audit.record(
                conn, now, coordinator_id, "assigned", need_id, claim_id, volunteer_id=to_user_id
            )
            after = await _need_in(conn, need_id)
    ended = (replaced,) if replaced is not None else ()
    return ReleaseResult(ReleaseOutcome.ASSIGNED, after, previous=replaced, ended=ended)


async def set_slots(
    db: Database, need_id: int, slots: int, coordinator_id: int, now: datetime
) -> tuple[SlotsOutcome, Need | None]:
    """A coordinator sets how many volunteers a need takes (never fewer than hold it)."""
    async with db.serialised() as conn:
        need = await _need_in(conn, need_id)
        refusal = slots_refusal(need, slots)
        if refusal is not None:
            return refusal, need
        async with db.begin(conn):
            await conn.execute("UPDATE needs SET slots = ? WHERE id = ?", (slots, need_id))
            await audit.record(conn, now, coordinator_id, "slots_set", need_id, None, slots=slots)
            after = await _need_in(conn, need_id)
    return SlotsOutcome.SET, after


async def claim_history(db: Database, need_id: int) -> list[ClaimRecord]:
    """Every claim ever made on a need, oldest first, with the volunteer's name now."""
    rows = await db.fetch_all(
        "SELECT c.id, c.need_id, c.volunteer_id, p.display_name, c.team, c.claimed_at,"
        " c.assigned_by, c.released_at, c.released_by, c.release_reason"
        " FROM claims c JOIN people p ON p.user_id = c.volunteer_id"
        " WHERE c.need_id = ? ORDER BY c.id",
        (need_id,),
    )
    return [
        ClaimRecord(
            id=row["id"],
            need_id=row["need_id"],
            volunteer_id=row["volunteer_id"],
            volunteer_name=row["display_name"],
            team=row["team"],
            claimed_at=from_db_time(row["claimed_at"]),  # type: ignore[arg-type]
            assigned_by=row["assigned_by"],
            released_at=from_db_time(row["released_at"]),
            released_by=row["released_by"],
            release_reason=row["release_reason"],
        )
        for row in rows
    ]


async def move_to_chat(db: Database, old_chat_id: int, new_chat_id: int, now: datetime) -> int:
    """A group became a supergroup with a new chat id: its needs and record follow it.

    Cards in the old chat can no longer be edited, so each need still open or held loses
    its card, to be posted again in the new chat. Returns how many needs moved.
    """
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO groups (chat_id, title, active, seen_at)"
            " SELECT ?1, title, 1, ?3 FROM groups WHERE chat_id = ?2"
            " ON CONFLICT (chat_id) DO UPDATE SET active = 1, seen_at = excluded.seen_at",
            (new_chat_id, old_chat_id, to_db_time(now)),
        )
        await conn.execute("UPDATE groups SET active = 0 WHERE chat_id = ?", (old_chat_id,))
        cursor = await conn.execute(
            "UPDATE needs SET chat_id = ?1,"
            " card_message_id = CASE WHEN closed_at IS NULL THEN NULL ELSE card_message_id END,"
            " card_version = CASE WHEN closed_at IS NULL THEN NULL ELSE card_version END"
            " WHERE chat_id = ?2",
            (new_chat_id, old_chat_id),
        )
        moved = cursor.rowcount
        # A board still listing a need that is not closed goes out again in the new chat.
        await conn.execute(
            "UPDATE boards SET chat_id = ?1,"
            " message_id = CASE WHEN EXISTS (SELECT 1 FROM needs n WHERE n.board_id = boards.id"
            "  AND n.closed_at IS NULL) THEN NULL ELSE message_id END"
            " WHERE chat_id = ?2",
            (new_chat_id, old_chat_id),
        )
        await conn.execute("DELETE FROM progress_boards WHERE chat_id = ?", (old_chat_id,))
        if moved:
            await audit.record(
                conn, now, None, "group_migrated", None, None, old=old_chat_id, new=new_chat_id
            )
    return moved
