"""Reminders: follow-ups, holidays, digests and broadcasts, planned and sent from SQLite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.service import utc_now
from storage.db import Database


@dataclass
class ReminderService:
    """Planning reminders into the database and deciding what is due, free of Telegram types."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)
