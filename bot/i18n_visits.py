"""User-facing strings for visits, in Simplified Chinese and English (merged into bot.i18n)."""

from __future__ import annotations

from typing import Final

VISITS: Final[dict[str, dict[str, str]]] = {}
