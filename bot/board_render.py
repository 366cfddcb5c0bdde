"""How boards, progress boards and import progress look in Telegram (HTML parse mode).

A board lists several needs in one group message: number, public labels and summary, and who
holds each, with a Claim button per open need. It never shows private details. All text from
people is escaped here.
"""

from __future__ import annotations

import html
from datetime import UTC, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.domain import Need, NeedState, Progress
from bot.i18n import t
from bot.render import card_markup, card_text, holder_name, telegram_length

# Telegram takes 4,096 characters in a message; a board stays under this, leaving room.
BOARD_BUDGET = 3800
# Summaries on a board are cut to the first of these that lets the whole board fit.
SUMMARY_CUTS = (None, 400, 250, 160, 100, 60)
# Claim buttons per row: "✋ #123" fits five across a phone's screen.
BUTTONS_PER_ROW = 5
BAR_WIDTH = 10


def message_text(shown: list[Need], lang: str, tz: tzinfo = UTC) -> str:
    """The text of a group message showing these needs: a card or a board."""
    if is_card(shown):
        return card_text(shown[0], lang, tz)
    return board_text(shown, lang, tz)


def message_markup(shown: list[Need], lang: str) -> InlineKeyboardMarkup | None:
    """The buttons of a group message showing these needs."""
    if is_card(shown):
        return card_markup(shown[0], lang)
    return board_markup(shown, lang)


def is_card(shown: list[Need]) -> bool:
    """Whether the message is a need's own card (posted alone by /post)."""
    return len(shown) == 1 and shown[0].board_id is None


def board_text(shown: list[Need], lang: str, tz: tzinfo = UTC) -> str:
    """A board: a title with the numbers it lists, one entry per need, and a hint."""
    for cut in SUMMARY_CUTS:
        text = _board_text(shown, lang, tz, cut)
        if telegram_length(text) <= BOARD_BUDGET:
            break
    return text


def _board_text(shown: list[Need], lang: str, tz: tzinfo, cut: int | None) -> str:
    title = t(lang, "board_title", first=shown[0].id, last=shown[-1].id)
    entries = [_entry(need, lang, tz, cut) for need in shown]
    any_open = any(need.state is NeedState.OPEN for need in shown)
    hint = t(lang, "board_hint_open" if any_open else "board_hint_full")
    return "\n\n".join([title, *entries, f"<i>{hint}</i>"])


def _entry(need: Need, lang: str, tz: tzinfo, cut: int | None) -> str:
    summary = need.summary if cut is None else _shorten(need.summary, cut)
    labels = [label for label in (need.category, need.area) if label]
    text = html.escape(summary)
    if labels:
        text = t(lang, "board_labels", labels=html.escape(" · ".join(labels))) + text
    return t(lang, "board_item", id=need.id, summary=text) + "\n" + _state(need, lang, tz)


def _state(need: Need, lang: str, tz: tzinfo) -> str:
    if need.closed_at is not None:
        cancelled = need.state is NeedState.CANCELLED
        return t(lang, "board_cancelled" if cancelled else "board_closed")
    if need.slots > 1:
        names = ", ".join(holder_name(holder) for holder in need.holders) or t(lang, "board_open")
        state = t(lang, "board_places", names=names, taken=len(need.holders), slots=need.slots)
    elif need.holder is None:
        return t(lang, "board_open")
    else:
        state = t(lang, "board_claimed", name=holder_name(need.holder))
    if need.last_visited_at is not None:
        date = need.last_visited_at.astimezone(tz).strftime("%m-%d")
        state += " · " + t(lang, "board_visited", date=date)
    return state


def board_markup(shown: list[Need], lang: str) -> InlineKeyboardMarkup | None:
    """A Claim button per open need on the board, numbered; none once all are taken."""
    buttons = [
        InlineKeyboardButton(
            t(lang, "board_button", id=need.id), callback_data=callbacks.claim_data(need.id)
        )
        for need in shown
        if need.state is NeedState.OPEN
    ]
    if not buttons:
        return None
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``▓▓▓▓▓▓▓░░░ 70%``: a bar that reads the same in any font."""
    share = done / total if total else 0.0
    filled = round(share * width)
    return f"{'▓' * filled}{'░' * (width - filled)} {round(share * 100)}%"


def progress_text(progress: Progress, lang: str) -> str:
    """A group's progress board: the counts, a bar, and the teams' tallies."""
    title = t(lang, "progress_title")
    if progress.total == 0:
        return f"{title}\n\n{t(lang, 'progress_none')}"
    settled = progress.claimed + progress.closed
    lines = [
        title,
        "",
        t(
            lang,
            "progress_counts",
            claimed=progress.claimed,
            total=progress.total,
            open=progress.open,
            visited=progress.visited,
        ),
        progress_bar(settled, progress.total),
    ]
    if progress.closed:
        lines.append(t(lang, "progress_closed", closed=progress.closed))
    if progress.teams:
        lines += ["", t(lang, "progress_teams")]
        for tally in progress.teams:
            team = html.escape(tally.team) if tally.team else t(lang, "progress_no_team")
            lines.append(
                t(lang, "progress_team", team=team, claimed=tally.claimed, visited=tally.visited)
            )
        if progress.other_teams:
            lines.append(t(lang, "progress_more_teams", count=progress.other_teams))
    return "\n".join(lines)


def import_progress_text(posted: int, total: int, lang: str) -> str:
    """The coordinator's one message about an import going out, edited as it goes."""
    key = "import_posted" if posted >= total else "import_posting"
    return t(lang, key, posted=posted, total=total, bar=progress_bar(posted, total))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
