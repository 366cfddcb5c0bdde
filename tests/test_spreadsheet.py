"""Reading and checking a coordinator's spreadsheet: encodings, .xlsx, headers, every problem
with its line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.config import LimitsConfig
from bot.spreadsheet import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    SheetCheck,
    check_file,
    describe,
    describe_all,
    is_phone,
)

LIMITS = LimitsConfig(summary_max_length=100, detail_max_length=50)
DATA = Path(__file__).parent.parent / "bot" / "data"
ZH_HEADER = "摘要,姓名,地址,电话,健康状况,备注,类别,社区"
ZH_ROW = (
    "陪伴聊天，帮忙买米面油,胡桂兰,东风社区11号楼3单元402室,13800001000,"
    "高血压,敲门两下,独居老人,东风社区"
)


def check_csv(text: str, encoding: str = "utf-8", name: str = "drive.csv") -> SheetCheck:
    return check_file(text.encode(encoding), name, LIMITS)


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.create_sheet("Second")["A1"] = "not read"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def kinds(issues: list) -> list[tuple[int | None, str]]:
    return [(issue.line, issue.kind) for issue in issues]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_chinese_csv_in_each_encoding_excel_writes(encoding: str) -> None:
    sheet = check_csv(f"{ZH_HEADER}\r\n{ZH_ROW}\r\n", encoding)
    assert sheet.clean, sheet.problems
    (need,) = sheet.needs
    assert need.summary == "陪伴聊天，帮忙买米面油"
    assert need.details.name == "胡桂兰"
    assert need.details.address == "东风社区11号楼3单元402室"
    assert need.details.phone == "13800001000"
    assert need.details.health == "高血压"
    assert need.details.notes == "敲门两下"
    assert (need.category, need.area, need.line) == ("独居老人", "东风社区", 2)


def test_english_headers_in_any_case_and_spacing_and_order() -> None:
    text = (
        " Phone ,SUMMARY,Name, Category ,area\n"
        "138 0000 1234,Needs rice and company,Hu Guilan,elder living alone,Dongfeng\n"
    )
    sheet = check_csv(text)
    (need,) = sheet.needs
    assert need.summary == "Needs rice and company"
    assert need.details.phone == "138 0000 1234" and need.details.name == "Hu Guilan"
    assert need.details.address is None and need.details.notes is None
    assert (need.category, need.area) == ("elder living alone", "Dongfeng")


def test_headers_with_notes_in_brackets_and_full_width_marks() -> None:
    sheet = check_csv("摘要（公开）,电话：\n需要陪伴,13800001234\n")
    assert sheet.clean and sheet.needs[0].details.phone == "13800001234"


def test_unknown_columns_are_named_in_a_warning_and_ignored() -> None:
    sheet = check_csv("summary,Shoe size,name,Remarks\nNeeds rice,42,Hu,hello\n")
    assert sheet.clean
    assert kinds(sheet.warnings) == [(1, "unknown_columns")]
    assert "Shoe size, Remarks" in describe(sheet.warnings[0], "en")
    assert sheet.needs[0].details.name == "Hu"


def test_xlsx_first_sheet_with_numbers_as_typed() -> None:
    data = xlsx(
        [
            ["摘要", "电话", "类别"],
            ["送米面油", 13800001000, "独居老人"],
            [None, None, None],
            ["陪同就医", 13800001001.0, None],
        ]
    )
    sheet = check_file(data, "名单.xlsx", LIMITS)
    assert sheet.clean, sheet.problems
    assert [(n.line, n.summary, n.details.phone) for n in sheet.needs] == [
        (2, "送米面油", "13800001000"),
        (4, "陪同就医", "13800001001"),
    ]
    assert sheet.needs[1].category is None


def test_a_title_row_above_the_header_is_skipped_and_lines_stay_excels() -> None:
    data = xlsx([["2027 春节送温暖困难户名单"], [], ["摘要", "姓名"], ["送米面油", "胡"]])
    sheet = check_file(data, "list.xlsx", LIMITS)
    assert [n.line for n in sheet.needs] == [4]
    assert kinds(sheet.warnings) == [(3, "above_header")]


def test_the_shipped_example_files_are_clean_and_alike() -> None:
    checks = [
        check_file((DATA / f).read_bytes(), f, LIMITS) for f in ("drive_en.csv", "drive_zh.csv")
    ]
    for sheet in checks:
        assert sheet.problems == [] and sheet.warnings == []
        assert len(sheet.needs) == 53
    en, zh = checks
    assert [n.details.phone for n in en.needs] == [n.details.phone for n in zh.needs]


def test_every_problem_is_reported_with_its_line() -> None:
    long = "x" * 101
    text = "\n".join(
        [
            "summary,name,phone,category,area",
            "Needs rice,Hu,13800001000,elder,Dongfeng",  # 2: fine
            ",Wang,13800001001,,",  # 3: no summary
            f"{long},Li,,,",  # 4: summary too long
            "Needs rice,Zhao,call her,,",  # 5: not a phone
            "Call 13800001234 for rice,,,,",  # 6: a phone in the summary
            "Needs company,,,ID 110101199003071234,",  # 7: an ID number in a public column
            "Needs a visit,,,,Building 7 Room 302",  # 8: an address in the area
            f"Needs oil,{'y' * 51},12,,",  # 9: two problems: a long name, a short phone
            ",,,,",  # 10: blank, skipped
        ]
    )
    sheet = check_csv(text)
    assert not sheet.clean
    assert kinds(sheet.problems) == [
        (3, "missing_summary"),
        (4, "too_long"),
        (5, "bad_phone"),
        (6, "private_in_public"),
        (7, "private_in_public"),
        (8, "private_in_public"),
        (9, "too_long"),
        (9, "bad_phone"),
    ]
    words = describe_all(sheet.problems, "en")
    assert words[1] == "Line 4: summary is 101 characters long; at most 100."
    assert "mobile number" in words[3] and words[3].startswith("Line 6: summary")
    assert "ID number" in words[4] and "category" in words[4]
    assert "address" in words[5] and "area" in words[5]
    assert words[6] == "Line 9: name is 51 characters long; at most 50."
    assert describe_all(sheet.problems, "zh")[0].startswith("第 3 行：缺少摘要")


def test_no_summary_column_names_what_the_first_row_has() -> None:
    sheet = check_csv("姓名,电话\n胡桂兰,13800001000\n")
    assert kinds(sheet.problems) == [(1, "no_summary_column")]
    assert "姓名, 电话" in describe(sheet.problems[0], "en")


def test_a_field_named_twice_is_a_problem() -> None:
    sheet = check_csv("summary,电话,phone\nNeeds rice,13800001000,13800001001\n")
    assert kinds(sheet.problems) == [(1, "duplicate_column")]


def test_a_repeated_row_is_a_warning_and_imported_once() -> None:
    text = "summary,name,phone\nNeeds rice,Hu,138 0000 1000\nNeeds  RICE ,hu,138 0000 1000\n"
    sheet = check_csv(text)
    assert sheet.clean and len(sheet.needs) == 1
    assert kinds(sheet.warnings) == [(3, "repeated_row")]
    assert "line 2" in describe(sheet.warnings[0], "en")


def test_a_quoted_line_break_is_one_row() -> None:
    text = 'summary,notes\n"Needs rice\nand oil",knock\nNeeds company,\n'
    sheet = check_csv(text)
    assert [(n.line, n.summary) for n in sheet.needs] == [
        (2, "Needs rice\nand oil"),
        (3, "Needs company"),
    ]


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"", "empty.csv", "empty"),
        (b"summary\n\n", "header-only.csv", "no_rows"),
        (b"\xd0\xcf\x11\xe0rest of an old workbook", "old.xls", "old_excel"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "bad_xlsx"),
        (b"%PDF-1.4", "drive.pdf", "file_type"),
        (b"summary\n\xff\xfe\x00\x00\x81", "binary.csv", "encoding"),
    ],
)
def test_files_that_cannot_be_read_say_why(data: bytes, name: str, kind: str) -> None:
    sheet = check_file(data, name, LIMITS)
    assert not sheet.clean
    assert [issue.kind for issue in sheet.problems] == [kind]
    assert describe(sheet.problems[0], "zh") and describe(sheet.problems[0], "en")


def test_caps_on_size_and_rows() -> None:
    too_big = check_file(b"x" * (MAX_FILE_BYTES + 1), "big.csv", LIMITS)
    assert [issue.kind for issue in too_big.problems] == ["too_big"]
    rows = "summary\n" + "".join(f"Need {n}\n" for n in range(MAX_ROWS + 1))
    too_many = check_csv(rows)
    assert [issue.kind for issue in too_many.problems] == ["too_many_rows"]
    assert "5000" in describe(too_many.problems[0], "en")
    just_enough = check_csv("summary\n" + "".join(f"Need {n}\n" for n in range(MAX_ROWS)))
    assert just_enough.clean and len(just_enough.needs) == MAX_ROWS


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("13800001234", True),
        ("138-0000-1234", True),
        ("+86 138 0000 1234", True),
        ("(010) 1234 5678", True),
        ("13800001234 / 010-12345678", True),
        ("13800001234、13900001234", True),
        ("1.38E+10", False),
        ("call her", False),
        ("12", False),
        ("1234567890123456", False),
    ],
)
def test_what_counts_as_a_phone(text: str, ok: bool) -> None:
    assert is_phone(text) is ok


def test_a_long_list_of_problems_fits_a_budget_with_a_count_of_the_rest() -> None:
    text = "summary,phone\n" + "".join(f"Need {n},no\n" for n in range(300))
    sheet = check_csv(text)
    assert len(sheet.problems) == 300
    lines = describe_all(sheet.problems, "en", budget=1000)
    assert sum(len(line) + 1 for line in lines) <= 1000
    shown = len(lines) - 1
    assert lines[-1] == f"...and {300 - shown} more"


def test_a_places_column_sets_how_many_volunteers_a_need_takes() -> None:
    sheet = check_csv("摘要,名额\n大扫除，需要三人,3\n买米,\n")
    assert sheet.clean
    assert [need.slots for need in sheet.needs] == [3, 1]
    dirty = check_csv("summary,slots\nCleaning,0\nCleaning again,three\nMore,21\n")
    assert kinds(dirty.problems) == [(2, "bad_slots"), (3, "bad_slots"), (4, "bad_slots")]
    assert "from 1 to 20" in describe(dirty.problems[0], "en")
