"""User-facing strings for visits, in Simplified Chinese and English (merged into bot.i18n)."""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

VISITS: Final[dict[str, dict[str, str]]] = {
    "button_log_visit": {"en": "Log a visit", "zh": "记录走访"},
    "visit_private_only": {
        "en": "Visits are logged in a private chat with me: {link}",
        "zh": "请在与我的私聊中记录走访：{link}",
    },
    "visit_none": {
        "en": "You hold no pairings, so there is no visit to log.",
        "zh": "您目前没有结对，无需记录走访。",
    },
    "visit_pick": {
        "en": "Which household did you visit?",
        "zh": "您走访了哪一户？",
    },
    "visit_pick_item": {"en": "#{id} · {summary}", "zh": "#{id} · {summary}"},
    "visit_not_holder": {
        "en": "You don't hold need #{id}, so you cannot log a visit for it. /mine shows yours.",
        "zh": "您没有认领需求 #{id}，不能为它记录走访。/mine 查看您的结对。",
    },
    "visit_stale": {
        "en": "This pairing has ended, or is not yours: nothing was logged.",
        "zh": "此结对已结束或不属于您，未记录任何内容。",
    },
    "visit_old_button": {
        "en": "This button belongs to a visit form that is finished or at another step.",
        "zh": "此按钮属于已完成的走访记录或其他步骤。",
    },
    "visit_checklist": {
        "en": (
            "<b>Visit to need #{id}</b>\n{summary}\n\n"
            "Tick what you did (tap again to untick), then tap <b>Next</b>. /cancel stops."
        ),
        "zh": (
            "<b>走访需求 #{id}</b>\n{summary}\n\n"
            "勾选您做了的事（再点一次取消），然后点<b>下一步</b>。/cancel 取消。"
        ),
    },
    "button_visit_next": {"en": "Next →", "zh": "下一步 →"},
    "button_visit_skip": {"en": "Skip", "zh": "跳过"},
    "visit_done_list": {"en": "Done: {items}", "zh": "已做：{items}"},
    "visit_nothing_ticked": {"en": "nothing ticked", "zh": "未勾选"},
    "visit_ask_note": {
        "en": (
            "Add a note: how they are, what they need (it stays with the household's record; "
            "the group never sees it). Send it as a message, or tap Skip (or send -)."
        ),
        "zh": (
            "写一条备注：对方近况、需要什么（只记入该户记录，群里看不到）。"
            "直接发送文字，或点“跳过”（或发送 -）。"
        ),
    },
    "visit_ask_photo": {
        "en": "Send a photo of the visit if you like, or tap Skip (or send -).",
        "zh": "如有走访照片可以发送，或点“跳过”（或发送 -）。",
    },
    "visit_ask_concern": {
        "en": "Anything worrying? If the household needs help now, the coordinators are told.",
        "zh": "有没有让人担心的情况？如该户急需帮助，会立即通知协调员。",
    },
    "button_visit_all_well": {"en": "All well", "zh": "一切都好"},
    "button_visit_needs_help": {"en": "Needs help now", "zh": "急需帮助"},
    "visit_expect_done": {
        "en": "Tick what you did in the list above, then tap Next (or /cancel).",
        "zh": "请在上方列表中勾选，然后点“下一步”（或发送 /cancel）。",
    },
    "visit_expect_note": {
        "en": "Please send the note as text, or tap Skip (or /cancel).",
        "zh": "请用文字发送备注，或点“跳过”（或发送 /cancel）。",
    },
    "visit_expect_photo": {
        "en": "Please send a photo, or tap Skip or send - (or /cancel).",
        "zh": "请发送照片，或点“跳过”或发送 -（或发送 /cancel）。",
    },
    "visit_expect_concern": {
        "en": "Please tap All well or Needs help now above (or /cancel).",
        "zh": "请点上方的“一切都好”或“急需帮助”（或发送 /cancel）。",
    },
    "visit_logged": {
        "en": "Visit to need #{id} logged. Thank you!",
        "zh": "已记录对需求 #{id} 的走访，谢谢您！",
    },
    "visit_logged_concern": {
        "en": "The coordinators have been told that this household needs help now.",
        "zh": "已通知协调员：该户急需帮助。",
    },
    "visit_ended": {
        "en": "Your pairing with need #{id} has ended, so the visit was not logged.",
        "zh": "您与需求 #{id} 的结对已结束，走访未记录。",
    },
    "visit_cancelled": {
        "en": "The visit form is cancelled; nothing was logged.",
        "zh": "已取消走访记录，未保存任何内容。",
    },
    "visit_concern_alert": {
        "en": (
            "⚠️ <b>Need #{id} needs help now</b>\n{summary}\n\n"
            "Reported by {name} after a visit on {date}.\n{note}\n\n"
            "/show {id}: the household's details and history."
        ),
        "zh": (
            "⚠️ <b>需求 #{id} 急需帮助</b>\n{summary}\n\n"
            "{name} 于 {date} 走访后报告。\n{note}\n\n"
            "/show {id}：查看该户详细信息和记录。"
        ),
    },
    "visit_alert_note": {"en": "Note: {note}", "zh": "备注：{note}"},
    "visit_alert_no_note": {"en": "(no note)", "zh": "（无备注）"},
    "household_history": {
        "en": "<b>History: claims and visits</b>",
        "zh": "<b>记录：认领与走访</b>",
    },
    "household_claimed": {"en": "{at} · claimed by {name}", "zh": "{at} · {name} 认领"},
    "household_assigned": {
        "en": "{at} · assigned to {name} by a coordinator",
        "zh": "{at} · 协调员分配给 {name}",
    },
    "household_ended": {"en": "{at} · {name}: {reason}", "zh": "{at} · {name}：{reason}"},
    "household_visit": {
        "en": "{at} · visit by {name}: {done}",
        "zh": "{at} · {name} 走访：{done}",
    },
    "household_note": {"en": "Note: {note}", "zh": "备注：{note}"},
    "household_concern": {"en": "⚠️ needs help now", "zh": "⚠️ 急需帮助"},
    "household_photo": {"en": "📷 photo", "zh": "📷 有照片"},
    "household_earlier": {
        "en": "… {count} earlier entries not shown",
        "zh": "……更早的 {count} 条未显示",
    },
}
