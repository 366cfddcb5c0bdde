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
# Log a visit: the button names the pairing (the claim), as Release does.
LOG_VISIT: Final = re.compile(r"^v:([1-9]\d{0,11})\Z")
# The visit form's buttons name the pairing and what they act on, so a button of an older
# form or of a step already done changes nothing: tick a checklist item; leave a step as it
# is (Next, Skip); all well (n) or needs help now (y).
VISIT_TICK: Final = re.compile(r"^vt:([1-9]\d{0,11}):([a-z0-9_]{1,20})\Z")
VISIT_ON: Final = re.compile(r"^vo:([1-9]\d{0,11}):(done|note|photo)\Z")
VISIT_CONCERN: Final = re.compile(r"^vc:([1-9]\d{0,11}):([yn])\Z")


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


def log_visit_data(claim_id: int) -> str:
    """Callback data of a Log a visit button; it names the pairing."""
    return f"v:{claim_id}"


def visit_tick_data(claim_id: int, key: str) -> str:
    """Callback data of a checklist item in the visit form."""
    return f"vt:{claim_id}:{key}"


def visit_on_data(claim_id: int, step: str) -> str:
    """Callback data of Next (at the checklist) or Skip (note, photo) in the visit form."""
    return f"vo:{claim_id}:{step}"


def visit_concern_data(claim_id: int, concern: bool) -> str:
    """Callback data of All well / Needs help now, the visit form's last step."""
    return f"vc:{claim_id}:{'y' if concern else 'n'}"


def parse_pair(pattern: re.Pattern[str], data: str | None) -> tuple[int, str] | None:
    """The number and the word in ``data`` if it matches ``pattern`` exactly, else None."""
    match = pattern.match(data) if data else None
    return (int(match.group(1)), match.group(2)) if match else None


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


# A Cancel button under /reminders names the scheduled reminder (its row).
CANCEL_REMINDER: Final = re.compile(r"^rc:([1-9]\d{0,11})\Z")


def cancel_reminder_data(reminder_id: int) -> str:
    """Callback data of a Cancel button in a coordinator's /reminders list."""
    return f"rc:{reminder_id}"


# A button of the /edit menu: the need being edited, and the field to change (or save).
EDIT_SAVE: Final = "save"
EDIT: Final = re.compile(r"^ed:([1-9]\d{0,11}):(summary|name|address|phone|health|notes|save)\Z")


def edit_data(need_id: int, field: str) -> str:
    """Callback data of a button under the /edit menu of a need."""
    return f"ed:{need_id}:{field}"


# A spreadsheet import waiting in private chat: its buttons name the waiting file (a newer
# file gets a new number, so an older message's buttons do nothing) and, to pick or confirm,
# the group.
IMPORT_GROUP: Final = re.compile(r"^ig:([1-9]\d{0,11}):(-?[1-9]\d{0,19})\Z")
IMPORT_CONFIRM: Final = re.compile(r"^iy:([1-9]\d{0,11}):(-?[1-9]\d{0,19})\Z")
IMPORT_CANCEL: Final = re.compile(r"^in:([1-9]\d{0,11})\Z")


def import_group_data(pending_id: int, chat_id: int) -> str:
    """Callback data of a group choice for a waiting import."""
    return f"ig:{pending_id}:{chat_id}"


def import_confirm_data(pending_id: int, chat_id: int) -> str:
    """Callback data of Confirm under an import's summary, for the group it summarises."""
    return f"iy:{pending_id}:{chat_id}"


def import_cancel_data(pending_id: int) -> str:
    """Callback data of Cancel for a waiting import."""
    return f"in:{pending_id}"


def parse_ids(pattern: re.Pattern[str], data: str | None) -> tuple[int, int] | None:
    """The two numbers in ``data`` if it matches ``pattern`` exactly, else None."""
    match = pattern.match(data) if data else None
    return (int(match.group(1)), int(match.group(2))) if match else None


# A team in the /team picker names the team by id; 0 is "no team". A removed or unknown team
# changes nothing.
PICK_TEAM: Final = re.compile(r"^tm:(0|[1-9]\d{0,11})\Z")
# The deep link that opens /team's picker (a tap refused for want of a team carries it).
TEAM_LINK: Final = "team"


def pick_team_data(team_id: int | None) -> str:
    """Callback data of a team in the /team picker (None: the No team button)."""
    return f"tm:{team_id or 0}"
