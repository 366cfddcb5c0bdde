"""A need's life after posting, for coordinators: /edit (the posting form, on a posted need),
/close, /cancel_need, /reopen; and the daily purge of private details kept past their time.

Cards follow by themselves (the database bumps a need's version on what a card shows). The
holder whose pairing a change ends, or whose household's details change, is told privately.
"""

from __future__ import annotations

import contextlib
import html
import logging
from dataclasses import replace
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.delivery import Delivery, send_private
from bot.domain import CANCELLED, DONE, LifeOutcome, LifeResult, NeedState
from bot.i18n import t
from bot.render import details_message, holder_name, pairing_markup
from bot.runtime import Context, service
from bot.service import TextProblem, parse_need_number
from handlers.common import answer, coordinator_lang, is_private, private_link, reply
from handlers.posting import (
    EDIT,
    SUMMARY,
    in_arrival_order,
    problem_text,
    show_edit_menu,
)
from storage.drafts import Draft

log = logging.getLogger(__name__)

PURGE_JOB = "claimbot.purge"
# The purge runs this long after the bot starts, then once a day.
PURGE_FIRST = timedelta(minutes=1)
PURGE_EVERY = timedelta(days=1)


def life_text(result: LifeResult, need_id: int, lang: str) -> str:
    """What a coordinator is told after a close, cancel or reopen (or why nothing changed)."""
    holder, outcome = result.holder, result.outcome
    if outcome in (LifeOutcome.CLOSED, LifeOutcome.CANCELLED):
        key = "close_done" if outcome is LifeOutcome.CLOSED else "cancel_done"
        text = t(lang, key, id=need_id)
        if holder is not None:
            text += t(lang, "life_pairing_ended", name=holder_name(holder))
        return text
    if outcome is LifeOutcome.REOPENED:
        text = t(lang, "reopen_done", id=need_id)
        if holder is not None:
            name = holder_name(holder)
            text += t(lang, "reopen_was_held", name=name, id=need_id, user_id=holder.user_id)
        return text
    if outcome is LifeOutcome.ALREADY_CLOSED:
        cancelled = result.need is not None and result.need.state is NeedState.CANCELLED
        key = "life_already_cancelled" if cancelled else "life_already_closed"
        return t(lang, key, id=need_id)
    key = {
        LifeOutcome.NOT_FOUND: "need_not_found",
        LifeOutcome.NOT_CLOSED: "life_not_closed",
        LifeOutcome.UNCHANGED: "edit_unchanged",
    }.get(outcome, "not_coordinator")
    return t(lang, key, id=need_id)


async def person_lang(context: Context, user_id: int) -> str:
    """The language a person reads their private messages in."""
    svc = service(context)
    return svc.language_of(await svc.person(user_id))


async def tell_private(
    context: Context, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A private message to a holder; Telegram refusing it (403) is recorded, not raised."""
    delivery = await send_private(context.bot, user_id, text, markup)
    if delivery is Delivery.UNREACHABLE:
        await service(context).unreachable(user_id)


async def tell_holder_closed(context: Context, result: LifeResult, note: str | None) -> None:
    """The holder whose pairing a close or cancel ended hears of it, with the note."""
    need = result.need
    if need is None:
        return
    for holder in result.holders:
        lang = await person_lang(context, holder.user_id)
        key = "notify_closed" if result.outcome is LifeOutcome.CLOSED else "notify_cancelled"
        text = t(lang, key, id=need.id, summary=html.escape(need.summary))
        if note:
            text += "\n\n" + t(lang, "life_note", note=html.escape(note))
        await tell_private(context, holder.user_id, text)


async def close_or_cancel(update: Update, context: Context, closed_as: str) -> None:
    """/close or /cancel_need <number> [note]: end a need as done, or cancel it."""
    lang = await coordinator_lang(update, context)
    message = update.effective_message
    if lang is None or message is None or message.text is None:
        return
    parts = message.text.split(maxsplit=2)
    need_id = parse_need_number(parts[1]) if len(parts) > 1 else None
    if need_id is None:
        await reply(update, t(lang, "close_usage" if closed_as == DONE else "cancel_need_usage"))
        return
    note = parts[2] if len(parts) > 2 else None
    user_id = update.effective_user.id  # type: ignore[union-attr]
    result = await service(context).close_need(need_id, user_id, closed_as, note)
    if isinstance(result, TextProblem):
        await reply(update, problem_text(lang, result))
        return
    await reply(update, life_text(result, need_id, lang))
    if result.outcome in (LifeOutcome.CLOSED, LifeOutcome.CANCELLED):
        await tell_holder_closed(context, result, note and note.strip())


async def close_command(update: Update, context: Context) -> None:
    """/close <number> [note]: a coordinator closes a need as done."""
    await close_or_cancel(update, context, DONE)


async def cancel_need_command(update: Update, context: Context) -> None:
    """/cancel_need <number> [note]: a coordinator cancels a need no longer wanted."""
    await close_or_cancel(update, context, CANCELLED)


async def reopen_command(update: Update, context: Context) -> None:
    """/reopen <number>: a coordinator opens a closed or cancelled need again."""
    lang = await coordinator_lang(update, context)
    if lang is None:
        return
    need_id = parse_need_number(" ".join(context.args or []))
    if need_id is None:
        await reply(update, t(lang, "reopen_usage"))
        return
    user_id = update.effective_user.id  # type: ignore[union-attr]
    result = await service(context).reopen_need(need_id, user_id)
    await reply(update, life_text(result, need_id, lang))


# -- /edit: the posting form on a posted need ------------------------------------------------


@in_arrival_order
async def edit_command(update: Update, context: Context) -> None:
    """/edit <number>: a coordinator changes a need's summary or private details (private)."""
    lang = await coordinator_lang(update, context)
    user = update.effective_user
    if lang is None or user is None:
        return
    if not is_private(update):
        # The form shows the household's details: never in a group.
        await reply(update, t(lang, "private_only", link=private_link(context)))
        return
    need_id = parse_need_number(" ".join(context.args or []))
    if need_id is None:
        await reply(update, t(lang, "edit_usage"))
        return
    svc = service(context)
    need = await svc.need(need_id)
    details = await svc.details_of(need, user.id) if need is not None else None
    if need is None or details is None or need.closed_at is not None:
        outcome = LifeOutcome.NOT_FOUND if need is None else LifeOutcome.ALREADY_CLOSED
        await reply(update, life_text(LifeResult(outcome, need), need_id, lang))
        return
    # A fresh edit replaces any unfinished draft, as a fresh /post does.
    draft = Draft(user.id, step=EDIT, summary=need.summary, details=details, need_id=need_id)
    await show_edit_menu(update, context, await svc.save_draft(draft))


@in_arrival_order
async def edit_tapped(update: Update, context: Context) -> None:
    """A button under the /edit menu: a field to change, or Save."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    svc, lang = service(context), context.lang
    pressed = callbacks.parse_pair(callbacks.EDIT, query.data)
    draft = await svc.draft(user.id)
    if (
        pressed is None
        or not is_private(update)
        or not svc.is_coordinator(user.id)
        or draft is None
        or draft.need_id != pressed[0]
    ):
        await answer(query, t(lang, "answer_bad_button"))
        return
    await answer(query)
    field = pressed[1]
    if field == callbacks.EDIT_SAVE:
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)
        await save_edit(update, context, draft)
        return
    await svc.save_draft(replace(draft, step=field))
    if field == SUMMARY:
        await reply(update, t(lang, "edit_ask_summary"))
    else:
        await reply(update, t(lang, "edit_ask_detail", field=t(lang, f"edit_field_{field}")))


async def save_edit(update: Update, context: Context, draft: Draft) -> None:
    """Save an edit; the card follows, and the holder gets the household's new details."""
    svc, lang = service(context), context.lang
    assert draft.need_id is not None
    # Taken before saving: a second tap on Save finds no draft and saves nothing twice.
    if not await svc.drop_draft(draft.user_id):
        return
    result = await svc.edit_need(draft.need_id, draft.user_id, draft.summary, draft.details)
    if isinstance(result, TextProblem):
        await reply(update, problem_text(lang, result))
        return
    if result.outcome is not LifeOutcome.EDITED:
        await reply(update, life_text(result, draft.need_id, lang))
        return
    changed = [("summary", result.summary_changed), ("details", result.details_changed)]
    names = ", ".join(t(lang, f"edit_field_{name}") for name, yes in changed if yes)
    text = t(lang, "edit_saved", id=draft.need_id, fields=names)
    if result.summary_changed:
        text += t(lang, "edit_saved_card")
    holder = result.holder
    if result.details_changed and holder is not None:
        text += t(lang, "edit_saved_holder", name=holder_name(holder))
    await reply(update, text)
    if result.details_changed and holder is not None:
        await tell_holder_edited(context, result)


async def tell_holder_edited(context: Context, result: LifeResult) -> None:
    """The holders of an edited need get its household's details as they now are."""
    need = result.need
    assert need is not None
    svc = service(context)
    for holder in result.holders:
        details = await svc.details_of(need, holder.user_id)
        if details is None:
            continue
        lang = await person_lang(context, holder.user_id)
        text = t(lang, "notify_details_edited", id=need.id) + "\n\n"
        text += details_message(need, details, lang)
        await tell_private(context, holder.user_id, text, pairing_markup(holder.claim_id, lang))


# -- retention -------------------------------------------------------------------------------


async def purge_job(context: Context) -> None:
    """Daily: purge the private details of needs closed longer than privacy.retention_days."""
    try:
        purged = await service(context).purge_expired()
    except Exception as exc:
        log.error("purge failed: %s", exc.__class__.__name__, exc_info=exc)
        return
    if purged is not None and purged.needs:
        log.info("purged the private details of %d needs, %d visits", purged.needs, purged.visits)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The coordinators' commands for a need's life, the /edit menu, and the daily purge."""
    app.add_handler(CommandHandler("edit", edit_command))
    app.add_handler(CommandHandler("close", close_command))
    app.add_handler(CommandHandler("cancel_need", cancel_need_command))
    app.add_handler(CommandHandler("reopen", reopen_command))
    app.add_handler(CallbackQueryHandler(edit_tapped, pattern=callbacks.EDIT))
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            purge_job,
            interval=PURGE_EVERY,
            first=PURGE_FIRST,
            name=PURGE_JOB,
            job_kwargs={"coalesce": True, "misfire_grace_time": None},
        )
