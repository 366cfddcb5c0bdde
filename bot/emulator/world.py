"""The simulated Telegram: the bot, people, chats, messages, taps, updates and flood windows.

What people do here (send text, tap a button, block the bot) becomes an update for the bot;
what the bot does arrives through the Bot API methods (``methods.py``), which change this
state. Anyone waiting for the state to change is woken by ``changed()``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any, Final

from bot.emulator.formatting import command_entities
from bot.emulator.links import PAYLOAD, bot_link_payload
from bot.emulator.model import (
    ADMIN_RIGHTS,
    MEMBER_PERMISSIONS,
    Revision,
    SimCallbackQuery,
    SimChat,
    SimDocument,
    SimFile,
    SimMessage,
    SimUser,
    Webhook,
    member_json,
)
from bot.emulator.timing import Clock, FloodControl, Limits
from bot.emulator.updates import UpdateQueue
from bot.emulator.wire import JSON, MAX_CAPTION, ApiError

SERVICE_USER: Final[JSON] = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
# The longest side of each smaller size Telegram makes of a photo.
PHOTO_BOUNDS: Final = (90, 320, 800, 1280)


class World:
    """The state of the simulated Telegram around one bot, and what its people do in it."""

    def __init__(
        self,
        bot_id: int,
        bot_username: str,
        *,
        bot_name: str,
        clock: Clock | Callable[[], float] | None,
        limits: Limits | None,
    ) -> None:
        self.bot_id: Final = bot_id
        self.bot_username: Final = bot_username
        self.bot_name = bot_name
        self.bot_user: Final[JSON] = {
            "id": bot_id,
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
        self.flood = FloodControl(limits or Limits())
        self.updates = UpdateQueue(self.clock, self.changed)
        self.callback_queries: dict[str, SimCallbackQuery] = {}
        # What the bot set up through the API: a webhook, menu buttons, uploaded files.
        self.webhook: Webhook | None = None
        self.menu_buttons: dict[int | None, JSON] = {}
        self.files: dict[str, SimDocument] = {}
        self.file_paths: dict[str, SimDocument] = {}
        self.file_numbers = itertools.count(1)
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._chats: dict[int, SimChat] = {}
        self._users: dict[int, SimUser] = {}
        self._group_usernames: dict[str, SimChat] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._change_waiters: list[asyncio.Future[None]] = []

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
        chat = SimChat(chat_id, "supergroup", title=title, username=username)
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
        user.chat = SimChat(user_id, "private", user=user)
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

    def find_chat(self, chat_id: int | str) -> SimChat | None:
        """The chat a Bot API call names: by id, or a group by its @username."""
        if isinstance(chat_id, str):
            return self._group_usernames.get(chat_id.removeprefix("@").lower())
        return self._chats.get(chat_id)

    def find_user(self, user_id: int) -> SimUser | None:
        """The person with this id, if there is one."""
        return self._users.get(user_id)

    # -- the bot's membership -----------------------------------------------------------------

    def add_bot(
        self, group: SimChat | int, *, by: SimUser | None = None, admin: bool = False
    ) -> None:
        """Add the bot to a group (again): a my_chat_member update."""
        chat = self.chat(group)
        new = "administrator" if admin else "member"
        self._change_bot_status(chat, new, by)

    def set_bot_admin(self, group: SimChat | int, admin: bool = True, **rights: bool) -> None:
        """Promote the bot to administrator (with these rights changed from all of them, e.g.
        ``can_pin_messages=False``) or demote it to member: a my_chat_member update."""
        chat = self.chat(group)
        unknown = set(rights) - set(ADMIN_RIGHTS)
        if unknown:
            raise ValueError(f"not administrator rights: {sorted(unknown)}")
        if not admin and rights:
            raise ValueError("rights are for an administrator")
        new_rights = {**dict.fromkeys(ADMIN_RIGHTS, True), **rights}
        self._change_bot_status(chat, "administrator" if admin else "member", None, new_rights)

    def set_permissions(self, group: SimChat | int, **permissions: bool) -> None:
        """Change what plain members of a group may do (e.g. ``can_pin_messages=True``); the
        bot is not told, as Telegram does not tell it."""
        chat = self.chat(group)
        unknown = set(permissions) - set(MEMBER_PERMISSIONS)
        if not chat.is_group or unknown:
            raise ValueError(f"group permissions only; not ones: {sorted(unknown)}")
        chat.permissions.update(permissions)

    def remove_bot(self, group: SimChat | int, *, by: SimUser | None = None) -> None:
        """Kick the bot from a group: a my_chat_member update, then 403 on sends there."""
        self._change_bot_status(self.chat(group), "kicked", by)

    def set_blocked(self, user: SimUser, blocked: bool) -> None:
        """Block or unblock the bot for a person; Telegram tells the bot with my_chat_member."""
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self._my_chat_member(user.chat, user.to_dict(), (old, None), (new, None))

    def _change_bot_status(
        self,
        chat: SimChat,
        new: str,
        by: SimUser | None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        if not chat.is_group:
            raise ValueError("the bot's membership changes only in groups")
        old, old_rights = chat.bot_status, chat.bot_rights
        if rights is None:
            rights = dict.fromkeys(ADMIN_RIGHTS, True)
        # New rights of an administrator are a change too: Telegram tells the bot.
        if old == new and (new != "administrator" or rights == old_rights):
            return
        chat.bot_status, chat.bot_rights = new, rights
        if by is not None:
            actor = by.to_dict()
        elif chat.owner_id is not None and chat.owner_id in self._users:
            actor = self._users[chat.owner_id].to_dict()
        else:
            actor = SERVICE_USER
        self._my_chat_member(chat, actor, (old, old_rights), (new, rights))

    def _my_chat_member(
        self,
        chat: SimChat,
        actor: JSON,
        old: tuple[str, dict[str, bool] | None],
        new: tuple[str, dict[str, bool] | None],
    ) -> None:
        self.updates.put(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": actor,
                "date": int(self.clock.now()),
                "old_chat_member": member_json(self.bot_user, *old),
                "new_chat_member": member_json(self.bot_user, *new),
            },
        )

    def _bot_present(self, chat: SimChat) -> bool:
        if chat.user is not None:
            return not chat.user.blocked
        return chat.bot_status in ("member", "administrator")

    # -- what people do -----------------------------------------------------------------------

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
        if not text:
            raise ValueError("Telegram does not send empty messages")
        target = self._writable(user, chat)
        message = self.new_message(
            target,
            sender=user.to_dict(),
            from_bot=False,
            text=text,
            entities=tuple(command_entities(text)),
            reply_to=self._replied(target, reply_to),
        )
        return self._deliver(target, message)

    def user_file(
        self,
        user: SimUser,
        chat: SimChat | int,
        file: SimFile,
        *,
        caption: str | None = None,
        reply_to: SimMessage | Mapping[str, Any] | int | None = None,
    ) -> JSON:
        """A person sends a document or a photo, with an optional caption; Telegram keeps the
        file (getFile serves it to the bot). Queues the message update, returns the message."""
        if not file.data:
            raise ValueError("Telegram does not send empty files")
        if caption is not None and len(caption) > MAX_CAPTION:
            raise ValueError(f"a caption is at most {MAX_CAPTION} characters")
        target = self._writable(user, chat)
        if file.photo:
            document, photo = None, self.photo_sizes(file)
        else:
            document, photo = self.new_file(file.data, file.file_name, file.mime_type), ()
        message = self.new_message(
            target,
            sender=user.to_dict(),
            from_bot=False,
            text=None,
            entities=tuple(command_entities(caption)) if caption else (),
            caption=caption or None,
            document=document,
            photo=photo,
            reply_to=self._replied(target, reply_to),
        )
        return self._deliver(target, message)

    def _writable(self, user: SimUser, chat: SimChat | int) -> SimChat:
        """The chat a person writes in, checked: their own private chat, or a group (which
        they join by writing)."""
        target = self.chat(chat)
        if target.user is not None:
            if target.user is not user:
                raise ValueError(f"chat {target.chat_id} is another person's private chat")
            if user.blocked:
                raise RuntimeError(
                    f"{user.first_name} blocked the bot: call start_bot() or unblock_bot() first"
                )
        else:
            target.member_ids.add(user.user_id)
        return target

    def _deliver(self, chat: SimChat, message: SimMessage) -> JSON:
        """A person's new message: an update for the bot if it is there to see it."""
        payload = message.to_dict()
        if self._bot_present(chat):
            self.updates.put("message", payload)
        self.changed()
        return payload

    def _replied(
        self, chat: SimChat, reply_to: SimMessage | Mapping[str, Any] | int | None
    ) -> SimMessage | None:
        """The message a person replies to: a message, a message dict or an id in ``chat``."""
        if reply_to is None:
            return None
        if not isinstance(reply_to, int):
            return self.find_message(reply_to)
        replied = chat.by_id.get(reply_to)
        if replied is None:
            raise LookupError(f"no message {reply_to} in chat {chat.chat_id}")
        return replied

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
            self.updates.put(
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
        self.changed()
        return query_id

    # -- messages ---------------------------------------------------------------------------

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
        target = self._known_chat(chat)
        return target.by_id.get(message_id) if target is not None else None

    def messages(
        self, chat: SimChat | SimUser | int, *, include_deleted: bool = False
    ) -> list[SimMessage]:
        """The bot's messages in a chat, oldest first (deleted ones only if asked)."""
        target = self._known_chat(chat)
        return target.messages(include_deleted) if target is not None else []

    def private_messages(
        self, user: SimUser | int, *, include_deleted: bool = False
    ) -> list[SimMessage]:
        """The bot's messages in a person's private chat, oldest first."""
        return self.messages(user, include_deleted=include_deleted)

    def last_message(self, chat: SimChat | SimUser | int) -> SimMessage | None:
        """The bot's newest message in a chat that is not deleted."""
        target = self._known_chat(chat)
        return target.last_message() if target is not None else None

    def _known_chat(self, chat: SimChat | SimUser | int) -> SimChat | None:
        if isinstance(chat, SimChat):
            return chat
        return self._chats.get(chat.user_id if isinstance(chat, SimUser) else chat)

    def new_message(
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
        photo: tuple[SimDocument, ...] = (),
        caption: str | None = None,
        reply_to: SimMessage | None = None,
        pinned_message: SimMessage | None = None,
    ) -> SimMessage:
        """Store a new message in ``chat``, the bot's or a person's, with its first revision."""
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
            photo=photo,
            reply_to=reply_to,
            pinned_message=pinned_message,
        )
        message.history.append(Revision(text or caption, entities, reply_markup, int(now)))
        chat.next_message_id += 1
        chat.by_id[message.message_id] = message
        # The bot's own service messages (a pin's notice) are not among what it sent.
        if from_bot and pinned_message is None:
            chat.bot_message_ids.append(message.message_id)
        return message

    def revise(self, message: SimMessage) -> None:
        """Record an edit the bot made: the edit date and a new revision."""
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

    # -- files ------------------------------------------------------------------------------

    def new_file(
        self,
        data: bytes | None,
        file_name: str | None,
        mime_type: str | None,
        *,
        url: str | None = None,
    ) -> SimDocument:
        """A new document kept on the servers (getFile finds it by file_id)."""
        number = next(self.file_numbers)
        suffix = PurePosixPath(file_name or "").suffix
        document = SimDocument(
            file_id=f"BQACAgIAAxkBAAI{number:012d}",
            file_unique_id=f"AgAD{number:08d}",
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            url=url,
            file_path=f"documents/file_{number}{suffix}",
        )
        self.files[document.file_id] = document
        return document

    def photo_sizes(self, file: SimFile) -> tuple[SimDocument, ...]:
        """The sizes Telegram keeps of a photo, smallest first: each side scaled to at most
        90, 320, 800 and 1280 pixels (the larger ones only while smaller than the original)."""
        longest = max(file.width, file.height)
        bounds = [bound for bound in PHOTO_BOUNDS if bound < longest] + [min(longest, 2560)]
        sizes = []
        for bound in dict.fromkeys(bounds):
            scale = min(1.0, bound / longest)
            number = next(self.file_numbers)
            size = SimDocument(
                file_id=f"AgACAgIAAxkBAAI{number:012d}",
                file_unique_id=f"AQAD{number:08d}",
                file_name=None,
                mime_type=None,
                data=file.data,
                file_path=f"photos/file_{number}.jpg",
                width=max(1, round(file.width * scale)),
                height=max(1, round(file.height * scale)),
            )
            self.files[size.file_id] = size
            sizes.append(size)
        return tuple(sizes)

    # -- the bot's commands -----------------------------------------------------------------

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with setMyCommands for a scope and language."""
        return list(self._commands.get(_command_key(scope, language_code), []))

    def set_commands(self, scope: Any, language_code: Any, commands: list[JSON] | None) -> None:
        """Keep the bot's commands for a scope and language (None: forget them)."""
        key = _command_key(scope, language_code)
        if commands is None:
            self._commands.pop(key, None)
        else:
            self._commands[key] = commands

    # -- flood control and change ---------------------------------------------------------

    def check_flood(self, chat: SimChat) -> None:
        """Raise Telegram's 429 if one more message to ``chat`` would break a flood limit."""
        wait = self.flood.retry_after(chat.chat_id, chat.is_group, self.clock.now())
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    def next_change(self) -> asyncio.Future[None]:
        """A future that is done at the next change of state."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(waiter)
        return waiter

    def changed(self) -> None:
        """Wake everyone waiting in next_change(); they re-check what they wait for."""
        if self._change_waiters:
            waiters, self._change_waiters = self._change_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


def _command_key(scope: Any, language_code: Any) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")
