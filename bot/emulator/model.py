"""What the emulator keeps: people, chats, messages, callback queries."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from bot.emulator.wire import JSON

# An administrator's rights, as ChatMemberAdministrator carries them.
ADMIN_RIGHTS: Final = (
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
# What plain members of a group may do (getChat's permissions): a supergroup's defaults.
MEMBER_PERMISSIONS: Final = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


class Telegram(Protocol):
    """What a simulated person asks of the simulated Telegram they live in (the World)."""

    def start_bot(self, user: SimUser, payload: str | None = None) -> JSON: ...

    def open_link(self, user: SimUser, url: str) -> JSON: ...

    def user_message(
        self,
        user: SimUser,
        chat: SimChat | int,
        text: str,
        *,
        reply_to: SimMessage | Mapping[str, Any] | int | None = None,
    ) -> JSON: ...

    def user_file(
        self,
        user: SimUser,
        chat: SimChat | int,
        file: SimFile,
        *,
        caption: str | None = None,
        reply_to: SimMessage | Mapping[str, Any] | int | None = None,
    ) -> JSON: ...

    def tap(self, user: SimUser, message: SimMessage | Mapping[str, Any], data: str) -> str: ...

    def find_message(self, message: SimMessage | Mapping[str, Any]) -> SimMessage: ...

    def set_blocked(self, user: SimUser, blocked: bool) -> None: ...


@dataclass(slots=True)
class SimDocument:
    """A file on the simulated Telegram's servers: a document (the bot's or a person's), or one
    size of a photo (with width and height). ``data`` is None for a file sent by URL, which the
    emulator does not fetch; ``file_path`` is where getFile serves it."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes | None
    url: str | None = None
    file_path: str | None = None
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> JSON:
        """The Telegram Document object (a PhotoSize for one size of a photo)."""
        document: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.width is not None and self.height is not None:
            document["width"], document["height"] = self.width, self.height
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        if self.data is not None:
            document["file_size"] = len(self.data)
        return document


@dataclass(slots=True, frozen=True)
class SimFile:
    """What a person sends: a document (``photo`` False) or a photo, before Telegram stores it.

    A photo's ``width`` and ``height`` are those of the original; Telegram keeps it in several
    sizes (the emulator does not re-encode: every size holds the original bytes).
    """

    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    photo: bool = False
    width: int = 1280
    height: int = 960


@dataclass(slots=True)
class Webhook:
    """A webhook set with setWebhook, and how delivery to it went last."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self) -> JSON:
        """The WebhookInfo fields that describe the webhook (getWebhookInfo adds the count)."""
        info: JSON = {"url": self.url, "max_connections": self.max_connections}
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info


@dataclass(slots=True, frozen=True)
class Revision:
    """One version of a message's content: the original or an edit."""

    text: str | None
    entities: tuple[JSON, ...]
    reply_markup: JSON | None
    date: int


@dataclass(slots=True, eq=False)
class SimChat:
    """A chat: a supergroup the bot is in, or a person's private chat with the bot."""

    chat_id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: SimUser | None = field(default=None, repr=False)  # the person, for a private chat
    bot_status: str = "member"  # member, administrator, left, kicked
    # The bot's administrator rights (while it is one), and what plain members may do.
    bot_rights: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(ADMIN_RIGHTS, True))
    permissions: dict[str, bool] = field(default_factory=lambda: dict(MEMBER_PERMISSIONS))
    owner_id: int | None = None
    admin_ids: set[int] = field(default_factory=set)
    member_ids: set[int] = field(default_factory=set)
    next_message_id: int = 1
    by_id: dict[int, SimMessage] = field(default_factory=dict, repr=False)
    bot_message_ids: list[int] = field(default_factory=list, repr=False)
    pinned_ids: list[int] = field(default_factory=list, repr=False)
    _json: JSON | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        """The chat id, as in Telegram objects."""
        return self.chat_id

    @property
    def is_group(self) -> bool:
        """Whether this is a group rather than a private chat."""
        return self.type != "private"

    def to_dict(self) -> JSON:
        """The Telegram Chat object (shared; do not modify)."""
        if self._json is None:
            chat: JSON = {"id": self.chat_id, "type": self.type}
            if self.user is not None:
                chat.update(
                    (key, value)
                    for key, value in self.user.to_dict().items()
                    if key in ("first_name", "last_name", "username")
                )
            else:
                chat["title"] = self.title or str(self.chat_id)
                if self.username:
                    chat["username"] = self.username
            self._json = chat
        return self._json

    def messages(self, include_deleted: bool = False) -> list[SimMessage]:
        """The bot's messages in this chat, oldest first."""
        found = (self.by_id[message_id] for message_id in self.bot_message_ids)
        return [m for m in found if include_deleted or not m.deleted]

    def last_message(self) -> SimMessage | None:
        """The bot's newest message here that is not deleted."""
        for message_id in reversed(self.bot_message_ids):
            message = self.by_id[message_id]
            if not message.deleted:
                return message
        return None

    def pinned_message(self) -> SimMessage | None:
        """The newest pinned message, as getChat shows it."""
        return self.by_id[self.pinned_ids[-1]] if self.pinned_ids else None

    def bot_may(self, right: str) -> bool:
        """Whether the bot may do this here (can_pin_messages, can_delete_messages...): in a
        private chat always; in a group by its administrator rights, or as a plain member by
        the group's permissions."""
        if not self.is_group:
            return True
        if self.bot_status == "administrator":
            return self.bot_rights.get(right, False)
        return self.bot_status == "member" and self.permissions.get(right, False)

    def add_member(self, user: SimUser) -> None:
        """Make a person a member of this group (no update: joins are not simulated)."""
        self.member_ids.add(user.user_id)

    def make_admin(self, user: SimUser) -> None:
        """Make a person an administrator of this group."""
        self.member_ids.add(user.user_id)
        self.admin_ids.add(user.user_id)


@dataclass(slots=True, eq=False)
class SimUser:
    """A simulated person who talks to the bot and taps its buttons."""

    emulator: Telegram = field(repr=False)
    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False
    chat: SimChat = field(init=False, repr=False)
    _json: JSON | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        """The user id, as in Telegram objects."""
        return self.user_id

    def to_dict(self) -> JSON:
        """The Telegram User object (shared; do not modify)."""
        if self._json is None:
            user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
            if self.last_name:
                user["last_name"] = self.last_name
            if self.username:
                user["username"] = self.username
            if self.language_code:
                user["language_code"] = self.language_code
            self._json = user
        return self._json

    async def start_bot(self, payload: str | None = None) -> JSON:
        """Press Start in the private chat: "/start" or "/start <payload>"."""
        return self.emulator.start_bot(self, payload)

    async def open_link(self, url: str) -> JSON:
        """Follow a t.me/<bot>?start=<payload> link: like start_bot(payload)."""
        return self.emulator.open_link(self, url)

    async def send(
        self, chat: SimChat | int, text: str, *, reply_to: SimMessage | JSON | int | None = None
    ) -> JSON:
        """Send a text message to a chat; queues a message update and returns the message."""
        return self.emulator.user_message(self, chat, text, reply_to=reply_to)

    async def send_private(
        self, text: str, *, reply_to: SimMessage | JSON | int | None = None
    ) -> JSON:
        """Send a text message in the private chat with the bot."""
        return self.emulator.user_message(self, self.chat, text, reply_to=reply_to)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: SimChat | int | None = None,
    ) -> JSON:
        """Send a file (in the private chat unless ``chat`` is given); the mime type is guessed
        from the name as Telegram apps do unless given. Returns the message."""
        if mime_type is None:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file = SimFile(data, file_name, mime_type)
        return self.emulator.user_file(self, chat or self.chat, file, caption=caption)

    async def send_photo(
        self,
        data: bytes,
        *,
        width: int = 1280,
        height: int = 960,
        caption: str | None = None,
        chat: SimChat | int | None = None,
    ) -> JSON:
        """Send a photo (in the private chat unless ``chat`` is given); returns the message,
        whose ``photo`` lists the sizes Telegram made of it, smallest first."""
        file = SimFile(data, photo=True, width=width, height=height)
        return self.emulator.user_file(self, chat or self.chat, file, caption=caption)

    async def tap(self, message: SimMessage | Mapping[str, Any], data: str) -> str:
        """Tap a button with this callback data (clients can forge any); returns the query id."""
        return self.emulator.tap(self, message, data)

    async def tap_button(self, message: SimMessage | Mapping[str, Any], text: str) -> str:
        """Tap the callback button labelled ``text``; returns the callback query id."""
        found = self.emulator.find_message(message)
        button = found.button(text)
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise ValueError(f"button {text!r} carries no callback data: {button}")
        return self.emulator.tap(self, found, data)

    def block_bot(self) -> None:
        """Block the bot: sends to this person fail with 403 from now on."""
        self.emulator.set_blocked(self, True)

    def unblock_bot(self) -> None:
        """Unblock the bot (a my_chat_member update, as Telegram sends)."""
        self.emulator.set_blocked(self, False)

    def private_messages(self, include_deleted: bool = False) -> list[SimMessage]:
        """The bot's messages in this person's private chat, oldest first."""
        return self.chat.messages(include_deleted)


@dataclass(slots=True, eq=False)
class SimMessage:
    """A message in a chat: the bot's (with edit history) or a simulated person's."""

    chat: SimChat = field(repr=False)
    message_id: int
    sender: JSON = field(repr=False)
    from_bot: bool
    sent_at: float  # the emulator clock when it was sent
    text: str | None = None  # plain text, after parse_mode
    entities: tuple[JSON, ...] = ()
    source_text: str | None = None  # as the bot sent it, markup included
    parse_mode: str | None = None
    caption: str | None = None
    reply_markup: JSON | None = None
    document: SimDocument | None = None
    photo: tuple[SimDocument, ...] = ()  # a photo's sizes, smallest first
    reply_to: SimMessage | None = field(default=None, repr=False)
    # A service message "pinned «...»": the message that was pinned.
    pinned_message: SimMessage | None = field(default=None, repr=False)
    pinned: bool = False
    deleted: bool = False
    edit_date: int | None = None
    history: list[Revision] = field(default_factory=list, repr=False)

    @property
    def chat_id(self) -> int:
        """The id of the chat the message is in."""
        return self.chat.chat_id

    @property
    def date(self) -> int:
        """Unix time it was sent, as in Telegram objects."""
        return int(self.sent_at)

    @property
    def edit_count(self) -> int:
        """How many times the bot edited it."""
        return max(0, len(self.history) - 1)

    @property
    def buttons(self) -> list[list[JSON]]:
        """The inline keyboard rows (empty without one)."""
        if not self.reply_markup:
            return []
        rows: list[list[JSON]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    def iter_buttons(self) -> Iterator[JSON]:
        """Every inline button, row by row."""
        for row in self.buttons:
            yield from row

    @property
    def callback_data(self) -> list[str]:
        """The callback data of every inline button."""
        return [b["callback_data"] for b in self.iter_buttons() if "callback_data" in b]

    def button(self, text: str) -> JSON:
        """The inline button with this label (exact match, else the only one containing it)."""
        buttons = list(self.iter_buttons())
        for candidate in buttons:
            if candidate.get("text") == text:
                return candidate
        partial = [b for b in buttons if text in str(b.get("text", ""))]
        if len(partial) == 1:
            return partial[0]
        labels = [b.get("text") for b in buttons]
        raise LookupError(f"no single button {text!r} on message {self.message_id}: {labels}")

    def to_dict(self) -> JSON:
        """The Telegram Message object as the Bot API returns it."""
        message: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_dict(),
            "date": int(self.sent_at),
        }
        if self.reply_to is not None:
            message["reply_to_message"] = self.reply_to.to_dict_shallow()
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.pinned_message is not None:
            message["pinned_message"] = self.pinned_message.to_dict_shallow()
        if self.document is not None or self.photo:
            if self.document is not None:
                message["document"] = self.document.to_dict()
            else:
                message["photo"] = [size.to_dict() for size in self.photo]
            if self.caption:
                message["caption"] = self.caption
                if self.entities:
                    message["caption_entities"] = list(self.entities)
        elif self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = list(self.entities)
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def to_dict_shallow(self) -> JSON:
        """The message without its own reply_to_message, as Telegram nests replies."""
        message = self.to_dict()
        message.pop("reply_to_message", None)
        return message


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


def member_json(user: JSON, status: str, rights: Mapping[str, bool] | None = None) -> JSON:
    """A ChatMember object with the fields python-telegram-bot requires for the status; an
    administrator's ``rights`` (ADMIN_RIGHTS) default to all of them."""
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "administrator":
        member: JSON = {"status": status, "user": user, "can_be_edited": False}
        member.update(is_anonymous=False, can_promote_members=False, can_manage_topics=False)
        member.update(dict.fromkeys(ADMIN_RIGHTS, True))
        member.update(rights or {})
        return member
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    return {"status": status, "user": user}
