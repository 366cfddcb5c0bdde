"""SQLite connections: one serialised writer, one reader, numbered migrations.

All tasks share these connections. Writes go through :meth:`Database.transaction`, which holds
an ``asyncio.Lock`` around ``BEGIN IMMEDIATE`` ... ``COMMIT`` so that transactions of different
tasks never interleave on the shared writer connection. The lock is FIFO, which is what keeps
first-come claims fair: the first task to ask decides first.

Reads use a second connection: in WAL mode it sees only committed data, so a reader never
observes a claim that is still being decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class Database:
    """The bot's SQLite database."""

    def __init__(self, path: Path | str, synchronous: Literal["full", "normal"] = "full") -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._frees = 0

    async def open(self) -> None:
        """Open both connections and bring the schema up to date.

        Raises sqlite3.Error or OSError for a file that is not a usable database, with
        nothing left open (an open aiosqlite thread would keep the process alive).
        """
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode=WAL")
            await self.migrate()
            self._reader = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await conn.close()
            raise
        return conn

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

    @contextlib.contextmanager
    def freeing(self) -> Iterator[None]:
        """Mark a write that may free a need (a release) as under way, queued ones included."""
        self._frees += 1
        try:
            yield
        finally:
            self._frees -= 1

    @property
    def frees_under_way(self) -> bool:
        """Whether a release is being written or waits to be (see ``freeing``)."""
        return self._frees > 0

    @contextlib.asynccontextmanager
    async def serialised(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection to this task alone, with no transaction opened yet.

        For a decision that usually writes nothing (a losing tap): read under the lock, and
        open a transaction with :func:`begin` only when there is something to write.
        """
        async with self._write_lock:
            yield self.writer

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One serialised write transaction; rolled back if the body raises."""
        async with self.serialised() as conn, begin(conn):
            yield conn

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """Rows of a read-only query on the reader connection (one trip to its thread)."""
        return list(await self.reader.execute_fetchall(sql, tuple(params)))

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
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
            async with self.transaction() as conn:
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version={version}")
            log.info("database migrated to version %d", version)
            applied += 1
        return applied


@contextlib.asynccontextmanager
async def begin(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """BEGIN IMMEDIATE ... COMMIT on a connection the caller holds (see Database.serialised)."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


def to_db_time(moment: datetime) -> str:
    """An aware datetime as UTC ISO text, the form every time column holds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    """Parse a time column back into an aware UTC datetime."""
    return datetime.fromisoformat(text) if text is not None else None
