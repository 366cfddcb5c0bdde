"""Factories for configs, people, chats and Telegram updates used across the tests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram import Bot, Update

from bot.config import Config, config_from_mapping
from bot.domain import Actor, PrivateDetails
from tests.fakes import BOT_USERNAME, TOKEN

COORDINATOR_ID = 111111111
GROUP_ID = -1001234567890

_update_ids: Iterator[int] = itertools.count(1)
_message_ids: Iterator[int] = itertools.count(1)


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    """A valid config on a fresh database file in ``tmp_path``."""
    data: dict[str, Any] = {
        "telegram": {"token": TOKEN},
        "database": {"path": str(tmp_path / "claimbot.db"), "synchronous": "normal"},
        "coordinators": [COORDINATOR_ID],
        "language": "en",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return config_from_mapping(data, env={})


def actor(user_id: int, name: str | None = None, team: str | None = None) -> Actor:
    """A person as the service sees them."""
    return Actor(user_id=user_id, display_name=name or f"Volunteer {user_id}", username=None)


def private_details(**values: str) -> PrivateDetails:
    """Private details that are easy to spot if they leak."""
    base = {
        "name": "Grandma Wang Secretname",
        "address": "7 Hidden Lane, Room 302",
        "phone": "13800001234",
        "health": "diabetic, uses a wheelchair",
        "notes": "knock twice",
    }
    return PrivateDetails(**{**base, **values})


def user(user_id: int, first_name: str | None = None, language_code: str = "en") -> dict[str, Any]:
    """A Telegram user object."""
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"Volunteer{user_id}",
        "language_code": language_code,
    }


def group_chat(chat_id: int = GROUP_ID, title: str = "Volunteers") -> dict[str, Any]:
    """A Telegram supergroup chat object."""
    return {"id": chat_id, "type": "supergroup", "title": title}


def private_chat(user_id: int) -> dict[str, Any]:
    """A private chat object between the bot and a user."""
    return {"id": user_id, "type": "private", "first_name": f"Volunteer{user_id}"}


def message_update(bot: Bot, sender: dict[str, Any], chat: dict[str, Any], text: str) -> Update:
    """An update carrying a text message (with a bot_command entity if it starts with /)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update


def migration_update(bot: Bot, old_chat_id: int, new_chat_id: int) -> Update:
    """The service message a basic group gets when Telegram makes it a supergroup."""
    message = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": old_chat_id, "type": "group", "title": "Volunteers"},
        "from": user(COORDINATOR_ID),
        "migrate_to_chat_id": new_chat_id,
    }
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update


def command_in_group(bot: Bot, sender: dict[str, Any], text: str) -> Update:
    """A command sent in the volunteers' group, addressed to the bot."""
    command, _, rest = text.partition(" ")
    addressed = f"{command}@{BOT_USERNAME}" + (f" {rest}" if rest else "")
    return message_update(bot, sender, group_chat(), addressed)


def tap_update(
    bot: Bot,
    sender: dict[str, Any],
    data: str,
    message_id: int = 1,
    chat: dict[str, Any] | None = None,
) -> Update:
    """An update for a tap on an inline button of a bot message."""
    query = {
        "id": str(next(_update_ids)),
        "from": sender,
        "chat_instance": "1",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat or group_chat(),
            "from": {"id": 123456, "is_bot": True, "first_name": "Claimbot"},
            "text": "card",
        },
    }
    update = Update.de_json({"update_id": next(_update_ids), "callback_query": query}, bot)
    assert update is not None
    return update


def document_update(
    bot: Bot, sender: dict[str, Any], file_id: str, file_name: str, file_size: int
) -> Update:
    """A file (a document) sent to the bot in private chat."""
    message = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": private_chat(sender["id"]),
        "from": sender,
        "document": {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "file_size": file_size,
        },
    }
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update
