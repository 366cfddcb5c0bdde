"""Visits: /visit, the Log a visit buttons, the checklist, note, photo and concern.

The form's steps live in the database (bot.visits), so they survive a restart. Its text,
photo and /cancel handlers run in an earlier handler group than posting's catch-alls: they act
only while a visit form is open (then stop the update there), and otherwise let it go on.
"""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.delivery import Delivery, send_private
from bot.i18n import t
from bot.runtime import Context, service, visits
from bot.service import TextProblem, parse_need_number
from bot.visits import SKIP, Form, Step, VisitOutcome, VisitResult
from handlers.common import answer, is_private, private_link, reply
from handlers.posting import InArrivalOrder
from storage.visits import VisitDraft

log = logging.getLogger(__name__)

# After identify (group -2) and before posting's catch-alls (group 0), which answer any
# private text and /cancel. track_group shares this group but takes only group messages; the
# handlers here take only private ones, so neither hides the other.
FORM_GROUP = -1
SUMMARY_IN_BUTTON = 40

# A person's visit steps are taken one at a time, in the order Telegram delivered them: two
# quick ticks must both count, and a note must not overtake the tap on Next.
in_arrival_order = InArrivalOrder()


def checklist_markup(context: Context, draft: VisitDraft, lang: str) -> InlineKeyboardMarkup:
    """The checklist, ✓ on what is ticked, then Next; every button names the pairing."""
    vs = visits(context)
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if key in draft.done else "") + vs.label(key, lang),
                callback_data=callbacks.visit_tick_data(draft.claim_id, key),
            )
        ]
        for key in vs.checklist
    ]
    next_data = callbacks.visit_on_data(draft.claim_id, Step.DONE)
    rows.append([InlineKeyboardButton(t(lang, "button_visit_next"), callback_data=next_data)])
    return InlineKeyboardMarkup(rows)


def skip_markup(draft: VisitDraft, lang: str) -> InlineKeyboardMarkup:
    """Skip the step the form is at (the note, or the photo)."""
    data = callbacks.visit_on_data(draft.claim_id, draft.step)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "button_visit_skip"), callback_data=data)]]
    )


def concern_markup(draft: VisitDraft, lang: str) -> InlineKeyboardMarkup:
    """All well / Needs help now: the last step, which saves the visit."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "button_visit_all_well"),
                    callback_data=callbacks.visit_concern_data(draft.claim_id, False),
                ),
                InlineKeyboardButton(
                    t(lang, "button_visit_needs_help"),
                    callback_data=callbacks.visit_concern_data(draft.claim_id, True),
                ),
            ]
        ]
    )


async def send_checklist(context: Context, user_id: int, form: Form, lang: str) -> None:
    """The form's first step, in the person's private chat."""
    summary = html.escape(form.need.summary)
    text = t(lang, "visit_checklist", id=form.need.id, summary=summary)
    markup = checklist_markup(context, form.draft, lang)
    if await send_private(context.bot, user_id, text, markup) is Delivery.UNREACHABLE:
        await service(context).unreachable(user_id)


async def ask(context: Context, draft: VisitDraft, lang: str) -> None:
    """Ask what the form's current step asks (after the checklist)."""
    if draft.step == Step.NOTE:
        text, markup = t(lang, "visit_ask_note"), skip_markup(draft, lang)
    elif draft.step == Step.PHOTO:
        text, markup = t(lang, "visit_ask_photo"), skip_markup(draft, lang)
    else:
        text, markup = t(lang, "visit_ask_concern"), concern_markup(draft, lang)
    await send_private(context.bot, draft.user_id, text, markup)


@in_arrival_order
async def visit_command(update: Update, context: Context) -> None:
    """/visit [number]: log a visit (no number: the only pairing, or buttons to pick one)."""
    user = update.effective_user
    if user is None:
        return
    vs, lang = visits(context), context.lang
    if not is_private(update):
        await reply(update, t(lang, "visit_private_only", link=private_link(context)))
        return
    if context.args:
        need_id = parse_need_number(" ".join(context.args))
        if need_id is None:
            value = html.escape(" ".join(context.args)[:40])
            await reply(update, t(lang, "need_number_invalid", value=value))
            return
        form = await vs.start_for_need(user.id, need_id)
        if form is None:
            await reply(update, t(lang, "visit_not_holder", id=need_id))
            return
        await send_checklist(context, user.id, form, lang)
        return
    await visit_without_number(update, context, user.id, lang)


async def visit_without_number(update: Update, context: Context, user_id: int, lang: str) -> None:
    """/visit alone: straight to the form for the only pairing, else a button for each."""
    vs = visits(context)
    pairings = await vs.pairings(user_id)
    if not pairings:
        await reply(update, t(lang, "visit_none"))
        return
    if len(pairings) == 1:
        form = await vs.start(user_id, pairings[0].claim_id)
        if form is None:  # released between the two reads
            await reply(update, t(lang, "visit_none"))
        else:
            await send_checklist(context, user_id, form, lang)
        return
    rows = [
        [
            InlineKeyboardButton(
                t(lang, "visit_pick_item", id=p.need.id, summary=shorten(p.need.summary)),
                callback_data=callbacks.log_visit_data(p.claim_id),
            )
        ]
        for p in pairings
    ]
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        t(lang, "visit_pick"), reply_markup=InlineKeyboardMarkup(rows)
    )


def shorten(text: str) -> str:
    """A summary short enough for a button (shown as plain text there: not escaped)."""
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_IN_BUTTON else text[: SUMMARY_IN_BUTTON - 1] + "…"


async def refused_outside_private(query: CallbackQuery, lang: str) -> bool:
    """Visit buttons live in private chat: forged data tapped on a group card is answered as
    invalid and changes neither the form nor the card."""
    message = query.message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        return False
    await answer(query, t(lang, "answer_bad_button"))
    return True


@in_arrival_order
async def log_visit_tapped(update: Update, context: Context) -> None:
    """Log a visit (under /mine, the details, or /visit's choice): it names one pairing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = context.person_lang
    if await refused_outside_private(query, lang):
        return
    claim_id = callbacks.parse_id(callbacks.LOG_VISIT, query.data)
    form = await visits(context).start(user.id, claim_id) if claim_id is not None else None
    if form is None:
        # Someone else's pairing (forged data), or one that has ended: nothing is started.
        await answer(query, t(lang, "visit_stale"))
        return
    await answer(query)
    await send_checklist(context, user.id, form, lang)


@in_arrival_order
async def tick_tapped(update: Update, context: Context) -> None:
    """A checklist item: ticked, or unticked; the list shows it at once."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = context.person_lang
    if await refused_outside_private(query, lang):
        return
    parsed = callbacks.parse_pair(callbacks.VISIT_TICK, query.data)
    draft = await visits(context).toggle(user.id, *parsed) if parsed else None
    if draft is None:
        await answer(query, t(lang, "visit_old_button"))
        return
    await answer(query)
    with contextlib.suppress(TelegramError):  # not modified, or too old to edit: harmless
        await query.edit_message_reply_markup(checklist_markup(context, draft, lang))


@in_arrival_order
async def move_on_tapped(update: Update, context: Context) -> None:
    """Next under the checklist, or Skip under the note or photo question."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = context.person_lang
    if await refused_outside_private(query, lang):
        return
    parsed = callbacks.parse_pair(callbacks.VISIT_ON, query.data)
    draft = None
    if parsed is not None:
        draft = await visits(context).move_on(user.id, parsed[0], Step(parsed[1]))
    if draft is None:
        await answer(query, t(lang, "visit_old_button"))
        return
    await answer(query)
    if draft.step == Step.NOTE:
        await show_ticked(context, query, draft, lang)
    else:
        await drop_buttons(query)
    await ask(context, draft, lang)


async def show_ticked(
    context: Context, query: CallbackQuery, draft: VisitDraft, lang: str
) -> None:
    """The checklist message, once Next is tapped: what was ticked, and no more buttons."""
    vs = visits(context)
    items = ", ".join(vs.label(key, lang) for key in draft.done)
    done = t(lang, "visit_done_list", items=html.escape(items or t(lang, "visit_nothing_ticked")))
    message = query.message
    text = message.text_html if isinstance(message, Message) and message.text else ""
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(f"{text}\n\n{done}" if text else done, parse_mode="HTML")


async def drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off a question that was answered (already gone, or too old: fine)."""
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)


@in_arrival_order
async def concern_tapped(update: Update, context: Context) -> None:
    """All well, or Needs help now: the visit is saved; a concern goes to every coordinator."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = context.person_lang
    if await refused_outside_private(query, lang):
        return
    parsed = callbacks.parse_pair(callbacks.VISIT_CONCERN, query.data)
    if parsed is None:
        await answer(query, t(lang, "answer_bad_button"))
        return
    claim_id, choice = parsed
    result = await visits(context).finish(user.id, claim_id, concern=choice == "y")
    if result.outcome is VisitOutcome.NO_FORM:
        await answer(query, t(lang, "visit_old_button"))
        return
    await answer(query)
    await drop_buttons(query)
    await visit_saved(context, user.id, result, lang)


async def visit_saved(context: Context, user_id: int, result: VisitResult, lang: str) -> None:
    """Tell the claimer what became of their visit; tell the coordinators of a concern."""
    need, visit = result.need, result.visit
    if result.outcome is VisitOutcome.ENDED or need is None or visit is None:
        need_id = need.id if need is not None else "?"
        await send_private(context.bot, user_id, t(lang, "visit_ended", id=need_id))
        return
    text = t(lang, "visit_logged", id=need.id)
    if visit.concern:
        text += "\n" + t(lang, "visit_logged_concern")
    await send_private(context.bot, user_id, text)
    if visit.concern:
        await tell_coordinators(context, result)


async def tell_coordinators(context: Context, result: VisitResult) -> None:
    """A visit with a concern: every coordinator, privately, at once. One who cannot be
    reached (never started the bot, blocked it) is logged and skipped."""
    need, visit = result.need, result.visit
    assert need is not None and visit is not None
    visitor = next((h for h in need.holders if h.claim_id == visit.claim_id), need.holder)
    assert visitor is not None
    vs = visits(context)
    date = visit.visited_at.astimezone(vs.config.tz).strftime("%Y-%m-%d %H:%M")
    for coordinator_id, lang in await vs.coordinators():
        note = t(lang, "visit_alert_no_note")
        if visit.note:
            note = t(lang, "visit_alert_note", note=html.escape(visit.note))
        text = t(
            lang,
            "visit_concern_alert",
            id=need.id,
            summary=html.escape(need.summary),
            name=html.escape(visitor.display_name),
            date=date,
            note=note,
        )
        delivery = await send_private(context.bot, coordinator_id, text)
        if delivery is not Delivery.DELIVERED:
            log.warning(
                "concern about need %d not delivered to coordinator %d: %s",
                need.id,
                coordinator_id,
                delivery.value,
            )
        if delivery is Delivery.UNREACHABLE:
            await service(context).unreachable(coordinator_id)


@in_arrival_order
async def form_text(update: Update, context: Context) -> None:
    """Private text while a visit form is open: the note, "-" to skip; else a hint. With no
    form open, the update goes on to posting's handlers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    vs, lang = visits(context), context.lang
    draft = await vs.draft(user.id)
    if draft is None:
        return
    if draft.step == Step.NOTE:
        result = await vs.give_note(draft, message.text)
        if isinstance(result, TextProblem):
            await reply(update, t(lang, result.key, length=result.length, limit=result.limit))
        else:
            await ask(context, result, lang)
    elif draft.step == Step.PHOTO and message.text.strip() == SKIP:
        moved = await vs.move_on(user.id, draft.claim_id, Step.PHOTO)
        if moved is not None:
            await ask(context, moved, lang)
    else:
        await reply(update, t(lang, f"visit_expect_{draft.step}"))
    raise ApplicationHandlerStop


@in_arrival_order
async def form_attachment(update: Update, context: Context) -> None:
    """A photo while a visit form is open (at the note or photo step); anything else gets a
    hint. With no form open, the update goes on (posting answers during its own form)."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    vs, lang = visits(context), context.lang
    draft = await vs.draft(user.id)
    if draft is None:
        return
    if message.photo and draft.step in (Step.NOTE, Step.PHOTO):
        # The largest size; only Telegram's file_id is kept, never the image.
        draft = await vs.give_photo(draft, message.photo[-1].file_id, message.caption)
        await ask(context, draft, lang)
    else:
        await reply(update, t(lang, f"visit_expect_{draft.step}"))
    raise ApplicationHandlerStop


@in_arrival_order
async def cancel_form(update: Update, context: Context) -> None:
    """/cancel while a visit form is open drops it; otherwise posting's /cancel answers."""
    user = update.effective_user
    if user is None or not await visits(context).cancel(user.id):
        return
    await reply(update, t(context.lang, "visit_cancelled"))
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The visit handlers: /visit and the form's buttons; the form's answers in FORM_GROUP."""
    app.add_handler(CommandHandler("visit", visit_command))
    app.add_handler(CallbackQueryHandler(log_visit_tapped, pattern=callbacks.LOG_VISIT))
    app.add_handler(CallbackQueryHandler(tick_tapped, pattern=callbacks.VISIT_TICK))
    app.add_handler(CallbackQueryHandler(move_on_tapped, pattern=callbacks.VISIT_ON))
    app.add_handler(CallbackQueryHandler(concern_tapped, pattern=callbacks.VISIT_CONCERN))
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("cancel", cancel_form, private), group=FORM_GROUP)
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, form_text), group=FORM_GROUP
    )
    app.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, form_attachment),
        group=FORM_GROUP,
    )
