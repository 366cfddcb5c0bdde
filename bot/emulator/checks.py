"""A Bot API call's parameters, checked as Telegram checks them, with Telegram's errors.

The target chat (and whether the bot may write there), text and entities, an inline keyboard,
the message replied to or acted on.
"""

from __future__ import annotations

from typing import Final

from bot.emulator.formatting import EntityParseError, parse_html
from bot.emulator.model import SimChat, SimMessage
from bot.emulator.wire import JSON, MAX_TEXT, ApiError, bad_request
from bot.emulator.world import World

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


def target_chat(world: World, params: JSON) -> SimChat:
    """The chat a call targets, or the error Telegram gives for it."""
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    chat = world.find_chat(chat_id)
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


def formatted(
    params: JSON, field: str = "text", limit: int = MAX_TEXT
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


def inline_markup(params: JSON) -> JSON | None:
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
            _check_button(button)
    return markup


def _check_button(button: object) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if len(BUTTON_KINDS.intersection(button)) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if "callback_data" in button and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and not (
        isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
    ):
        raise bad_request("BUTTON_URL_INVALID")


def reply_target(chat: SimChat, params: JSON) -> SimMessage | None:
    """The message a sent message replies to, or None (also when allowed to be missing)."""
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


def message_for(chat: SimChat, params: JSON, missing: str) -> SimMessage:
    """The message a call acts on by message_id; ``missing`` is the error if there is none."""
    message_id = params.get("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.by_id.get(message_id)
    if message is None or message.deleted:
        raise bad_request(missing)
    return message
