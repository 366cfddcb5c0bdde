"""People and the groups the bot is in."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain import Actor, Group, Person
from storage.db import Database, to_db_time

# A person with the name of the team they claim for.
_PERSON_BY_ID = (
    "SELECT p.user_id, p.display_name, p.username, p.language, p.language_code, p.started_bot,"
    " p.team_id, t.name AS team"
    " FROM people p LEFT JOIN teams t ON t.id = p.team_id WHERE p.user_id = ?"
)


def from_row(row: aiosqlite.Row, prefix: str = "") -> Person:
    """A person from a row with the person's columns (named with ``prefix``, in a join)."""
    return Person(
        user_id=row[f"{prefix}user_id"],
        display_name=row[f"{prefix}display_name"],
        username=row[f"{prefix}username"],
        language=row[f"{prefix}language"],
        language_code=row[f"{prefix}language_code"],
        team=row[f"{prefix}team"],
        started_bot=bool(row[f"{prefix}started_bot"]),
        team_id=row[f"{prefix}team_id"],
    )


async def upsert_in(
    conn: aiosqlite.Connection, actor: Actor, now: datetime, started_bot: bool = False
) -> None:
    """Record or refresh a person inside the caller's transaction."""
    if actor.username:
        # Telegram usernames change hands: whoever shows it now is its only holder here.
        await conn.execute(
            "UPDATE people SET username = NULL WHERE lower(username) = lower(?) AND user_id != ?",
            (actor.username, actor.user_id),
        )
    await conn.execute(
        "INSERT INTO people (user_id, display_name, username, language_code, started_bot,"
        " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
        " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
        " username = excluded.username, language_code = excluded.language_code,"
        " started_bot = MAX(started_bot, excluded.started_bot),"
        " updated_at = excluded.updated_at",
        (
            actor.user_id,
            actor.display_name,
            actor.username,
            actor.language_code,
            int(started_bot),
            to_db_time(now),
        ),
    )


def is_current(person: Person, actor: Actor, started_bot: bool = False) -> bool:
    """Whether what is stored of a person still matches what Telegram says of them."""
    return (
        (person.display_name, person.username, person.language_code)
        == (actor.display_name, actor.username, actor.language_code)
    ) and (person.started_bot or not started_bot)


async def identify(db: Database, actor: Actor, now: datetime, started_bot: bool) -> Person:
    """The person behind an update: read, and recorded or refreshed only if Telegram's facts
    about them changed.

    It holds the writer like a write, whether or not it writes, so an update's record is in
    place before any later update is decided (a /start, then a tap on Claim).
    """
    async with db.serialised() as conn:
        rows = await conn.execute_fetchall(_PERSON_BY_ID, (actor.user_id,))
        known = from_row(next(iter(rows))) if rows else None
        if known is not None and is_current(known, actor, started_bot):
            return known
        async with db.begin(conn):
            await upsert_in(conn, actor, now, started_bot)
            (row,) = await conn.execute_fetchall(_PERSON_BY_ID, (actor.user_id,))
    return from_row(row)


async def upsert(db: Database, actor: Actor, now: datetime, started_bot: bool = False) -> Person:
    """Record or refresh a person; returns what is now stored."""
    async with db.transaction() as conn:
        await upsert_in(conn, actor, now, started_bot)
        (row,) = await conn.execute_fetchall(_PERSON_BY_ID, (actor.user_id,))
    return from_row(row)


async def user_id_in(conn: aiosqlite.Connection, who: int | str) -> int | None:
    """The user id of a person the bot has seen, by id or by @username (case-insensitive,
    and only if one person has it), on the connection the caller holds."""
    by = "user_id = ?" if isinstance(who, int) else "lower(username) = lower(?)"
    rows = list(
        await conn.execute_fetchall(f"SELECT user_id FROM people WHERE {by} LIMIT 2", (who,))
    )
    return int(rows[0][0]) if len(rows) == 1 else None


async def get(db: Database, user_id: int) -> Person | None:
    """A person by Telegram user id."""
    row = await db.fetch_one(_PERSON_BY_ID, (user_id,))
    return from_row(row) if row else None


async def set_language(db: Database, user_id: int, language: str, now: datetime) -> None:
    """Remember the language a person chose."""
    await db.execute(
        "UPDATE people SET language = ?, updated_at = ? WHERE user_id = ?",
        (language, to_db_time(now), user_id),
    )


async def mark_unreachable(db: Database, user_id: int, now: datetime) -> None:
    """Telegram refused a private message: the person has not started the bot, or blocked it."""
    await db.execute(
        "UPDATE people SET started_bot = 0, updated_at = ? WHERE user_id = ?",
        (to_db_time(now), user_id),
    )


async def remember_group(db: Database, chat_id: int, title: str, now: datetime) -> None:
    """Record a group the bot is in (or refresh its title)."""
    await db.execute(
        "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (?, ?, 1, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1,"
        " seen_at = excluded.seen_at",
        (chat_id, title, to_db_time(now)),
    )


async def forget_group(db: Database, chat_id: int, now: datetime) -> None:
    """The bot left or was removed from a group: offer it no more."""
    await db.execute(
        "UPDATE groups SET active = 0, seen_at = ? WHERE chat_id = ?",
        (to_db_time(now), chat_id),
    )


async def active_groups(db: Database) -> list[Group]:
    """The groups needs can be posted to, by title."""
    rows = await db.fetch_all(
        "SELECT chat_id, title FROM groups WHERE active = 1 ORDER BY title, chat_id"
    )
    return [Group(chat_id=row["chat_id"], title=row["title"]) for row in rows]
