"""The Bot API emulator: an aiohttp server on loopback plus an in-process API for sim users."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import itertools
import json
import logging
import re
import socket
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from bot.emulator.formatting import EntityParseError, command_entities, parse_html
from bot.emulator.model import (
    JSON,
    PAYLOAD,
    ApiError,
    Revision,
    SimChat,
    SimDocument,
    SimMessage,
    SimUser,
    UploadedFile,
    bad_request,
)
from bot.emulator.params import read_params
from bot.emulator.timing import Clock, FaultPlan, Faults, FloodControl, Limits

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_UPLOAD: Final = 50 * 1024 * 1024
DELETE_WINDOW: Final = 48 * 3600.0
CALLBACK_ANSWER_WINDOW: Final = 15.0
UPDATE_LIFETIME: Final = 24 * 3600.0
# getUpdates without allowed_updates delivers every type except these three.
ALL_UPDATE_TYPES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES: Final = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
BUTTON_KINDS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = (
    "query is too old and response timeout expired or query ID is invalid"
)
TERMINATED: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
SERVICE_USER: Final[JSON] = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
_BOT_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/([A-Za-z0-9_]{3,64})/?"
    r"(?:\?(.*))?",
    re.IGNORECASE,
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_JSON_HEADERS: Final = {"Content-Type": "application/json"}


@dataclass(slots=True)
class ApiCall:
    """One request the bot made: method, decoded parameters, emulator time, HTTP status.

    Status 0 means the connection was dropped without an answer (fault injection).
    """

    method: str
    params: JSON
    time: float
    status: int
    description: str | None = None


@dataclass(slots=True, eq=False)
class SimCallbackQuery:
    """A button tap and, once the bot answers it, the answer."""

    query_id: str
    user: SimUser
    message: SimMessage
    data: str
    tapped_at: float
    answer: JSON | None = None
    answered_at: float | None = None


def _encode(body: JSON) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _member_json(user: JSON, status: str) -> JSON:
    """A ChatMember object with the fields python-telegram-bot requires for the status."""
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        member: JSON = {"status": status, "user": user, "can_be_edited": False}
        member.update(is_anonymous=False, can_promote_members=False, can_manage_topics=False)
        member.update(dict.fromkeys(rights, True))
        return member
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    return {"status": status, "user": user}


def bot_link_payload(url: str, bot_username: str) -> str | None:
    """The start payload of a t.me link to this bot ("" without one); None if not such a link."""
    match = _BOT_LINK.fullmatch(url.strip())
    if match is None:
        parts = urlsplit(url)
        if parts.scheme != "tg" or parts.netloc != "resolve":
            return None
        query = parse_qs(parts.query)
        username = (query.get("domain") or [""])[0]
        start = query.get("start")
    else:
        username = match.group(1)
        query = parse_qs(match.group(2) or "", keep_blank_values=True)
        if set(query) - {"start"}:
            return None
        start = query.get("start")
    if username.lower() != bot_username.lower():
        return None
    if start is None:
        return ""
    payload = start[0]
    return payload if PAYLOAD.fullmatch(payload) else None


class BotApiEmulator:
    """A local Telegram Bot API for one bot: HTTP for the bot, Python for simulated people."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "claimbot_demo_bot",
        limits: Limits | None = None,
        faults: Faults | None = None,
        *,
        bot_name: str = "Claimbot",
        clock: Clock | Callable[[], float] | None = None,
        record_calls: bool = True,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '123456:secret'")
        self.token: Final = token
        self.bot_id: Final = int(bot_id)
        self.bot_username: Final = bot_username
        self.bot_name = bot_name
        self.bot_user: Final[JSON] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        if clock is None:
            self.clock = Clock()
        elif isinstance(clock, Clock):
            self.clock = clock
        else:
            self.clock = Clock(clock)
        self.record_calls = record_calls
        self.calls: list[ApiCall] = []
        # Called with each call as it is answered (the command line prints them).
        self.on_call: Callable[[ApiCall], None] | None = None
        self._counts: Counter[tuple[str, int]] = Counter()
        self._flood = FloodControl(limits or Limits())
        self._fault_plan = FaultPlan(faults) if faults else None
        self._chats: dict[int, SimChat] = {}
        self._users: dict[int, SimUser] = {}
        self._group_usernames: dict[str, SimChat] = {}
        self._updates: deque[tuple[int, float, JSON]] = deque()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_waiter: asyncio.Future[bool] | None = None
        self._state_waiters: list[asyncio.Future[None]] = []
        self.callback_queries: dict[str, SimCallbackQuery] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._webhook: JSON | None = None
        self._files: dict[str, SimDocument] = {}
        self._file_paths: dict[str, SimDocument] = {}
        self._file_numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False
        handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._true,  # answered by _get_updates, which waits
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._unpin_chat_message,
            "unpinAllChatMessages": self._unpin_all_chat_messages,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on a loopback address (port 0: any free port); returns base_url."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        if not _is_loopback(host):
            raise ValueError(f"the emulator listens on loopback addresses only, not {host!r}")
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # A short shutdown: a waiting getUpdates is released in stop() anyway.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._closing = False
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}/bot"
        return self._base_url

    async def stop(self) -> None:
        """Stop listening; a waiting getUpdates answers at once."""
        self._closing = True
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What goes into ApplicationBuilder().base_url(): http://127.0.0.1:<port>/bot."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not started")
        return self._base_url

    @property
    def base_file_url(self) -> str:
        """What goes into ApplicationBuilder().base_file_url(), for getFile downloads."""
        return self.base_url.removesuffix("/bot") + "/file/bot"

    @property
    def limits(self) -> Limits:
        """The flood limits in force; assign to change them at runtime."""
        return self._flood.limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        self._flood.limits = limits

    @property
    def faults(self) -> Faults | None:
        """The injected faults in force; assign to change them (restarts the seeded sequence)."""
        return self._fault_plan.faults if self._fault_plan else None

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._fault_plan = FaultPlan(faults) if faults else None

    # -- people and chats -------------------------------------------------------------------

    def group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        username: str | None = None,
        bot_admin: bool = False,
        owner: SimUser | None = None,
    ) -> SimChat:
        """A supergroup the bot is a member (or admin) of; the same object on a second call."""
        existing = self._chats.get(chat_id)
        if existing is not None:
            if not existing.is_group:
                raise ValueError(f"{chat_id} is a private chat")
            return existing
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (supergroups: -100...)")
        chat = SimChat(self, chat_id, "supergroup", title=title, username=username)
        chat.bot_status = "administrator" if bot_admin else "member"
        if owner is not None:
            chat.owner_id = owner.user_id
            chat.member_ids.add(owner.user_id)
        self._chats[chat_id] = chat
        if username:
            self._group_usernames[username.lower()] = chat
        return chat

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        """A person (with a private chat with the bot); the same object on a second call."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id == self.bot_id:
            raise ValueError("that is the bot's own id")
        user = SimUser(self, user_id, first_name, last_name, username, language_code)
        user.chat = SimChat(self, user_id, "private", user=user)
        self._users[user_id] = user
        self._chats[user_id] = user.chat
        return user

    def user_by_id(self, user_id: int) -> SimUser:
        """A person created earlier with user()."""
        user = self._users.get(user_id)
        if user is None:
            raise LookupError(f"no person {user_id}: create them with emu.user()")
        return user

    def chat(self, chat: SimChat | SimUser | int) -> SimChat:
        """The chat for a chat id, a chat, or a person (their private chat)."""
        if isinstance(chat, SimChat):
            return chat
        if isinstance(chat, SimUser):
            return chat.chat
        found = self._chats.get(chat)
        if found is None:
            raise LookupError(f"no chat {chat}: create it with emu.group() or emu.user()")
        return found

    def add_bot(
        self, group: SimChat | int, *, by: SimUser | None = None, admin: bool = False
    ) -> None:
        """Add the bot to a group (again): a my_chat_member update."""
        chat = self.chat(group)
        new = "administrator" if admin else "member"
        self._change_bot_status(chat, new, by)

    def set_bot_admin(self, group: SimChat | int, admin: bool = True) -> None:
        """Promote the bot to administrator or demote it to member: a my_chat_member update."""
        chat = self.chat(group)
        self._change_bot_status(chat, "administrator" if admin else "member", None)

    def remove_bot(self, group: SimChat | int, *, by: SimUser | None = None) -> None:
        """Kick the bot from a group: a my_chat_member update, then 403 on sends there."""
        self._change_bot_status(self.chat(group), "kicked", by)

    def _change_bot_status(self, chat: SimChat, new: str, by: SimUser | None) -> None:
        if not chat.is_group:
            raise ValueError("the bot's membership changes only in groups")
        old = chat.bot_status
        if old == new:
            return
        chat.bot_status = new
        if by is not None:
            actor = by.to_dict()
        elif chat.owner_id is not None and chat.owner_id in self._users:
            actor = self._users[chat.owner_id].to_dict()
        else:
            actor = SERVICE_USER
        self._my_chat_member(chat, actor, old, new)

    def _my_chat_member(self, chat: SimChat, actor: JSON, old: str, new: str) -> None:
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": actor,
                "date": int(self.clock.now()),
                "old_chat_member": _member_json(self.bot_user, old),
                "new_chat_member": _member_json(self.bot_user, new),
            },
        )

    def set_blocked(self, user: SimUser, blocked: bool) -> None:
        """Block or unblock the bot for a person; Telegram tells the bot with my_chat_member."""
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self._my_chat_member(user.chat, user.to_dict(), old, new)

    def start_bot(self, user: SimUser, payload: str | None = None) -> JSON:
        """The person presses Start (with a deep-link payload): "/start [payload]"."""
        if payload is not None and not PAYLOAD.fullmatch(payload):
            raise ValueError("a start payload is 1-64 characters of A-Z a-z 0-9 _ -")
        if user.blocked:
            self.set_blocked(user, False)
        user.started = True
        text = f"/start {payload}" if payload else "/start"
        return self.user_message(user, user.chat, text)

    def open_link(self, user: SimUser, url: str) -> JSON:
        """Follow a t.me link to this bot; sends "/start [payload]" as Telegram apps do."""
        payload = bot_link_payload(url, self.bot_username)
        if payload is None:
            raise ValueError(f"not a link that opens @{self.bot_username}: {url!r}")
        return self.start_bot(user, payload or None)

    def user_message(
        self,
        user: SimUser,
        chat: SimChat | int,
        text: str,
        *,
        reply_to: SimMessage | Mapping[str, Any] | int | None = None,
    ) -> JSON:
        """A person sends text to a chat; queues the message update and returns the message."""
        target = self.chat(chat)
        if not text:
            raise ValueError("Telegram does not send empty messages")
        if target.user is not None:
            if target.user is not user:
                raise ValueError(f"chat {target.chat_id} is another person's private chat")
            if user.blocked:
                raise RuntimeError(
                    f"{user.first_name} blocked the bot: call start_bot() or unblock_bot() first"
                )
        else:
            target.member_ids.add(user.user_id)
        replied = None
        if reply_to is not None:
            if isinstance(reply_to, int):
                replied = target.by_id.get(reply_to)
                if replied is None:
                    raise LookupError(f"no message {reply_to} in chat {target.chat_id}")
            else:
                replied = self.find_message(reply_to)
        message = self._new_message(
            target,
            sender=user.to_dict(),
            from_bot=False,
            text=text,
            entities=tuple(command_entities(text)),
            reply_to=replied,
        )
        payload = message.to_dict()
        if self._bot_present(target):
            self._enqueue("message", payload)
        self._changed()
        return payload

    def tap(self, user: SimUser, message: SimMessage | Mapping[str, Any], data: str) -> str:
        """A person taps a button carrying ``data``; queues a callback_query, returns its id."""
        found = self.find_message(message)
        if not found.from_bot:
            raise ValueError("only the bot's messages have inline buttons")
        if found.deleted:
            raise LookupError(f"message {found.message_id} was deleted")
        if not isinstance(data, str) or not data:
            raise ValueError("callback data is a non-empty string")
        chat = found.chat
        if chat.user is not None and chat.user is not user:
            raise ValueError("only the person of a private chat can tap there")
        if chat.is_group:
            chat.member_ids.add(user.user_id)
        query_id = str(next(self._callback_ids))
        now = self.clock.now()
        self.callback_queries[query_id] = SimCallbackQuery(query_id, user, found, data, now)
        if self._bot_present(chat):
            self._enqueue(
                "callback_query",
                {
                    "id": query_id,
                    "from": user.to_dict(),
                    "message": found.to_dict(),
                    # Telegram's chat_instance is an opaque id stable per chat.
                    "chat_instance": str((chat.chat_id * 2654435761) % (1 << 63)),
                    "data": data,
                },
            )
        self._changed()
        return query_id

    def _bot_present(self, chat: SimChat) -> bool:
        if chat.user is not None:
            return not chat.user.blocked
        return chat.bot_status in ("member", "administrator")

    # -- reading back -------------------------------------------------------------------------

    def find_message(self, message: SimMessage | Mapping[str, Any]) -> SimMessage:
        """The stored message for a SimMessage or a message dict (chat.id and message_id)."""
        if isinstance(message, SimMessage):
            return message
        try:
            chat_id = int(message["chat"]["id"])
            message_id = int(message["message_id"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a message dict has chat.id and message_id") from None
        found = self.message(chat_id, message_id)
        if found is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return found

    def message(self, chat: SimChat | SimUser | int, message_id: int) -> SimMessage | None:
        """Any message (the bot's or a person's) by chat and id, deleted ones included."""
        target = chat if isinstance(chat, SimChat) else self._chats.get(
            chat.user_id if isinstance(chat, SimUser) else chat
        )
        return target.by_id.get(message_id) if target is not None else None

    def messages(
        self, chat: SimChat | SimUser | int, *, include_deleted: bool = False
    ) -> list[SimMessage]:
        """The bot's messages in a chat, oldest first (deleted ones only if asked)."""
        target = chat if isinstance(chat, SimChat) else self._chats.get(
            chat.user_id if isinstance(chat, SimUser) else chat
        )
        if target is None:
            return []
        found = (target.by_id[message_id] for message_id in target.bot_message_ids)
        return [m for m in found if include_deleted or not m.deleted]

    def private_messages(
        self, user: SimUser | int, *, include_deleted: bool = False
    ) -> list[SimMessage]:
        """The bot's messages in a person's private chat, oldest first."""
        return self.messages(user, include_deleted=include_deleted)

    def last_message(self, chat: SimChat | SimUser | int) -> SimMessage | None:
        """The bot's newest message in a chat that is not deleted."""
        target = chat if isinstance(chat, SimChat) else self._chats.get(
            chat.user_id if isinstance(chat, SimUser) else chat
        )
        if target is None:
            return None
        for message_id in reversed(target.bot_message_ids):
            message = target.by_id[message_id]
            if not message.deleted:
                return message
        return None

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with setMyCommands for a scope and language."""
        return list(self._commands.get(self._command_key(scope, language_code), []))

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    @property
    def flood_rejections(self) -> int:
        """How many calls were answered 429 Too Many Requests."""
        return self._flood.rejections

    def count(self, method: str | None = None, status: int | None = None) -> int:
        """How many calls were made, optionally of one method and/or with one HTTP status."""
        return sum(
            number
            for (name, code), number in self._counts.items()
            if (method is None or name == method) and (status is None or code == status)
        )

    def call_counts(self) -> dict[tuple[str, int], int]:
        """Calls per (method, HTTP status); status 0 is a dropped connection."""
        return dict(self._counts)

    def unanswered_callback_queries(self) -> list[SimCallbackQuery]:
        """Taps the bot has not answered yet."""
        return [q for q in self.callback_queries.values() if q.answer is None]

    def callback_answer(self, query_id: str) -> JSON | None:
        """The answerCallbackQuery parameters for a tap, or None while unanswered."""
        query = self.callback_queries.get(query_id)
        return query.answer if query is not None else None

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - the emulator's API, like asyncio.wait_for
        *,
        what: str | None = None,
    ) -> T:
        """Wait until predicate() is truthy, checked after each change; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(predicate, timeout, what))
            waiter: asyncio.Future[None] = loop.create_future()
            self._state_waiters.append(waiter)
            with contextlib.suppress(TimeoutError):  # one last check of the predicate above
                await asyncio.wait_for(waiter, remaining)

    async def wait_for_message(
        self,
        chat: SimChat | SimUser | int,
        match: str | Callable[[SimMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SimMessage:
        """Wait for a bot message in a chat whose text contains ``match`` (or satisfies it)."""
        accepts: Callable[[SimMessage], bool]
        if match is None:
            accepts = bool
        elif isinstance(match, str):
            needle = match

            def accepts(message: SimMessage) -> bool:
                return needle in (message.text or message.caption or "")

        else:
            accepts = match

        target = self.chat(chat)

        def newest() -> SimMessage | None:
            for message_id in reversed(target.bot_message_ids):
                message = target.by_id[message_id]
                if not message.deleted and accepts(message):
                    return message
            return None

        what = f"a bot message in chat {target.chat_id} matching {match!r}"
        return await self.wait_for(newest, timeout, what=what)

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """Wait for the bot's answerCallbackQuery to a tap; returns text, show_alert, url."""
        if query_id not in self.callback_queries:
            raise LookupError(f"no callback query {query_id}")
        return await self.wait_for(
            lambda: self.callback_answer(query_id),
            timeout,
            what=f"an answer to callback query {query_id}",
        )

    def _timeout_message(
        self, predicate: Callable[[], Any], timeout: float, what: str | None
    ) -> str:
        if what is None:
            try:
                what = inspect.getsource(predicate).strip()
            except (OSError, TypeError):
                what = getattr(predicate, "__qualname__", repr(predicate))
        recent = ", ".join(
            f"{call.method}={call.status}" for call in self.calls[-8:]
        ) or "none recorded"
        return (
            f"not within {timeout} s: {what}; pending updates: {self.pending_updates}; "
            f"last API calls: {recent}"
        )

    def _changed(self) -> None:
        """Wake everyone in wait_for(); they re-check their predicates."""
        if self._state_waiters:
            waiters, self._state_waiters = self._state_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # -- updates ----------------------------------------------------------------------------

    def _enqueue(self, kind: str, payload: JSON) -> None:
        # Telegram does not even keep updates of the kinds the bot opted out of.
        if kind not in self._allowed_updates:
            return
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._updates.append((update_id, self.clock.now(), update))
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        self._changed()

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset > 0:
            while updates and updates[0][0] < offset:
                updates.popleft()
        elif offset < 0:
            while len(updates) > -offset:
                updates.popleft()
        horizon = self.clock.now() - UPDATE_LIFETIME
        while updates and updates[0][1] < horizon:
            updates.popleft()

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed_updates JSON array")
            self._allowed_updates = frozenset(map(str, allowed)) or DEFAULT_UPDATE_TYPES
        # Like Telegram, a new request ends the one still waiting (409 for it).
        previous, self._poll_waiter = self._poll_waiter, None
        if previous is not None and not previous.done():
            previous.set_result(False)
        self._confirm(offset)
        if not self._updates and timeout > 0 and not self._closing:
            waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                await asyncio.wait([waiter], timeout=timeout)
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if waiter.done() and not waiter.result():
                raise ApiError(409, TERMINATED)
            waiter.cancel()
        return [update for _, _, update in itertools.islice(self._updates, limit)]

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._download(path)
        if not path.startswith("/bot"):
            return web.Response(status=404, body=_encode(_NOT_FOUND), headers=_JSON_HEADERS)
        token, _, method = path[4:].partition("/")
        if token != self.token:
            return self._answer(method, {}, 401, _UNAUTHORIZED)
        entry = self._methods.get(method.lower())
        if entry is None:
            return self._answer(method, {}, 404, _NOT_FOUND)
        name, handler = entry
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._answer(name, {}, error.code, error.to_json())
        fault = None
        plan = self._fault_plan
        if plan is not None and plan.applies(name):
            if plan.faults.delay:
                await asyncio.sleep(plan.faults.delay)
            fault = plan.decide()
            if fault == "error":
                status = plan.faults.status
                body = {
                    "ok": False,
                    "error_code": status,
                    "description": HTTPStatus(status).phrase,
                }
                return self._answer(name, params, status, body)
            if fault == "drop" and not plan.faults.drop_after_action:
                return self._drop(request, name, params)
        try:
            if name == "getUpdates":
                result: Any = await self._get_updates(params)
            else:
                result = handler(params)
        except ApiError as error:
            status, body = error.code, error.to_json()
        else:
            status, body = 200, {"ok": True, "result": result}
        if fault == "drop":
            return self._drop(request, name, params)
        return self._answer(name, params, status, body)

    def _answer(self, method: str, params: JSON, status: int, body: JSON) -> web.Response:
        self._record(method, params, status, None if status == 200 else body.get("description"))
        return web.Response(status=status, body=_encode(body), headers=_JSON_HEADERS)

    def _record(self, method: str, params: JSON, status: int, description: str | None) -> None:
        self._counts[method, status] += 1
        if self.record_calls or self.on_call is not None:
            call = ApiCall(method, params, self.clock.now(), status, description)
            if self.record_calls:
                self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)
        if status != 200:
            log.debug("%s -> %s %s", method, status, description)
        self._changed()

    def _drop(self, request: web.Request, method: str, params: JSON) -> web.Response:
        """Close the connection without an answer: the client sees a network error."""
        self._record(method, params, 0, "connection dropped")
        transport = request.transport
        if transport is not None:
            transport.abort()
        # aiohttp discards this answer: the transport is gone.
        return web.Response(status=500)

    def _download(self, path: str) -> web.Response:
        prefix = f"/file/bot{self.token}/"
        document = self._file_paths.get(path.removeprefix(prefix))
        if not path.startswith(prefix) or document is None or document.data is None:
            return web.Response(status=404, body=_encode(_NOT_FOUND), headers=_JSON_HEADERS)
        return web.Response(body=document.data, content_type="application/octet-stream")

    # -- helpers for the methods ------------------------------------------------------------

    def _chat(self, params: JSON) -> SimChat:
        """The chat a call targets, or the error Telegram gives for it."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat = self._group_usernames.get(chat_id.removeprefix("@").lower())
        else:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        user = chat.user
        if user is not None:
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not user.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        elif chat.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _format(
        self, params: JSON, field: str = "text", limit: int = MAX_TEXT
    ) -> tuple[str, tuple[JSON, ...]]:
        """Plain text and entities of a text or caption parameter, checked as Telegram does."""
        text = params.get(field)
        entities_field = "entities" if field == "text" else "caption_entities"
        if not isinstance(text, str) or not text:
            raise bad_request("message text is empty")
        parse_mode = params.get("parse_mode")
        explicit = params.get(entities_field)
        if parse_mode and explicit is None:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    plain, entities = parse_html(text)
                except EntityParseError as error:
                    raise bad_request(f"can't parse entities: {error}") from None
            elif mode in ("markdown", "markdownv2"):
                plain, entities = text, []  # stored verbatim: the bot uses HTML
            else:
                raise bad_request(f"unsupported parse_mode {parse_mode}")
        else:
            plain = text
            entities = explicit if isinstance(explicit, list) else []
        if len(plain) > limit:
            raise bad_request(
                "message is too long" if field == "text" else "message caption is too long"
            )
        if not plain.strip():
            raise bad_request("message text is empty")
        return plain, tuple(entities)

    def _markup(self, params: JSON) -> JSON | None:
        """The reply_markup parameter, checked the way Telegram checks inline keyboards."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if len(BUTTON_KINDS.intersection(button)) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                data = button.get("callback_data")
                if "callback_data" in button and not (
                    isinstance(data, str) and 1 <= len(data.encode()) <= 64
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if "url" in button and not (
                    isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
                ):
                    raise bad_request("BUTTON_URL_INVALID")
        return markup

    def _reply_target(self, chat: SimChat, params: JSON) -> SimMessage | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply", False))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", allow))
        else:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        target = chat.by_id.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _message_for(self, chat: SimChat, params: JSON, missing: str) -> SimMessage:
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.by_id.get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def _check_flood(self, chat: SimChat) -> None:
        wait = self._flood.retry_after(chat.chat_id, chat.is_group, self.clock.now())
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    def _new_message(
        self,
        chat: SimChat,
        *,
        sender: JSON,
        from_bot: bool,
        text: str | None,
        entities: tuple[JSON, ...] = (),
        source_text: str | None = None,
        parse_mode: str | None = None,
        reply_markup: JSON | None = None,
        document: SimDocument | None = None,
        caption: str | None = None,
        reply_to: SimMessage | None = None,
    ) -> SimMessage:
        now = self.clock.now()
        message = SimMessage(
            chat=chat,
            message_id=chat.next_message_id,
            sender=sender,
            from_bot=from_bot,
            sent_at=now,
            text=text,
            entities=entities,
            source_text=source_text,
            parse_mode=parse_mode,
            caption=caption,
            reply_markup=reply_markup,
            document=document,
            reply_to=reply_to,
        )
        message.history.append(Revision(text or caption, entities, reply_markup, int(now)))
        chat.next_message_id += 1
        chat.by_id[message.message_id] = message
        if from_bot:
            chat.bot_message_ids.append(message.message_id)
        return message

    def _revise(self, message: SimMessage) -> None:
        now = int(self.clock.now())
        message.edit_date = now
        message.history.append(
            Revision(
                message.text if message.document is None else message.caption,
                message.entities,
                message.reply_markup,
                now,
            )
        )

    # -- the methods ----------------------------------------------------------------------

    def _true(self, params: JSON) -> bool:
        return True

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self._webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        # Recorded only: the emulator does not push updates to webhooks.
        self._webhook = {"url": url, "allowed_updates": params.get("allowed_updates")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook and self._webhook.get("allowed_updates"):
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _send_message(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text, entities = self._format(params)
        markup = self._markup(params)
        reply_to = self._reply_target(chat, params)
        self._check_flood(chat)
        message = self._new_message(
            chat,
            sender=self.bot_user,
            from_bot=True,
            text=text,
            entities=entities,
            source_text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to=reply_to,
        )
        self._flood.record(chat.chat_id, message.sent_at)
        return message.to_dict()

    def _send_document(self, params: JSON) -> JSON:
        chat = self._chat(params)
        document = self._document(params)
        caption: str | None = None
        entities: tuple[JSON, ...] = ()
        if params.get("caption"):
            caption, entities = self._format(params, "caption", MAX_CAPTION)
        markup = self._markup(params)
        reply_to = self._reply_target(chat, params)
        self._check_flood(chat)
        message = self._new_message(
            chat,
            sender=self.bot_user,
            from_bot=True,
            text=None,
            entities=entities,
            source_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            caption=caption,
            reply_markup=markup,
            document=document,
            reply_to=reply_to,
        )
        self._flood.record(chat.chat_id, message.sent_at)
        return message.to_dict()

    def _document(self, params: JSON) -> SimDocument:
        value = params.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            number = next(self._file_numbers)
            document = SimDocument(
                file_id=f"BQACAgIAAxkBAAI{number:012d}",
                file_unique_id=f"AgAD{number:08d}",
                file_name=value.filename,
                mime_type=value.content_type,
                data=value.data,
            )
            self._files[document.file_id] = document
            return document
        if not isinstance(value, str) or not value:
            raise bad_request("there is no document in the request")
        known = self._files.get(value)
        if known is not None:
            return SimDocument(
                known.file_id, known.file_unique_id, known.file_name, known.mime_type, known.data
            )
        if value.startswith(("http://", "https://")):
            # Not fetched: the emulator has no internet; the link is kept for inspection.
            number = next(self._file_numbers)
            name = urlsplit(value).path.rsplit("/", 1)[-1] or None
            return SimDocument(
                f"BQACAgIAAxkBAAI{number:012d}", f"AgAD{number:08d}", name, None, None, value
            )
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _get_file(self, params: JSON) -> JSON:
        document = self._files.get(str(params.get("file_id") or ""))
        if document is None:
            raise bad_request("invalid file_id")
        path = f"documents/{document.file_unique_id}_{document.file_name or 'file'}"
        self._file_paths[path] = document
        result: JSON = {"file_id": document.file_id, "file_unique_id": document.file_unique_id}
        result["file_path"] = path
        if document.data is not None:
            result["file_size"] = len(document.data)
        return result

    def _edit_message_text(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not simulated by this emulator")
        chat = self._chat(params)
        message = self._message_for(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._format(params)
        markup = self._markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        self._check_flood(chat)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.source_text, message.parse_mode = params["text"], params.get("parse_mode")
        self._revise(message)
        self._flood.record(chat.chat_id, self.clock.now())
        return message.to_dict()

    def _edit_message_caption(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not simulated by this emulator")
        chat = self._chat(params)
        message = self._message_for(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption: str | None = None
        entities: tuple[JSON, ...] = ()
        if params.get("caption"):
            caption, entities = self._format(params, "caption", MAX_CAPTION)
        markup = self._markup(params)
        current = (message.caption, message.entities, message.reply_markup)
        if (caption, entities, markup) == current:
            raise bad_request(NOT_MODIFIED)
        self._check_flood(chat)
        message.caption, message.entities, message.reply_markup = caption, entities, markup
        self._revise(message)
        self._flood.record(chat.chat_id, self.clock.now())
        return message.to_dict()

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not simulated by this emulator")
        chat = self._chat(params)
        message = self._message_for(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._check_flood(chat)
        message.reply_markup = markup
        self._revise(message)
        self._flood.record(chat.chat_id, self.clock.now())
        return message.to_dict()

    def _delete_message(self, params: JSON) -> bool:
        chat = self._chat(params)
        message = self._message_for(chat, params, "message to delete not found")
        self._delete(chat, message)
        return True

    def _delete(self, chat: SimChat, message: SimMessage) -> None:
        if self.clock.now() - message.sent_at > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        if not message.from_bot and chat.is_group and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        message.deleted = True
        if message.pinned:
            message.pinned = False
            chat.pinned_ids.remove(message.message_id)

    def _delete_messages(self, params: JSON) -> bool:
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        for message_id in ids:
            message = chat.by_id.get(int(message_id))
            if message is not None and not message.deleted:
                # Telegram skips the messages it can't delete.
                try:
                    self._delete(chat, message)
                except ApiError:
                    continue
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        query = self.callback_queries.get(str(params.get("callback_query_id") or ""))
        now = self.clock.now()
        if (
            query is None
            or query.answer is not None
            or now - query.tapped_at > CALLBACK_ANSWER_WINDOW
        ):
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        url = params.get("url")
        if url and bot_link_payload(str(url), self.bot_username) in (None, ""):
            raise bad_request("URL_INVALID")
        query.answer = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": url,
            "cache_time": int(params.get("cache_time") or 0),
        }
        query.answered_at = now
        return True

    def _pin_rights(self, chat: SimChat) -> None:
        if chat.is_group and chat.bot_status != "administrator":
            raise bad_request("not enough rights to manage pinned messages in the chat")

    def _pin_chat_message(self, params: JSON) -> bool:
        chat = self._chat(params)
        message = self._message_for(chat, params, "message to pin not found")
        self._pin_rights(chat)
        self._check_flood(chat)
        message.pinned = True
        if message.message_id in chat.pinned_ids:
            chat.pinned_ids.remove(message.message_id)
        chat.pinned_ids.append(message.message_id)
        self._flood.record(chat.chat_id, self.clock.now())
        return True

    def _unpin_chat_message(self, params: JSON) -> bool:
        chat = self._chat(params)
        self._pin_rights(chat)
        message_id = params.get("message_id")
        if message_id is None:
            if not chat.pinned_ids:
                raise bad_request("message to unpin not found")
            message_id = chat.pinned_ids[-1]
        message = chat.by_id.get(message_id)
        if message is None or not message.pinned:
            raise bad_request("message to unpin not found")
        self._check_flood(chat)
        message.pinned = False
        chat.pinned_ids.remove(message_id)
        self._flood.record(chat.chat_id, self.clock.now())
        return True

    def _unpin_all_chat_messages(self, params: JSON) -> bool:
        chat = self._chat(params)
        self._pin_rights(chat)
        for message_id in chat.pinned_ids:
            chat.by_id[message_id].pinned = False
        chat.pinned_ids.clear()
        return True

    @staticmethod
    def _command_key(scope: Any, language_code: Any) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        stored: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name, "description": description})
        key = self._command_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = stored
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = self._command_key(params.get("scope"), params.get("language_code"))
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSON) -> bool:
        key = self._command_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _set_chat_menu_button(self, params: JSON) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        self._menu_buttons[chat_id] = button
        return True

    def _get_chat_menu_button(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return button or {"type": "default"}

    def _send_chat_action(self, params: JSON) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat(self, params: JSON) -> JSON:
        chat = self._chat(params)
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _status_of(self, chat: SimChat, user_id: int) -> tuple[JSON, str]:
        if user_id == self.bot_id:
            return self.bot_user, chat.bot_status if chat.is_group else "member"
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.user is not None:
            if chat.user is not user:
                raise bad_request("user not found")
            return user.to_dict(), "member"
        if user_id == chat.owner_id:
            return user.to_dict(), "creator"
        if user_id in chat.admin_ids:
            return user.to_dict(), "administrator"
        return user.to_dict(), "member" if user_id in chat.member_ids else "left"

    def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("user_id is empty")
        return _member_json(*self._status_of(chat, user_id))

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        admins: list[JSON] = []
        if chat.owner_id is not None:
            admins.append(_member_json(*self._status_of(chat, chat.owner_id)))
        for user_id in sorted(chat.admin_ids - {chat.owner_id}):
            admins.append(_member_json(*self._status_of(chat, user_id)))
        if chat.bot_status == "administrator":
            admins.append(_member_json(self.bot_user, "administrator"))
        return admins

    def _get_chat_member_count(self, params: JSON) -> int:
        chat = self._chat(params)
        if not chat.is_group:
            return 2
        bot = 1 if chat.bot_status in ("member", "administrator") else 0
        return len(chat.member_ids | chat.admin_ids) + bot


_NOT_FOUND: Final[JSON] = {"ok": False, "error_code": 404, "description": "Not Found"}
_UNAUTHORIZED: Final[JSON] = {"ok": False, "error_code": 401, "description": "Unauthorized"}
