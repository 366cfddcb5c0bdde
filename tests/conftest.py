"""Shared fixtures: a fresh database file, a config, the service, and a handler harness."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.service import PairingService
from storage.db import Database
from tests.factories import make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    async with Database(config.database.path, config.database.synchronous) as database:
        yield database


@pytest.fixture
def service(db: Database, config: Config) -> PairingService:
    return PairingService(db, config)


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Let a test call configure_logging and put every logger back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ["httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "aiohttp.access"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
