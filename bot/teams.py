"""Teams: coordinators define them (``/team add``, ``/team remove``, ``teams:`` in the config),
volunteers pick theirs, and each claim records the team it was made for. Free of Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.domain import (
    Team,
    TeamOutcome,
    TeamResult,
    clean_team_name,
    team_name_problem,
)
from bot.service import utc_now
from storage import teams
from storage.db import Database


@dataclass
class TeamService:
    """Defining, removing and picking teams, over the database."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    async def start(
        cls, db: Database, config: Config, clock: Callable[[], datetime] = utc_now
    ) -> TeamService:
        """The service, once the config's ``teams:`` are defined (see ``load_config``)."""
        service = cls(db, config, clock)
        await service.load_config()
        return service

    async def load_config(self) -> None:
        """Make the config's ``teams:`` defined, at start (see storage.teams.sync_config)."""
        await teams.sync_config(self.db, self.config.teams, self.clock())

    async def teams(self) -> list[Team]:
        """The teams volunteers can pick now, with their members and open claims."""
        return await teams.active(self.db)

    async def add(self, coordinator_id: int, name: str) -> TeamResult:
        """A coordinator defines a team; the name is cleaned and checked first."""
        if not self.config.is_coordinator(coordinator_id):
            return TeamResult(TeamOutcome.NOT_ALLOWED)
        cleaned = clean_team_name(name)
        problem = team_name_problem(cleaned)
        if problem is not None:
            return TeamResult(TeamOutcome.BAD_NAME, problem=problem)
        return await teams.add(self.db, cleaned, coordinator_id, self.clock())

    async def remove(self, coordinator_id: int, name: str) -> TeamResult:
        """A coordinator removes a team; ``members`` are the volunteers left without one."""
        if not self.config.is_coordinator(coordinator_id):
            return TeamResult(TeamOutcome.NOT_ALLOWED)
        return await teams.remove(self.db, clean_team_name(name), coordinator_id, self.clock())

    async def choose(self, user_id: int, team_id: int | None) -> TeamResult:
        """A volunteer picks a team by a button (None: no team). A removed, unknown or
        forged team changes nothing."""
        team = await teams.get(self.db, team_id) if team_id is not None else None
        if team_id is not None and team is None:
            return TeamResult(TeamOutcome.UNKNOWN)
        if not await teams.choose(self.db, user_id, team_id, self.clock()):
            return TeamResult(TeamOutcome.UNKNOWN)  # removed since it was read
        return TeamResult(TeamOutcome.CHOSEN, team)

    async def choose_by_name(self, user_id: int, name: str) -> TeamResult:
        """A volunteer picks a team by typing its name (ASCII case ignored)."""
        team = await teams.by_name(self.db, clean_team_name(name))
        if team is None:
            return TeamResult(TeamOutcome.UNKNOWN)
        return await self.choose(user_id, team.id)
