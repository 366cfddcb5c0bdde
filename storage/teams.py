"""Teams that coordinators define and volunteers pick, and who is in which.

A team's name is unique ignoring ASCII case (``name_key``, SQLite's ``lower``). A removed
team keeps its row, so claims made for it still name it; adding it again brings it back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.domain import MAX_TEAMS, Team, TeamOutcome, TeamResult
from storage import audit
from storage.db import Database, to_db_time

_TEAM_SELECT = """
    SELECT t.id, t.name, t.in_config,
           (SELECT COUNT(*) FROM people WHERE team_id = t.id) AS members,
           (SELECT COUNT(*) FROM claims WHERE team_id = t.id AND released_at IS NULL)
               AS open_claims
    FROM teams t
"""


def _team(row: aiosqlite.Row) -> Team:
    return Team(
        id=row["id"],
        name=row["name"],
        in_config=bool(row["in_config"]),
        members=row["members"],
        open_claims=row["open_claims"],
    )


async def _active_by_name(conn: aiosqlite.Connection, name: str) -> Team | None:
    rows = await conn.execute_fetchall(
        f"{_TEAM_SELECT} WHERE t.name_key = lower(?) AND t.removed_at IS NULL", (name,)
    )
    return _team(next(iter(rows))) if rows else None


async def active(db: Database) -> list[Team]:
    """The teams volunteers can pick now, in the order they were first defined."""
    rows = await db.fetch_all(f"{_TEAM_SELECT} WHERE t.removed_at IS NULL ORDER BY t.id")
    return [_team(row) for row in rows]


async def get(db: Database, team_id: int) -> Team | None:
    """A team by id, if it has not been removed."""
    row = await db.fetch_one(f"{_TEAM_SELECT} WHERE t.id = ? AND t.removed_at IS NULL", (team_id,))
    return _team(row) if row else None


async def by_name(db: Database, name: str) -> Team | None:
    """A team by name (ASCII case ignored), if it has not been removed."""
    return await _active_by_name(db.reader, name)


async def _put(
    conn: aiosqlite.Connection, name: str, actor_id: int | None, now: datetime, in_config: bool
) -> None:
    """Define a team, or bring back a removed one under this spelling."""
    await conn.execute(
        "INSERT INTO teams (name, name_key, in_config, created_at, created_by)"
        " VALUES (?1, lower(?1), ?2, ?3, ?4)"
        " ON CONFLICT (name_key) DO UPDATE SET name = excluded.name,"
        " in_config = MAX(in_config, excluded.in_config), removed_at = NULL, removed_by = NULL",
        (name, int(in_config), to_db_time(now), actor_id),
    )


async def add(db: Database, name: str, actor_id: int, now: datetime) -> TeamResult:
    """A coordinator defines a team (``name`` already cleaned and checked)."""
    async with db.serialised() as conn:
        existing = await _active_by_name(conn, name)
        if existing is not None:
            return TeamResult(TeamOutcome.EXISTS, existing)
        ((count,),) = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM teams WHERE removed_at IS NULL"
        )
        if count >= MAX_TEAMS:
            return TeamResult(TeamOutcome.TOO_MANY)
        async with db.begin(conn):
            await _put(conn, name, actor_id, now, in_config=False)
            await audit.record(conn, now, actor_id, "team_added", team=name)
            team = await _active_by_name(conn, name)
    return TeamResult(TeamOutcome.ADDED, team)


async def remove(db: Database, name: str, actor_id: int, now: datetime) -> TeamResult:
    """A coordinator removes a team: its members are left with none (to pick again); its
    claims keep its name."""
    async with db.serialised() as conn:
        team = await _active_by_name(conn, name)
        if team is None:
            return TeamResult(TeamOutcome.UNKNOWN)
        if team.in_config:
            return TeamResult(TeamOutcome.IN_CONFIG, team)
        async with db.begin(conn):
            rows = await conn.execute_fetchall(
                "UPDATE people SET team_id = NULL, updated_at = ? WHERE team_id = ?"
                " RETURNING user_id",
                (to_db_time(now), team.id),
            )
            members = tuple(sorted(row[0] for row in rows))
            await conn.execute(
                "UPDATE teams SET removed_at = ?, removed_by = ? WHERE id = ?",
                (to_db_time(now), actor_id, team.id),
            )
            await audit.record(
                conn, now, actor_id, "team_removed", team=team.name, members=len(members)
            )
    return TeamResult(TeamOutcome.REMOVED, team, members)


async def sync_config(db: Database, names: Sequence[str], now: datetime) -> None:
    """Make the config's teams defined (added, or brought back); a team no longer listed
    there stays, as one a coordinator defined (``/team remove`` can then remove it)."""
    async with db.transaction() as conn:
        for name in names:
            await _put(conn, name, None, now, in_config=True)
        await conn.execute(
            "UPDATE teams SET in_config = 0 WHERE in_config = 1 AND name_key NOT IN"
            " (SELECT lower(value) FROM json_each(?))",
            (json.dumps(list(names), ensure_ascii=False),),
        )


async def choose(db: Database, user_id: int, team_id: int | None, now: datetime) -> bool:
    """A person picks the team their new claims count for (None: no team); False, and
    nothing changed, if that team does not exist or was removed."""
    changed = await db.execute(
        "UPDATE people SET team_id = ?1, updated_at = ?3 WHERE user_id = ?2 AND"
        " (?1 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = ?1 AND removed_at IS NULL))",
        (team_id, user_id, to_db_time(now)),
    )
    return changed == 1
