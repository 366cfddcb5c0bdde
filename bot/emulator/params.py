"""Reading Bot API parameters from a request: query string, JSON, form or multipart body."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from bot.emulator.wire import JSON, UploadedFile, bad_request

# Form bodies carry every value as a string; PTB JSON-encodes the structured ones. These are
# the fields whose string form is decoded back into numbers, booleans and objects.
INTEGER_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "cache_time",
        "max_connections",
        "until_date",
    }
)
BOOLEAN_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "drop_pending_updates",
        "only_if_banned",
        "for_channels",
        "allow_paid_broadcast",
    }
)
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "rights",
        "message_ids",
    }
)


def _decode(name: str, value: Any) -> Any:
    """Turn a parameter into the type the Bot API documents for it."""
    if name == "timeout":
        # Whole seconds in Telegram; fractions are accepted so tests can poll briefly.
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request("invalid timeout specified") from None
    if name in INTEGER_FIELDS:
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            text = value.strip()
            if name == "chat_id" and text.startswith("@"):
                return text
            try:
                return int(text)
            except ValueError:
                if name == "chat_id":
                    raise bad_request("chat not found") from None
                raise bad_request(f"invalid {name} specified") from None
        raise bad_request(f"invalid {name} specified")
    if name in BOOLEAN_FIELDS and isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    if name in JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


async def read_params(request: web.Request) -> JSON:
    """Every parameter of a Bot API request, decoded; files as UploadedFile."""
    raw: dict[str, Any] = dict(request.query) if request.query_string else {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.read()
            if body:
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(decoded, dict):
                    raise bad_request("JSON object expected")
                raw.update(decoded)
        elif content_type.startswith("multipart/"):
            raw.update(await _read_multipart(request))
        else:
            # application/x-www-form-urlencoded, which PTB uses for calls without files.
            body = await request.read()
            if body:
                raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {name: _decode(name, value) for name, value in raw.items()}


async def _read_multipart(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = await part.read()
        if part.filename is not None:
            values[part.name] = UploadedFile(
                part.filename, part.headers.get("Content-Type"), bytes(data)
            )
        else:
            values[part.name] = bytes(data).decode()
    return values
