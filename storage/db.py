"""SQLite connections: one writer taken in turn, one reader, numbered migrations.

Every write, and every read that decides a write (a claim), holds the writer through
:meth:`Database.serialised`: a FIFO ``asyncio.Lock``, so callers go in the order they asked,
and transactions of different tasks never interleave on the one connection. Other reads use
a second connection, which in WAL mode sees only committed data.

The database tells the bot which needs changed: triggers bump ``needs.version`` on any change
a card shows, and each committed transaction hands the changed needs' numbers to the
listeners given to :meth:`Database.watch`, whatever code wrote them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import aiosqlite

from storage.migrations import MIGRATIONS

if TYPE_CHECKING:
    from bot.domain import Need

log = logging.getLogger(__name__)

# Per connection (TEMP), so only the writer's own changes are noted, and rolled back with it.
# A person's change carries their chosen language as it now is.
_CHANGE_LOG = [
    "CREATE TEMP TABLE changes"
    " (kind TEXT NOT NULL, id INTEGER NOT NULL, language TEXT, PRIMARY KEY (kind, id))",
    "CREATE TEMP TRIGGER note_changed_need"
    " AFTER UPDATE OF version, card_message_id, chat_id ON main.needs"
    " BEGIN INSERT OR IGNORE INTO changes VALUES ('need', NEW.id, NULL); END",
    "CREATE TEMP TRIGGER note_new_need AFTER INSERT ON main.needs"
    " BEGIN INSERT OR IGNORE INTO changes VALUES ('need', NEW.id, NULL); END",
    "CREATE TEMP TRIGGER note_language AFTER UPDATE OF language ON main.people"
    " BEGIN INSERT OR REPLACE INTO changes VALUES ('person', NEW.user_id, NEW.language); END",
]
# At most this many settled needs are kept (see Database.kept_need); the oldest go first.
KEPT = 10_000

NeedsChanged = Callable[[list[int]], None]


class Database:
    """The bot's SQLite database."""

    def __init__(self, path: Path | str, synchronous: Literal["full", "normal"] = "full") -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._listeners: list[NeedsChanged] = []
        self._other_writers = 0  # tasks holding or waiting for the writer, other than claims
        self._kept_needs: dict[int, Need] = {}
        self._languages: dict[int, str] = {}  # every chosen language
        self._log_unread = False

    async def open(self) -> None:
        """Open both connections, bring the schema up to date, and check the file is writable.

        Raises sqlite3.Error or OSError for a file that is not a usable database, with
        nothing left open (an open aiosqlite thread would keep the process alive).
        """
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode=WAL")
            await self.migrate()
            await self._check_writable()
            for statement in _CHANGE_LOG:
                await self._writer.execute(statement)
            rows = await self._writer.execute_fetchall(
                "SELECT user_id, language FROM people WHERE language IS NOT NULL"
            )
            self._languages = {user_id: language for user_id, language in rows}
            self._reader = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        path = str(self.path)
        # A file sqlite cannot open at all (a folder, say) is refused here, before aiosqlite
        # starts a thread that would outlive the refusal.
        sqlite3.connect(path).close()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = aiosqlite.connect(path, isolation_level=None, iter_chunk_size=64)
        await conn
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _check_writable(self) -> None:
        # A file the process may read but not write opens and migrates fine when it is up to
        # date; it would fail only at the first claim. Writing the version it has finds out.
        version = await self.schema_version()
        await self._apply([f"PRAGMA user_version={version}"])

    async def close(self) -> None:
        """Close both connections; safe to call twice."""
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    def watch(self, listener: NeedsChanged) -> None:
        """Call ``listener(need_ids)`` after each commit that changed or added needs."""
        self._listeners.append(listener)

    def keep_need(self, need: Need) -> None:
        """Keep a settled need as just read or written on the writer (see :meth:`kept_need`)."""
        self._kept_needs.pop(need.id, None)  # to the end: the oldest are dropped first
        self._kept_needs[need.id] = need
        if len(self._kept_needs) > KEPT:
            del self._kept_needs[next(iter(self._kept_needs))]

    def kept_need(self, need_id: int) -> Need | None:
        """A settled need as the last committed write left it, if kept and nothing may
        change it now.

        What is kept is dropped by each commit whose change log names it, before the writer
        is free again; and it is trusted only while no write other than claims is asked
        for, so it is never older than a write that came first. Claims only ever settle
        open needs, which are not kept. Changes made by another process are not seen: only
        this one changes needs once posted.
        """
        return None if self._other_writers else self._kept_needs.get(need_id)

    def chosen_language(self, user_id: int) -> str | None:
        """The language a person chose (None: none), as committed; kept by the change log."""
        return self._languages.get(user_id)

    @contextlib.asynccontextmanager
    async def serialised(self, for_claim: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """The writer to this task alone, in the order tasks asked, for as many statements.

        ``for_claim``: the task only decides a claim (it may settle an open need, nothing
        more), so what is kept stays trusted meanwhile.
        """
        others = 0 if for_claim else 1
        self._other_writers += others
        try:
            async with self._write_lock:
                yield self.writer
        finally:
            self._other_writers -= others

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One serialised write transaction; rolled back if the body raises."""
        async with self.serialised() as conn, self.begin(conn):
            yield conn

    @contextlib.asynccontextmanager
    async def begin(self, conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the writer this task holds (see :meth:`serialised`).

        After the commit, the listeners hear which needs it changed.
        """
        changes = conn.total_changes
        try:
            await conn.execute("BEGIN IMMEDIATE")
            yield conn
            await conn.execute("COMMIT")
        except BaseException:
            # Also when cancelled: aiosqlite still runs what was queued (a BEGIN, a COMMIT),
            # and this ROLLBACK is queued after it, so no transaction is left open.
            self._lost_track()
            with contextlib.suppress(sqlite3.OperationalError):
                await conn.execute("ROLLBACK")
            raise
        await self._read_change_log(conn, changes)

    async def execute(self, sql: str, params: Iterable[object] = ()) -> int:
        """One write statement, committed on its own, in turn; returns the rows it changed."""
        async with self.serialised() as conn:
            changes = conn.total_changes
            try:
                cursor = await conn.execute(sql, tuple(params))
                # Without a transaction the change log is committed with the statement; it
                # is read afterwards, and only if triggers changed more rows than it did.
                rowcount = cursor.rowcount
            except BaseException:
                self._lost_track()
                raise
            await self._read_change_log(conn, changes + rowcount)
        return rowcount

    def _lost_track(self) -> None:
        # A write failed or was cancelled while aiosqlite may still run what it queued: what
        # is kept may be out of date, and the change log may hold rows nobody read.
        self._kept_needs.clear()
        self._log_unread = True

    async def _read_change_log(self, conn: aiosqlite.Connection, changes: int) -> None:
        """After a commit: drop what is kept of what changed, then tell the listeners.

        Read once committed and deleted only once read, so a caller cancelled on the way
        leaves the rows for the next write to read.
        """
        if conn.total_changes == changes and not self._log_unread:
            return  # nothing written since: no trip for the change log
        try:
            if self._log_unread:
                self._log_unread = False
                rows = await conn.execute_fetchall(
                    "SELECT user_id, language FROM people WHERE language IS NOT NULL"
                )
                self._languages = {user_id: language for user_id, language in rows}
            rows = await conn.execute_fetchall("SELECT rowid, kind, id, language FROM changes")
            changed = self._apply_changes(rows)
            if rows:
                last = max(row[0] for row in rows)
                await conn.execute("DELETE FROM changes WHERE rowid <= ?", (last,))
        except BaseException:
            self._lost_track()
            raise
        if changed:
            for listener in self._listeners:
                listener(changed)

    def _apply_changes(self, rows: Iterable[aiosqlite.Row]) -> list[int]:
        changed = set()
        for _, kind, key, language in rows:
            if kind == "need":
                self._kept_needs.pop(key, None)
                changed.add(key)
            elif language is None:
                self._languages.pop(key, None)
            else:
                self._languages[key] = language
        return sorted(changed)

    async def fetch_all(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        """Rows of a read-only query on the reader connection."""
        return list(await self.reader.execute_fetchall(sql, tuple(params)))

    async def fetch_one(self, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
        """The first row of a read-only query, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        async with self.writer.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply the migrations this file lacks, each in its own transaction; returns how many."""
        applied = 0
        current = await self.schema_version()
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            await self._apply([*statements, f"PRAGMA user_version={version}"])
            log.info("database migrated to version %d", version)
            applied += 1
        return applied

    async def _apply(self, statements: list[str]) -> None:
        # Schema work at open, before the change log exists: a plain transaction.
        async with self.serialised() as conn:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):
                    await conn.execute("ROLLBACK")
                raise


def to_db_time(moment: datetime) -> str:
    """An aware datetime as UTC ISO text, the form every time column holds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    """Parse a time column back into an aware UTC datetime."""
    return datetime.fromisoformat(text) if text is not None else None
