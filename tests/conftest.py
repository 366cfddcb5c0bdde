"""Shared fixtures: a fresh database file, a config, the service, and a handler harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
