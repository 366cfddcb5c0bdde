"""Needs being written in private chat: one draft per coordinator, kept across restarts.

A draft writes a new need, or (``need_id``) edits a posted one with the same form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime

import aiosqlite

from bot.domain import PrivateDetails
from storage.db import Database, from_db_time, to_db_time

_DETAIL_FIELDS = tuple(f.name for f in fields(PrivateDetails))
_COLUMNS = ("user_id", "step", "summary", *_DETAIL_FIELDS, "updated_at", "need_id")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM drafts"
_SAVE = (
    f"INSERT OR REPLACE INTO drafts ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


@dataclass(frozen=True, slots=True)
class Draft:
    """A need being written: the step the form is at, and what was typed so far."""

    user_id: int
    step: str = "summary"
    summary: str = ""
    details: PrivateDetails = field(default_factory=PrivateDetails)
    updated_at: datetime | None = None
    need_id: int | None = None  # the posted need this draft edits; None: a new need


def _draft(row: aiosqlite.Row) -> Draft:
    return Draft(
        user_id=row["user_id"],
        step=row["step"],
        summary=row["summary"],
        details=PrivateDetails(**{name: row[name] for name in _DETAIL_FIELDS}),
        updated_at=from_db_time(row["updated_at"]),
        need_id=row["need_id"],
    )


async def get(db: Database, user_id: int) -> Draft | None:
    """The draft a person is writing, if any."""
    row = await db.fetch_one(f"{_SELECT} WHERE user_id = ?", (user_id,))
    return _draft(row) if row else None


async def save(db: Database, draft: Draft, now: datetime) -> Draft:
    """Store a draft as it now stands (a new one replaces any older one of that person)."""
    saved = replace(draft, updated_at=now)
    async with db.transaction() as conn:
        await conn.execute(
            _SAVE,
            (
                saved.user_id,
                saved.step,
                saved.summary,
                *(getattr(saved.details, name) for name in _DETAIL_FIELDS),
                to_db_time(now),
                saved.need_id,
            ),
        )
    return saved


async def delete(db: Database, user_id: int) -> bool:
    """Drop a person's draft; False if there was none (say, a second tap found it gone)."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
    return cursor.rowcount > 0
