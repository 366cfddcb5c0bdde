"""Strings of boards, the progress board and import progress, in Simplified Chinese and
English (merged into bot.i18n). Telegram messages, HTML."""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

BOARDS: Final[dict[str, dict[str, str]]] = {
    "board_title": {
        "en": "<b>Needs #{first}–#{last}</b>",
        "zh": "<b>需求 #{first}–#{last}</b>",
    },
    "board_item": {"en": "<b>#{id}</b> {summary}", "zh": "<b>#{id}</b> {summary}"},
    "board_labels": {"en": "[{labels}] ", "zh": "【{labels}】"},
    "board_open": {"en": "⬜ open", "zh": "⬜ 待认领"},
    "board_claimed": {"en": "✅ {name}", "zh": "✅ {name}"},
    "board_places": {"en": "👥 {taken}/{slots}: {names}", "zh": "👥 {taken}/{slots}：{names}"},
    "board_closed": {"en": "☑️ closed", "zh": "☑️ 已关闭"},
    "board_cancelled": {"en": "✖️ cancelled", "zh": "✖️ 已取消"},
    "board_visited": {"en": "visited {date}", "zh": "{date} 已走访"},
    "board_hint_open": {
        "en": "Tap a number below to claim that household.",
        "zh": "点下方编号认领对应的家庭。",
    },
    "board_hint_full": {
        "en": "Every need here is paired up. Thank you!",
        "zh": "本组需求已全部结对，谢谢大家！",
    },
    "board_button": {"en": "✋ #{id}", "zh": "✋ #{id}"},
    "progress_title": {"en": "<b>📊 Drive progress</b>", "zh": "<b>📊 结对进度</b>"},
    "progress_counts": {
        "en": "Claimed <b>{claimed}</b> of {total} · open {open} · visited {visited}",
        "zh": "已认领 <b>{claimed}</b> / {total} · 待认领 {open} · 已走访 {visited}",
    },
    "progress_closed": {
        "en": "Closed or cancelled: {closed}",
        "zh": "已关闭或取消：{closed}",
    },
    "progress_none": {
        "en": "No needs posted in this group yet.",
        "zh": "本群还没有发布需求。",
    },
    "progress_teams": {"en": "<b>By team</b>", "zh": "<b>各队伍</b>"},
    "progress_team": {
        "en": "{team}: {claimed} claimed, {visited} visited",
        "zh": "{team}：认领 {claimed}，走访 {visited}",
    },
    "progress_no_team": {"en": "(no team)", "zh": "（未填队伍）"},
    "progress_more_teams": {
        "en": "…and {count} more teams",
        "zh": "……另有 {count} 个队伍",
    },
    "board_only_coordinators": {
        "en": "Only coordinators can post the progress board.",
        "zh": "只有协调员可以发布进度看板。",
    },
    "board_in_group": {
        "en": "Send /board in the group whose progress it should show.",
        "zh": "请在要显示进度的群里发送 /board。",
    },
    "board_not_pinned": {
        "en": (
            "The progress board is posted, but I could not pin it: give me the right to pin"
            " messages in that group, then send /board again."
        ),
        "zh": "进度看板已发布，但我没有置顶权限：请在该群给我“置顶消息”权限后再发送 /board。",
    },
    "board_failed": {
        "en": "I could not post the progress board; please try again in a minute.",
        "zh": "进度看板发布失败，请稍后再试。",
    },
    "import_posting": {
        "en": "Posting to the group: <b>{posted} of {total}</b> needs are up.\n{bar}",
        "zh": "正在发布到群：已发布 <b>{posted} / {total}</b> 条需求。\n{bar}",
    },
    "import_posted": {
        "en": "All {total} needs are up in the group. ✅\n{bar}",
        "zh": "全部 {total} 条需求已发布到群。✅\n{bar}",
    },
}
