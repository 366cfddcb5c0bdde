"""A spreadsheet of needs sent to the bot in private chat: checked, then a group, a summary
and a Confirm tap before anything is written.

The file waits in the database between the steps, so a restart loses nothing; its buttons
name it, so a tap on an older file's buttons does nothing. Confirm writes the needs and their
boards (the outbox the poster sends from) and a progress message the poster keeps current.
"""

from __future__ import annotations

import contextlib
import html
import logging
from pathlib import PurePath

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.board_render import import_progress_text
from bot.domain import Group
from bot.i18n import t
from bot.importing import ImportService
from bot.runtime import Context, service
from bot.spreadsheet import MAX_FILE_BYTES, SUFFIXES, Issue, SheetCheck, describe_all
from handlers.common import answer, reply
from storage.imports import ImportPlan, PendingImport

log = logging.getLogger(__name__)

# Characters of problem lines in one message, within Telegram's 4,096 with the framing text.
PROBLEMS_BUDGET = 3300
WARNINGS_BUDGET = 1200


def importer(context: Context) -> ImportService:
    """The import service, over the pairing service's database and config."""
    svc = service(context)
    return ImportService(svc.db, svc.config, svc.clock)


def issue_lines(issues: list[Issue], lang: str, budget: int) -> str:
    """Issues in words, escaped, as many as fit ``budget`` characters."""
    return "\n".join(describe_all(issues, lang, html.escape, budget))


def problems_text(sheet: SheetCheck, filename: str, lang: str) -> str:
    """Why a file was not imported: every problem with its line, as many as fit."""
    return t(
        lang,
        "import_problems",
        file=html.escape(filename),
        count=len(sheet.problems),
        lines=issue_lines(sheet.problems, lang, PROBLEMS_BUDGET),
    )


def warnings_text(sheet: SheetCheck, lang: str) -> str:
    """What is worth knowing about a clean file, or nothing."""
    if not sheet.warnings:
        return ""
    return t(lang, "import_warnings", lines=issue_lines(sheet.warnings, lang, WARNINGS_BUDGET))


async def document_received(update: Update, context: Context) -> None:
    """A file in private chat: a coordinator's spreadsheet is checked whole, and if clean
    kept while they pick a group; anyone else is told only coordinators import."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.document is None:
        return
    lang, svc = context.lang, service(context)
    name = message.document.file_name or ""
    if svc.is_coordinator(user.id) and await svc.draft(user.id) is not None:
        return  # a need is being written: the form answers (text, or /cancel first)
    if not svc.is_coordinator(user.id):
        await reply(update, t(lang, "import_not_coordinator"))
    elif PurePath(name).suffix.lower() not in (*SUFFIXES, ".xls"):
        await reply(update, t(lang, "import_file_type"))
    elif (message.document.file_size or 0) > MAX_FILE_BYTES:
        size = (message.document.file_size or 0) // 1024
        too_big = Issue("too_big", params={"size": size, "limit": MAX_FILE_BYTES // 1024})
        await reply(update, problems_text(SheetCheck([], [too_big], []), name, lang))
    else:
        await check_document(update, context, name)
    # Answered: posting's hint for a file sent during its form is not needed too.
    raise ApplicationHandlerStop


async def check_document(update: Update, context: Context, name: str) -> None:
    """Fetch the file, check it, and keep it and ask for a group if it is clean."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and message.document is not None
    lang, imports = context.lang, importer(context)
    try:
        file = await message.document.get_file()
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("spreadsheet not fetched: %s", exc.__class__.__name__)
        await reply(update, t(lang, "import_download_failed"))
        return
    sheet = await imports.check(data, name)
    if not sheet.clean:
        await reply(update, problems_text(sheet, name, lang))
        return
    groups = await service(context).groups()
    if not groups:
        await reply(update, t(lang, "import_no_groups"))
        return
    pending_id = await imports.keep(user.id, name, data)
    keyboard = [
        [
            InlineKeyboardButton(
                g.title[:50], callback_data=callbacks.import_group_data(pending_id, g.chat_id)
            )
        ]
        for g in groups[:50]
    ]
    keyboard.append([cancel_button(pending_id, lang)])
    text = t(
        lang,
        "import_pick_group",
        file=html.escape(name),
        count=len(sheet.needs),
        warnings=warnings_text(sheet, lang),
    )
    await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(keyboard)
    )


def cancel_button(pending_id: int, lang: str) -> InlineKeyboardButton:
    """Cancel, for a waiting import."""
    data = callbacks.import_cancel_data(pending_id)
    return InlineKeyboardButton(t(lang, "button_import_cancel"), callback_data=data)


async def waiting_for(
    update: Update, context: Context, confirming: bool
) -> tuple[CallbackQuery, PendingImport, Group] | None:
    """The tap's waiting file and group, if the tapper is its coordinator and both are still
    there (Confirm: for the group its summary showed); otherwise the tap is answered, and
    None comes back."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return None
    pattern = callbacks.IMPORT_CONFIRM if confirming else callbacks.IMPORT_GROUP
    ids = callbacks.parse_ids(pattern, query.data)
    if not service(context).is_coordinator(user.id):
        await answer(query, t(context.lang, "not_coordinator"))
        return None
    if ids is None:
        await answer(query, t(context.lang, "answer_bad_button"))
        return None
    imports = importer(context)
    waiting = await imports.pending(ids[0], user.id)
    group = await imports.group(ids[1])
    if waiting is None or group is None or (confirming and waiting.chat_id != group.chat_id):
        await answer(query, t(context.lang, "import_stale"))
        return None
    return query, waiting, group


async def group_tapped(update: Update, context: Context) -> None:
    """The group for a waiting file: a summary of what will be posted and skipped, and
    Confirm (or, if the group has every need already, nothing to do)."""
    found = await waiting_for(update, context, confirming=False)
    if found is None:
        return
    query, waiting, group = found
    lang, imports = context.lang, importer(context)
    await answer(query)
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    sheet = await imports.check(waiting.data, waiting.filename)
    if not sheet.clean:  # the limits changed since it was sent
        await imports.cancel(waiting.id, waiting.user_id)
        await send(context, waiting.user_id, problems_text(sheet, waiting.filename, lang))
        return
    plan = await imports.plan(group.chat_id, sheet)
    if not plan.new:
        await imports.cancel(waiting.id, waiting.user_id)
        await send(context, waiting.user_id, nothing_new(waiting, group, lang))
        return
    await imports.choose_group(waiting.id, waiting.user_id, group.chat_id)
    confirm = callbacks.import_confirm_data(waiting.id, group.chat_id)
    buttons = [
        InlineKeyboardButton(
            t(lang, "button_import_confirm", count=len(plan.new)), callback_data=confirm
        ),
        cancel_button(waiting.id, lang),
    ]
    text = summary_text(waiting, group, plan, sheet, lang, context)
    await send(context, waiting.user_id, text, InlineKeyboardMarkup([buttons]))


def summary_text(
    waiting: PendingImport,
    group: Group,
    plan: ImportPlan,
    sheet: SheetCheck,
    lang: str,
    context: Context,
) -> str:
    """What Confirm will do: needs posted, boards used, needs skipped, and the warnings."""
    same = t(lang, "import_same_rule")
    skipped = t(lang, "import_skipped", skipped=len(plan.skipped), same=same)
    return t(
        lang,
        "import_summary",
        file=html.escape(waiting.filename),
        group=html.escape(group.title),
        new=len(plan.new),
        boards=plan.boards,
        per_board=service(context).config.posting.needs_per_board,
        skipped=skipped if plan.skipped else "",
        warnings=warnings_text(sheet, lang),
    )


def nothing_new(waiting: PendingImport, group: Group, lang: str) -> str:
    """Every need of the file is in the group already."""
    return t(
        lang,
        "import_nothing_new",
        file=html.escape(waiting.filename),
        group=html.escape(group.title),
        same=t(lang, "import_same_rule"),
    )


async def confirm_tapped(update: Update, context: Context) -> None:
    """Confirm: the needs and their boards are written (a second tap writes nothing), and a
    progress message goes to the coordinator, for the poster to edit as boards go out."""
    found = await waiting_for(update, context, confirming=True)
    if found is None:
        return
    query, waiting, group = found
    lang, imports = context.lang, importer(context)
    await answer(query)
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    result = await imports.confirm(waiting, group.chat_id, waiting.user_id)
    if result is None:
        return  # taken by an earlier tap
    if isinstance(result, SheetCheck):
        await imports.cancel(waiting.id, waiting.user_id)
        await send(context, waiting.user_id, problems_text(result, waiting.filename, lang))
        return
    if not result.added:  # the group got them meanwhile
        await send(context, waiting.user_id, nothing_new(waiting, group, lang))
        return
    # The poster edits this message as the boards go out, in the same words.
    text = import_progress_text(0, len(result.added), lang)
    message_id = await send(context, waiting.user_id, text)
    if message_id is not None:
        await imports.report_message(result.import_id, message_id)


async def cancel_tapped(update: Update, context: Context) -> None:
    """Cancel: the waiting file is dropped; nothing is posted."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    pending_id = callbacks.parse_id(callbacks.IMPORT_CANCEL, query.data)
    if pending_id is None or not await importer(context).cancel(pending_id, user.id):
        await answer(query, t(context.lang, "import_stale"))
        return
    await answer(query)
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)
    await send(context, user.id, t(context.lang, "import_cancelled"))


async def send(
    context: Context, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> int | None:
    """A message to the coordinator's private chat; its id, or None if it did not go."""
    try:
        message = await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    except TelegramError as exc:
        log.warning("import message not sent: %s", exc.__class__.__name__)
        return None
    return int(message.message_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """A file in private chat, and the buttons of a waiting import."""
    private_file = filters.ChatType.PRIVATE & filters.Document.ALL
    app.add_handler(MessageHandler(private_file, document_received))
    app.add_handler(CallbackQueryHandler(group_tapped, pattern=callbacks.IMPORT_GROUP))
    app.add_handler(CallbackQueryHandler(confirm_tapped, pattern=callbacks.IMPORT_CONFIRM))
    app.add_handler(CallbackQueryHandler(cancel_tapped, pattern=callbacks.IMPORT_CANCEL))
