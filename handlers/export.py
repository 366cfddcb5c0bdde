"""The record a coordinator sends upward: /export."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot.export import FORMATS, export_file
from bot.i18n import t
from bot.runtime import Context, service
from handlers.common import coordinator_lang, is_private, private_link, reply

TIME_SHOWN = "%Y-%m-%d %H:%M"


def export_format(args: list[str] | None) -> str | None:
    """``xlsx`` (no argument) or ``csv``, as typed after /export; None for anything else."""
    if not args:
        return "xlsx"
    choice = args[0].lower().lstrip(".")
    return choice if len(args) == 1 and choice in FORMATS else None


async def export_command(update: Update, context: Context) -> None:
    """/export [xlsx|csv]: the whole record as a file, to a coordinator in private chat only.

    The file holds households' private details: it is built in memory, sent, and dropped;
    it never touches the server's disk or its log.
    """
    chat = update.effective_chat
    lang = await coordinator_lang(update, context)
    if chat is None or lang is None:
        return
    if not is_private(update):
        await reply(update, t(lang, "export_private_only", link=private_link(context)))
        return
    fmt = export_format(context.args)
    if fmt is None:
        await reply(update, t(lang, "export_usage"))
        return
    svc = service(context)
    now = svc.clock()
    export = await export_file(svc.db, svc.config, lang, fmt, now)
    caption = t(
        lang,
        "export_caption",
        time=now.astimezone(svc.config.tz).strftime(TIME_SHOWN),
        needs=export.needs,
        claims=export.claims,
        visits=export.visits,
    )
    await context.bot.send_document(
        chat.id,
        document=export.data,
        filename=export.filename,
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The export command."""
    app.add_handler(CommandHandler("export", export_command))
