"""Visits: /visit, the Log a visit buttons, the checklist, note, photo and concern."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The visit handlers."""
