"""The reference claim bot: the least work that decides first-come claims correctly.

A bare python-telegram-bot ``Application`` with its own aiosqlite connection and one table.
A tap on Claim is decided by one ``UPDATE needs SET holder = ? WHERE id = ? AND holder IS NULL``
and its ``rowcount``; the tap is answered, and the winner's card edited to drop its button.
``/post <summary>`` records a need and sends its card with a Claim button (``c:<id>``, as the
product's), so a harness can post the same needs to it as to the product.

Shared by ``bench.claim_burst`` (in process) and ``bench.http_burst`` (over HTTP).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

DATABASE = "reference.db"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS needs (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL,"
    " message_id INTEGER, summary TEXT NOT NULL, holder INTEGER, claimed_at TEXT)"
)
HOLDERS = "SELECT id, holder FROM needs WHERE holder IS NOT NULL"
CLAIM_PATTERN = r"^c:[1-9]\d{0,11}$"
WON = "It's yours."
TAKEN = "Already claimed."


async def open_database(path: Path, synchronous: str) -> aiosqlite.Connection:
    """The reference's connection (autocommit, WAL, the given ``synchronous``), schema made."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        await conn.execute(SCHEMA)
    except BaseException:
        await conn.close()
        raise
    return conn


async def holders(conn: aiosqlite.Connection) -> dict[int, int]:
    """Who holds each claimed need."""
    return {row[0]: row[1] for row in await conn.execute_fetchall(HOLDERS)}


def claim_handler(conn: aiosqlite.Connection) -> CallbackQueryHandler[Any, Any]:
    """The Claim button: one UPDATE decides by rowcount; answer; edit the winner's card."""

    async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        need_id = int(query.data[2:])
        cursor = await conn.execute(
            "UPDATE needs SET holder = ?, claimed_at = ? WHERE id = ? AND holder IS NULL",
            (query.from_user.id, datetime.now(UTC).isoformat(), need_id),
        )
        if cursor.rowcount == 1:
            await query.answer(WON)
            await query.edit_message_text(
                f"Need #{need_id}: claimed by {html.escape(query.from_user.full_name)}",
                parse_mode=ParseMode.HTML,
            )
        else:
            await query.answer(TAKEN)

    return CallbackQueryHandler(claim, pattern=CLAIM_PATTERN)


def post_handler(conn: aiosqlite.Connection) -> CommandHandler[Any, Any]:
    """``/post <summary>``: record a need and send its card with a Claim button."""

    async def post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        summary = " ".join(context.args or ()) or "a need"
        cursor = await conn.execute(
            "INSERT INTO needs (chat_id, summary) VALUES (?, ?)", (message.chat_id, summary)
        )
        need_id = cursor.lastrowid
        card = await message.chat.send_message(
            f"Need #{need_id}: {html.escape(summary)}",
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Claim", callback_data=f"c:{need_id}")]]
            ),
        )
        await conn.execute(
            "UPDATE needs SET message_id = ? WHERE id = ?", (card.message_id, need_id)
        )

    return CommandHandler("post", post)


def build_reference(
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any],
    conn: aiosqlite.Connection,
    concurrency: int,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The reference bot on ``builder`` (token and requests already set), its handlers added."""
    app = builder.concurrent_updates(concurrency).build()
    app.add_handler(post_handler(conn))
    app.add_handler(claim_handler(conn))
    return app
