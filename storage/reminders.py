"""Reminder occurrences, one row each, and the reads that plan and re-check them.

A row's ``key`` says which occurrence it is (``follow_up:12:<anchor>:2``), so planning the
same occurrence twice adds nothing. A row goes pending -> sending -> sent, and "sending" is
committed before the message goes out: a crash in between leaves it "sending", never resent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.domain import Reminder, ReminderState
from storage.db import Database, from_db_time, to_db_time

_COLUMNS = (
    "id, kind, key, due_at, chat_id, need_id, claim_id, parent_id, payload, state,"
    " attempts, last_error"
)
# A claim that still pairs someone with a household: not released, its need not closed.
_ACTIVE_CLAIM = (
    "c.released_at IS NULL AND EXISTS"
    " (SELECT 1 FROM needs n WHERE n.id = c.need_id AND n.closed_at IS NULL)"
)
# What must still hold when a reminder is about to go out, by kind (see ``start_sending``).
GUARDS: Mapping[str, str] = {
    # The pairing still stands and no visit was logged since the reminder was planned.
    "claim": f"""EXISTS (SELECT 1 FROM claims c WHERE c.id = reminders.claim_id AND {_ACTIVE_CLAIM}
        AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.claim_id = c.id
            AND v.visited_at > json_extract(reminders.payload, '$.anchor')))""",
    # The person still holds a pairing.
    "claimer": f"""EXISTS (SELECT 1 FROM claims c
        WHERE c.volunteer_id = reminders.chat_id AND {_ACTIVE_CLAIM})""",
    # The bot is still in the group.
    "group": "EXISTS (SELECT 1 FROM groups g WHERE g.chat_id = reminders.chat_id AND g.active)",
    "none": "1",
}


@dataclass(frozen=True, slots=True)
class Planned:
    """A reminder occurrence to add (if its key is new)."""

    kind: str
    key: str
    due_at: datetime
    chat_id: int | None = None
    need_id: int | None = None
    claim_id: int | None = None
    payload: Mapping[str, object] = field(default_factory=dict)
    created_by: int | None = None


@dataclass(frozen=True, slots=True)
class FollowUpChain:
    """An active pairing and its follow-ups since its anchor (the claim or the last visit)."""

    claim_id: int
    need_id: int
    volunteer_id: int
    anchor: str  # as the database holds it: follow-ups name it, and a visit moves it
    last_n: int  # the number of the latest follow-up planned since the anchor (0: none)
    waiting: int  # follow-ups since the anchor still pending or being sent
    sent: int  # follow-ups since the anchor that reached the volunteer
    escalated: bool

    @property
    def anchored_at(self) -> datetime:
        """The anchor as a moment."""
        moment = from_db_time(self.anchor)
        assert moment is not None
        return moment


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """A group the bot is in, with its needs that are open and claimed."""

    chat_id: int
    open: int
    claimed: int


@dataclass(frozen=True, slots=True)
class OpenCard:
    """An open need's card in its group."""

    need_id: int
    message_id: int
    summary: str


def _reminder(row: aiosqlite.Row) -> Reminder:
    due_at = from_db_time(row["due_at"])
    assert due_at is not None
    return Reminder(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        due_at=due_at,
        chat_id=row["chat_id"],
        need_id=row["need_id"],
        claim_id=row["claim_id"],
        parent_id=row["parent_id"],
        payload=json.loads(row["payload"]) if row["payload"] else {},
        state=ReminderState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


def _payload(payload: Mapping[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


_INSERT = (
    "INSERT INTO reminders (kind, key, due_at, chat_id, need_id, claim_id, parent_id, payload,"
    " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (key) DO NOTHING"
)


def _insert_params(
    item: Planned, now: datetime, parent_id: int | None = None
) -> tuple[object, ...]:
    return (
        item.kind,
        item.key,
        to_db_time(item.due_at),
        item.chat_id,
        item.need_id,
        item.claim_id,
        parent_id,
        _payload(item.payload),
        item.created_by,
        to_db_time(now),
    )


# Rows added per transaction: a claim waiting for the writer waits for one chunk at most.
ADD_CHUNK = 500


async def add(db: Database, planned: Sequence[Planned], now: datetime) -> int:
    """Add the occurrences whose key is new; returns how many were new.

    In chunks, each its own transaction: the keys make a chunk added twice harmless.
    """
    added = 0
    for start in range(0, len(planned), ADD_CHUNK):
        chunk = planned[start : start + ADD_CHUNK]
        async with db.transaction() as conn:
            before = conn.total_changes
            await conn.executemany(_INSERT, [_insert_params(item, now) for item in chunk])
            added += conn.total_changes - before
    return added


async def get(db: Database, reminder_id: int) -> Reminder | None:
    """One occurrence by id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))
    return _reminder(row) if row else None


async def get_by_key(db: Database, key: str) -> Reminder | None:
    """One occurrence by its key."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM reminders WHERE key = ?", (key,))
    return _reminder(row) if row else None


async def due(
    db: Database, now: datetime, kinds: Iterable[str], limit: int = 100
) -> list[Reminder]:
    """Pending occurrences of these kinds due by ``now``, earliest first."""
    kinds = list(kinds)
    marks = ", ".join("?" * len(kinds))
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reminders WHERE state = 'pending' AND due_at <= ?"
        f" AND kind IN ({marks}) ORDER BY due_at, id LIMIT ?",
        (to_db_time(now), *kinds, limit),
    )
    return [_reminder(row) for row in rows]


async def pending(db: Database, kinds: Iterable[str], limit: int) -> list[Reminder]:
    """Pending occurrences of these kinds, soonest first."""
    kinds = list(kinds)
    marks = ", ".join("?" * len(kinds))
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reminders WHERE state = 'pending' AND kind IN ({marks})"
        " ORDER BY due_at, id LIMIT ?",
        (*kinds, limit),
    )
    return [_reminder(row) for row in rows]


async def pending_counts(db: Database) -> dict[str, int]:
    """How many occurrences of each kind are pending."""
    rows = await db.fetch_all(
        "SELECT kind, COUNT(*) AS n FROM reminders WHERE state = 'pending' GROUP BY kind"
    )
    return {row["kind"]: row["n"] for row in rows}


async def start_sending(db: Database, reminder_id: int, guard: str) -> bool | None:
    """Mark a pending occurrence "sending" (committed) if ``GUARDS[guard]`` still holds.

    True: it is this caller's to send. False: it is pending but the guard no longer holds.
    None: it is not pending any more (cancelled, or taken by another run).
    """
    async with db.serialised() as conn:
        cursor = await conn.execute(
            "UPDATE reminders SET state = 'sending', attempts = attempts + 1"
            f" WHERE id = ? AND state = 'pending' AND ({GUARDS[guard]})",
            (reminder_id,),
        )
        if cursor.rowcount:
            return True
        rows = await conn.execute_fetchall(
            "SELECT 1 FROM reminders WHERE id = ? AND state = 'pending'", (reminder_id,)
        )
    return False if rows else None


async def finish(
    db: Database,
    reminder_id: int,
    state: ReminderState,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Record how an occurrence ended: sent (only once Telegram accepted it), failed,
    cancelled."""
    await db.execute(
        "UPDATE reminders SET state = ?, last_error = COALESCE(?, last_error),"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
        (state.value, reason, state.value, to_db_time(now), reminder_id),
    )


async def cancel(
    db: Database, reminder_id: int, reason: str, kinds: Iterable[str] | None = None
) -> bool:
    """Cancel an occurrence still pending (of one of ``kinds``, if given)."""
    kinds = list(kinds) if kinds is not None else None
    marks = ", ".join("?" * len(kinds)) if kinds else ""
    only = f" AND kind IN ({marks})" if kinds else ""
    changed = await db.execute(
        "UPDATE reminders SET state = 'cancelled', last_error = ?"
        f" WHERE id = ? AND state = 'pending'{only}",
        (reason, reminder_id, *(kinds or [])),
    )
    return changed == 1


async def reschedule(
    db: Database, reminder_id: int, due_at: datetime, reason: str | None = None
) -> None:
    """Put an occurrence back to pending, due at ``due_at`` (a retry, or after quiet hours)."""
    await db.execute(
        "UPDATE reminders SET state = 'pending', due_at = ?,"
        " last_error = COALESCE(?, last_error) WHERE id = ? AND state IN ('pending', 'sending')",
        (to_db_time(due_at), reason, reminder_id),
    )


async def fail_interrupted(db: Database) -> int:
    """At start: occurrences left "sending" by a crash may have gone out; never resent."""
    return await db.execute(
        "UPDATE reminders SET state = 'failed',"
        " last_error = 'interrupted while sending: it may or may not have arrived'"
        " WHERE state = 'sending'"
    )


async def mark_missed(db: Database, due_before: datetime) -> dict[str, int]:
    """At start: pending occurrences due before ``due_before`` are missed; counts by kind."""
    when = to_db_time(due_before)
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT kind, COUNT(*) FROM reminders WHERE state = 'pending' AND due_at < ?"
            " GROUP BY kind",
            (when,),
        )
        await conn.execute(
            "UPDATE reminders SET state = 'missed', last_error = 'due while the bot was down'"
            " WHERE state = 'pending' AND due_at < ?",
            (when,),
        )
    return {kind: count for kind, count in rows}


async def expand(
    db: Database, parent_id: int, children: Sequence[Planned], now: datetime
) -> int | None:
    """Turn a pending fan-out into one occurrence per recipient, in one transaction.

    Returns how many were added; None if the parent is no longer pending (cancelled, or
    expanded by an earlier run).
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE reminders SET state = 'sent', sent_at = ? WHERE id = ? AND state = 'pending'",
            (to_db_time(now), parent_id),
        )
        if cursor.rowcount != 1:
            return None
        before = conn.total_changes
        await conn.executemany(
            _INSERT, [_insert_params(item, now, parent_id) for item in children]
        )
        return conn.total_changes - before


async def children_counts(db: Database, parent_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """For each fan-out, how many of its occurrences stand in each state."""
    ids = list(parent_ids)
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await db.fetch_all(
        f"SELECT parent_id, state, COUNT(*) AS n FROM reminders WHERE parent_id IN ({marks})"
        " GROUP BY parent_id, state",
        ids,
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["parent_id"], {})[row["state"]] = row["n"]
    return counts


_CHAINS = f"""
    WITH active AS (
        SELECT c.id AS claim_id, c.need_id, c.volunteer_id,
               MAX(c.claimed_at, COALESCE(
                   (SELECT MAX(visited_at) FROM visits v WHERE v.claim_id = c.id), ''
               )) AS anchor
        FROM claims c WHERE {_ACTIVE_CLAIM}
    ), chains AS (
        SELECT r.claim_id, json_extract(r.payload, '$.anchor') AS anchor,
               MAX(CASE WHEN r.kind = 'follow_up' THEN json_extract(r.payload, '$.n') END)
                   AS last_n,
               SUM(r.kind = 'follow_up' AND r.state IN ('pending', 'sending')) AS waiting,
               SUM(r.kind = 'follow_up' AND r.state = 'sent') AS sent,
               SUM(r.kind = 'escalation') AS escalated
        FROM reminders r
        WHERE r.kind IN ('follow_up', 'escalation')
          AND r.claim_id IN (SELECT claim_id FROM active)
        GROUP BY r.claim_id, json_extract(r.payload, '$.anchor')
    )
    SELECT a.claim_id, a.need_id, a.volunteer_id, a.anchor,
           COALESCE(ch.last_n, 0) AS last_n, COALESCE(ch.waiting, 0) AS waiting,
           COALESCE(ch.sent, 0) AS sent, COALESCE(ch.escalated, 0) AS escalated
    FROM active a LEFT JOIN chains ch ON ch.claim_id = a.claim_id AND ch.anchor = a.anchor
    WHERE COALESCE(ch.waiting, 0) = 0 OR (COALESCE(ch.sent, 0) >= ? AND NOT ch.escalated)
    ORDER BY a.claim_id
"""


async def follow_up_chains(db: Database, escalate_after: int) -> list[FollowUpChain]:
    """Active pairings that need a follow-up planned (none waiting since their anchor), or
    an escalation (``escalate_after`` follow-ups reached the volunteer, none escalated)."""
    rows = await db.fetch_all(_CHAINS, (escalate_after,))
    return [
        FollowUpChain(
            claim_id=row["claim_id"],
            need_id=row["need_id"],
            volunteer_id=row["volunteer_id"],
            anchor=row["anchor"],
            last_n=int(row["last_n"]),
            waiting=int(row["waiting"]),
            sent=int(row["sent"]),
            escalated=bool(row["escalated"]),
        )
        for row in rows
    ]


async def claimers(db: Database) -> list[int]:
    """Everyone who holds a pairing now."""
    rows = await db.fetch_all(
        f"SELECT DISTINCT c.volunteer_id FROM claims c WHERE {_ACTIVE_CLAIM}"
        " ORDER BY c.volunteer_id"
    )
    return [row["volunteer_id"] for row in rows]


async def group_counts(db: Database) -> list[GroupCounts]:
    """The groups the bot is in that have needs, with how many are open and claimed."""
    rows = await db.fetch_all(
        """
        SELECT g.chat_id,
               SUM(n.closed_at IS NULL AND c.id IS NULL) AS open,
               SUM(n.closed_at IS NULL AND c.id IS NOT NULL) AS claimed
        FROM groups g
        JOIN needs n ON n.chat_id = g.chat_id
        LEFT JOIN claims c ON c.id = (
            SELECT MIN(id) FROM claims WHERE need_id = n.id AND released_at IS NULL
        )
        WHERE g.active GROUP BY g.chat_id ORDER BY g.chat_id
        """
    )
    return [GroupCounts(row["chat_id"], row["open"] or 0, row["claimed"] or 0) for row in rows]


async def active_groups(db: Database) -> list[int]:
    """The chat ids of the groups the bot is in."""
    rows = await db.fetch_all("SELECT chat_id FROM groups WHERE active ORDER BY chat_id")
    return [row["chat_id"] for row in rows]


async def open_cards(db: Database, chat_id: int, limit: int) -> tuple[int, list[OpenCard]]:
    """How many needs in a group are open, and the first ``limit`` of their cards."""
    where = (
        "n.chat_id = ? AND n.closed_at IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM claims c WHERE c.need_id = n.id AND c.released_at IS NULL)"
    )
    count = await db.fetch_one(f"SELECT COUNT(*) AS n FROM needs n WHERE {where}", (chat_id,))
    rows = await db.fetch_all(
        f"SELECT n.id, n.card_message_id, n.summary FROM needs n WHERE {where}"
        " AND n.card_message_id IS NOT NULL ORDER BY n.id LIMIT ?",
        (chat_id, limit),
    )
    cards = [OpenCard(row["id"], row["card_message_id"], row["summary"]) for row in rows]
    return (count["n"] if count else 0), cards


async def last_sent_to(db: Database, chat_id: int) -> int:
    """The id of the latest occurrence that reached this chat (0: none)."""
    row = await db.fetch_one(
        "SELECT MAX(id) AS id FROM reminders WHERE chat_id = ? AND state = 'sent'", (chat_id,)
    )
    return int(row["id"] or 0) if row else 0


async def cancel_for_claim_in(conn: aiosqlite.Connection, claim_id: int, reason: str) -> int:
    """Inside the caller's transaction: cancel what is still pending for a pairing that
    ended with its need (closed or cancelled). The send-time guard would stop them anyway;
    cancelled now, /reminders and the record say so at once."""
    cursor = await conn.execute(
        "UPDATE reminders SET state = 'cancelled', last_error = ?"
        " WHERE claim_id = ? AND state = 'pending'",
        (reason, claim_id),
    )
    return cursor.rowcount
