"""Boards (several needs in one group message), the outbox they are posted from, import
progress, and the counts a group's progress board shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import Need, Progress, TeamTally
from storage import needs
from storage.db import Database, to_db_time

# How many teams a progress board lists; the rest are summed up in one line.
TEAMS_SHOWN = 12


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A board waiting to be posted."""

    board_id: int
    chat_id: int


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far the posting of an import has got, and where its coordinator watches it."""

    import_id: int
    chat_id: int
    report_chat_id: int | None
    report_message_id: int | None
    total: int
    posted: int


@dataclass(frozen=True, slots=True)
class Place:
    """Where a need's card is, and whether it shows an older state than the need's."""

    need_id: int
    chat_id: int
    message_id: int | None
    stale: bool


async def outbox(db: Database, chat_id: int | None = None) -> list[Outgoing]:
    """Boards not yet posted (in one group, or all), oldest first, in groups the bot is
    still in."""
    rows = await db.fetch_all(
        "SELECT b.id, b.chat_id FROM boards b"
        " LEFT JOIN groups g ON g.chat_id = b.chat_id"
        " WHERE b.message_id IS NULL AND COALESCE(g.active, 1) = 1"
        " AND (?1 IS NULL OR b.chat_id = ?1)"
        " AND EXISTS (SELECT 1 FROM needs n WHERE n.board_id = b.id) ORDER BY b.id",
        (chat_id,),
    )
    return [Outgoing(row["id"], row["chat_id"]) for row in rows]


async def places(db: Database, need_ids: list[int]) -> list[Place]:
    """Where these needs' cards are."""
    found: list[Place] = []
    for start in range(0, len(need_ids), 500):
        chunk = need_ids[start : start + 500]
        rows = await db.fetch_all(
            "SELECT id, chat_id, card_message_id, card_version IS NOT version AS stale"
            f" FROM needs WHERE id IN ({', '.join('?' * len(chunk))})",
            tuple(chunk),
        )
        found += [
            Place(row["id"], row["chat_id"], row["card_message_id"], bool(row["stale"]))
            for row in rows
        ]
    return found


async def board_needs(db: Database, board_id: int) -> list[Need]:
    """The needs on a board, in the order they are listed."""
    return await needs.select(db, "n.board_id = ? ORDER BY n.id", (board_id,))


async def message_needs(db: Database, chat_id: int, message_id: int) -> list[Need]:
    """The needs a group message shows: one on a card, several on a board."""
    return await needs.select(
        db, "n.chat_id = ? AND n.card_message_id = ? ORDER BY n.id", (chat_id, message_id)
    )


async def board_posted(
    db: Database, board_id: int, message_id: int, shown: list[Need], now: datetime
) -> None:
    """The board went out as ``message_id`` showing ``shown``: it is every listed need's card
    from now on (as of the version each was shown at)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE boards SET message_id = ?, posted_at = ? WHERE id = ?",
            (message_id, to_db_time(now), board_id),
        )
        await conn.executemany(
            "UPDATE needs SET card_message_id = ?, card_version = ? WHERE id = ?",
            [(message_id, need.version, need.id) for need in shown],
        )


async def cards_shown(db: Database, shown: list[Need]) -> None:
    """These needs' card (one message) now shows each as of the version it was read at."""
    async with db.transaction() as conn:
        await conn.executemany(
            "UPDATE needs SET card_version = ?1"
            " WHERE id = ?2 AND (card_version IS NULL OR card_version < ?1)",
            [(need.version, need.id) for need in shown],
        )


async def import_progress(db: Database, board_id: int) -> ImportProgress | None:
    """The import a board belongs to, with how many of its needs are in the group so far."""
    row = await db.fetch_one(
        "SELECT i.id, i.chat_id, i.report_chat_id, i.report_message_id, i.needs,"
        " (SELECT COUNT(*) FROM boards b2 JOIN needs n ON n.board_id = b2.id"
        "  WHERE b2.import_id = i.id AND b2.message_id IS NOT NULL) AS posted"
        " FROM boards b JOIN imports i ON i.id = b.import_id WHERE b.id = ?",
        (board_id,),
    )
    if row is None:
        return None
    return ImportProgress(
        import_id=row["id"],
        chat_id=row["chat_id"],
        report_chat_id=row["report_chat_id"],
        report_message_id=row["report_message_id"],
        total=row["needs"],
        posted=row["posted"],
    )


async def progress_board(db: Database, chat_id: int) -> int | None:
    """The message id of a group's progress board, if it has one."""
    row = await db.fetch_one(
        "SELECT message_id FROM progress_boards WHERE chat_id = ?", (chat_id,)
    )
    return None if row is None else int(row["message_id"])


async def set_progress_board(db: Database, chat_id: int, message_id: int, now: datetime) -> None:
    """A group's progress board is now this message (a re-post replaces the old one)."""
    await db.execute(
        "INSERT INTO progress_boards (chat_id, message_id, posted_at) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET message_id = excluded.message_id,"
        " posted_at = excluded.posted_at",
        (chat_id, message_id, to_db_time(now)),
    )


async def drop_progress_board(db: Database, chat_id: int) -> None:
    """The group's progress board can no longer be edited (deleted, or the group moved)."""
    await db.execute("DELETE FROM progress_boards WHERE chat_id = ?", (chat_id,))


async def progress(db: Database, chat_id: int) -> Progress:
    """The counts a group's progress board shows. Visited: held needs with a visit logged
    under the current pairing; a team's tally counts its current pairings."""
    totals = await db.fetch_one(
        """
        SELECT COUNT(*) AS total,
               COALESCE(SUM(n.closed_at IS NOT NULL), 0) AS closed,
               COALESCE(SUM(n.closed_at IS NULL AND c.id IS NOT NULL), 0) AS claimed,
               COALESCE(SUM(n.closed_at IS NULL AND c.id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM visits v JOIN claims cv ON cv.id = v.claim_id
                   WHERE v.need_id = n.id AND cv.released_at IS NULL)), 0) AS visited
        FROM needs n LEFT JOIN claims c ON c.id = (
            SELECT MIN(id) FROM claims WHERE need_id = n.id AND released_at IS NULL
        )
        WHERE n.chat_id = ?
        """,
        (chat_id,),
    )
    assert totals is not None
    rows = await db.fetch_all(
        """
        SELECT COALESCE(c.team, '') AS team, COUNT(*) AS claimed,
               SUM(EXISTS (SELECT 1 FROM visits v WHERE v.claim_id = c.id)) AS visited
        FROM claims c JOIN needs n ON n.id = c.need_id
        WHERE n.chat_id = ? AND c.released_at IS NULL AND n.closed_at IS NULL
        GROUP BY COALESCE(c.team, '') ORDER BY claimed DESC, visited DESC, team
        """,
        (chat_id,),
    )
    teams = [TeamTally(row["team"], row["claimed"], row["visited"]) for row in rows]
    return Progress(
        total=totals["total"],
        open=totals["total"] - totals["closed"] - totals["claimed"],
        claimed=totals["claimed"],
        visited=totals["visited"],
        closed=totals["closed"],
        teams=teams[:TEAMS_SHOWN],
        other_teams=max(0, len(teams) - TEAMS_SHOWN),
    )
