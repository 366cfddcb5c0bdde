"""Reminders: the job that sends due reminders, /remind and /reminders for coordinators.

The job is python-telegram-bot's JobQueue (APScheduler) running every ``check_every``: it
holds nothing itself; each run asks the database what is due (ReminderService), so a
restart, or a run that overlaps another, sends nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ExtBot, JobQueue

from bot import callbacks
from bot.delivery import retry_seconds, surely_not_sent
from bot.domain import Reminder
from bot.i18n import t
from bot.reminders import (
    BROADCAST_MAX_LENGTH,
    ReminderService,
    listed_text,
    local_text,
)
from bot.runtime import Context, reminders
from handlers.common import answer, coordinator_lang, is_private, private_link, reply

log = logging.getLogger(__name__)

JOB_NAME = "claimbot.reminders"
BATCH = 50  # due reminders taken at a time; each is sent on its own, paced by the limiter
# Reminder sends are bulk: the rate limiter lets a person's own answers go first.
BULK: dict[str, Any] = {"bulk": True}
NETWORK_RETRY = timedelta(seconds=30)
FLOOD_MARGIN = timedelta(seconds=1)


def bulk_args(bot: ExtBot[Any]) -> dict[str, Any] | None:
    """``rate_limit_args`` for a reminder send (none without a rate limiter: PTB refuses)."""
    return BULK if bot.rate_limiter is not None else None


async def send_reminder(bot: ExtBot[Any], svc: ReminderService, reminder: Reminder) -> bool:
    """Send one due reminder, at most once; True if Telegram took it."""
    outgoing = await svc.take(reminder)
    if outgoing is None:
        return False
    markup = None
    if outgoing.log_visit is not None:
        data = callbacks.log_visit_data(outgoing.log_visit)
        button = InlineKeyboardButton(t(outgoing.lang, "button_log_visit"), callback_data=data)
        markup = InlineKeyboardMarkup([[button]])
    try:
        await bot.send_message(
            outgoing.chat_id,
            outgoing.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            disable_web_page_preview=True,
            rate_limit_args=bulk_args(bot),
        )
    except Forbidden:
        await svc.unreachable(reminder)
    except RetryAfter as exc:
        wait = timedelta(seconds=retry_seconds(exc)) + FLOOD_MARGIN
        await svc.retry(reminder, wait, "flood limit (429)")
    except ChatMigrated:
        await svc.failed(reminder, "the group moved to a new chat id")
    except BadRequest as exc:
        await svc.failed(reminder, f"refused: {exc.message[:120]}")
    except NetworkError as exc:
        if surely_not_sent(exc):
            wait = NETWORK_RETRY * 2 ** max(reminder.attempts, 0)
            await svc.retry(reminder, wait, f"network: {exc.__class__.__name__}")
        else:
            # Telegram may have taken it; sending again could post it twice.
            await svc.failed(reminder, f"network: {exc.__class__.__name__}; may have arrived")
    except TelegramError as exc:
        await svc.failed(reminder, exc.__class__.__name__)
    else:
        await svc.delivered(reminder)
        return True
    log.info("reminder %d (%s) not delivered", reminder.id, reminder.kind)
    return False


async def send_one(bot: ExtBot[Any], svc: ReminderService, reminder: Reminder) -> bool:
    """Send one reminder; whatever goes wrong is logged (ids and kinds only) and recorded."""
    try:
        return await send_reminder(bot, svc, reminder)
    except Exception as exc:
        log.error("reminder %d (%s) failed: %s", reminder.id, reminder.kind, type(exc).__name__)
        with contextlib.suppress(Exception):
            await svc.failed(reminder, f"internal error: {exc.__class__.__name__}")
        return False


async def run_reminders(
    bot: ExtBot[Any],
    svc: ReminderService,
    keep_going: Callable[[], bool] = lambda: True,
    wait: bool = False,
) -> int:
    """Plan, then send everything due, a batch at a time while ``keep_going()``; returns
    how many Telegram took. A run already under way is not joined (unless ``wait``)."""
    if svc.lock.locked() and not wait:
        return 0
    sent = 0
    async with svc.lock:
        await svc.prepare()
        seen: set[int] = set()
        while keep_going():
            batch = [r for r in await svc.due(BATCH) if r.id not in seen]
            if not batch:
                break
            seen.update(r.id for r in batch)
            results = await asyncio.gather(*(send_one(bot, svc, r) for r in batch))
            sent += sum(results)
    return sent


async def reminders_job(context: Context) -> None:
    """The scheduler's call: send what is due; an error is logged, the schedule goes on."""
    app = context.application
    try:
        await run_reminders(context.bot, reminders(context), keep_going=lambda: app.running)
    except Exception as exc:
        log.error("reminder run failed: %s", exc.__class__.__name__, exc_info=exc)


async def start_reminders(context: Context) -> None:
    """At start: repeat every ``check_every``, and run once now, so what fell due while
    the bot was down goes out (or is marked missed) at once."""
    every = reminders(context).settings.check_every.total_seconds()
    job_queue = cast("JobQueue[Context] | None", context.job_queue)
    assert job_queue is not None
    job_queue.run_repeating(
        reminders_job,
        interval=every,
        first=every,
        name=JOB_NAME,
        # A second run while a long fan-out is under way returns at once (the lock); an
        # overdue run after a busy loop still runs, once.
        job_kwargs={"max_instances": 2, "coalesce": True, "misfire_grace_time": None},
    )
    await reminders_job(context)


# -- coordinators' commands ------------------------------------------------------------------


def cancel_markup(listed: list[Reminder], lang: str) -> InlineKeyboardMarkup | None:
    """A Cancel button for each scheduled fan-out."""
    rows = [
        [
            InlineKeyboardButton(
                t(lang, "rem_button_cancel", id=reminder.id),
                callback_data=callbacks.cancel_reminder_data(reminder.id),
            )
        ]
        for reminder in listed
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def listing(context: Context, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /reminders message and its Cancel buttons."""
    svc = reminders(context)
    listed, others = await svc.scheduled()
    return listed_text(listed, others, lang, svc.config.tz), cancel_markup(listed, lang)


async def remind_command(update: Update, context: Context) -> None:
    """/remind <when> <text>: a coordinator schedules a message to every current claimer."""
    user, message = update.effective_user, update.effective_message
    lang = await coordinator_lang(update, context)
    if user is None or message is None or message.text is None or lang is None:
        return
    if not is_private(update):
        await reply(update, t(lang, "private_only", link=private_link(context)))
        return
    svc = reminders(context)
    args = message.text.split(maxsplit=1)[1] if len(message.text.split()) > 1 else ""
    request = f"{message.chat.id}:{message.message_id}"
    result = await svc.schedule_broadcast(user.id, request, args)
    if isinstance(result, str):
        await reply(update, t(lang, result, limit=BROADCAST_MAX_LENGTH))
        return
    when = local_text(result.goes_out, svc.config.tz)
    text = t(lang, "rem_scheduled", id=result.reminder.id, when=when, count=result.claimers)
    await reply(update, text)


async def list_command(update: Update, context: Context) -> None:
    """/reminders: what is scheduled, each with a Cancel button (coordinators, private)."""
    message, lang = update.effective_message, await coordinator_lang(update, context)
    if message is None or lang is None:
        return
    if not is_private(update):
        await reply(update, t(lang, "private_only", link=private_link(context)))
        return
    text, markup = await listing(context, lang)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def cancel_tapped(update: Update, context: Context) -> None:
    """A Cancel button under /reminders: a coordinator cancels a scheduled reminder."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = context.person_lang
    reminder_id = callbacks.parse_id(callbacks.CANCEL_REMINDER, query.data)
    if reminder_id is None:
        await answer(query, t(lang, "answer_bad_button"))
        return
    outcome = await reminders(context).cancel(user.id, reminder_id)
    if outcome is None:
        await answer(query, t(lang, "not_coordinator"))
        return
    key = "rem_cancelled" if outcome else "rem_cancel_stale"
    await answer(query, t(lang, key, id=reminder_id))
    # The list lives in the coordinator's private chat; a forged tap on any other message
    # must not overwrite it.
    if query.message is not None and query.message.chat.type == ChatType.PRIVATE:
        text, markup = await listing(context, lang)
        # The list as it stands now; unchanged or too old to edit are both fine.
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The reminder commands and the job that sends due reminders."""
    app.add_handler(CommandHandler("remind", remind_command))
    app.add_handler(CommandHandler("reminders", list_command))
    app.add_handler(CallbackQueryHandler(cancel_tapped, pattern=callbacks.CANCEL_REMINDER))
    if app.job_queue is not None:
        # Runs when the application starts, however long after this it is.
        app.job_queue.run_once(
            start_reminders, when=0, name=JOB_NAME, job_kwargs={"misfire_grace_time": None}
        )
