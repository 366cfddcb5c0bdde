"""The record a coordinator sends upward: /export."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The export command."""
