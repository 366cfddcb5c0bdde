"""The Bot API methods the emulator answers, each one acting on the simulated Telegram.

A method takes the decoded parameters of a call and returns its result or raises ApiError,
as Telegram would answer; HTTP is someone else's concern (``routes.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

from bot.emulator.checks import (
    formatted,
    inline_markup,
    message_for,
    reply_target,
    target_chat,
)
from bot.emulator.links import bot_link_payload
from bot.emulator.model import SimChat, SimDocument, SimMessage, Webhook, member_json
from bot.emulator.updates import DEFAULT_UPDATE_TYPES
from bot.emulator.wire import (
    JSON,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    MAX_UPLOAD,
    ApiError,
    UploadedFile,
    bad_request,
)
from bot.emulator.world import World

Method = Callable[[JSON], Any]  # returns the result, or an awaitable of it (getUpdates)

DELETE_WINDOW: Final = 48 * 3600.0
CALLBACK_ANSWER_WINDOW: Final = 15.0
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
QUERY_TOO_OLD: Final = "query is too old and response timeout expired or query ID is invalid"
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BotApiMethods:
    """One method per Bot API method the bot uses, over one World."""

    def __init__(self, world: World) -> None:
        self.world = world

    def by_name(self) -> dict[str, Method]:
        """Every method under its Bot API name."""
        return {
            "getMe": self.get_me,
            "logOut": self.true,
            "close": self.true,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendDocument": self.send_document,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "unpinAllChatMessages": self.unpin_all_chat_messages,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendChatAction": self.send_chat_action,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "getFile": self.get_file,
        }

    # -- the bot itself and its updates -----------------------------------------------------

    def true(self, params: JSON) -> bool:
        """logOut and close: accepted, with nothing to do for a local server."""
        return True

    def get_me(self, params: JSON) -> JSON:
        """getMe: the bot's own User, with the capability flags python-telegram-bot reads."""
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: JSON) -> list[JSON]:
        """getUpdates: pending updates, long-polled; refused while a webhook is set."""
        if self.world.webhook is not None:
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
            self.world.updates.allowed = frozenset(map(str, allowed)) or DEFAULT_UPDATE_TYPES
        return await self.world.updates.poll(offset, limit, timeout)

    def set_webhook(self, params: JSON) -> bool:
        """setWebhook: from now on updates are pushed to the URL (``webhooks.py``) and
        getUpdates is refused; an empty URL removes the webhook.

        As a self-hosted Bot API server in --local mode, it takes http:// URLs and any port
        (Telegram itself wants https:// on port 443, 80, 88 or 8443); it delivers only to
        loopback addresses and records any other URL without sending to it.
        """
        url = str(params.get("url") or "")
        if not url:
            return self.delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON array")
        connections = int(params.get("max_connections") or 40)
        self.world.webhook = Webhook(
            url=url,
            secret_token=str(secret) if secret else None,
            # Telegram takes 1-100 and clamps what is outside.
            max_connections=min(max(connections, 1), 100),
            allowed_updates=[str(kind) for kind in allowed] if allowed else None,
        )
        if allowed is not None:
            self.world.updates.allowed = frozenset(map(str, allowed)) or DEFAULT_UPDATE_TYPES
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        self.world.changed()
        return True

    def delete_webhook(self, params: JSON) -> bool:
        """deleteWebhook: back to getUpdates, optionally dropping pending updates."""
        self.world.webhook = None
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        self.world.changed()
        return True

    def get_webhook_info(self, params: JSON) -> JSON:
        """getWebhookInfo: the webhook, its last delivery error, the pending update count."""
        webhook = self.world.webhook
        info: JSON = webhook.info() if webhook else {"url": ""}
        info["has_custom_certificate"] = False
        info["pending_update_count"] = len(self.world.updates)
        return info

    # -- sending ------------------------------------------------------------------------------

    def send_message(self, params: JSON) -> JSON:
        """sendMessage: a text message from the bot, within the flood limits."""
        world = self.world
        chat = target_chat(world, params)
        text, entities = formatted(params)
        markup = inline_markup(params)
        reply_to = reply_target(chat, params)
        world.check_flood(chat)
        message = world.new_message(
            chat,
            sender=world.bot_user,
            from_bot=True,
            text=text,
            entities=entities,
            source_text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to=reply_to,
        )
        world.flood.record(chat.chat_id, message.sent_at)
        return message.to_dict()

    def send_document(self, params: JSON) -> JSON:
        """sendDocument: a document with an optional caption, within the flood limits."""
        world = self.world
        chat = target_chat(world, params)
        document = self._document(params)
        caption: str | None = None
        entities: tuple[JSON, ...] = ()
        if params.get("caption"):
            caption, entities = formatted(params, "caption", MAX_CAPTION)
        markup = inline_markup(params)
        reply_to = reply_target(chat, params)
        world.check_flood(chat)
        message = world.new_message(
            chat,
            sender=world.bot_user,
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
        world.flood.record(chat.chat_id, message.sent_at)
        return message.to_dict()

    def _document(self, params: JSON) -> SimDocument:
        """The document of a sendDocument: an upload, a known file_id, or a URL."""
        value = params.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._uploaded(value)
        if not isinstance(value, str) or not value:
            raise bad_request("there is no document in the request")
        known = self.world.files.get(value)
        if known is not None:
            if known.width is not None:  # a photo's file_id
                raise bad_request("type of file mismatch")
            return known
        if value.startswith(("http://", "https://")):
            # Not fetched: the emulator has no internet; the link is kept for inspection.
            name = urlsplit(value).path.rsplit("/", 1)[-1] or None
            return self.world.new_file(None, name, None, url=value)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _uploaded(self, upload: UploadedFile) -> SimDocument:
        """A new file from a multipart upload, kept so getFile can serve it."""
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        return self.world.new_file(upload.data, upload.filename, upload.content_type)

    def get_file(self, params: JSON) -> JSON:
        """getFile: where to download a file (one the bot sent, or a person's document or
        photo size); bots may fetch files of up to 20 MB."""
        document = self.world.files.get(str(params.get("file_id") or ""))
        if document is None or document.file_path is None:
            raise bad_request("invalid file_id")
        if document.data is not None and len(document.data) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        self.world.file_paths[document.file_path] = document
        result: JSON = {"file_id": document.file_id, "file_unique_id": document.file_unique_id}
        if document.data is not None:
            result["file_size"] = len(document.data)
        result["file_path"] = document.file_path
        return result

    # -- editing and deleting -------------------------------------------------------------------

    def edit_message_text(self, params: JSON) -> JSON:
        """editMessageText: new text for a bot message; the same content is an error."""
        chat, message = self._editable(params)
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = formatted(params)
        markup = inline_markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        self.world.check_flood(chat)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.source_text, message.parse_mode = params["text"], params.get("parse_mode")
        return self._edited(chat, message)

    def edit_message_caption(self, params: JSON) -> JSON:
        """editMessageCaption: a new caption for a bot document."""
        chat, message = self._editable(params)
        if message.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption: str | None = None
        entities: tuple[JSON, ...] = ()
        if params.get("caption"):
            caption, entities = formatted(params, "caption", MAX_CAPTION)
        markup = inline_markup(params)
        current = (message.caption, message.entities, message.reply_markup)
        if (caption, entities, markup) == current:
            raise bad_request(NOT_MODIFIED)
        self.world.check_flood(chat)
        message.caption, message.entities, message.reply_markup = caption, entities, markup
        return self._edited(chat, message)

    def edit_message_reply_markup(self, params: JSON) -> JSON:
        """editMessageReplyMarkup: a new inline keyboard (or none)."""
        chat, message = self._editable(params)
        markup = inline_markup(params)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self.world.check_flood(chat)
        message.reply_markup = markup
        return self._edited(chat, message)

    def _editable(self, params: JSON) -> tuple[SimChat, SimMessage]:
        """The chat and the bot's message an edit method targets."""
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not simulated by this emulator")
        chat = target_chat(self.world, params)
        message = message_for(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _edited(self, chat: SimChat, message: SimMessage) -> JSON:
        """Record an edit (a revision, a flood-window entry) and answer with the message."""
        self.world.revise(message)
        self.world.flood.record(chat.chat_id, self.world.clock.now())
        return message.to_dict()

    def delete_message(self, params: JSON) -> bool:
        """deleteMessage: within 48 hours; others' messages only as a group admin."""
        chat = target_chat(self.world, params)
        message = message_for(chat, params, "message to delete not found")
        self._delete(chat, message)
        return True

    def delete_messages(self, params: JSON) -> bool:
        """deleteMessages: up to 100 at once, skipping those that can't be deleted."""
        chat = target_chat(self.world, params)
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

    def _delete(self, chat: SimChat, message: SimMessage) -> None:
        """Delete one message, or raise the error Telegram gives for it."""
        if self.world.clock.now() - message.sent_at > DELETE_WINDOW:
            raise bad_request("message can't be deleted")
        if not message.from_bot and not chat.bot_may("can_delete_messages"):
            raise bad_request("message can't be deleted")
        message.deleted = True
        if message.pinned:
            message.pinned = False
            chat.pinned_ids.remove(message.message_id)

    # -- callback queries and pins ------------------------------------------------------------

    def answer_callback_query(self, params: JSON) -> bool:
        """answerCallbackQuery: once per tap, within 15 s; a URL must open this bot."""
        world = self.world
        query = world.callback_queries.get(str(params.get("callback_query_id") or ""))
        now = world.clock.now()
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
        if url and bot_link_payload(str(url), world.bot_username) in (None, ""):
            raise bad_request("URL_INVALID")
        query.answer = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": url,
            "cache_time": int(params.get("cache_time") or 0),
        }
        query.answered_at = now
        return True

    def pin_chat_message(self, params: JSON) -> bool:
        """pinChatMessage: in a group the bot needs the right to pin; Telegram adds a service
        message "pinned «...»" to the chat (the bot gets no update for its own).

        Telegram's documented flood limits are about messages (20 a minute in a group) and say
        nothing of pins; a pin does put a service message into the group, and the bot's pacer
        paces every call with a chat_id, so the emulator counts a pin as a message there.
        """
        world = self.world
        chat = target_chat(world, params)
        message = message_for(chat, params, "message to pin not found")
        _pin_rights(chat)
        world.check_flood(chat)
        message.pinned = True
        if message.message_id in chat.pinned_ids:
            chat.pinned_ids.remove(message.message_id)
        chat.pinned_ids.append(message.message_id)
        world.new_message(
            chat, sender=world.bot_user, from_bot=True, text=None, pinned_message=message
        )
        world.flood.record(chat.chat_id, world.clock.now())
        world.changed()
        return True

    def unpin_chat_message(self, params: JSON) -> bool:
        """unpinChatMessage: the given message, or the newest pinned one."""
        chat = target_chat(self.world, params)
        _pin_rights(chat)
        message_id = params.get("message_id")
        if message_id is None:
            if not chat.pinned_ids:
                raise bad_request("message to unpin not found")
            message_id = chat.pinned_ids[-1]
        message = chat.by_id.get(message_id)
        if message is None or not message.pinned:
            raise bad_request("message to unpin not found")
        # Unpinning adds no message to the chat; counted all the same, as pins are (above).
        self.world.check_flood(chat)
        message.pinned = False
        chat.pinned_ids.remove(message_id)
        self.world.flood.record(chat.chat_id, self.world.clock.now())
        self.world.changed()
        return True

    def unpin_all_chat_messages(self, params: JSON) -> bool:
        """unpinAllChatMessages: every pinned message in the chat."""
        chat = target_chat(self.world, params)
        _pin_rights(chat)
        for message_id in chat.pinned_ids:
            chat.by_id[message_id].pinned = False
        chat.pinned_ids.clear()
        return True

    # -- commands and the menu button ---------------------------------------------------------

    def set_my_commands(self, params: JSON) -> bool:
        """setMyCommands: the command list for a scope and language, checked."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        stored = [_bot_command(command) for command in commands]
        self.world.set_commands(params.get("scope"), params.get("language_code"), stored)
        return True

    def get_my_commands(self, params: JSON) -> list[JSON]:
        """getMyCommands: the command list for a scope and language."""
        return self.world.commands(params.get("scope"), params.get("language_code") or "")

    def delete_my_commands(self, params: JSON) -> bool:
        """deleteMyCommands: forget the list for a scope and language."""
        self.world.set_commands(params.get("scope"), params.get("language_code"), None)
        return True

    def set_chat_menu_button(self, params: JSON) -> bool:
        """setChatMenuButton: for one chat, or the default without chat_id."""
        chat_id = params.get("chat_id")
        if chat_id is not None:
            target_chat(self.world, params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        self.world.menu_buttons[chat_id] = button
        return True

    def get_chat_menu_button(self, params: JSON) -> JSON:
        """getChatMenuButton: the chat's button, else the default one."""
        buttons = self.world.menu_buttons
        button = buttons.get(params.get("chat_id")) or buttons.get(None)
        return button or {"type": "default"}

    # -- chats and their members --------------------------------------------------------------

    def send_chat_action(self, params: JSON) -> bool:
        """sendChatAction: checked and otherwise ignored."""
        target_chat(self.world, params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def get_chat(self, params: JSON) -> JSON:
        """getChat: the ChatFullInfo fields python-telegram-bot requires, the newest pinned
        message, and a group's member permissions."""
        chat = target_chat(self.world, params)
        info: JSON = {
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
        pinned = chat.pinned_message()
        if pinned is not None:
            info["pinned_message"] = pinned.to_dict_shallow()
        if chat.is_group:
            info["permissions"] = dict(chat.permissions)
        return info

    def get_chat_member(self, params: JSON) -> JSON:
        """getChatMember: a person's (or the bot's) status in a chat."""
        chat = target_chat(self.world, params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("user_id is empty")
        rights = chat.bot_rights if user_id == self.world.bot_id else None
        return member_json(*self._status_of(chat, user_id), rights)

    def get_chat_administrators(self, params: JSON) -> list[JSON]:
        """getChatAdministrators: owner, admins, then the bot if it is one."""
        chat = target_chat(self.world, params)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        admins: list[JSON] = []
        if chat.owner_id is not None:
            admins.append(member_json(*self._status_of(chat, chat.owner_id)))
        for user_id in sorted(chat.admin_ids - {chat.owner_id}):
            admins.append(member_json(*self._status_of(chat, user_id)))
        if chat.bot_status == "administrator":
            admins.append(member_json(self.world.bot_user, "administrator", chat.bot_rights))
        return admins

    def get_chat_member_count(self, params: JSON) -> int:
        """getChatMemberCount: 2 in private; in a group, members and admins and the bot if in."""
        chat = target_chat(self.world, params)
        if not chat.is_group:
            return 2
        bot = 1 if chat.bot_status in ("member", "administrator") else 0
        return len(chat.member_ids | chat.admin_ids) + bot

    def _status_of(self, chat: SimChat, user_id: int) -> tuple[JSON, str]:
        """A member of ``chat`` as a User object, and their status there."""
        if user_id == self.world.bot_id:
            return self.world.bot_user, chat.bot_status if chat.is_group else "member"
        user = self.world.find_user(user_id)
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


def _pin_rights(chat: SimChat) -> None:
    """Pins in a group need the right to pin: an administrator's, or every member's."""
    if not chat.bot_may("can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")


def _bot_command(command: object) -> JSON:
    """One BotCommand of setMyCommands, checked."""
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand JSON object")
    name = command.get("command")
    description = command.get("description")
    if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": name, "description": description}
