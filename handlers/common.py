"""/start (with deep links), /help, /lang, group tracking, unknown commands, errors."""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import CallbackQuery, Chat, Update, User
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.delivery import with_retries
from bot.domain import Actor
from bot.i18n import t
from bot.render import details_message, pairing_markup
from bot.runtime import Context, cards, known_groups, service

log = logging.getLogger(__name__)


def actor_of(user: User) -> Actor:
    """The plain facts about a Telegram user that the service keeps."""
    return Actor(
        user_id=user.id,
        display_name=user.full_name or str(user.id),
        username=user.username,
        language_code=user.language_code,
    )


async def identify(update: Update, context: Context) -> None:
    """Before any other handler: who sent the update, recorded once, and their languages.

    An update whose first step decides a need (a tap on Claim or Release, /release, /free,
    /reassign) is not identified here: its language is known from what the database keeps,
    and nothing comes between its arrival and its turn at the writer, so it is decided in
    the order Telegram delivered it, before any later tap.
    """
    user, chat = update.effective_user, update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    svc = service(context)
    if user is not None and not user.is_bot and not decides_first(update):
        context.person = await svc.identify(actor_of(user), in_private=private)
        context.person_lang = svc.language_of(context.person)
    elif user is not None:
        context.person_lang = svc.tapper_language(user.id, user.language_code)
    context.lang = context.person_lang if private or chat is None else svc.config.language


_DECIDING_BUTTONS = (callbacks.CLAIM, callbacks.RELEASE)
_DECIDING_COMMANDS = frozenset({"release", "free", "reassign"})


def decides_first(update: Update) -> bool:
    """Whether the update's handler goes straight to deciding a need (see identify)."""
    query = update.callback_query
    if query is not None:
        return any(callbacks.parse_id(p, query.data) is not None for p in _DECIDING_BUTTONS)
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return False
    command = message.text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return command in _DECIDING_COMMANDS


async def reply(update: Update, text: str) -> None:
    """Answer the message that triggered the update (HTML)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
        )


async def answer(query: CallbackQuery, text: str | None = None, url: str | None = None) -> None:
    """Answer a tap (network faults retried); a query too old to answer is logged, not raised."""
    try:
        await with_retries(lambda: query.answer(text, url=url), "tap answer", wait_out_429=False)
    except TelegramError as exc:
        log.info("tap not answered: %s", exc.__class__.__name__)


async def coordinator_lang(update: Update, context: Context) -> str | None:
    """The caller's language if they are a coordinator; else tell them no and return None."""
    user = update.effective_user
    if user is None:
        return None
    if not service(context).is_coordinator(user.id):
        await reply(update, t(context.lang, "not_coordinator"))
        return None
    return context.lang


def is_private(update: Update) -> bool:
    """Whether the update comes from a private chat with the bot."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def private_link(context: Context) -> str:
    """A link that opens the private chat with the bot."""
    return f"https://t.me/{context.bot.username}"


async def start(update: Update, context: Context) -> None:
    """/start, optionally with a deep-link payload that delivers a claim's details."""
    user = update.effective_user
    if user is None or not is_private(update):
        return
    svc, lang = service(context), context.lang
    payload = context.args[0] if context.args else None
    if payload:
        need = await svc.need_by_details_link(payload, user.id)
        details = await svc.details_for(need.id, user.id) if need else None
        place = need.holder_of(user.id) if need is not None else None
        if need is None or place is None or details is None:
            await reply(update, t(lang, "deeplink_invalid"))
            return
        await update.effective_message.reply_text(  # type: ignore[union-attr]
            details_message(need, details, lang),
            parse_mode=ParseMode.HTML,
            reply_markup=pairing_markup(place.claim_id, lang),
        )
        return
    await reply(update, t(lang, "start_welcome", name=html.escape(user.first_name)))


async def help_command(update: Update, context: Context) -> None:
    """/help: the commands this person can use."""
    user = update.effective_user
    if user is None:
        return
    lang = context.lang
    text = t(lang, "help_volunteer")
    if service(context).is_coordinator(user.id):
        text += t(lang, "help_coordinator") + t(lang, "help_life")
    await reply(update, text)


async def lang_command(update: Update, context: Context) -> None:
    """/lang zh|en: choose the language the bot speaks with you."""
    user = update.effective_user
    if user is None:
        return
    svc = service(context)
    choice = context.args[0].lower() if context.args and len(context.args) == 1 else ""
    if not await svc.set_language(user.id, choice):
        await reply(update, t(context.lang, "lang_usage"))
        return
    await reply(update, t(choice, "lang_set"))


async def track_group(update: Update, context: Context) -> None:
    """Remember each group the bot hears from, so coordinators can post to it."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    if message is not None and message.migrate_to_chat_id is not None:
        return  # the group's last words: it lives on under its new id
    known = known_groups(context)
    title = chat.title or str(chat.id)
    if known.get(chat.id) != title:
        await service(context).group_seen(chat.id, title)
        known[chat.id] = title


async def membership_changed(update: Update, context: Context) -> None:
    """The bot was added to or removed from a group."""
    change = update.my_chat_member
    if change is None or change.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await service(context).group_gone(change.chat.id)
        known_groups(context).pop(change.chat.id, None)
    else:
        await track_group(update, context)


async def group_migrated(update: Update, context: Context) -> None:
    """Telegram moved a group to a supergroup with a new chat id: its needs follow."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    known_groups(context).pop(old, None)
    await cards(context).follow_migration(old, new)


def addressed_to_another_bot(text: str, bot_username: str) -> bool:
    """Whether a command like ``/foo@otherbot`` names a different bot."""
    command = text.split(maxsplit=1)[0]
    return "@" in command and command.split("@", 1)[1].lower() != bot_username.lower()


async def unknown_command(update: Update, context: Context) -> None:
    """Any command no handler took: say so, change nothing."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if addressed_to_another_bot(message.text, context.bot.username):
        return
    # In a group, a bare /command may be meant for another bot or a person; answering it would
    # spend the group's 20 messages a minute. Only /command@thisbot gets the answer.
    if not is_private(update) and "@" not in message.text.split(maxsplit=1)[0]:
        return
    await reply(update, t(context.lang, "unknown_command"))


async def on_error(update: object, context: Context) -> None:
    """Log a failed update without its contents (they may hold private details)."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s", update_id, error.__class__.__name__, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, TelegramError):
        return
    chat: Chat | None = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        try:
            person = await service(context).person(chat.id)
            lang = service(context).language_of(person)
            await context.bot.send_message(chat.id, t(lang, "error_try_again"))
        except Exception:
            log.warning("could not tell the user about the failed update")
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Commands every person can use, and group tracking (before all other handlers)."""
    app.add_handler(TypeHandler(Update, identify), group=-2)
    app.add_handler(MessageHandler(filters.ChatType.GROUPS, track_group, block=False), group=-1)
    app.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("lang", lang_command))


def register_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """Last handlers of the default group: unknown commands; and the error handler."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_error_handler(on_error)
