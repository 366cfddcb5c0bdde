"""Imports from a spreadsheet: needs written with their boards (the outbox), in one transaction;
and a file sent in private chat, kept while it waits for its coordinator's confirmation.

A board with no ``message_id`` is still to be posted: the running bot posts it, whichever
process wrote it, so an import by the command line needs no running bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.domain import NewNeed
from storage import audit
from storage.db import Database, from_db_time, to_db_time

# needs.created_by of an import from the command line, which no Telegram user made.
COMMAND_LINE = 0
# A file left waiting this long is dropped when the next one comes: it holds private details.
PENDING_KEPT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import into a group would do: the needs new to it, those it already has
    (by ``NewNeed.fingerprint``), and the boards the new ones fill."""

    new: list[NewNeed]
    skipped: list[NewNeed]
    boards: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: lines added and skipped, the boards made (to be posted)."""

    import_id: int
    added: list[int]
    skipped: list[int]
    boards: list[int]
    need_ids: list[int]


def boards_for(count: int, per_board: int) -> int:
    """How many boards ``count`` needs fill, ``per_board`` to a board."""
    return -(-count // per_board)


async def _known_in(conn: aiosqlite.Connection, chat_id: int) -> set[str]:
    rows = await conn.execute_fetchall(
        "SELECT fingerprint FROM needs WHERE chat_id = ? AND fingerprint IS NOT NULL", (chat_id,)
    )
    return {row[0] for row in rows}


def _split(needs: list[NewNeed], known: set[str], per_board: int) -> ImportPlan:
    new = [need for need in needs if need.fingerprint not in known]
    skipped = [need for need in needs if need.fingerprint in known]
    return ImportPlan(new, skipped, boards_for(len(new), per_board))


async def plan(db: Database, chat_id: int, needs: list[NewNeed], per_board: int) -> ImportPlan:
    """What importing ``needs`` into a group would do now (nothing is written)."""
    return _split(needs, await _known_in(db.reader, chat_id), per_board)


@dataclass(frozen=True, slots=True)
class ImportSource:
    """Who imports which file, and where to report progress (the private chat, if any).

    ``user_id`` None: the command line (needs record ``COMMAND_LINE`` as their creator,
    the audit log no actor).
    """

    filename: str
    user_id: int | None = None
    report_chat_id: int | None = None


async def write(
    db: Database,
    chat_id: int,
    needs: list[NewNeed],
    source: ImportSource,
    per_board: int,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    pending_id: int | None = None,
) -> ImportResult | None:
    """Record an import in one transaction: its needs, their details, their boards (the
    outbox, ``per_board`` needs each in file order) and the audit; needs the group already
    has are skipped. With ``pending_id``, the waiting file is taken in the same transaction,
    and None comes back if it was gone (a second tap on Confirm imports nothing)."""
    async with db.transaction() as conn:
        if pending_id is not None:
            cursor = await conn.execute(
                "DELETE FROM pending_imports WHERE id = ? AND user_id = ? AND chat_id = ?",
                (pending_id, source.user_id, chat_id),
            )
            if cursor.rowcount == 0:
                return None
        todo = _split(needs, await _known_in(conn, chat_id), per_board)
        cursor = await conn.execute(
            "INSERT INTO imports (chat_id, created_by, created_at, source, needs, skipped,"
            " report_chat_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                source.user_id,
                to_db_time(now),
                source.filename,
                len(todo.new),
                len(todo.skipped),
                source.report_chat_id,
            ),
        )
        import_id = cursor.lastrowid
        assert import_id is not None
        boards, need_ids = await _write_needs(
            conn, chat_id, import_id, todo.new, source, per_board, now, progress
        )
    return ImportResult(
        import_id,
        added=[need.line or 0 for need in todo.new],
        skipped=[need.line or 0 for need in todo.skipped],
        boards=boards,
        need_ids=need_ids,
    )


async def _write_needs(
    conn: aiosqlite.Connection,
    chat_id: int,
    import_id: int,
    needs: list[NewNeed],
    source: ImportSource,
    per_board: int,
    now: datetime,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[int], list[int]]:
    """The boards and needs of one import, inside the caller's transaction."""
    created_by = COMMAND_LINE if source.user_id is None else source.user_id
    at = to_db_time(now)
    boards: list[int] = []
    need_ids: list[int] = []
    for index, need in enumerate(needs):
        if index % per_board == 0:
            cursor = await conn.execute(
                "INSERT INTO boards (chat_id, import_id, created_at) VALUES (?, ?, ?)",
                (chat_id, import_id, at),
            )
            assert cursor.lastrowid is not None
            boards.append(cursor.lastrowid)
        cursor = await conn.execute(
            "INSERT INTO needs (chat_id, summary, created_by, created_at, fingerprint,"
            " category, area, board_id, slots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, need.summary, created_by, at, need.fingerprint, need.category,
             need.area, boards[-1], need.slots),
        )  # fmt: skip
        need_id = cursor.lastrowid
        assert need_id is not None
        need_ids.append(need_id)
        if not need.details.is_empty():
            details = need.details
            await conn.execute(
                "INSERT INTO need_details (need_id, name, address, phone, health, notes)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (need_id, details.name, details.address, details.phone, details.health,
                 details.notes),
            )  # fmt: skip
        # The file's name and the line, never what the line holds.
        await audit.record(
            conn, now, source.user_id, "imported", need_id, chat_id=chat_id,
            import_id=import_id, file=source.filename, line=need.line,
        )  # fmt: skip
        if progress is not None:
            progress(index + 1, len(needs))
    return boards, need_ids


async def set_report_message(db: Database, import_id: int, message_id: int) -> None:
    """The private message that shows the import's progress (the poster edits it)."""
    await db.execute(
        "UPDATE imports SET report_message_id = ? WHERE id = ?", (message_id, import_id)
    )


# -- a file waiting in private chat --------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class PendingImport:
    """A checked file a coordinator sent, waiting for a group (``chat_id``) and Confirm."""

    id: int
    user_id: int
    filename: str
    data: bytes
    chat_id: int | None
    created_at: datetime

    def __repr__(self) -> str:
        # The file holds private details: never in a log line.
        return f"PendingImport(id={self.id}, user_id={self.user_id}, chat_id={self.chat_id})"


async def keep_pending(
    db: Database, user_id: int, filename: str, data: bytes, now: datetime
) -> int:
    """Keep a checked file until its coordinator confirms; it replaces any older one of
    theirs (whose buttons then do nothing), and files anyone left waiting longer than
    ``PENDING_KEPT`` go. Returns its number, for the buttons."""
    async with db.transaction() as conn:
        await conn.execute(
            "DELETE FROM pending_imports WHERE user_id = ? OR created_at < ?",
            (user_id, to_db_time(now - PENDING_KEPT)),
        )
        cursor = await conn.execute(
            "INSERT INTO pending_imports (user_id, filename, data, created_at)"
            " VALUES (?, ?, ?, ?)",
            (user_id, filename, data, to_db_time(now)),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def pending(db: Database, pending_id: int, user_id: int) -> PendingImport | None:
    """A coordinator's waiting file by its number; None if gone or another's."""
    row = await db.fetch_one(
        "SELECT id, user_id, filename, data, chat_id, created_at FROM pending_imports"
        " WHERE id = ? AND user_id = ?",
        (pending_id, user_id),
    )
    if row is None:
        return None
    return PendingImport(
        id=row["id"],
        user_id=row["user_id"],
        filename=row["filename"],
        data=bytes(row["data"]),
        chat_id=row["chat_id"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
    )


async def choose_group(db: Database, pending_id: int, user_id: int, chat_id: int) -> bool:
    """The group a waiting file is for; False if the file is no longer waiting."""
    changed = await db.execute(
        "UPDATE pending_imports SET chat_id = ? WHERE id = ? AND user_id = ?",
        (chat_id, pending_id, user_id),
    )
    return changed > 0


async def drop_pending(db: Database, pending_id: int, user_id: int) -> bool:
    """Forget a waiting file (cancelled); False if it was gone already."""
    changed = await db.execute(
        "DELETE FROM pending_imports WHERE id = ? AND user_id = ?", (pending_id, user_id)
    )
    return changed > 0
