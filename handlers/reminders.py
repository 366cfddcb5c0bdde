"""Reminders: the job that sends what is due, /remind and /reminders for coordinators."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The reminder commands and the job that sends due reminders."""
