"""User-facing strings for reminders, in Simplified Chinese and English (merged into bot.i18n)."""

from __future__ import annotations

from typing import Final

REMINDERS: Final[dict[str, dict[str, str]]] = {}
