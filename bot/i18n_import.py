"""Strings of the spreadsheet import, in Simplified Chinese and English (merged into bot.i18n).

The ``import_issue_*``, ``import_line``, ``import_more`` and ``import_cli_*`` strings are plain
text (the command line prints them; the bot escapes what it fills in); the others are
Telegram messages (HTML).
"""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

_SAME = {
    "en": "a need with the same summary, name, address and phone counts as the same",
    "zh": "摘要、姓名、地址和电话都相同的视为同一需求",
}

IMPORT: Final[dict[str, dict[str, str]]] = {
    "import_line": {"en": "Line {line}: {text}", "zh": "第 {line} 行：{text}"},
    "import_more": {"en": "...and {count} more", "zh": "……还有 {count} 条"},
    # Problems: the file is not imported.
    "import_issue_too_big": {
        "en": "The file is {size} KiB; at most {limit} KiB can be imported at once: split it.",
        "zh": "文件大小 {size} KiB，一次最多导入 {limit} KiB，请拆分后分别导入。",
    },
    "import_issue_too_many_rows": {
        "en": "More than {limit} needs; import at most {limit} at a time: split the file.",
        "zh": "需求超过 {limit} 条，一次最多导入 {limit} 条，请拆分文件。",
    },
    "import_issue_old_excel": {
        "en": (
            "This is an old Excel .xls file: save it as Excel Workbook (.xlsx) or as "
            "CSV UTF-8, then import that."
        ),
        "zh": "这是旧版 Excel（.xls）文件：请另存为 Excel 工作簿（.xlsx）或 CSV UTF-8 后再导入。",
    },
    "import_issue_bad_xlsx": {
        "en": "This is not an Excel workbook I can read: save it again from Excel as .xlsx.",
        "zh": "无法读取此 Excel 工作簿：请在 Excel 中重新另存为 .xlsx。",
    },
    "import_issue_file_type": {
        "en": "{suffix} files cannot be imported: use a .csv or .xlsx file.",
        "zh": "不能导入 {suffix} 文件：请使用 .csv 或 .xlsx 文件。",
    },
    "import_issue_encoding": {
        "en": "The text cannot be read: save it from Excel as CSV UTF-8, or as .xlsx.",
        "zh": "无法识别文件编码：请在 Excel 中另存为 CSV UTF-8 或 .xlsx。",
    },
    "import_issue_bad_csv": {
        "en": "the CSV is broken here (a quote not closed?): save it again from Excel.",
        "zh": "CSV 格式在此处损坏（引号未闭合？）：请在 Excel 中重新保存。",
    },
    "import_issue_empty": {"en": "The file is empty.", "zh": "文件是空的。"},
    "import_issue_no_rows": {
        "en": "There are no needs below the header.",
        "zh": "表头下面没有需求。",
    },
    "import_issue_no_summary_column": {
        "en": (
            "no summary column. The first row names the columns, and one must be summary "
            "(or 摘要), what the group sees. This row has: {found}"
        ),
        "zh": (
            "没有“摘要”列。第一行是列名，其中必须有“摘要”（或 summary），"
            "即群里看到的内容。此行为：{found}"
        ),
    },
    "import_issue_duplicate_column": {
        "en": "the column {column} is the same as the column {other}: keep one.",
        "zh": "“{column}”列与“{other}”列重复：请只保留一列。",
    },
    "import_issue_missing_summary": {
        "en": "no summary ({column} is empty); every need needs one.",
        "zh": "缺少摘要（“{column}”为空），每条需求都必须填写。",
    },
    "import_issue_too_long": {
        "en": "{column} is {length} characters long; at most {limit}.",
        "zh": "“{column}”有 {length} 个字，最多 {limit} 个。",
    },
    "import_issue_bad_slots": {
        "en": "{column} must be a whole number of volunteers from 1 to {most}.",
        "zh": "{column}应为 1 到 {most} 之间的整数（需要的志愿者人数）。",
    },
    "import_issue_bad_phone": {
        "en": (
            "{column} is not a phone number (7 to 15 digits each). If Excel shows it as "
            "1.38E+10, format the column as Text and type it again."
        ),
        "zh": (
            "“{column}”不是电话号码（每个号码 7 到 15 位数字）。"
            "如 Excel 显示为 1.38E+10，请把该列设为文本格式后重新输入。"
        ),
    },
    "import_issue_private_in_public": {
        "en": (
            "{column} seems to hold a {kind}, and the whole group sees that column: move it "
            "to the private columns (name, address, phone, health, notes)."
        ),
        "zh": (
            "“{column}”似乎含有{kind}，而全群都能看到这一列："
            "请移到隐私列（姓名、地址、电话、健康状况、备注）。"
        ),
    },
    # Warnings: the file is imported all the same.
    "import_issue_unknown_columns": {
        "en": "columns not read (not ones I know): {names}.",
        "zh": "以下列不会导入（无法识别）：{names}。",
    },
    "import_issue_above_header": {
        "en": "the header is here; the rows above it are not read.",
        "zh": "表头在此行，上面的行不会导入。",
    },
    "import_issue_repeated_row": {
        "en": "the same need as line {first}; imported once.",
        "zh": "与第 {first} 行是同一需求，只导入一次。",
    },
    # The command line (plain text).
    "import_cli_checking": {"en": "checking", "zh": "检查"},
    "import_cli_writing": {"en": "writing", "zh": "写入"},
    "import_cli_checked": {
        "en": "{file}: {needs} needs, {problems} problem(s), {warnings} warning(s)",
        "zh": "{file}：需求 {needs} 条，问题 {problems} 个，提示 {warnings} 个",
    },
    "import_cli_problems": {"en": "Problems:", "zh": "问题："},
    "import_cli_warnings": {"en": "Worth knowing:", "zh": "提示："},
    "import_cli_not_written": {
        "en": "Nothing was imported: fix the problems above and run it again.",
        "zh": "未导入任何内容：请修正以上问题后重新运行。",
    },
    "import_cli_unknown_group": {
        "en": "--group {group}: not a group the bot knows. Known groups: {groups}",
        "zh": "--group {group}：机器人不认识这个群。已知的群：{groups}",
    },
    "import_cli_no_groups": {
        "en": "none yet (add the bot to your group and say something there while it runs)",
        "zh": "暂无（请在机器人运行时把它加入群，并在群里发一条消息）",
    },
    "import_cli_dry_run": {
        "en": (
            'Dry run, nothing written. Into "{group}": {new} needs would be posted on '
            "{boards} boards; {skipped} already in the group would be skipped ({same})."
        ),
        "zh": "试运行，未写入任何内容。导入“{group}”：将发布 {new} 条需求，共 {boards} 条群消息；"
        "{skipped} 条已在群里，将跳过（{same}）。",
    },
    "import_cli_done": {
        "en": (
            'Imported into "{group}": {added} needs on {boards} boards; {skipped} already in '
            "the group were skipped ({same}). A running bot posts them within seconds; if it "
            "is not running, they go out when it starts."
        ),
        "zh": "已导入“{group}”：{added} 条需求，共 {boards} 条群消息；{skipped} 条已在群里，已跳过"
        "（{same}）。正在运行的机器人会在几秒内发布；如未运行，将在启动时发布。",
    },
    "import_same_rule": _SAME,
    # Private chat (HTML).
    "import_not_coordinator": {
        "en": "Only coordinators can import a spreadsheet of needs.",
        "zh": "只有协调员可以导入需求表格。",
    },
    "import_file_type": {
        "en": (
            "I can import a spreadsheet of needs: send a .csv or .xlsx file (columns: "
            "summary, and optionally name, address, phone, health, notes, category, area)."
        ),
        "zh": (
            "我可以导入需求表格：请发送 .csv 或 .xlsx 文件"
            "（列：摘要，以及可选的姓名、地址、电话、健康状况、备注、类别、社区）。"
        ),
    },
    "import_download_failed": {
        "en": "I could not fetch the file from Telegram; please send it again.",
        "zh": "未能从 Telegram 获取文件，请重新发送。",
    },
    "import_problems": {
        "en": (
            "<b>{file}</b> was not imported: {count} problem(s). Nothing was saved; fix them "
            "and send the file again.\n\n{lines}"
        ),
        "zh": (
            "<b>{file}</b> 未导入：有 {count} 个问题。未保存任何内容，"
            "请修正后重新发送。\n\n{lines}"
        ),
    },
    "import_warnings": {
        "en": "\n\n<b>Worth knowing</b>\n{lines}",
        "zh": "\n\n<b>提示</b>\n{lines}",
    },
    "import_pick_group": {
        "en": "<b>{file}</b>: {count} needs, all fine.{warnings}\n\nWhich group are they for?",
        "zh": "<b>{file}</b>：共 {count} 条需求，检查无误。{warnings}\n\n要发布到哪个群？",
    },
    "import_no_groups": {
        "en": (
            "I know no group yet: add me to your volunteers' group and say something there, "
            "then send the file again."
        ),
        "zh": "我还不认识任何群：请把我加入志愿者群并在群里发一条消息，然后重新发送文件。",
    },
    "import_summary": {
        "en": (
            "<b>{file}</b> into <b>{group}</b>:\n"
            "{new} needs will be posted, on {boards} group messages of up to {per_board} "
            "needs each.{skipped}{warnings}\n\nPost them?"
        ),
        "zh": "<b>{file}</b> 导入 <b>{group}</b>：\n将发布 {new} 条需求，共 {boards} 条群消息，"
        "每条最多 {per_board} 个需求。{skipped}{warnings}\n\n确认发布吗？",
    },
    "import_skipped": {
        "en": "\n{skipped} already in the group will be skipped ({same}).",
        "zh": "\n{skipped} 条已在群里，将跳过（{same}）。",
    },
    "import_nothing_new": {
        "en": (
            "Every need in <b>{file}</b> is already in <b>{group}</b> ({same}): nothing to post."
        ),
        "zh": "<b>{file}</b> 中的需求都已在 <b>{group}</b> 里（{same}）：没有需要发布的。",
    },
    "button_import_confirm": {"en": "Post {count} needs", "zh": "发布 {count} 条需求"},
    "button_import_cancel": {"en": "Cancel", "zh": "取消"},
    "import_cancelled": {
        "en": "Import cancelled; nothing was posted.",
        "zh": "已取消导入，未发布任何内容。",
    },
    "import_stale": {
        "en": "This import is no longer waiting (done, cancelled, or a newer file came).",
        "zh": "此导入已不在等待中（已完成、已取消或已发送了新文件）。",
    },
}
