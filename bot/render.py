"""How needs look in Telegram: card text, keyboards and private messages (HTML parse mode).

All text from people (summaries, names, details) is escaped here, so it cannot inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.domain import (
    MAX_TEAMS,
    ClaimRecord,
    Holder,
    Need,
    NeedState,
    Pairing,
    PrivateDetails,
    Team,
    Visit,
)
from bot.i18n import t

_DETAIL_LABELS = (
    ("name", "label_name"),
    ("address", "label_address"),
    ("phone", "label_phone"),
    ("health", "label_health"),
    ("notes", "label_notes"),
)


def holder_name(holder: Holder) -> str:
    """A holder as shown to others: their name and, if set, their team (escaped)."""
    name = html.escape(holder.display_name)
    return f"{name} ({html.escape(holder.team)})" if holder.team else name


def card_text(need: Need, lang: str, tz: tzinfo = UTC) -> str:
    """The need card the group sees: number, public summary, state, the last visit's date.

    Never private details, nor what a visit's note says.
    """
    if need.closed_at is not None:
        state = closed_label(need, lang)
    elif need.slots > 1:
        state = places_text(need, lang)
    elif need.holder is not None:
        state = t(lang, "card_claimed", name=holder_name(need.holder))
    else:
        state = t(lang, "card_open")
    if need.last_visited_at is not None:
        visited = need.last_visited_at.astimezone(tz).strftime("%Y-%m-%d")
        state += "\n" + t(lang, "card_last_visit", date=visited)
    return f"{t(lang, 'card_title', id=need.id)}\n{html.escape(need.summary)}\n\n{state}"


def places_text(need: Need, lang: str) -> str:
    """The state of a need for several volunteers: who holds its places, how many are left."""
    taken = len(need.holders)
    lines = []
    if taken:
        names = ", ".join(holder_name(holder) for holder in need.holders)
        lines.append(t(lang, "card_places_taken", taken=taken, slots=need.slots, names=names))
    if not need.full:
        lines.append(t(lang, "card_places_left", left=need.slots - taken, slots=need.slots))
    return "\n".join(lines)


def closed_label(need: Need, lang: str) -> str:
    """How a card says a need is over: closed (as done) or cancelled."""
    return t(lang, "card_cancelled" if need.state is NeedState.CANCELLED else "card_closed")


def card_markup(need: Need, lang: str) -> InlineKeyboardMarkup | None:
    """The Claim button while the need is open; no button otherwise."""
    if need.state is not NeedState.OPEN:
        return None
    button = InlineKeyboardButton(
        t(lang, "button_claim"), callback_data=callbacks.claim_data(need.id)
    )
    return InlineKeyboardMarkup([[button]])


def details_lines(details: PrivateDetails, lang: str) -> list[str]:
    """The private details as labelled lines (escaped)."""
    lines = []
    for field, label in _DETAIL_LABELS:
        value = getattr(details, field)
        if value:
            lines.append(t(lang, label) + html.escape(value))
    return lines or [t(lang, "details_none")]


def details_message(need: Need, details: PrivateDetails, lang: str) -> str:
    """The private message a claimer receives: the need and the household's details."""
    return "\n\n".join(
        [
            t(lang, "details_intro", id=need.id, summary=html.escape(need.summary)),
            t(lang, "details_private") + "\n" + "\n".join(details_lines(details, lang)),
            t(lang, "details_outro"),
        ]
    )


def pairing_markup(claim_id: int, lang: str) -> InlineKeyboardMarkup:
    """Log a visit and Release under a claimer's private message; both name the pairing."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "button_log_visit"), callback_data=callbacks.log_visit_data(claim_id)
                )
            ],
            [
                InlineKeyboardButton(
                    t(lang, "button_release"), callback_data=callbacks.release_data(claim_id)
                )
            ],
        ]
    )


def team_picker_markup(teams: list[Team], lang: str) -> InlineKeyboardMarkup:
    """The /team picker: a button per team, two to a row, then No team."""
    buttons = [
        InlineKeyboardButton(team.name, callback_data=callbacks.pick_team_data(team.id))
        for team in teams[:MAX_TEAMS]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    none = t(lang, "button_no_team")
    rows.append([InlineKeyboardButton(none, callback_data=callbacks.pick_team_data(None))])
    return InlineKeyboardMarkup(rows)


def pairing_line(pairing: Pairing, lang: str, tz: tzinfo) -> str:
    """One line of /mine."""
    since = pairing.claimed_at.astimezone(tz).strftime("%Y-%m-%d")
    summary = html.escape(_shorten(pairing.need.summary, 80))
    return t(lang, "mine_item", id=pairing.need.id, summary=summary, date=since)


# Longer notes are cut in a household's history, so more entries fit in one message.
HISTORY_NOTE_LENGTH = 300


def household_lines(
    claims: list[ClaimRecord],
    visits: list[Visit],
    labels: Callable[[str], str],
    lang: str,
    tz: tzinfo,
) -> list[str]:
    """A household's history, oldest first: claims, releases, and visits (what was done, as
    ``labels`` names it, the note, a concern, whether there is a photo). One entry a string."""
    names = {record.id: _claimer(record) for record in claims}
    entries: list[tuple[datetime, int, int, str]] = []
    for record in claims:
        key = "household_assigned" if record.assigned_by is not None else "household_claimed"
        line = t(lang, key, at=_local(record.claimed_at, tz), name=names[record.id])
        entries.append((record.claimed_at, 0, record.id, line))
        if record.released_at is not None:
            reason = t(lang, f"reason_{record.release_reason}")
            line = t(
                lang,
                "household_ended",
                at=_local(record.released_at, tz),
                name=names[record.id],
                reason=reason,
            )
            entries.append((record.released_at, 2, record.id, line))
    for visit in visits:
        name = names.get(visit.claim_id, str(visit.volunteer_id))
        entries.append((visit.visited_at, 1, visit.id, _visit_line(visit, name, labels, lang, tz)))
    return [line for *_, line in sorted(entries)]


def _visit_line(
    visit: Visit, name: str, labels: Callable[[str], str], lang: str, tz: tzinfo
) -> str:
    done = ", ".join(labels(key) for key in visit.done) or t(lang, "visit_nothing_ticked")
    line = t(lang, "household_visit", at=_local(visit.visited_at, tz), name=name, done=done)
    marks = [t(lang, "household_concern")] if visit.concern else []
    marks += [t(lang, "household_photo")] if visit.photo_file_id else []
    if marks:
        line += " · " + " · ".join(marks)
    if visit.note:
        note = html.escape(_shorten(visit.note, HISTORY_NOTE_LENGTH))
        line += "\n    " + t(lang, "household_note", note=note)
    return line


def _claimer(record: ClaimRecord) -> str:
    name = html.escape(record.volunteer_name)
    return f"{name} ({html.escape(record.team)})" if record.team else name


_TAG = re.compile(r"<[^>]*>")


def telegram_length(text: str) -> int:
    """How long Telegram counts an HTML message: the text its markup shows, in UTF-16 units."""
    shown = html.unescape(_TAG.sub("", text))
    return len(shown.encode("utf-16-le")) // 2


def latest_that_fit(lines: list[str], budget: int, most: int, lang: str) -> list[str]:
    """The newest ``lines`` (at most ``most``) whose total, one per line, stays within
    ``budget`` as Telegram counts; oldest first, after a line saying how many earlier ones
    were left out."""
    earlier = t(lang, "household_earlier", count=len(lines))
    room = budget - telegram_length(earlier) - 1
    kept: list[str] = []
    for line in reversed(lines):
        size = telegram_length(line) + 1
        if size > room or len(kept) == most:
            break
        kept.append(line)
        room -= size
    kept.reverse()
    if len(kept) < len(lines):
        kept.insert(0, t(lang, "household_earlier", count=len(lines) - len(kept)))
    return kept


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
