"""Records: /mine (a volunteer's pairings), /status (progress), /show (a household's record)."""

from __future__ import annotations

import html
from datetime import tzinfo

from telegram import Update
from telegram.constants import MessageLimit, ParseMode
from telegram.ext import Application, CommandHandler

from bot.domain import Closing
from bot.i18n import t
from bot.render import (
    card_text,
    details_lines,
    details_message,
    household_lines,
    latest_that_fit,
    pairing_line,
    pairing_markup,
    telegram_length,
)
from bot.runtime import Context, service, visits
from bot.service import parse_need_number
from bot.visits import Household
from handlers.common import is_private, private_link, reply

# A household's history shows at most this many entries, the latest (and fewer if they
# would pass Telegram's 4096 characters).
SHOW_HISTORY = 30


async def mine(update: Update, context: Context) -> None:
    """/mine: in private, each pairing with its household's details; in a group, public lines."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    svc, lang = service(context), context.lang
    pairings = await svc.pairings(user.id)
    if not pairings:
        await reply(update, t(lang, "mine_none"))
        return
    lines = [t(lang, "mine_header", count=len(pairings))]
    lines += [pairing_line(p, lang, svc.config.tz) for p in pairings]
    if not is_private(update):
        await reply(update, "\n".join([*lines, "", t(lang, "mine_group_hint")]))
        return
    await reply(update, "\n".join(lines))
    for pairing in pairings:
        details = await svc.details_of(pairing.need, user.id)
        if details is None:
            continue  # released between the two reads
        await message.reply_text(
            details_message(pairing.need, details, lang),
            parse_mode=ParseMode.HTML,
            reply_markup=pairing_markup(pairing.claim_id, lang),
        )


async def status(update: Update, context: Context) -> None:
    """/status: open and claimed counts for this group (everywhere, in private chat)."""
    chat = update.effective_chat
    if chat is None:
        return
    svc = service(context)
    lang = context.lang
    counts = await svc.status(None if is_private(update) else chat.id)
    text = t(
        lang,
        "status",
        total=counts.total,
        open=counts.open,
        claimed=counts.claimed,
        closed=counts.closed,
    )
    await reply(update, text)


async def show(update: Update, context: Context) -> None:
    """/show <number>: a household's private details and history, for coordinators and the
    household's current claimer, in private chat only."""
    user = update.effective_user
    if user is None:
        return
    svc, lang = service(context), context.lang
    coordinator = svc.is_coordinator(user.id)
    if coordinator and not is_private(update):
        # Private details must never be shown in a group, even to a coordinator asking there.
        await reply(update, t(lang, "private_only", link=private_link(context)))
        return
    need_id = parse_need_number(" ".join(context.args or []))
    if need_id is None:
        await reply(update, t(lang, "show_usage" if coordinator else "not_coordinator"))
        return
    household = await visits(context).household(need_id, user.id)
    if household is None:
        # Anyone but a coordinator or the holder hears what they heard before holders could.
        key = "need_not_found" if coordinator else "not_coordinator"
        await reply(update, t(lang, key, id=need_id))
    elif not is_private(update):
        await reply(update, t(lang, "private_only", link=private_link(context)))
    else:
        closing = await service(context).closing(need_id) if coordinator else None
        await reply(update, household_text(household, lang, context, closing))


def household_text(
    household: Household, lang: str, context: Context, closing: Closing | None = None
) -> str:
    """The need, its private details and its history, the latest entries that fit; for
    coordinators, the closing note and whether the details were purged."""
    vs = visits(context)
    parts = [
        card_text(household.need, lang, vs.config.tz),
        t(lang, "details_private") + "\n" + "\n".join(details_lines(household.details, lang)),
        *closing_lines(closing, lang, vs.config.tz),
    ]
    lines = household_lines(
        household.claims,
        household.visits,
        lambda key: html.escape(vs.label(key, lang)),
        lang,
        vs.config.tz,
    )
    if not lines:
        return "\n\n".join(parts)
    title = t(lang, "household_history")
    budget = MessageLimit.MAX_TEXT_LENGTH - telegram_length("\n\n".join([*parts, title, ""]))
    kept = latest_that_fit(lines, budget, SHOW_HISTORY, lang)
    return "\n\n".join([*parts, title + "\n" + "\n".join(kept)])


def closing_lines(closing: Closing | None, lang: str, tz: tzinfo) -> list[str]:
    """What coordinators see of a need's end in /show: its note, and the purge."""
    if closing is None:
        return []
    lines = []
    if closing.note:
        lines.append(t(lang, "show_closing_note", note=html.escape(closing.note)))
    if closing.purged_at is not None:
        day = closing.purged_at.astimezone(tz).strftime("%Y-%m-%d")
        lines.append(t(lang, "show_purged", date=day))
    return lines


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The record commands."""
    app.add_handler(CommandHandler("mine", mine))
    app.add_handler(CommandHandler("status", status))
    app.add_handler(CommandHandler("show", show))
