"""People and the groups the bot is in."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain import Actor, Group, Person
from storage.db import Database, Statement, to_db_time

_PERSON_COLUMNS = "user_id, display_name, username, language, language_code, team, started_bot"


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        user_id=row["user_id"],
        display_name=row["display_name"],
        username=row["username"],
        language=row["language"],
        language_code=row["language_code"],
        team=row["team"],
        started_bot=bool(row["started_bot"]),
    )


def upsert_statements(actor: Actor, now: datetime, started_bot: bool = False) -> list[Statement]:
    """The statements that record or refresh a person, for a transaction of the caller's."""
    statements: list[Statement] = []
    if actor.username:
        # Telegram usernames change hands: whoever shows it now is its only holder here.
        statements.append(
            (
                "UPDATE people SET username = NULL"
                " WHERE lower(username) = lower(?) AND user_id != ?",
                (actor.username, actor.user_id),
            )
        )
    statements.append(
        (
            "INSERT INTO people (user_id, display_name, username, language_code, started_bot,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
            " username = excluded.username, language_code = excluded.language_code,"
            " started_bot = MAX(started_bot, excluded.started_bot),"
            " updated_at = excluded.updated_at"
            # Unchanged facts write nothing, so a transaction with nothing else commits
            # without an fsync.
            " WHERE display_name IS NOT excluded.display_name"
            " OR username IS NOT excluded.username"
            " OR language_code IS NOT excluded.language_code"
            " OR started_bot < excluded.started_bot",
            (
                actor.user_id,
                actor.display_name,
                actor.username,
                actor.language_code,
                int(started_bot),
                to_db_time(now),
                to_db_time(now),
            ),
        )
    )
    return statements


async def upsert_in(
    conn: aiosqlite.Connection, actor: Actor, now: datetime, started_bot: bool = False
) -> bool:
    """Record or refresh a person inside the caller's transaction; whether anything changed.

    If so, the caller calls ``Database.forget_holder`` once the transaction is committed.
    """
    changed = False
    for sql, params in upsert_statements(actor, now, started_bot):
        cursor = await conn.execute(sql, params)
        changed = cursor.rowcount > 0  # the last statement is the person's own row
    return changed


async def upsert(db: Database, actor: Actor, now: datetime, started_bot: bool = False) -> Person:
    """Record or refresh a person; returns what is now stored."""
    async with db.transaction() as conn:
        changed = await upsert_in(conn, actor, now, started_bot)
        rows = await conn.execute_fetchall(
            f"SELECT {_PERSON_COLUMNS} FROM people WHERE user_id = ?", (actor.user_id,)
        )
    if changed:
        db.forget_holder(actor.user_id)
    (row,) = rows
    return _person(row)


async def get(db: Database, user_id: int) -> Person | None:
    """A person by Telegram user id."""
    row = await db.fetch_one(f"SELECT {_PERSON_COLUMNS} FROM people WHERE user_id = ?", (user_id,))
    return _person(row) if row else None


async def find_by_username(db: Database, username: str) -> Person | None:
    """A person by @username, case-insensitively; None if unknown or not unique."""
    rows = await db.fetch_all(
        f"SELECT {_PERSON_COLUMNS} FROM people WHERE lower(username) = lower(?) LIMIT 2",
        (username,),
    )
    return _person(rows[0]) if len(rows) == 1 else None


async def set_language(db: Database, user_id: int, language: str, now: datetime) -> None:
    """Remember the language a person chose (in memory too: see ``Database.languages``)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE people SET language = ?, updated_at = ? WHERE user_id = ?",
            (language, to_db_time(now), user_id),
        )
    if cursor.rowcount:
        db.languages[user_id] = language


async def set_team(db: Database, user_id: int, team: str | None, now: datetime) -> None:
    """Set the team a person claims for; their existing claims keep the team they had."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE people SET team = ?, updated_at = ? WHERE user_id = ?",
            (team, to_db_time(now), user_id),
        )


async def mark_unreachable(db: Database, user_id: int, now: datetime) -> None:
    """Telegram refused a private message: the person has not started the bot, or blocked it."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE people SET started_bot = 0, updated_at = ? WHERE user_id = ?",
            (to_db_time(now), user_id),
        )


async def remember_group(db: Database, chat_id: int, title: str, now: datetime) -> None:
    """Record a group the bot is in (or refresh its title)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1,"
            " seen_at = excluded.seen_at",
            (chat_id, title, to_db_time(now)),
        )


async def forget_group(db: Database, chat_id: int, now: datetime) -> None:
    """The bot left or was removed from a group: offer it no more."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE groups SET active = 0, seen_at = ? WHERE chat_id = ?",
            (to_db_time(now), chat_id),
        )


async def active_groups(db: Database) -> list[Group]:
    """The groups needs can be posted to, by title."""
    rows = await db.fetch_all(
        "SELECT chat_id, title FROM groups WHERE active = 1 ORDER BY title, chat_id"
    )
    return [Group(chat_id=row["chat_id"], title=row["title"]) for row in rows]
