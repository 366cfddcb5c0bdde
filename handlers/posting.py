"""Posting needs: ``/post <summary>`` in a group, or step by step with private details in private.

The step-by-step form keeps its draft in ``user_data``; a restart drops an unfinished draft,
which has not been acknowledged to anyone, so nothing promised is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.domain import Group, Need, PrivateDetails
from bot.i18n import t
from bot.runtime import Context, cards, service
from bot.service import TextProblem, clean_text, parse_need_number
from handlers.common import actor_of, coordinator_lang, is_private, reply

log = logging.getLogger(__name__)

DRAFT = "post_draft"
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
# The private details asked for, in order, after the public summary.
DETAIL_STEPS = ("name", "address", "phone", "health", "notes")
SKIP = "-"


@dataclass
class Draft:
    """A need being written in private chat."""

    step: str = "summary"
    summary: str = ""
    details: dict[str, str] = field(default_factory=dict)


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
    if len(parts) < 2 or not clean_text(parts[1]):
        await reply(update, t(lang, "post_usage_group"))
        return
    await svc.group_seen(chat.id, chat.title or str(chat.id))
    result = await svc.post_need(actor_of(user), chat.id, parts[1], PrivateDetails())
    if isinstance(result, TextProblem):
        await reply(update, problem_text(lang, result))
        return
    in_background(context, card_then_tidy(context, result, lang, user.id, message))


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
    if user is None or context.user_data is None:
        return
    svc, lang = service(context), context.lang
    if not svc.is_coordinator(user.id):
        await reply(update, t(lang, "not_coordinator"))
        return
    context.user_data[DRAFT] = Draft()
    await reply(update, t(lang, "post_ask_summary"))


@in_arrival_order
async def draft_text(update: Update, context: Context) -> None:
    """A text answer while a coordinator writes a need in private chat."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None or context.user_data is None:
        return
    draft = context.user_data.get(DRAFT)
    if not isinstance(draft, Draft):
        await reply(update, t(context.lang, "unknown_command"))
        return
    svc, lang = service(context), context.lang
    text = clean_text(message.text)
    if draft.step == "summary":
        problem = svc.check_summary(text)
        if problem:
            await reply(update, problem_text(lang, problem))
            return
        draft.summary, draft.step = text, DETAIL_STEPS[0]
    elif draft.step in DETAIL_STEPS:
        if text != SKIP:
            problem = svc.check_detail(text)
            if problem:
                await reply(update, problem_text(lang, problem))
                return
            draft.details[draft.step] = text
        index = DETAIL_STEPS.index(draft.step)
        draft.step = DETAIL_STEPS[index + 1] if index + 1 < len(DETAIL_STEPS) else "group"
    else:
        await reply(update, t(lang, "post_ask_group"))
        return
    if draft.step in DETAIL_STEPS:
        await reply(update, t(lang, f"post_ask_{draft.step}"))
        return
    await ask_group(update, context, draft, lang)


async def ask_group(update: Update, context: Context, draft: Draft, lang: str) -> None:
    """Show exactly what the group will see, and let the coordinator pick the group.

    Nothing is posted without this confirmation: a slip (a name typed as the summary) is
    caught here, before any group sees it.
    """
    groups = await service(context).groups()
    if not groups:
        context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
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
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


@in_arrival_order
async def group_picked(update: Update, context: Context) -> None:
    """The coordinator chose the group for a drafted need."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or context.user_data is None:
        return
    # Take the draft before anything else: a second tap (a double tap, another group's
    # button) then finds none and posts nothing twice.
    draft = context.user_data.pop(DRAFT, None)
    lang = context.lang
    chat_id = callbacks.parse_id(callbacks.PICK_GROUP, query.data)
    groups = {g.chat_id: g for g in await service(context).groups()}
    if (
        not service(context).is_coordinator(user.id)
        or not isinstance(draft, Draft)
        or draft.step != "group"
        or chat_id not in groups
    ):
        if isinstance(draft, Draft):
            context.user_data[DRAFT] = draft  # a stray button; the draft stays as it was
        await query.answer(t(lang, "answer_bad_button"))
        return
    await query.answer()
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    await publish(update, context, draft, groups[chat_id], lang)


async def publish(update: Update, context: Context, draft: Draft, group: Group, lang: str) -> None:
    """Save the drafted need and post its card in the chosen group."""
    user = update.effective_user
    assert user is not None and context.user_data is not None
    details = replace(PrivateDetails(), **draft.details)
    result = await service(context).post_need(
        actor_of(user), group.chat_id, draft.summary, details
    )
    context.user_data.pop(DRAFT, None)
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
    """/cancel: drop the need being written."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
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
        if old_card is not None:
            with contextlib.suppress(TelegramError):
                await context.bot.delete_message(need.chat_id, old_card)
        await reply(update, t(lang, "repost_done", id=need.id))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The posting commands."""
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    app.add_handler(CommandHandler("post", post_in_group))
    app.add_handler(CommandHandler("cancel", cancel, filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("repost", repost))
    app.add_handler(CallbackQueryHandler(group_picked, pattern=callbacks.PICK_GROUP))
    app.add_handler(MessageHandler(private_text, draft_text))
