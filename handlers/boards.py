"""/board, a group's pinned progress board, and the job that posts boards from the outbox."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot.delivery import send_private
from bot.i18n import t
from bot.runtime import Context, cards, service
from handlers.common import is_private, reply

log = logging.getLogger(__name__)

JOB_NAME = "boards-outbox"
# How often the outbox of boards is looked at: an import written by `claimbot import` in
# another process reaches the group within about this long.
OUTBOX_EVERY_SECONDS = 1.0


async def board_command(update: Update, context: Context) -> None:
    """/board in a group: a coordinator posts (or re-posts) the group's progress board."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None:
        return
    lang = context.lang
    if not service(context).is_coordinator(user.id):
        await reply(update, t(lang, "board_only_coordinators"))
        return
    if is_private(update):
        await reply(update, t(lang, "board_in_group"))
        return
    await service(context).group_seen(chat.id, chat.title or str(chat.id))
    try:
        posted = await cards(context).progress.post(chat.id)
    except TelegramError as exc:
        log.warning("progress board not posted: %s", type(exc).__name__)
        await send_private(context.bot, user.id, t(context.person_lang, "board_failed"))
        return
    if not posted.pinned:
        await send_private(context.bot, user.id, t(context.person_lang, "board_not_pinned"))
    # The bot may not have the right to delete; then the command stays, no harm.
    with contextlib.suppress(TelegramError):
        await message.delete()


async def outbox_job(context: Context) -> None:
    """Every second: post boards waiting in the outbox (an error is logged, the job goes on)."""
    try:
        await cards(context).post_outbox()
    except Exception as exc:
        log.error("boards outbox not read: %s", type(exc).__name__, exc_info=exc)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The /board command and the outbox job."""
    app.add_handler(CommandHandler("board", board_command))
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            outbox_job,
            interval=OUTBOX_EVERY_SECONDS,
            first=0,
            name=JOB_NAME,
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
