"""Records: /mine (a volunteer's pairings), /status (progress), /show (for coordinators)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot.i18n import t
from bot.render import (
    card_text,
    details_lines,
    details_message,
    history_lines,
    pairing_line,
    release_markup,
)
from bot.runtime import Context, service
from bot.service import parse_need_number
from handlers.common import coordinator_lang, is_private, private_link, reply

SHOW_HISTORY = 15


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
            reply_markup=release_markup(pairing.claim_id, lang),
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
    """/show <number>: a coordinator sees a need's private details and claim history."""
    user, lang = update.effective_user, await coordinator_lang(update, context)
    if user is None or lang is None:
        return
    svc = service(context)
    if not is_private(update):
        # Private details must never be shown in a group, even to a coordinator asking there.
        await reply(update, t(lang, "private_only", link=private_link(context)))
        return
    need_id = parse_need_number(" ".join(context.args or []))
    if need_id is None:
        await reply(update, t(lang, "show_usage"))
        return
    need = await svc.need(need_id)
    details = await svc.details_for(need_id, user.id)
    if need is None or details is None:
        await reply(update, t(lang, "need_not_found", id=need_id))
        return
    # The latest claims only: a long history would pass Telegram's 4096 characters.
    history = (await svc.history(need_id))[-SHOW_HISTORY:]
    parts = [
        card_text(need, lang, svc.config.tz),
        t(lang, "details_private") + "\n" + "\n".join(details_lines(details, lang)),
    ]
    if history:
        lines = history_lines(history, lang, svc.config.tz)
        parts.append(t(lang, "show_history") + "\n" + "\n".join(lines))
    await reply(update, "\n\n".join(parts))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The record commands."""
    app.add_handler(CommandHandler("mine", mine))
    app.add_handler(CommandHandler("status", status))
    app.add_handler(CommandHandler("show", show))
