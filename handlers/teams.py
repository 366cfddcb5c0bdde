"""/team: volunteers pick their team from buttons; coordinators add and remove teams."""

from __future__ import annotations

import contextlib
import html

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.delivery import Delivery, send_private
from bot.domain import MAX_TEAMS, TEAM_NAME_MAX_LENGTH, Person, Team, TeamOutcome, TeamResult
from bot.i18n import t
from bot.render import team_picker_markup
from bot.runtime import Context, service, teams
from handlers.claims import html_to_plain
from handlers.common import answer, coordinator_lang, is_private, private_link, reply


def picker_text(lang: str, person: Person | None, all_teams: list[Team], coordinator: bool) -> str:
    """What /team says above the buttons: the person's team, and for coordinators the teams
    with their members and open claims."""
    if person is not None and person.team is not None:
        lines = [t(lang, "team_current", team=html.escape(person.team))]
    else:
        lines = [t(lang, "team_current_none")]
    lines.append(t(lang, "team_pick") if all_teams else t(lang, "team_none_defined"))
    if coordinator:
        lines += ["", t(lang, "team_list_title")]
        config = t(lang, "team_list_config")
        lines += [
            t(
                lang,
                "team_list_item",
                team=html.escape(team.name),
                members=team.members,
                claims=team.open_claims,
                config=config if team.in_config else "",
            )
            for team in all_teams
        ]
        lines.append(t(lang, "team_manage_hint"))
    return "\n".join(lines)


async def show_picker(update: Update, context: Context, prefix: str = "") -> None:
    """The person's team and the teams as buttons."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    lang, all_teams = context.lang, await teams(context).teams()
    person = await service(context).person(user.id)
    text = picker_text(lang, person, all_teams, service(context).is_coordinator(user.id))
    markup = team_picker_markup(all_teams, lang) if all_teams else None
    await message.reply_text(prefix + text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def team_command(update: Update, context: Context) -> None:
    """/team: your team and the teams as buttons; /team <name> picks one, /team - none;
    coordinators: /team add <name>, /team remove <name>."""
    message = update.effective_message
    if message is None or message.text is None or update.effective_user is None:
        return
    rest = message.text.split(maxsplit=1)[1].strip() if " " in message.text.strip() else ""
    word, _, name = rest.partition(" ")
    if word.lower() in ("add", "remove"):
        await manage_team(update, context, word.lower(), name)
        return
    if not is_private(update):
        await reply(update, t(context.lang, "team_private_only", link=private_link(context)))
        return
    if not rest:
        await show_picker(update, context)
        return
    svc = teams(context)
    user_id = update.effective_user.id
    if rest == "-":
        result = await svc.choose(user_id, None)
    else:
        result = await svc.choose_by_name(user_id, rest)
    if result.outcome is TeamOutcome.CHOSEN:
        await reply(update, chosen_text(result, context.lang))
        return
    shown = html.escape(rest[: TEAM_NAME_MAX_LENGTH + 1])
    await show_picker(update, context, t(context.lang, "team_unknown_pick", name=shown) + "\n\n")


def chosen_text(result: TeamResult, lang: str) -> str:
    """What a person who picked a team (or none) is told (HTML)."""
    if result.team is None:
        return t(lang, "team_cleared")
    return t(lang, "team_set", team=f"<b>{html.escape(result.team.name)}</b>")


async def manage_team(update: Update, context: Context, action: str, name: str) -> None:
    """/team add <name> or /team remove <name>: coordinators only."""
    lang = await coordinator_lang(update, context)
    if lang is None:
        return
    if not name.strip():
        await reply(update, t(lang, f"team_{action}_usage"))
        return
    user_id = update.effective_user.id  # type: ignore[union-attr]
    svc = teams(context)
    if action == "add":
        result = await svc.add(user_id, name)
    else:
        result = await svc.remove(user_id, name)
    await reply(update, change_text(result, name, lang))
    if result.outcome is TeamOutcome.REMOVED:
        await ask_to_pick_again(context, result)


def change_text(result: TeamResult, name: str, lang: str) -> str:
    """What a coordinator is told after /team add or /team remove (HTML)."""
    team = html.escape(result.team.name) if result.team is not None else ""
    if result.outcome is TeamOutcome.BAD_NAME:
        assert result.problem is not None
        length = len(name.strip())
        return t(lang, result.problem, length=length, limit=TEAM_NAME_MAX_LENGTH)
    if result.outcome is TeamOutcome.REMOVED:
        assert result.team is not None
        members, claims = len(result.members), result.team.open_claims
        return t(lang, "team_removed", team=team, members=members, claims=claims)
    if result.outcome is TeamOutcome.UNKNOWN:
        return t(lang, "team_unknown", name=html.escape(name.strip()[: TEAM_NAME_MAX_LENGTH + 1]))
    key = {
        TeamOutcome.ADDED: "team_added",
        TeamOutcome.EXISTS: "team_exists",
        TeamOutcome.TOO_MANY: "team_too_many",
        TeamOutcome.IN_CONFIG: "team_in_config",
    }.get(result.outcome, "not_coordinator")
    return t(lang, key, team=team, limit=MAX_TEAMS)


async def ask_to_pick_again(context: Context, result: TeamResult) -> None:
    """Tell each member of a removed team, privately, and show them the teams to pick from."""
    assert result.team is not None
    svc, all_teams = service(context), await teams(context).teams()
    for user_id in result.members:
        lang = svc.language_of(await svc.person(user_id))
        text = t(lang, "team_removed_notice", team=html.escape(result.team.name))
        if all_teams:
            text += "\n\n" + t(lang, "team_pick")
        markup = team_picker_markup(all_teams, lang) if all_teams else None
        if await send_private(context.bot, user_id, text, markup) is Delivery.UNREACHABLE:
            await svc.unreachable(user_id)


async def team_tapped(update: Update, context: Context) -> None:
    """A team in the /team picker; a removed, unknown or forged one changes nothing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang, message = context.person_lang, query.message
    team_id = callbacks.parse_id(callbacks.PICK_TEAM, query.data)
    if team_id is None or message is None or message.chat.type != ChatType.PRIVATE:
        # The picker lives in a private chat: the same data on any other message is forged.
        await answer(query, t(lang, "answer_bad_button"))
        return
    result = await teams(context).choose(user.id, team_id or None)
    if result.outcome is TeamOutcome.CHOSEN:
        text = chosen_text(result, lang)
        await answer(query, html_to_plain(text))
        markup = None
    else:
        await answer(query, t(lang, "team_stale"))
        all_teams = await teams(context).teams()
        person = await service(context).person(user.id)
        text = picker_text(lang, person, all_teams, service(context).is_coordinator(user.id))
        markup = team_picker_markup(all_teams, lang) if all_teams else None
    # Too old to edit, or already showing this: both are fine.
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def team_link(update: Update, context: Context) -> None:
    """/start team: the deep link a tap refused for want of a team opens; shows the picker."""
    await show_picker(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The /team command, its buttons, and the /start team deep link."""
    start_team = filters.Regex(rf"^/start {callbacks.TEAM_LINK}\Z") & filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", team_link, filters=start_team))
    app.add_handler(CommandHandler("team", team_command))
    app.add_handler(CallbackQueryHandler(team_tapped, pattern=callbacks.PICK_TEAM))
