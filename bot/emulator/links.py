"""Deep links to the bot: t.me/<bot>?start=<payload> and tg://resolve?domain=<bot>&start=..."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

# A deep-link payload: https://core.telegram.org/bots/features#deep-linking
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BOT_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/([A-Za-z0-9_]{3,64})/?"
    r"(?:\?(.*))?",
    re.IGNORECASE,
)


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
