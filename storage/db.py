"""SQLite connections: one serialised writer, one reader, numbered migrations.

All tasks share these connections. Writes go through :meth:`Database.transaction`, which holds
an ``asyncio.Lock`` around ``BEGIN IMMEDIATE`` ... ``COMMIT`` so that transactions of different
tasks never interleave on the shared writer connection. The lock is FIFO, which is what keeps
first-come claims fair: the first task to ask decides first. A hot write (a claim) can instead
be one plain function run on the writer's thread with :meth:`Database.write`: in the same
first-come order, but one trip to that thread instead of one per statement.

Reads use a second connection: in WAL mode it sees only committed data, so a reader never
observes a claim that is still being decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar, cast

import aiosqlite

from storage.migrations import MIGRATIONS

if TYPE_CHECKING:
    from bot.domain import Need

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
# One SQL statement and its parameters, built by one module and executed by another.
Statement = tuple[str, tuple[Any, ...]]


class _Connection(aiosqlite.Connection):
    """aiosqlite's connection, which can also run a plain function on its own thread."""

    async def call(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(connection, ...)`` on this connection's thread: one trip, however many statements.

        aiosqlite has no public call for this; ``_execute`` is how its own methods queue work
        on the thread (pinned in pyproject.toml; tests/test_storage.py covers it).
        """
        queued = self._execute(lambda: fn(self._conn, *args, **kwargs))  # type: ignore[no-untyped-call]
        return cast(T, await queued)


class Database:
    """The bot's SQLite database."""

    def __init__(self, path: Path | str, synchronous: Literal["full", "normal"] = "full") -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._writer: _Connection | None = None
        self._reader: _Connection | None = None
        self._write_lock = asyncio.Lock()
        self._lock_users = 0  # tasks holding or waiting for the write lock
        # What a losing tap is told, kept in memory so that it costs no trip to a database
        # thread: needs already held or closed, as last committed or read (storage.needs
        # keeps it), and everyone's chosen language (storage.people keeps it; read at open).
        # Only this process writes claims and languages: Telegram lets one bot poll at a time.
        self.settled: dict[int, Need] = {}
        self.languages: dict[int, str] = {}
        self._unsettling = 0
        self._unsettlings_begun = 0

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
            rows = await self._writer.execute_fetchall(
                "SELECT user_id, language FROM people WHERE language IS NOT NULL"
            )
            self.languages = {row[0]: row[1] for row in rows}
            self._reader = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> _Connection:
        path = str(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = _Connection(lambda: sqlite3.connect(path, isolation_level=None), iter_chunk_size=64)
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
    def writer(self) -> _Connection:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    @property
    def reader(self) -> _Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    @contextlib.contextmanager
    def unsettling(self, need_id: int | None = None) -> Iterator[None]:
        """Mark a write that may change what a settled need's taps are told as under way.

        A release, a reassignment or a new card: from the moment it is asked for (queued
        included) until it is done, no first look is trusted and nothing is remembered as
        settled; once it is done, what was remembered of ``need_id`` (of every need, without
        one) is forgotten.
        """
        self._unsettling += 1
        self._unsettlings_begun += 1
        try:
            yield
        except BaseException:
            # Failed or cancelled: one of its statements (its COMMIT, say) may still be queued
            # on the writer's thread, and aiosqlite runs what was queued. It is done only
            # once the thread has come past everything queued so far.
            self._settle_after_the_writer(need_id)
            raise
        self._settle(need_id)

    def _settle(self, need_id: int | None) -> None:
        self._unsettling -= 1
        if need_id is None:
            self.settled.clear()
        else:
            self.settled.pop(need_id, None)

    def _settle_after_the_writer(self, need_id: int | None) -> None:
        try:
            passed = asyncio.ensure_future(self.writer.call(_nothing))
        except RuntimeError:  # closed: nothing is left to run
            self._settle(need_id)
            return

        def settle(task: asyncio.Future[None]) -> None:
            if not task.cancelled():
                task.exception()  # a closed connection: retrieved, nothing more to wait for
            self._settle(need_id)

        passed.add_done_callback(settle)

    def forget_holder(self, user_id: int) -> None:
        """What is remembered of needs this person holds shows their old name: forget it."""
        self._unsettlings_begun += 1  # a look read before the change is not remembered
        for need_id in [
            need.id
            for need in self.settled.values()
            if need.holder is not None and need.holder.user_id == user_id
        ]:
            del self.settled[need_id]

    def unsettled_mark(self) -> int:
        """A mark to check later with :meth:`unsettled_since`."""
        return self._unsettlings_begun

    def unsettled_since(self, mark: int) -> bool:
        """Whether an unsettling write is under way, or has begun since ``mark`` was taken."""
        return self._unsettling > 0 or self._unsettlings_begun != mark

    @contextlib.asynccontextmanager
    async def serialised(self) -> AsyncIterator[_Connection]:
        """The writer connection to this task alone, across as many trips as it takes."""
        self._lock_users += 1
        try:
            async with self._write_lock:
                yield self.writer
        finally:
            self._lock_users -= 1

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One serialised write transaction; rolled back if the body raises."""
        async with self.serialised() as conn, begin(conn):
            yield conn

    @contextlib.asynccontextmanager
    async def unsettling_transaction(
        self, need_id: int | None = None
    ) -> AsyncIterator[aiosqlite.Connection]:
        """A :meth:`transaction` that is also :meth:`unsettling`, from before it queues."""
        with self.unsettling(need_id):
            async with self.transaction() as conn:
                yield conn

    async def write(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``fn(connection, ...)`` on the writer's thread, in turn with every other write.

        ``fn`` is plain synchronous code on a ``sqlite3`` connection that opens its own
        transaction (see :func:`immediate`); whatever it does costs one trip to the writer's
        thread, where :meth:`transaction` costs one per statement.

        The thread runs what it is given first in, first out. So while no task holds or waits
        for the connection across trips, the call goes straight to the thread's queue (before
        any later transaction's first statement): back-to-back writes then run one after the
        other on the thread, without waiting for the event loop in between.
        """
        if self._lock_users == 0:
            return await self.writer.call(fn, *args, **kwargs)
        async with self.serialised() as conn:
            return await conn.call(fn, *args, **kwargs)

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
async def begin(conn: _Connection) -> AsyncIterator[_Connection]:
    """BEGIN IMMEDIATE ... COMMIT on a connection the caller holds (see Database.serialised)."""
    await conn.call(_begin_immediate)
    try:
        yield conn
    except BaseException:
        await conn.call(_rollback_if_open)
        raise
    try:
        await conn.execute("COMMIT")
    except sqlite3.Error:
        await conn.call(_rollback_if_open)
        raise


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT for a function run by :meth:`Database.write`."""
    _begin_immediate(conn)
    try:
        yield conn
    except BaseException:
        _rollback_if_open(conn)
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        _rollback_if_open(conn)
        raise


def _begin_immediate(conn: sqlite3.Connection) -> None:
    # On the writer's thread, with the writer to this caller alone: a transaction still open
    # here was left by a caller cancelled while its BEGIN was queued (aiosqlite runs what was
    # queued) or whose COMMIT failed. Nobody will finish it, so it is ended first.
    if conn.in_transaction:
        log.warning("rolling back a transaction its caller left open")
        conn.execute("ROLLBACK")
    conn.execute("BEGIN IMMEDIATE")


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _nothing(conn: sqlite3.Connection) -> None:
    """A no-op for the writer's thread: once it has run, everything queued before it has."""


def to_db_time(moment: datetime) -> str:
    """An aware datetime as UTC ISO text, the form every time column holds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    """Parse a time column back into an aware UTC datetime."""
    return datetime.fromisoformat(text) if text is not None else None
