"""What in a public summary looks like a household's private data: phone, ID number, address.

A coordinator may type a phone number or a flat into the summary the whole group sees; this
finds the usual shapes of them so the bot can ask before anything is posted. It is a net for
slips, not a guarantee: a name, or an address written some other way, passes unseen.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

# Digits may be grouped by a space or a dash ("138 0000 1234", "0755-1234-5678").
_SEP = r"[ \-]?"
# Explicit edges, not \b: a Chinese character counts as a word character, so "住Room 302"
# has no \b before "Room".
_NOT_AFTER_WORD = r"(?<![0-9A-Za-z])"
_NOT_BEFORE_WORD = r"(?![0-9A-Za-z])"
_ROOM = r"(?:room|rm\.?|flat|apt\.?|apartment|suite) ?(?:no\.? ?|#)?[0-9]+[A-Za-z]?"
_BUILDING = r"(?:building|bldg\.?|block|blk\.?) ?#?[0-9A-Za-z]+"

# Each kind's shapes; a number is found only whole, never inside a longer run of digits.
_PATTERNS: Final[list[tuple[str, re.Pattern[str]]]] = [
    # A resident ID: 17 digits and a check character (a digit or X).
    ("id_number", re.compile(rf"{_NOT_AFTER_WORD}[1-9][0-9]{{16}}[0-9Xx]{_NOT_BEFORE_WORD}")),
    # A mainland mobile: 1, then 3-9, then 9 digits; +86 or 86 may come first.
    (
        "mobile",
        re.compile(rf"(?<![0-9+])(?:\+?86{_SEP})?1[3-9][0-9](?:{_SEP}[0-9]){{8}}(?![0-9])"),
    ),
    # A landline with its area code (010, 0755, (021)): 7 or 8 digits after it.
    (
        "landline",
        re.compile(
            rf"(?<![0-9])(?:\(0[1-9][0-9]{{1,2}}\)|0[1-9][0-9]{{1,2}}){_SEP}"
            rf"[0-9]{{3,4}}{_SEP}[0-9]{{4}}(?![0-9])"
        ),
    ),
    # 3号楼2单元501室, 5栋302, A座1203, 2单元501, 501室 (but not 3室1厅, a flat's layout).
    (
        "address",
        re.compile(
            r"(?:[0-9]+|[A-Za-z]|[一二三四五六七八九十]+) ?(?:号楼|栋|幢|座)"
            r" ?(?:[0-9]+ ?单元 ?)?[0-9]{2,4}(?: ?(?:室|号|房))?"
            r"|[0-9]+ ?单元 ?[0-9]{2,4}(?: ?(?:室|号|房))?"
            r"|[0-9]{3,4} ?(?:室|房间)"
        ),
    ),
    # 人民路12号: a door on a street ("12号楼" is a building, found above with its room).
    ("address", re.compile(r"[\u4e00-\u9fff]{1,3}(?:路|街|巷|弄|道) ?[0-9]+ ?号(?!楼)")),
    # Building 7, Unit 3, Room 302: the building first.
    (
        "address",
        re.compile(
            rf"{_NOT_AFTER_WORD}{_BUILDING},? ?(?:unit [0-9]+,? ?)?{_ROOM}{_NOT_BEFORE_WORD}",
            re.IGNORECASE,
        ),
    ),
    # Room 302, Flat 5B, Apt 12, Suite 210; then the building, if given.
    (
        "address",
        re.compile(
            rf"{_NOT_AFTER_WORD}{_ROOM}{_NOT_BEFORE_WORD}(?:,? ?{_BUILDING}{_NOT_BEFORE_WORD})?",
            re.IGNORECASE,
        ),
    ),
    # 7 Hidden Lane, 12 Main Street: a house number on a named street.
    (
        "address",
        re.compile(
            rf"{_NOT_AFTER_WORD}[0-9]+[A-Za-z]? (?:[A-Z][a-z]+ ){{1,3}}"
            r"(?:Street|St\.|Road|Rd\.|Lane|Ln\.|Avenue|Ave\.|Alley|Drive|Dr\.)(?![A-Za-z])"
        ),
    ),
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of text that looks private: its kind and the text as matched."""

    kind: str  # "mobile", "landline", "id_number" or "address"
    text: str


def find_private_data(text: str) -> list[Finding]:
    """What in ``text`` looks like a phone number, ID number or address, in reading order.

    Full-width digits and letters count as their plain forms; each stretch of
    text is reported once, as the first kind above that takes it.
    """
    plain = unicodedata.normalize("NFKC", text)
    taken: list[tuple[int, int, Finding]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(plain):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end, _ in taken):
                continue
            taken.append((start, end, Finding(kind, match.group().strip())))
    return [finding for _, _, finding in sorted(taken, key=lambda item: item[0])]
