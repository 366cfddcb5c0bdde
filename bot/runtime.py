"""The shared objects handlers reach through ``context.bot_data``, opened in post_init, and
the context each update is handled with."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext

from bot.delivery import CardKeeper
from bot.domain import Person
from bot.reminders import ReminderService
from bot.service import PairingService
from bot.teams import TeamService
from bot.visits import VisitService

SERVICE = "claimbot.service"
VISITS = "claimbot.visits"
REMINDERS = "claimbot.reminders"
CARDS = "claimbot.cards"
TEAMS = "claimbot.teams"
KNOWN_GROUPS = "claimbot.known_groups"


class Context(CallbackContext[Any, Any, Any, Any]):
    """python-telegram-bot's context, with the person behind the update.

    ``handlers.common.identify`` fills it in before any other handler runs: ``lang`` is what
    to answer in this chat (a group speaks the group's language), ``person_lang`` what to
    tell this person alone (a tap's answer, a private message).
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.person: Person | None = None
        default = service(self).config.language if SERVICE in self.bot_data else "en"
        self.lang: str = default
        self.person_lang: str = default


def service(context: CallbackContext[Any, Any, Any, Any]) -> PairingService:
    """The pairing service of this application."""
    value = context.bot_data[SERVICE]
    assert isinstance(value, PairingService)
    return value


def visits(context: CallbackContext[Any, Any, Any, Any]) -> VisitService:
    """The visit service of this application."""
    value = context.bot_data[VISITS]
    assert isinstance(value, VisitService)
    return value


def reminders(context: CallbackContext[Any, Any, Any, Any]) -> ReminderService:
    """The reminder service of this application."""
    value = context.bot_data[REMINDERS]
    assert isinstance(value, ReminderService)
    return value


def teams(context: CallbackContext[Any, Any, Any, Any]) -> TeamService:
    """The team service of this application."""
    value = context.bot_data[TEAMS]
    assert isinstance(value, TeamService)
    return value


def cards(context: CallbackContext[Any, Any, Any, Any]) -> CardKeeper:
    """The card keeper of this application."""
    value = context.bot_data[CARDS]
    assert isinstance(value, CardKeeper)
    return value


def known_groups(context: CallbackContext[Any, Any, Any, Any]) -> dict[int, str]:
    """Groups already recorded this run (chat id to title), to skip needless writes."""
    groups: dict[int, str] = context.bot_data.setdefault(KNOWN_GROUPS, {})
    return groups
