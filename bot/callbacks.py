"""Button data and deep-link payloads: short ASCII, strict patterns, never private details.

Everything here arrives from clients and can be forged; a parse returns None for anything that
does not match exactly, and callers check what it names against the database.
"""

from __future__ import annotations

import re
from typing import Final

# \Z, not $: "$" would also accept a trailing newline.
CLAIM: Final = re.compile(r"^c:([1-9]\d{0,11})\Z")
# A Release button names the claim (the pairing), so a button left from an ended pairing
# can never end a later one.
RELEASE: Final = re.compile(r"^r:([1-9]\d{0,11})\Z")
PICK_GROUP: Final = re.compile(r"^g:(-?[1-9]\d{0,19})\Z")
# A coordinator's choice about private data found in a drafted summary: move it out, or keep.
PRIVACY_CHOICE: Final = re.compile(r"^pv:([mk])\Z")
PRIVACY_MOVE: Final = "pv:m"
PRIVACY_KEEP: Final = "pv:k"
# A deep link opened by a claimer who had not started the bot when they won.
DETAILS_LINK: Final = re.compile(r"^d_([1-9]\d{0,11})\Z")


def claim_data(need_id: int) -> str:
    """Callback data of a need card's Claim button."""
    return f"c:{need_id}"


def release_data(claim_id: int) -> str:
    """Callback data of the Release button in a claimer's private message."""
    return f"r:{claim_id}"


def pick_group_data(chat_id: int) -> str:
    """Callback data of a group choice while a coordinator posts a need."""
    return f"g:{chat_id}"


def details_payload(claim_id: int) -> str:
    """Deep-link payload that delivers a claim's details to its holder, and only to them."""
    return f"d_{claim_id}"


def parse_choice(pattern: re.Pattern[str], data: str | None) -> str | None:
    """The word in ``data`` if it matches ``pattern`` exactly, else None."""
    match = pattern.match(data) if data else None
    return match.group(1) if match else None


def parse_id(pattern: re.Pattern[str], data: str | None) -> int | None:
    """The number in ``data`` if it matches ``pattern`` exactly, else None."""
    if not data:
        return None
    match = pattern.match(data)
    return int(match.group(1)) if match else None
