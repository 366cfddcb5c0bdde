"""How needs look in Telegram: card text, keyboards and private messages (HTML parse mode).

All text from people (summaries, names, details) is escaped here, so it cannot inject markup.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.domain import ClaimRecord, Holder, Need, NeedState, Pairing, PrivateDetails
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
    if need.state is NeedState.CLAIMED:
        assert need.holder is not None
        state = t(lang, "card_claimed", name=holder_name(need.holder))
    elif need.state is NeedState.CLOSED:
        state = t(lang, "card_closed")
    else:
        state = t(lang, "card_open")
    if need.last_visited_at is not None:
        visited = need.last_visited_at.astimezone(tz).strftime("%Y-%m-%d")
        state += "\n" + t(lang, "card_last_visit", date=visited)
    return f"{t(lang, 'card_title', id=need.id)}\n{html.escape(need.summary)}\n\n{state}"


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


def release_markup(claim_id: int, lang: str) -> InlineKeyboardMarkup:
    """The Release button under a claimer's private message; it names the pairing."""
    data = callbacks.release_data(claim_id)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "button_release"), callback_data=data)]]
    )


def pairing_line(pairing: Pairing, lang: str, tz: tzinfo) -> str:
    """One line of /mine."""
    since = pairing.claimed_at.astimezone(tz).strftime("%Y-%m-%d")
    summary = html.escape(_shorten(pairing.need.summary, 80))
    return t(lang, "mine_item", id=pairing.need.id, summary=summary, date=since)


def history_lines(history: list[ClaimRecord], lang: str, tz: tzinfo) -> list[str]:
    """A need's claim history for coordinators, oldest first."""
    lines = []
    for record in history:
        until = ""
        if record.released_at is not None:
            until = t(
                lang,
                "history_until",
                released=_local(record.released_at, tz),
                reason=t(lang, f"reason_{record.release_reason}"),
            )
        name = html.escape(record.volunteer_name)
        if record.team:
            name += f" ({html.escape(record.team)})"
        lines.append(
            t(lang, "history_item", claimed=_local(record.claimed_at, tz), name=name, until=until)
        )
    return lines


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
