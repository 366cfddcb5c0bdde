"""Posting needs: ``/post <summary>`` in a group, or step by step with private details in private.

The step-by-step form keeps its draft in the database, so a restart in the middle of it loses
nothing typed. The same form edits a posted need (``/edit``, handlers/life.py): its draft
names the need, starts at a menu of what to change, and each answer returns to it. A summary
that looks like it holds a household's phone, ID number or address is never posted unasked:
the group form refuses it, the private form asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.delivery import Delivery, send_private
from bot.domain import Group, Need, PrivateDetails
from bot.i18n import t
from bot.privacy import Finding
from bot.render import details_lines
from bot.runtime import Context, cards, service
from bot.service import TextProblem, clean_text, parse_need_number
from handlers.common import actor_of, coordinator_lang, is_private, private_link, reply
from storage.drafts import Draft

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
# The steps of the private form: the public summary; a question if it looks like it holds
# private data; the private details, in order; then the group to post to.
SUMMARY, CHECK, GROUP = "summary", "summary_check", "group"
DETAIL_STEPS = ("name", "address", "phone", "health", "notes")
SKIP = "-"  # skips a detail of a new need; clears one of a need being edited
# An edit's menu: what to change, and Save.
EDIT = "edit"
EDIT_FIELDS = (SUMMARY, *DETAIL_STEPS)


def problem_text(lang: str, problem: TextProblem) -> str:
    """A refusal of some text, in words."""
    return t(lang, problem.key, length=problem.length, limit=problem.limit)


class InArrivalOrder:
    """Runs one person's posting steps one at a time, in the order Telegram delivered them.

    Updates are processed concurrently; without this, a summary sent right after /post (say,
    both queued while offline) could be handled first and shift every answer one step.
    Each step's first await is the person's FIFO lock, so arrival order is kept.
    """

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    def __call__(self, handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def in_order(update: Update, context: Context) -> None:
            user = update.effective_user
            if user is None:
                return
            lock = self._locks.setdefault(user.id, asyncio.Lock())
            self._users[user.id] = self._users.get(user.id, 0) + 1
            try:
                async with lock:
                    await handler(update, context)
            finally:
                self._users[user.id] -= 1
                if not self._users[user.id]:
                    del self._users[user.id], self._locks[user.id]

        return in_order


in_arrival_order = InArrivalOrder()


@in_arrival_order
async def post_in_group(update: Update, context: Context) -> None:
    """/post <public summary> in a group: a coordinator posts a need without private details."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None or message.text is None:
        return
    if is_private(update):
        await start_draft(update, context)
        return
    svc, lang = service(context), context.lang
    if not svc.is_coordinator(user.id):
        await reply(update, t(lang, "not_coordinator"))
        return
    parts = message.text.split(maxsplit=1)
    summary = clean_text(parts[1]) if len(parts) > 1 else ""
    if not summary:
        await reply(update, t(lang, "post_usage_group"))
        return
    problem = svc.check_summary(summary)
    if problem:
        await reply(update, problem_text(lang, problem))
        return
    await svc.group_seen(chat.id, chat.title or str(chat.id))
    found = svc.private_data_in(summary)
    if found:
        await refuse_private_data(update, context, summary, found)
        return
    result = await svc.post_need(actor_of(user), chat.id, summary, PrivateDetails())
    if isinstance(result, TextProblem):
        await reply(update, problem_text(lang, result))
        return
    in_background(context, card_then_tidy(context, result, lang, user.id, message))


def findings_text(lang: str, found: list[Finding]) -> str:
    """What was found, one per line, escaped: only ever for a coordinator's private chat."""
    return "\n".join(
        t(
            lang,
            "privacy_finding",
            kind=t(lang, f"privacy_kind_{f.kind}"),
            text=html.escape(f.text),
        )
        for f in found
    )


async def refuse_private_data(
    update: Update, context: Context, summary: str, found: list[Finding]
) -> None:
    """Tell a coordinator why their group /post was not posted; what was found, only privately.

    Once the coordinator has it all in private, their message is taken out of the group (if
    the bot may delete it), so the household's number does not stay there either.
    """
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None and message is not None
    lang = context.person_lang
    text = t(
        lang,
        "privacy_found_post",
        group=html.escape(chat.title or str(chat.id)),
        found=findings_text(lang, found),
        summary=html.escape(summary),
    )
    delivery = await send_private(context.bot, user.id, text)
    if delivery is Delivery.DELIVERED:
        with contextlib.suppress(TelegramError):
            await message.delete()
        return
    if delivery is Delivery.UNREACHABLE:
        await service(context).unreachable(user.id)
    await reply(update, t(context.lang, "privacy_found_group", link=private_link(context)))


async def card_then_tidy(
    context: Context, need: Need, lang: str, author_id: int, command: Message
) -> None:
    """Post the card, then remove the coordinator's /post message from the group."""
    if await send_card(context, need, lang, author_id):
        # The bot may not have the right to delete; then the command stays, no harm.
        with contextlib.suppress(TelegramError):
            await command.delete()


def in_background(context: Context, work: Coroutine[Any, Any, None]) -> None:
    """Run a card post without holding up updates.

    A group takes 20 messages a minute: a handler that waited for its card would keep one
    of the few update-processing slots, and a coordinator posting a list would soon hold
    them all while volunteers' taps on the first cards wait past Telegram's 15 s. Cards of
    one group still go out in order (the pacing keeps each chat's order).
    """
    cards(context).track(asyncio.get_running_loop().create_task(work))


async def send_card(context: Context, need: Need, lang: str, author_id: int) -> bool:
    """Post a need's card; on failure tell its author (the next start or /repost retries)."""
    try:
        await cards(context).post(need.id)
    except TelegramError as exc:
        # Not posted, or not known to be (an ambiguous network failure): the coordinator
        # hears of it and can /repost; a card that did arrive unrecorded claims nothing.
        log.warning("card of need %d not posted: %s", need.id, exc.__class__.__name__)
        text = t(lang, "post_card_failed", id=need.id, reason=html.escape(exc.message))
        try:
            await context.bot.send_message(author_id, text, parse_mode="HTML")
        except TelegramError:
            log.warning("could not tell the author of need %d", need.id)
        return False
    return True


async def start_draft(update: Update, context: Context) -> None:
    """/post in private chat: start writing a need with private details."""
    user = update.effective_user
    if user is None:
        return
    svc, lang = service(context), context.lang
    if not svc.is_coordinator(user.id):
        await reply(update, t(lang, "not_coordinator"))
        return
    await svc.save_draft(Draft(user.id))  # a fresh start replaces any unfinished draft
    await reply(update, t(lang, "post_ask_summary"))


@in_arrival_order
async def draft_text(update: Update, context: Context) -> None:
    """A text answer while a coordinator writes a need in private chat; else a pointer."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    draft = await service(context).draft(user.id)
    if draft is None:
        await reply(update, t(context.lang, "private_text_hint"))
        return
    text = clean_text(message.text)
    if draft.step in (SUMMARY, CHECK):
        # At CHECK, typing instead of tapping a button is a new summary.
        await summary_given(update, context, draft, text)
    elif draft.step in DETAIL_STEPS:
        await detail_given(update, context, draft, text)
    elif draft.step == EDIT:
        await reply(update, t(context.lang, "edit_menu_hint"))
    else:
        await reply(update, t(context.lang, "post_ask_group"))


@in_arrival_order
async def draft_not_text(update: Update, context: Context) -> None:
    """A photo, sticker, voice or file while a need is being written: ask for text instead."""
    user = update.effective_user
    if user is None or await service(context).draft(user.id) is None:
        return
    await reply(update, t(context.lang, "post_expect_text"))


async def summary_given(update: Update, context: Context, draft: Draft, text: str) -> None:
    """The public summary: checked, then on to the private details, or a question first."""
    svc, lang = service(context), context.lang
    problem = svc.check_summary(text)
    if problem:
        await reply(update, problem_text(lang, problem))
        return
    found = svc.private_data_in(text)
    if not found:
        await next_step(update, context, replace(draft, summary=text, step=after_summary(draft)))
        return
    await svc.save_draft(replace(draft, summary=text, step=CHECK))
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        t(lang, "privacy_found_draft", found=findings_text(lang, found)),
        parse_mode=ParseMode.HTML,
        reply_markup=privacy_question(lang),
    )


def after_summary(draft: Draft) -> str:
    """The step after the summary: the first private detail, or an edit's menu."""
    return EDIT if draft.need_id is not None else DETAIL_STEPS[0]


def privacy_question(lang: str) -> InlineKeyboardMarkup:
    """The two answers to private data found in a drafted summary."""
    choices = (
        ("button_privacy_move", callbacks.PRIVACY_MOVE),
        ("button_privacy_keep", callbacks.PRIVACY_KEEP),
    )
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, key), callback_data=data)] for key, data in choices]
    )


async def detail_given(update: Update, context: Context, draft: Draft, text: str) -> None:
    """One private detail (or "-" to skip it); then the next one, or the group. In an edit,
    "-" clears the detail, and the menu comes next."""
    if text != SKIP:
        problem = service(context).check_detail(text)
        if problem:
            await reply(update, problem_text(context.lang, problem))
            return
    value = None if text == SKIP else text
    if draft.need_id is not None:
        draft = replace(draft, details=replace(draft.details, **{draft.step: value}))
        await next_step(update, context, replace(draft, step=EDIT))
        return
    if value is not None:
        draft = replace(draft, details=replace(draft.details, **{draft.step: value}))
    index = DETAIL_STEPS.index(draft.step)
    step = DETAIL_STEPS[index + 1] if index + 1 < len(DETAIL_STEPS) else GROUP
    await next_step(update, context, replace(draft, step=step))


async def next_step(update: Update, context: Context, draft: Draft) -> None:
    """Keep the draft as it now stands, and ask what its step asks."""
    draft = await service(context).save_draft(draft)
    if draft.step in DETAIL_STEPS:
        await reply(update, t(context.lang, f"post_ask_{draft.step}"))
    elif draft.step == EDIT:
        await show_edit_menu(update, context, draft)
    else:
        await ask_group(update, context, draft, context.lang)


@in_arrival_order
async def privacy_choice(update: Update, context: Context) -> None:
    """The coordinator chose: move what was found out of the summary, or post it as is."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    svc, lang = service(context), context.lang
    choice = callbacks.parse_choice(callbacks.PRIVACY_CHOICE, query.data)
    draft = await svc.draft(user.id)
    if not svc.is_coordinator(user.id) or draft is None or draft.step != CHECK or not choice:
        await query.answer(t(lang, "answer_bad_button"))
        return
    await query.answer()
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    if choice == "m" and draft.need_id is not None:
        await svc.save_draft(replace(draft, step=SUMMARY))  # the need keeps its summary
        await reply(update, t(lang, "edit_ask_summary"))
    elif choice == "m":
        await svc.save_draft(replace(draft, summary="", step=SUMMARY))
        await reply(update, t(lang, "post_ask_summary_again"))
    else:
        await next_step(update, context, replace(draft, step=after_summary(draft)))


async def show_edit_menu(update: Update, context: Context, draft: Draft) -> None:
    """An edit as it stands: the need's summary and details with the changes typed so far,
    a button for each field, and Save. Private chat with a coordinator only."""
    assert draft.need_id is not None
    svc, lang, need_id = service(context), context.lang, draft.need_id
    need = await svc.need(need_id)
    saved = await svc.details_for(need_id, draft.user_id) if need is not None else None
    if need is None or saved is None:
        await svc.drop_draft(draft.user_id)
        await reply(update, t(lang, "need_not_found", id=need_id))
        return
    changed = [SUMMARY] if draft.summary != need.summary else []
    changed += [f for f in DETAIL_STEPS if getattr(draft.details, f) != getattr(saved, f)]
    names = ", ".join(t(lang, f"edit_field_{f}") for f in changed)
    text = t(
        lang,
        "edit_menu",
        id=need_id,
        summary=html.escape(draft.summary),
        details=t(lang, "details_private") + "\n" + "\n".join(details_lines(draft.details, lang)),
        changes=t(lang, "edit_changes", fields=names) if changed else "",
    )
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        text, parse_mode=ParseMode.HTML, reply_markup=edit_markup(need_id, lang)
    )


def edit_markup(need_id: int, lang: str) -> InlineKeyboardMarkup:
    """A button for each field of a need being edited, then Save; each names the need."""
    rows = [
        [
            InlineKeyboardButton(
                t(lang, "button_edit_field", field=t(lang, f"edit_field_{field}")),
                callback_data=callbacks.edit_data(need_id, field),
            )
        ]
        for field in EDIT_FIELDS
    ]
    save = callbacks.edit_data(need_id, callbacks.EDIT_SAVE)
    rows.append([InlineKeyboardButton(t(lang, "button_edit_save"), callback_data=save)])
    return InlineKeyboardMarkup(rows)


async def ask_group(update: Update, context: Context, draft: Draft, lang: str) -> None:
    """Show exactly what the group will see, and let the coordinator pick the group.

    Nothing is posted without this confirmation: a slip (a name typed as the summary) is
    caught here, before any group sees it.
    """
    svc = service(context)
    groups = await svc.groups()
    if not groups:
        await svc.drop_draft(draft.user_id)
        await reply(update, t(lang, "post_no_groups"))
        return
    keyboard = [
        [
            InlineKeyboardButton(
                t(lang, "button_post_to", group=g.title[:50]),
                callback_data=callbacks.pick_group_data(g.chat_id),
            )
        ]
        for g in groups[:50]
    ]
    preview = html.escape(draft.summary)
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        t(lang, "post_preview", summary=preview),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


@in_arrival_order
async def group_picked(update: Update, context: Context) -> None:
    """The coordinator chose the group for a drafted need."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    svc, lang = service(context), context.lang
    chat_id = callbacks.parse_id(callbacks.PICK_GROUP, query.data)
    groups = {g.chat_id: g for g in await svc.groups()}
    draft = await svc.draft(user.id)
    if (
        not svc.is_coordinator(user.id)
        or draft is None
        or draft.step != GROUP
        or chat_id not in groups
        # Taken before posting: a second tap (a double tap, another group's button) then
        # finds no draft and posts nothing twice.
        or not await svc.drop_draft(user.id)
    ):
        await query.answer(t(lang, "answer_bad_button"))
        return
    await query.answer()
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    await publish(update, context, draft, groups[chat_id], lang)


async def publish(update: Update, context: Context, draft: Draft, group: Group, lang: str) -> None:
    """Save the drafted need and post its card in the chosen group."""
    user = update.effective_user
    assert user is not None
    result = await service(context).post_need(
        actor_of(user), group.chat_id, draft.summary, draft.details
    )
    if isinstance(result, TextProblem):
        await context.bot.send_message(user.id, problem_text(lang, result))
        return
    done = t(lang, "post_done", id=result.id, group=html.escape(group.title))
    in_background(context, card_then_confirm(context, result, lang, user.id, done))


async def card_then_confirm(
    context: Context, need: Need, lang: str, author_id: int, confirmation: str
) -> None:
    """Post the card, then tell the coordinator it is up."""
    if await send_card(context, need, lang, author_id):
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(author_id, confirmation, parse_mode="HTML")


@in_arrival_order
async def cancel(update: Update, context: Context) -> None:
    """/cancel: drop the need being written (or the edit under way)."""
    user = update.effective_user
    draft = await service(context).draft(user.id) if user is not None else None
    if draft is not None:
        await service(context).drop_draft(draft.user_id)
    if draft is not None and draft.need_id is not None:
        await reply(update, t(context.lang, "edit_cancelled", id=draft.need_id))
    else:
        await reply(update, t(context.lang, "post_cancelled"))


async def repost(update: Update, context: Context) -> None:
    """/repost <number>: a coordinator posts a fresh card for a need (the old one, if the bot
    knows it, is deleted and its button stops working)."""
    user, lang = update.effective_user, await coordinator_lang(update, context)
    if user is None or lang is None:
        return
    svc = service(context)
    need_id = parse_need_number(" ".join(context.args or []))
    need = await svc.need(need_id) if need_id is not None else None
    if need is None or need.closed_at is not None:
        await reply(update, t(lang, "repost_usage"))
        return
    old_card = need.card_message_id
    if await send_card(context, need, lang, user.id):
        if old_card is not None and need.board_id is not None:
            # A board: it stays for its other needs, and no longer lists this one.
            cards(context).message_changed(need.chat_id, old_card)
        elif old_card is not None:
            with contextlib.suppress(TelegramError):
                await context.bot.delete_message(need.chat_id, old_card)
        await reply(update, t(lang, "repost_done", id=need.id))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The posting commands, the private form's answers, and the pointer for stray text."""
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    # Not text and not a service message: a photo, sticker, voice, file, location...
    private_other = filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
    app.add_handler(CommandHandler("post", post_in_group))
    app.add_handler(CommandHandler("cancel", cancel, filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("repost", repost))
    app.add_handler(CallbackQueryHandler(group_picked, pattern=callbacks.PICK_GROUP))
    app.add_handler(CallbackQueryHandler(privacy_choice, pattern=callbacks.PRIVACY_CHOICE))
    app.add_handler(MessageHandler(private_text, draft_text))
    # In a later handler group: it answers only during a draft, and must not take a file or
    # photo from a feature of the default group that expects one.
    app.add_handler(MessageHandler(private_other, draft_not_text), group=1)
