"""What the demo's group shows, read as a person reads it: need cards, boards, the pinned
progress board; and what the bot's database says, to hold the group against.

A card is one need's message (``Need #12 …``); a board lists several (``Needs #1-#8``, an
en dash between), one entry per need (``#3 summary``, and on the next line ``⬜ open`` or
``✅ holder``), with a ``✋ #3`` button per open need. The demo only reads the emulator's
messages and, read-only, the SQLite file: it never writes to what the bot keeps.
"""

from __future__ import annotations

import html
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator, SimMessage

_TAG = re.compile(r"<[^>]+>")
_CARD = re.compile(r"^(?:Need|需求) #(\d+)(?!\d|\u2013)")
_BOARD = re.compile(r"^(?:Needs|需求) #\d+\u2013#\d+")  # an en dash
_ENTRY = re.compile(r"^#(\d+) ")
_CLAIMED_BY = re.compile(r"(?:Claimed by|已由) (.+?)(?: 认领)?$", re.M)


def plain(text: str | None) -> str:
    """Bot HTML as a person reads it."""
    return html.unescape(_TAG.sub("", text or ""))


def text_of(message: Any) -> str:
    """A message's plain text ("" for none)."""
    return str(message.text or "")


def group_messages(emu: BotApiEmulator, chat_id: int) -> list[SimMessage]:
    """The bot's messages in the group, oldest first (not the deleted ones)."""
    return list(emu.messages(chat_id))


def is_card(message: SimMessage) -> bool:
    """One need's own card (posted alone by /post)."""
    return bool(_CARD.match(text_of(message)))


def is_board(message: SimMessage) -> bool:
    """A board: several needs in one message."""
    return bool(_BOARD.match(text_of(message)))


def cards(emu: BotApiEmulator, chat_id: int) -> list[SimMessage]:
    """The need cards in the group, in order."""
    return [m for m in group_messages(emu, chat_id) if is_card(m)]


def boards(emu: BotApiEmulator, chat_id: int) -> list[SimMessage]:
    """The boards in the group, in order."""
    return [m for m in group_messages(emu, chat_id) if is_board(m)]


def entries(message: SimMessage) -> dict[int, str]:
    """Need number -> what a board (or a card) shows of its state: a board's state line
    (``⬜ open``, ``✅ holder · visited 01-20``), a card's whole text."""
    text = text_of(message)
    card = _CARD.match(text)
    if card:
        return {int(card.group(1)): text}
    lines = text.split("\n")
    found: dict[int, str] = {}
    for index, line in enumerate(lines[:-1]):
        entry = _ENTRY.match(line)
        if entry:
            found[int(entry.group(1))] = lines[index + 1]
    return found


def entry_text(message: SimMessage, need: int) -> str:
    """A need's entry as shown: a board's two lines for it, or the whole card."""
    if is_card(message):
        return text_of(message)
    lines = text_of(message).split("\n")
    for index, line in enumerate(lines[:-1]):
        if line.startswith(f"#{need} "):
            return f"{line}\n{lines[index + 1]}"
    return ""


def listed(emu: BotApiEmulator, chat_id: int) -> dict[int, SimMessage]:
    """Need number -> the group message that shows it (a board or its card)."""
    found: dict[int, SimMessage] = {}
    for message in group_messages(emu, chat_id):
        if is_card(message) or is_board(message):
            for need in entries(message):
                found[need] = message
    return found


def message_of(emu: BotApiEmulator, chat_id: int, need: int) -> SimMessage:
    """The group message that shows this need."""
    return listed(emu, chat_id)[need]


def claim_data(need: int) -> str:
    """The callback data of a need's Claim button (what a tap sends)."""
    return f"c:{need}"


def claimable(message: SimMessage, need: int) -> bool:
    """Whether the message carries the need's Claim button."""
    return claim_data(need) in message.callback_data


def holder_shown(message: SimMessage, need: int) -> str:
    """Who the message shows holding the need ("" if nobody): ``name (team)``."""
    state = entries(message).get(need, "")
    if is_card(message):
        claimed = _CLAIMED_BY.search(state)
        return claimed.group(1) if claimed else ""
    if not state.startswith("✅ "):
        return ""
    return state.removeprefix("✅ ").split(" · ")[0]


def revisions(emu: BotApiEmulator, chat_id: int) -> int:
    """Every version of every bot message in the group so far: sends and edits (what
    Telegram's 20 a minute counts), the deleted ones too."""
    return sum(len(m.history) for m in emu.messages(chat_id, include_deleted=True))


def pinned(emu: BotApiEmulator, chat_id: int) -> SimMessage | None:
    """The group's pinned message, as members see it at the top."""
    return emu.chat(chat_id).pinned_message()


@dataclass(frozen=True)
class Counts:
    """A group's needs by state, as the bot's database has them."""

    total: int
    open: int
    claimed: int
    visited: int
    holders: dict[int, int]  # need id -> holder's user id


def database_counts(database: Path, chat_id: int) -> Counts:
    """Read, read-only, what the bot's SQLite file holds for the group: every need, the open
    ones, those held (and by whom), and those held whose pairing logged a visit."""
    uri = f"{database.resolve().as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as conn:
        needs = conn.execute(
            "SELECT id, closed_at IS NOT NULL FROM needs WHERE chat_id = ?", (chat_id,)
        ).fetchall()
        held = conn.execute(
            "SELECT c.need_id, c.volunteer_id,"
            " EXISTS (SELECT 1 FROM visits v WHERE v.claim_id = c.id)"
            " FROM claims c JOIN needs n ON n.id = c.need_id"
            " WHERE n.chat_id = ? AND c.released_at IS NULL AND n.closed_at IS NULL",
            (chat_id,),
        ).fetchall()
    conn.close()
    closed = sum(1 for _id, is_closed in needs if is_closed)
    return Counts(
        total=len(needs),
        open=len(needs) - closed - len(held),
        claimed=len(held),
        visited=sum(1 for _need, _user, visited in held if visited),
        holders={need: user for need, user, _visited in held},
    )


def database_boards(database: Path, chat_id: int) -> int:
    """How many boards the bot's database has for the group (posted or waiting)."""
    uri = f"{database.resolve().as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM boards WHERE chat_id = ?", (chat_id,)
        ).fetchone()
    conn.close()
    return int(count)
