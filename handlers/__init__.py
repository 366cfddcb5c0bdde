"""Thin Telegram adapters, one module per feature, each exposing ``register(app)``."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    boards,
    claims,
    common,
    export,
    importing,
    life,
    posting,
    records,
    reminders,
    slots,
    teams,
    visits,
)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler in the order they must be tried; catch-alls last.

    Claims go first: a burst of taps on Claim is the bot's busiest moment, and every handler
    tried before the right one costs each tap a check.
    """
    claims.register(app)
    teams.register(app)  # before common: its /start team deep link goes before /start
    common.register(app)
    posting.register(app)
    life.register(app)
    records.register(app)
    visits.register(app)
    reminders.register(app)
    export.register(app)
    boards.register(app)
    slots.register(app)
    importing.register(app)
    claims.register_fallbacks(app)
    common.register_fallbacks(app)
