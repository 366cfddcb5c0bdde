"""A sketch of a cheaper claim path, to measure a suggestion, not to ship.

The product's claim costs about nine round trips between the event loop and aiosqlite's
thread for a losing tap (BEGIN, upsert, need select as execute + fetchone + close, COMMIT, then
the tapper's language as another execute + fetchone + close), and each round trip costs about
0.1 ms on a 2-core VM. This sketch runs the same statements as ``storage.needs.claim`` (the
person upsert, the need select, the open-claims count, the claim insert, the audit row) plus
the tapper's language and the winner's details, as ONE synchronous function on a single
writer thread (a one-worker executor: FIFO, so first-come order is kept without a lock), then
answers and edits exactly as the product's handler does. Same schema (``storage`` migrates the
file), same texts (``bot.render``, ``bot.i18n``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bench.burst import (
    DETAILS,
    FIRST_CARD_MESSAGE_ID,
    Run,
    Tap,
    TimedBotApi,
    feed,
    judged_run,
    tap_updates,
)
from bot import callbacks
from bot.config import Config
from bot.domain import PrivateDetails
from bot.i18n import pick_language, t
from bot.render import card_markup, card_text, details_message, release_markup
from bot.service import PairingService
from storage.db import Database, to_db_time
from storage.needs import _NEED_SELECT, _need
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, make_config
from tests.fakes import TOKEN

_UPSERT = (
    "INSERT INTO people (user_id, display_name, username, language_code, started_bot,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
    " username = excluded.username, language_code = excluded.language_code,"
    " updated_at = excluded.updated_at"
)


@dataclass(frozen=True)
class Decision:
    """What one round trip to the writer decided, with all the handler needs to answer."""

    won: bool
    need: Any  # bot.domain.Need, or None if there is no such need
    language: str | None
    details: PrivateDetails | None = None


def claim_in_one_go(
    conn: sqlite3.Connection,
    need_id: int,
    user_id: int,
    name: str,
    code: str | None,
    limit: int,
    lean: bool,
) -> Decision:
    """storage.needs.claim's statements, run on the writer thread without a hop between them.

    ``lean``: a tap on a need that is already taken writes nothing (no commit, so no fsync);
    the caller records that person later, in a batch.
    """
    now = to_db_time(datetime.now(UTC))
    if lean:
        row = conn.execute(f"{_NEED_SELECT} WHERE n.id = ?", (need_id,)).fetchone()
        need = _need(row) if row else None
        if need is None or need.closed_at is not None or need.holder is not None:
            person = conn.execute("SELECT language FROM people WHERE user_id = ?", (user_id,))
            found = person.fetchone()
            return Decision(False, need, found[0] if found else None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_UPSERT, (user_id, name, None, code, now, now))
        language = conn.execute("SELECT language FROM people WHERE user_id = ?", (user_id,))
        chosen = language.fetchone()[0]
        row = conn.execute(f"{_NEED_SELECT} WHERE n.id = ?", (need_id,)).fetchone()
        need = _need(row) if row else None
        if need is None or need.closed_at is not None or need.holder is not None:
            conn.execute("COMMIT")
            return Decision(False, need, chosen)
        held = conn.execute(
            "SELECT COUNT(*) FROM claims WHERE volunteer_id = ? AND released_at IS NULL",
            (user_id,),
        ).fetchone()[0]
        if held >= limit:
            conn.execute("COMMIT")
            return Decision(False, need, chosen)
        cursor = conn.execute(
            "INSERT INTO claims (need_id, volunteer_id, team, claimed_at)"
            " SELECT ?, user_id, team, ? FROM people WHERE user_id = ?",
            (need_id, now, user_id),
        )
        conn.execute(
            "INSERT INTO audit_log (at, actor_id, action, need_id, claim_id, detail)"
            " VALUES (?, ?, 'claimed', ?, ?, NULL)",
            (now, user_id, need_id, cursor.lastrowid),
        )
        won = _need(conn.execute(f"{_NEED_SELECT} WHERE n.id = ?", (need_id,)).fetchone())
        detail_row = conn.execute(
            "SELECT name, address, phone, health, notes FROM need_details WHERE need_id = ?",
            (need_id,),
        ).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    details = PrivateDetails(**dict(detail_row)) if detail_row else PrivateDetails()
    return Decision(True, won, chosen, details)


def remember_people(conn: sqlite3.Connection, people: list[tuple[Any, ...]]) -> None:
    """Record a batch of tappers in one transaction: one commit (one fsync) for all of them."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_UPSERT, people)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class PeopleBatch:
    """Tappers who lost, recorded after they were answered, many to a transaction."""

    def __init__(self, writer: Writer, delay: float = 0.05) -> None:
        self._writer, self._delay = writer, delay
        self._pending: list[tuple[Any, ...]] = []
        self._flushing: asyncio.Task[None] | None = None

    def add(self, user_id: int, name: str, code: str | None) -> None:
        now = to_db_time(datetime.now(UTC))
        self._pending.append((user_id, name, None, code, now, now))
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._delay)
        await self.flush()

    async def flush(self) -> None:
        self._flushing = None
        batch, self._pending = self._pending, []
        if batch:
            await self._writer.run(remember_people, batch)

    async def close(self) -> None:
        if self._flushing is not None:
            self._flushing.cancel()
        await self.flush()


class Writer:
    """One sqlite3 connection used only from one thread; calls run in the order they came."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="writer")
        self._path, self._synchronous = path, synchronous
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn

    async def run(self, function: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, self._conn, *args)

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def close(self) -> None:
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown()


async def seed(config: Config, needs: int) -> None:
    """The same needs as the product run gets, through the product's storage."""
    async with Database(config.database.path, config.database.synchronous) as db:
        service = PairingService(db, config)
        await service.group_seen(GROUP_ID, "Volunteers")
        coordinator = actor(COORDINATOR_ID, "Coordinator")
        for number in range(1, needs + 1):
            need = await service.post_need(
                coordinator, GROUP_ID, f"Household {number} needs rice", DETAILS
            )
            await service.card_posted(need.id, FIRST_CARD_MESSAGE_ID + need.id)


async def sketch_run(
    taps: Sequence[Tap], needs: int, synchronous: str, mode: str, concurrency: int, parent: Path
) -> Run:
    """The burst through the one-round-trip sketch, with the product's writes."""
    return await _sketch_run(taps, needs, synchronous, mode, concurrency, parent, lean=False)


async def lean_sketch_run(
    taps: Sequence[Tap], needs: int, synchronous: str, mode: str, concurrency: int, parent: Path
) -> Run:
    """The burst through the one-round-trip sketch whose losing taps write nothing at once."""
    return await _sketch_run(taps, needs, synchronous, mode, concurrency, parent, lean=True)


async def _sketch_run(
    taps: Sequence[Tap],
    needs: int,
    synchronous: str,
    mode: str,
    concurrency: int,
    parent: Path,
    lean: bool,
) -> Run:
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        config = make_config(Path(tmp), database={"synchronous": synchronous})
        await seed(config, needs)
        writer = Writer(config.database.path, synchronous)
        await writer.open()
        batch = PeopleBatch(writer)
        limit = config.limits.max_open_claims_per_volunteer
        default = config.language

        async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            query, user = update.callback_query, update.effective_user
            assert query is not None and user is not None
            need_id = callbacks.parse_id(callbacks.CLAIM, query.data)
            assert need_id is not None
            decision: Decision = await writer.run(
                claim_in_one_go, need_id, user.id, user.full_name, user.language_code, limit, lean
            )
            lang = pick_language(decision.language, user.language_code, default)
            need = decision.need
            if decision.won:
                assert decision.details is not None
                await context.bot.send_message(
                    user.id,
                    details_message(need, decision.details, lang),
                    parse_mode=ParseMode.HTML,
                    reply_markup=release_markup(need.id, lang),
                )
                await query.answer(t(lang, "answer_won"))
                await context.bot.edit_message_text(
                    card_text(need, lang),
                    chat_id=need.chat_id,
                    message_id=need.card_message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=card_markup(need, lang),
                )
            elif need is not None and need.holder is not None:
                await query.answer(t(lang, "answer_taken", name=need.holder.display_name))
            else:
                await query.answer(t(lang, "answer_not_found"))
            if lean and not decision.won:
                batch.add(user.id, user.full_name, user.language_code)

        api = TimedBotApi()
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .request(api)
            .get_updates_request(api)
            .concurrent_updates(concurrency)
            .build()
        )
        app.add_handler(CallbackQueryHandler(claim, pattern=callbacks.CLAIM))
        try:
            async with app:
                await app.start()
                updates = tap_updates(app, taps)
                api.tapper = {u.callback_query.id: u.effective_user.id for u in updates}  # type: ignore[union-attr]
                api.calls.clear()
                start = time.perf_counter()
                await feed(app, api, updates, mode)
                await batch.close()
                elapsed = time.perf_counter() - start
                await app.stop()
            holders = dict(
                await writer.run(
                    lambda conn: conn.execute(
                        "SELECT need_id, volunteer_id FROM claims WHERE released_at IS NULL"
                    ).fetchall()
                )
            )
            recorded = await writer.run(
                lambda conn: conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]
            )
        finally:
            await writer.close()
    run = judged_run(
        "lean-sketch" if lean else "sketch",
        mode,
        synchronous,
        concurrency,
        taps,
        elapsed,
        api,
        holders,
    )
    if recorded != len(taps) + 1:  # every tapper and the coordinator
        run.correct = False
        run.problem = f"{run.problem}; {recorded} people recorded".lstrip("; ")
    return run
