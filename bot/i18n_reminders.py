"""User-facing strings for reminders, in Simplified Chinese and English (merged into bot.i18n).

Answers to taps (rem_cancelled, rem_cancel_stale, rem_button_cancel) are plain text: Telegram
shows them without parsing.
"""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

REMINDERS: Final[dict[str, dict[str, str]]] = {
    "rem_follow_up": {
        "en": (
            "<b>How is need #{id} doing?</b>\n{summary}\n\n"
            "No visit has been logged since {since}. When you have visited, tap Log a visit "
            "(or send /visit {id}). If you cannot keep this pairing, /release {id} lets "
            "someone else take it."
        ),
        "zh": (
            "<b>需求 #{id} 近况如何？</b>\n{summary}\n\n"
            "自 {since} 以来尚未记录走访。走访后请点“记录走访”（或发送 /visit {id}）。"
            "如无法继续结对，发送 /release {id}，以便他人认领。"
        ),
    },
    "rem_escalation": {
        "en": (
            "<b>A pairing has gone quiet: need #{id}</b>\n{summary}\n\n"
            "Held by {name} since {claimed}. No visit logged since {since}; {count} "
            "reminders went unanswered.\n/show {id} · /reassign {id} &lt;person&gt; · /free {id}"
        ),
        "zh": (
            "<b>结对久无动静：需求 #{id}</b>\n{summary}\n\n"
            "{name} 自 {claimed} 起认领。自 {since} 以来未记录走访，{count} 次提醒均无回应。\n"
            "/show {id} · /reassign {id} &lt;认领人&gt; · /free {id}"
        ),
    },
    "rem_unreachable": {
        "en": (
            "I cannot reach {name} (id {user_id}): they blocked me or never opened a chat "
            "with me, so reminders do not reach them. Their pairings: {needs}. Please "
            "contact them another way."
        ),
        "zh": (
            "无法联系 {name}（ID {user_id}）：对方屏蔽了我或从未与我私聊，提醒无法送达。"
            "其结对：{needs}。请通过其他方式联系。"
        ),
    },
    "rem_missed": {
        "en": (
            "While I was down, {count} reminders fell due more than {catch_up} ago, so "
            "they were not sent: {kinds}."
        ),
        "zh": "我停机期间，有 {count} 条提醒已过期超过 {catch_up}，未发送：{kinds}。",
    },
    "rem_kind_follow_up": {"en": "follow-up", "zh": "走访提醒"},
    "rem_kind_escalation": {"en": "note of a quiet pairing", "zh": "结对无动静通知"},
    "rem_kind_holiday": {"en": "holiday reminder", "zh": "节日提醒"},
    "rem_kind_holiday_private": {
        "en": "holiday reminder to a claimer",
        "zh": "发给认领人的节日提醒",
    },
    "rem_kind_holiday_group": {"en": "holiday announcement", "zh": "群内节日通知"},
    "rem_kind_digest": {"en": "unclaimed digest", "zh": "待认领汇总"},
    "rem_kind_broadcast": {"en": "coordinators' message", "zh": "协调员群发消息"},
    "rem_kind_broadcast_private": {
        "en": "coordinators' message to a claimer",
        "zh": "发给认领人的协调员消息",
    },
    "rem_kind_unreachable": {"en": "note of an unreachable volunteer", "zh": "无法联系志愿者通知"},
    "rem_kind_missed_summary": {"en": "note of missed reminders", "zh": "漏发提醒通知"},
    "rem_kind_count": {"en": "{count} × {kind}", "zh": "{kind} {count} 条"},
    "rem_today": {"en": "today", "zh": "就在今天"},
    "rem_tomorrow": {"en": "tomorrow", "zh": "就在明天"},
    "rem_in_days": {"en": "in {days} days", "zh": "还有 {days} 天"},
    "rem_pairing": {"en": "#{id} · {summary}", "zh": "#{id} · {summary}"},
    "rem_holiday_private": {
        "en": (
            "<b>{name}</b> is on {date}, {when}. A good time to visit your household:\n"
            "{pairings}\n\nAfter your visit, log it with /visit &lt;number&gt;."
        ),
        "zh": (
            "<b>{name}</b>（{date}）{when}。正是走访结对家庭的好时候：\n"
            "{pairings}\n\n走访后请发送 /visit &lt;编号&gt; 记录。"
        ),
    },
    "rem_holiday_group": {
        "en": (
            "<b>{name}</b> is on {date}, {when}. {claimed} households are paired with a "
            "volunteer; {open} still wait for one: tap Claim on their cards."
        ),
        "zh": (
            "<b>{name}</b>（{date}）{when}。已有 {claimed} 户与志愿者结对，"
            "还有 {open} 户等待认领：请点卡片上的“认领”。"
        ),
    },
    "rem_holiday_group_all": {
        "en": (
            "<b>{name}</b> is on {date}, {when}. All {claimed} households are paired with a "
            "volunteer: thank you, and remember to visit."
        ),
        "zh": "<b>{name}</b>（{date}）{when}。全部 {claimed} 户均已结对，感谢大家，别忘了走访。",
    },
    "rem_digest": {
        "en": "<b>{count} needs still wait for a volunteer</b>\nTap Claim on a card:\n{lines}",
        "zh": "<b>还有 {count} 个需求等待认领</b>\n请点卡片上的“认领”：\n{lines}",
    },
    "rem_digest_more": {"en": "… and {count} more", "zh": "……还有 {count} 个"},
    "rem_broadcast": {
        "en": "<b>From the coordinators</b>\n{text}",
        "zh": "<b>协调员消息</b>\n{text}",
    },
    "rem_usage": {
        "en": (
            "Usage: /remind &lt;when&gt; &lt;text&gt;: a message to every current claimer.\n"
            "&lt;when&gt; is a local time (18:00), a date and time (2027-02-05 18:00), or a "
            "delay (30m, 2h, 3d)."
        ),
        "zh": (
            "用法：/remind &lt;时间&gt; &lt;内容&gt;：发给当前每位认领人。\n"
            "&lt;时间&gt; 可写当地时间（18:00）、日期和时间（2027-02-05 18:00）或延后时长"
            "（30m、2h、3d）。"
        ),
    },
    "rem_past": {
        "en": "That time has passed. Nothing was scheduled.",
        "zh": "该时间已过，未安排任何提醒。",
    },
    "rem_too_far": {
        "en": "That is more than a year ahead. Nothing was scheduled.",
        "zh": "时间超过一年以后，未安排任何提醒。",
    },
    "rem_text_length": {
        "en": "The message must be 1 to {limit} characters. Nothing was scheduled.",
        "zh": "消息须为 1 至 {limit} 个字。未安排任何提醒。",
    },
    "rem_scheduled": {
        "en": (
            "Scheduled #{id}: at {when}, to every current claimer ({count} now). "
            "/reminders lists what is scheduled."
        ),
        "zh": (
            "已安排 #{id}：{when} 发给当前每位认领人（现有 {count} 位）。"
            "/reminders 查看已安排的提醒。"
        ),
    },
    "rem_list_none": {"en": "Nothing is scheduled.", "zh": "目前没有已安排的提醒。"},
    "rem_list_header": {
        "en": "<b>Scheduled for every claimer ({count})</b>",
        "zh": "<b>将发给每位认领人的提醒（{count}）</b>",
    },
    "rem_list_broadcast": {
        "en": "#{id} · {when} · message: {text}",
        "zh": "#{id} · {when} · 消息：{text}",
    },
    "rem_list_holiday": {
        "en": "#{id} · {when} · {name} ({day}), and an announcement in the group",
        "zh": "#{id} · {when} · {name}（{day}），并在群里通知",
    },
    "rem_list_others": {
        "en": "Also waiting: {counts}.",
        "zh": "另有待发：{counts}。",
    },
    "rem_button_cancel": {"en": "Cancel #{id}", "zh": "取消 #{id}"},
    "rem_cancelled": {"en": "Cancelled #{id}.", "zh": "已取消 #{id}。"},
    "rem_cancel_stale": {
        "en": "That reminder is no longer scheduled.",
        "zh": "该提醒已不在计划中。",
    },
}
