"""Message text as Telegram sees it: HTML entity parsing, bot commands, UTF-16 offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Telegram's HTML tags (https://core.telegram.org/bots/api#html-style) and their entity types.
ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_CHARREFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHARREF = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_SPECIAL = re.compile(r"[<&]")
_TAG_NAME = re.compile(r"[^\s/>]*")
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
# A command is "/" + up to 32 word characters, optionally addressed "@botname", at the start of
# the text or after whitespace; Telegram marks each one with a bot_command entity.
_COMMAND = re.compile(r"(?:^|(?<=\s))/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")


class EntityParseError(ValueError):
    """Malformed markup; the message is Telegram's wording after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """The length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram attaches to a user's text."""
    entities: list[dict[str, Any]] = []
    for match in _COMMAND.finditer(text):
        start = match.start()
        offset = start if text.isascii() else utf16_len(text[:start])
        entities.append(
            {"type": "bot_command", "offset": offset, "length": utf16_len(match.group())}
        )
    return entities


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int  # in UTF-16 units of the output text
    attributes: dict[str, str]
    language: str | None = None  # set by a <code class="language-x"> directly inside <pre>


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode())


def _attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        value = match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attributes[match.group(1).lower()] = unescape(value)
    return attributes


def unescape(text: str) -> str:
    """Decode the character references Telegram's HTML mode knows; others stay as typed."""
    if "&" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        decimal, hexadecimal, name = match.groups()
        if name:
            return _NAMED_CHARREFS[name]
        code = int(decimal) if decimal else int(hexadecimal, 16)
        return chr(code) if 0 < code <= 0x10FFFF else match.group()

    return _CHARREF.sub(decode, text)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of an HTML-formatted message, or EntityParseError.

    Follows tdlib's parser: tags must be Telegram's, properly nested and closed; an ``&`` that
    starts no known character reference is kept as typed.
    """
    pieces: list[str] = []
    position = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    size = len(source)
    while index < size:
        special = _SPECIAL.search(source, index)
        stop = special.start() if special else size
        if stop > index:
            chunk = source[index:stop]
            pieces.append(chunk)
            position += len(chunk) if chunk.isascii() else utf16_len(chunk)
            index = stop
            continue
        if source[index] == "&":
            match = _CHARREF.match(source, index)
            if match:
                char = unescape(match.group())
                index = match.end()
            else:
                char = "&"
                index += 1
            pieces.append(char)
            position += utf16_len(char)
            continue
        end = source.find(">", index)
        if source.startswith("</", index):
            _close(_end_tag(source, index, end, stack), position, stack, entities)
        else:
            stack.append(_start_tag(source, index, end, position))
        index = end + 1
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(pieces), entities


def _end_tag(source: str, index: int, end: int, stack: list[_OpenTag]) -> _OpenTag:
    """The open tag that the end tag at ``index`` closes, taken off the stack."""
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, index)}")
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, index)}")
    name = source[index + 2 : end].strip().lower()
    top = stack.pop()
    if name != top.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, index)}, "
            f'expected "</{top.name}>", found "</{name}>"'
        )
    return top


def _start_tag(source: str, index: int, end: int, position: int) -> _OpenTag:
    """The start tag at ``index``, checked to be one of Telegram's, opened at ``position``."""
    if end == -1:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, index)}")
    inner = source[index + 1 : end]
    name_match = _TAG_NAME.match(inner)
    name = name_match.group().lower() if name_match else ""
    if name not in ENTITY_TYPES:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, index)}'
        )
    attributes = _attributes(inner[len(name) :])
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
        raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
    return _OpenTag(name, position, attributes)


def _close(
    tag: _OpenTag, position: int, stack: list[_OpenTag], entities: list[dict[str, Any]]
) -> None:
    length = position - tag.offset
    css_class = tag.attributes.get("class", "")
    pre_language = tag.name == "code" and stack and stack[-1].name == "pre"
    if pre_language and css_class.startswith("language-"):
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        stack[-1].language = css_class.removeprefix("language-")
        return
    if length <= 0:
        return  # Telegram drops empty entities
    entity: dict[str, Any] = {"type": ENTITY_TYPES[tag.name], "offset": tag.offset}
    entity["length"] = length
    if tag.name == "a":
        href = tag.attributes.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes["emoji-id"]
    entities.append(entity)
