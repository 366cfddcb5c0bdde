"""Strings of a need's life after posting: editing, closing, cancelling, reopening, purging
(merged into bot.i18n)."""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

LIFE: Final[dict[str, dict[str, str]]] = {
    "help_life": {
        "en": (
            "\n/edit &lt;number&gt;: change a need's public summary or private details"
            " (private chat)\n"
            "/close &lt;number&gt; [note]: close a need as done; its pairing ends\n"
            "/cancel_need &lt;number&gt; [note]: cancel a need no longer wanted; its pairing"
            " ends\n"
            "/reopen &lt;number&gt;: open a closed or cancelled need again"
        ),
        "zh": (
            "\n/edit &lt;编号&gt;：修改需求的公开摘要或隐私信息（私聊）\n"
            "/close &lt;编号&gt; [备注]：需求已完成，关闭；结对随之结束\n"
            "/cancel_need &lt;编号&gt; [备注]：取消不再需要的需求；结对随之结束\n"
            "/reopen &lt;编号&gt;：重新开放已关闭或已取消的需求"
        ),
    },
    "card_cancelled": {"en": "Cancelled.", "zh": "已取消。"},
    "answer_cancelled": {"en": "This need was cancelled.", "zh": "此需求已取消。"},
    "reason_closed": {"en": "need closed as done", "zh": "需求已完成"},
    "reason_cancelled": {"en": "need cancelled", "zh": "需求已取消"},
    "export_value_cancelled": {"en": "Cancelled", "zh": "已取消"},
    "export_value_needs_cancelled": {"en": "Cancelled", "zh": "已取消"},
    "export_value_purged": {"en": "purged", "zh": "已清除"},
    "close_usage": {
        "en": "Usage: /close &lt;need number&gt; [note]",
        "zh": "用法：/close &lt;需求编号&gt; [备注]",
    },
    "cancel_need_usage": {
        "en": "Usage: /cancel_need &lt;need number&gt; [note]",
        "zh": "用法：/cancel_need &lt;需求编号&gt; [备注]",
    },
    "reopen_usage": {
        "en": "Usage: /reopen &lt;need number&gt;",
        "zh": "用法：/reopen &lt;需求编号&gt;",
    },
    "edit_usage": {
        "en": "Usage: /edit &lt;number of an open or claimed need&gt;",
        "zh": "用法：/edit &lt;未关闭的需求编号&gt;",
    },
    "life_already_closed": {
        "en": "Need #{id} is already closed; nothing changed. /reopen {id} opens it again.",
        "zh": "需求 #{id} 已关闭，未做任何更改。/reopen {id} 可重新开放。",
    },
    "life_already_cancelled": {
        "en": "Need #{id} is already cancelled; nothing changed. /reopen {id} opens it again.",
        "zh": "需求 #{id} 已取消，未做任何更改。/reopen {id} 可重新开放。",
    },
    "life_not_closed": {
        "en": "Need #{id} is not closed or cancelled; nothing changed.",
        "zh": "需求 #{id} 未关闭也未取消，未做任何更改。",
    },
    "close_done": {
        "en": "Need #{id} is closed as done.",
        "zh": "需求 #{id} 已完成并关闭。",
    },
    "cancel_done": {
        "en": "Need #{id} is cancelled.",
        "zh": "需求 #{id} 已取消。",
    },
    "life_pairing_ended": {
        "en": " The pairing of {name} with it has ended; they are told.",
        "zh": "{name} 与它的结对已结束，已通知本人。",
    },
    "reopen_done": {
        "en": "Need #{id} is open again; its card has the Claim button back.",
        "zh": "需求 #{id} 已重新开放，卡片上的“认领”按钮已恢复。",
    },
    "reopen_was_held": {
        "en": " When it closed, {name} held it: /reassign {id} {user_id} gives it back.",
        "zh": "关闭时由 {name} 认领：/reassign {id} {user_id} 可交还给其本人。",
    },
    "notify_closed": {
        "en": (
            "A coordinator closed need #{id} as done:\n{summary}\n\n"
            "Your pairing with this household has ended. Thank you!"
        ),
        "zh": (
            "协调员已将需求 #{id} 标记为完成并关闭：\n{summary}\n\n"
            "您与这户家庭的结对已结束。谢谢您！"
        ),
    },
    "notify_cancelled": {
        "en": (
            "A coordinator cancelled need #{id}:\n{summary}\n\n"
            "Your pairing with this household has ended; no more visits are needed."
        ),
        "zh": "协调员已取消需求 #{id}：\n{summary}\n\n您与这户家庭的结对已结束，无需再走访。",
    },
    "life_note": {"en": "Coordinator's note: {note}", "zh": "协调员备注：{note}"},
    "notify_details_edited": {
        "en": "A coordinator updated the household's details of need #{id}.",
        "zh": "协调员更新了需求 #{id} 的家庭信息。",
    },
    "edit_menu": {
        "en": (
            "<b>Editing need #{id}</b>\n\nPublic summary (the group sees it):\n{summary}\n\n"
            "{details}\n\n{changes}Tap what to change, then Save. /cancel leaves it as it was."
        ),
        "zh": (
            "<b>修改需求 #{id}</b>\n\n公开摘要（群里可见）：\n{summary}\n\n"
            "{details}\n\n{changes}点选要修改的内容，然后保存。/cancel 放弃修改。"
        ),
    },
    "edit_changes": {
        "en": "<b>Changed, not saved yet:</b> {fields}\n\n",
        "zh": "<b>已修改，尚未保存：</b>{fields}\n\n",
    },
    "edit_field_summary": {"en": "public summary", "zh": "公开摘要"},
    "edit_field_details": {"en": "private details", "zh": "隐私信息"},
    "edit_field_name": {"en": "name", "zh": "姓名"},
    "edit_field_address": {"en": "address", "zh": "地址"},
    "edit_field_phone": {"en": "phone", "zh": "电话"},
    "edit_field_health": {"en": "health", "zh": "健康状况"},
    "edit_field_notes": {"en": "notes", "zh": "备注"},
    "button_edit_field": {"en": "Change {field}", "zh": "修改{field}"},
    "button_edit_save": {"en": "Save changes", "zh": "保存修改"},
    "edit_ask_summary": {
        "en": (
            "Send the new <b>public summary</b>: what the group sees. No names, addresses or "
            "phone numbers here. /cancel stops."
        ),
        "zh": "请发送新的<b>公开摘要</b>（群里可见），不要写姓名、地址或电话。/cancel 取消。",
    },
    "edit_ask_detail": {
        "en": "Private: send the new {field}, or - to clear it.",
        "zh": "隐私信息：请发送新的{field}，或发送 - 清空。",
    },
    "edit_menu_hint": {
        "en": "Tap a button under the need to change something, or Save changes. /cancel stops.",
        "zh": "请点需求下方的按钮修改内容，或点“保存修改”。/cancel 取消。",
    },
    "edit_saved": {"en": "Need #{id} saved: {fields}.", "zh": "需求 #{id} 已保存：{fields}。"},
    "edit_saved_card": {
        "en": " The card in the group follows.",
        "zh": "群里的卡片会随之更新。",
    },
    "edit_saved_holder": {
        "en": " {name}, who holds it, was sent the new details.",
        "zh": "已把新信息发给认领人 {name}。",
    },
    "edit_unchanged": {
        "en": "Nothing changed; need #{id} is as it was.",
        "zh": "没有改动，需求 #{id} 保持原样。",
    },
    "edit_cancelled": {
        "en": "Editing stopped; need #{id} is as it was.",
        "zh": "已放弃修改，需求 #{id} 保持原样。",
    },
    "show_closing_note": {"en": "Closing note: {note}", "zh": "关闭备注：{note}"},
    "show_purged": {
        "en": (
            "The private details were purged on {date}: the need had been closed longer than"
            " privacy.retention_days."
        ),
        "zh": "隐私信息已于 {date} 清除：需求关闭的时间已超过 privacy.retention_days。",
    },
}
