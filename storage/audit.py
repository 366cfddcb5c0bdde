"""The audit log: one row for every change of a need's or claim's state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change."""

    at: datetime
    actor_id: int | None
    action: str
    need_id: int | None
    claim_id: int | None
    detail: dict[str, Any]


async def record(
    conn: aiosqlite.Connection,
    now: datetime,
    actor_id: int | None,
    action: str,
    need_id: int | None = None,
    claim_id: int | None = None,
    **detail: Any,
) -> None:
    """Append an entry inside the caller's transaction. Never put private details in ``detail``."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, need_id, claim_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            to_db_time(now),
            actor_id,
            action,
            need_id,
            claim_id,
            json.dumps(detail) if detail else None,
        ),
    )


async def entries_for_need(db: Database, need_id: int) -> list[AuditEntry]:
    """A need's history, oldest first."""
    rows = await db.fetch_all(
        "SELECT at, actor_id, action, need_id, claim_id, detail FROM audit_log"
        " WHERE need_id = ? ORDER BY id",
        (need_id,),
    )
    return [
        AuditEntry(
            at=from_db_time(row["at"]),  # type: ignore[arg-type]
            actor_id=row["actor_id"],
            action=row["action"],
            need_id=row["need_id"],
            claim_id=row["claim_id"],
            detail=json.loads(row["detail"]) if row["detail"] else {},
        )
        for row in rows
    ]
