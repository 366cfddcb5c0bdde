"""Strings of the export, in Simplified Chinese and English (merged into bot.i18n).

The ``export_sheet_*``, ``export_col_*`` and ``export_value_*`` strings go into files, as
plain text; the others are Telegram messages (HTML).
"""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

EXPORT: Final[dict[str, dict[str, str]]] = {
    # Sheet names: at most 31 characters, none of []:*?/\ (Excel's rules).
    "export_sheet_summary": {"en": "Summary", "zh": "概况"},
    "export_sheet_needs": {"en": "Needs", "zh": "需求"},
    "export_sheet_claims": {"en": "Claims", "zh": "认领记录"},
    "export_sheet_visits": {"en": "Visits", "zh": "走访记录"},
    "export_sheet_teams": {"en": "Teams", "zh": "队伍统计"},
    # Column headers.
    "export_col_need": {"en": "Need", "zh": "需求编号"},
    "export_col_group": {"en": "Group", "zh": "群"},
    "export_col_summary": {"en": "Public summary", "zh": "公开摘要"},
    "export_col_state": {"en": "State", "zh": "状态"},
    "export_col_holder": {"en": "Held by", "zh": "认领人"},
    "export_col_team": {"en": "Team", "zh": "队伍"},
    "export_col_claimed_at": {"en": "Claimed at", "zh": "认领时间"},
    "export_col_last_visit": {"en": "Last visit", "zh": "最近走访"},
    "export_col_name": {"en": "Name", "zh": "姓名"},
    "export_col_address": {"en": "Address", "zh": "地址"},
    "export_col_phone": {"en": "Phone", "zh": "电话"},
    "export_col_health": {"en": "Health", "zh": "健康状况"},
    "export_col_notes": {"en": "Notes", "zh": "备注"},
    "export_col_claim": {"en": "Claim", "zh": "认领编号"},
    "export_col_volunteer": {"en": "Volunteer", "zh": "志愿者"},
    "export_col_assigned_by": {"en": "Assigned by", "zh": "指派人"},
    "export_col_ended_at": {"en": "Ended at", "zh": "结束时间"},
    "export_col_how_ended": {"en": "How it ended", "zh": "结束方式"},
    "export_col_ended_by": {"en": "Ended by", "zh": "结束操作人"},
    "export_col_visited_at": {"en": "Visited at", "zh": "走访时间"},
    "export_col_done": {"en": "What was done", "zh": "走访内容"},
    "export_col_note": {"en": "Note", "zh": "记录"},
    "export_col_concern": {"en": "Concern raised", "zh": "有担忧"},
    "export_col_photo": {"en": "Photo", "zh": "照片"},
    "export_col_held": {"en": "Claims held", "zh": "当前结对"},
    "export_col_claims_made": {"en": "Claims made", "zh": "累计认领"},
    "export_col_needs_visited": {"en": "Needs visited", "zh": "已走访户数"},
    "export_col_visits": {"en": "Visits", "zh": "走访次数"},
    "export_col_item": {"en": "Item", "zh": "项目"},
    "export_col_value": {"en": "Value", "zh": "数值"},
    # Cell values.
    "export_value_open": {"en": "Open", "zh": "待认领"},
    "export_value_claimed": {"en": "Claimed", "zh": "已认领"},
    "export_value_closed": {"en": "Closed", "zh": "已结束"},
    "export_value_active": {"en": "Active", "zh": "进行中"},
    "export_value_released": {"en": "Released by the volunteer", "zh": "志愿者放弃"},
    "export_value_freed": {"en": "Freed by a coordinator", "zh": "协调员解除"},
    "export_value_reassigned": {"en": "Reassigned", "zh": "已改派"},
    "export_value_yes": {"en": "yes", "zh": "是"},
    "export_value_no": {"en": "no", "zh": "否"},
    "export_value_no_team": {"en": "(no team)", "zh": "（无队伍）"},
    "export_value_generated_at": {"en": "Exported at", "zh": "导出时间"},
    "export_value_timezone": {"en": "Time zone", "zh": "时区"},
    "export_value_needs": {"en": "Needs", "zh": "需求总数"},
    "export_value_needs_open": {"en": "Open", "zh": "待认领"},
    "export_value_needs_claimed": {"en": "Claimed", "zh": "已认领"},
    "export_value_needs_closed": {"en": "Closed", "zh": "已结束"},
    "export_value_needs_visited": {"en": "Needs visited", "zh": "已走访户数"},
    "export_value_visits": {"en": "Visits logged", "zh": "走访次数"},
    "export_value_claims": {"en": "Claims made", "zh": "累计认领次数"},
    "export_value_teams": {"en": "Teams", "zh": "队伍数"},
    "export_value_chart": {"en": "Progress by team", "zh": "各队伍进度"},
    # Telegram messages (HTML).
    "export_private_only": {
        "en": (
            "The record holds households' private details, so I send it only in a private "
            "chat with me: {link}"
        ),
        "zh": "记录含有家庭隐私信息，只在与我的私聊中发送：{link}",
    },
    "export_usage": {
        "en": (
            "Usage: /export [xlsx|csv]: the record as an Excel workbook (the default) or as a "
            "zip of CSV files."
        ),
        "zh": "用法：/export [xlsx|csv]：导出记录为 Excel 工作簿（默认）或 CSV 文件压缩包。",
    },
    "export_caption": {
        "en": (
            "The record as of {time}: {needs} needs, {claims} claims, {visits} visits. "
            "It holds households' private details: keep it safe, and share it only with "
            "those who need it."
        ),
        "zh": (
            "截至 {time} 的记录：需求 {needs} 个，认领 {claims} 次，走访 {visits} 次。"
            "文件含有家庭隐私信息，请妥善保管，仅发给需要的人。"
        ),
    },
}
