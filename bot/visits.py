"""Visits: a claimer logs what they did for their household; concerns reach coordinators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.service import utc_now
from storage.db import Database


@dataclass
class VisitService:
    """Logging visits and reading a household's history, free of Telegram types."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)
