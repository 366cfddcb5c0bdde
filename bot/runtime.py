"""The shared objects handlers reach through ``context.bot_data``, opened in post_init, and
the context each update is handled with."""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

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


AnyContext: TypeAlias = CallbackContext[Any, Any, Any, Any]
T = TypeVar("T")


def shared(context: AnyContext, key: str, kind: type[T]) -> T:
    """The application's shared object under ``key`` (opened in post_init), as ``kind``."""
    value = context.bot_data[key]
    assert isinstance(value, kind)
    return value


def service(context: AnyContext) -> PairingService:
    """The pairing service of this application."""
    return shared(context, SERVICE, PairingService)


def visits(context: AnyContext) -> VisitService:
    """The visit service of this application."""
    return shared(context, VISITS, VisitService)


def reminders(context: AnyContext) -> ReminderService:
    """The reminder service of this application."""
    return shared(context, REMINDERS, ReminderService)


def teams(context: AnyContext) -> TeamService:
    """The team service of this application."""
    return shared(context, TEAMS, TeamService)


def cards(context: AnyContext) -> CardKeeper:
    """The card keeper of this application."""
    return shared(context, CARDS, CardKeeper)


def known_groups(context: AnyContext) -> dict[int, str]:
    """Groups already recorded this run (chat id to title), to skip needless writes."""
    groups: dict[int, str] = context.bot_data.setdefault(KNOWN_GROUPS, {})
    return groups
