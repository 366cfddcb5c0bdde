"""The shared objects handlers reach through ``context.bot_data``, opened in post_init."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext

from bot.delivery import CardKeeper
from bot.service import PairingService

SERVICE = "claimbot.service"
CARDS = "claimbot.cards"
KNOWN_GROUPS = "claimbot.known_groups"

Context = CallbackContext[Any, Any, Any, Any]


def service(context: Context) -> PairingService:
    """The pairing service of this application."""
    value = context.bot_data[SERVICE]
    assert isinstance(value, PairingService)
    return value


def cards(context: Context) -> CardKeeper:
    """The card keeper of this application."""
    value = context.bot_data[CARDS]
    assert isinstance(value, CardKeeper)
    return value


def known_groups(context: Context) -> dict[int, str]:
    """Groups already recorded this run (chat id to title), to skip needless writes."""
    groups: dict[int, str] = context.bot_data.setdefault(KNOWN_GROUPS, {})
    return groups
