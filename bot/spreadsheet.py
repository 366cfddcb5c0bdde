"""A coordinator's spreadsheet of needs, read and checked: CSV or Excel ``.xlsx``.

Headers may be English or Chinese, in any case and spacing (see ``COLUMNS``). The whole file
is checked before anything is written: every bad row is reported with its line as the
coordinator sees it in Excel (the header is line 1), and a file with any problem imports
nothing. No Telegram types here: the command line and the private chat both use this.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Final

from bot.config import LimitsConfig
from bot.domain import MAX_SLOTS, NewNeed, PrivateDetails
from bot.i18n import t
from bot.privacy import find_private_data
from bot.service import clean_text

# Caps that keep one import within what a group can take in a day and the bot in memory:
# 5,000 needs go out on 625 boards of 8, about half an hour at 20 messages a minute.
MAX_FILE_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5000
# Rows read at most, blank or not (a sheet formatted far below its data has many blank rows).
MAX_RAW_ROWS: Final = 10 * MAX_ROWS
MAX_COLUMNS: Final = 64
# A title row or two may stand above the header ("2027 春节送温暖困难户名单").
HEADER_SEARCH_ROWS: Final = 10
# Category and area are short public labels on a card.
LABEL_MAX_LENGTH: Final = 60

# Each column the bot reads, and the headers that name it (compared by ``header_key``).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "summary": ("summary", "摘要", "public summary", "公开摘要", "需求"),
    "name": ("name", "姓名", "名字"),
    "address": ("address", "地址", "住址", "家庭住址"),
    "phone": ("phone", "电话", "联系电话", "手机", "手机号"),
    "health": ("health", "健康状况", "健康"),
    "notes": ("notes", "备注", "note"),
    "category": ("category", "类别", "类型"),
    "area": ("area", "社区", "neighbourhood", "neighborhood", "区域"),
    "slots": ("slots", "places", "名额", "人数"),
}
PUBLIC_COLUMNS: Final = ("summary", "category", "area")
DETAIL_COLUMNS: Final = ("name", "address", "phone", "health", "notes")
TEXT_SUFFIXES: Final = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES: Final = (".xlsx", ".xlsm")
SUFFIXES: Final = (*TEXT_SUFFIXES, *EXCEL_SUFFIXES)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
# Compared after NFKC, which makes full-width marks and brackets plain ones.
_DECORATION = re.compile(r"[\s*:_\-]|\(.*?\)|\[.*?\]|【.*?】")
# A phone cell: one or more numbers, each 7-15 digits with the usual separators.
_PHONE_PART = re.compile(r"^\+?[0-9 ()\-.]+$")
_PHONE_SPLIT = re.compile(r"[/,;、]| or |或")


def header_key(text: str) -> str:
    """A header as compared: full-width folded, any case, no spaces, marks or (notes)."""
    return _DECORATION.sub("", unicodedata.normalize("NFKC", text).casefold())


_FIELD_OF: Final = {
    header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases
}


@dataclass(frozen=True, slots=True)
class Issue:
    """Something found in a file: a problem (nothing is imported) or a warning.

    ``line`` is the spreadsheet row (the header is 1; None: the file as a whole); ``column``
    the header as the file wrote it; ``params`` fill the catalog's words for ``kind``.
    """

    kind: str
    line: int | None = None
    column: str | None = None
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SheetCheck:
    """What a file holds: the needs in file order, and what is wrong or worth knowing."""

    needs: list[NewNeed]
    problems: list[Issue]
    warnings: list[Issue]
    rows: int = 0  # data rows read, blank ones not counted

    @property
    def clean(self) -> bool:
        """Whether it can be imported."""
        return not self.problems and bool(self.needs)


Progress = Callable[[int, int], None]


class _Unreadable(Exception):
    """The file cannot be read as a spreadsheet; ``issue`` says why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.kind)
        self.issue = issue


def check_file(
    data: bytes, filename: str, limits: LimitsConfig, progress: Progress | None = None
) -> SheetCheck:
    """Read and check a whole spreadsheet; ``progress(done, total)`` hears of each row."""
    if len(data) > MAX_FILE_BYTES:
        kib = MAX_FILE_BYTES // 1024
        return _refused(Issue("too_big", params={"size": len(data) // 1024, "limit": kib}))
    try:
        rows = list(_bounded(read_rows(data, filename)))
    except _Unreadable as exc:
        return _refused(exc.issue)
    return check_rows(rows, limits, progress)


def _refused(issue: Issue) -> SheetCheck:
    return SheetCheck([], [issue], [])


def _bounded(rows: Iterable[list[str]]) -> Iterator[list[str]]:
    """The rows, refused once there are more than the caps allow."""
    filled = 0
    for count, row in enumerate(rows, start=1):
        filled += any(row)
        if filled > MAX_ROWS + HEADER_SEARCH_ROWS or count > MAX_RAW_ROWS:
            raise _Unreadable(Issue("too_many_rows", params={"limit": MAX_ROWS}))
        yield row


def read_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    """The rows of the first sheet (or the CSV) as text, one list a spreadsheet row."""
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_rows(data)
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise _Unreadable(Issue("old_excel"))
    if suffix in EXCEL_SUFFIXES:
        raise _Unreadable(Issue("bad_xlsx"))
    if suffix not in TEXT_SUFFIXES:
        raise _Unreadable(Issue("file_type", params={"suffix": suffix or "?"}))
    return _csv_rows(decode(data))


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM ("Unicode text"),
    or GB18030, a superset of the GBK Excel writes on Chinese Windows."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _Unreadable(Issue("encoding"))


def _csv_rows(text: str) -> Iterator[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # A record with a quoted line break is still one spreadsheet row.
        for row in reader:
            yield [cell for cell in row[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise _Unreadable(Issue("bad_csv", line=reader.line_num)) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged workbook fails in many ways, all the same to us
        raise _Unreadable(Issue("bad_xlsx")) from exc
    try:
        if not book.worksheets:
            raise _Unreadable(Issue("empty"))
        sheet = book.worksheets[0]
        # min_row=1: read-only sheets otherwise start where their data starts, and the line
        # numbers would not be Excel's.
        for row in sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True):
            yield [cell_text(value) for value in row]
    except _Unreadable:
        raise
    except Exception as exc:
        raise _Unreadable(Issue("bad_xlsx")) from exc
    finally:
        book.close()


def cell_text(value: object) -> str:
    """An Excel cell as the coordinator reads it: a phone typed as a number has no ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# -- checking ------------------------------------------------------------------------------


@dataclass
class _Header:
    line: int
    fields: dict[int, str]  # column index to field
    titles: dict[str, str]  # field to the header as written


def check_rows(
    rows: list[list[str]], limits: LimitsConfig, progress: Progress | None = None
) -> SheetCheck:
    """Check rows already read (see ``check_file``)."""
    problems: list[Issue] = []
    warnings: list[Issue] = []
    header = find_header(rows, problems, warnings)
    if header is None:
        return SheetCheck([], problems, warnings)
    needs: list[NewNeed] = []
    first_line: dict[str, int] = {}
    body = rows[header.line :]
    for index, row in enumerate(body, start=header.line + 1):
        if progress is not None:
            progress(index - header.line, len(body))
        if not any(cell.strip() for cell in row):
            continue
        need = check_row(index, row, header, limits, problems)
        if need is None:
            continue
        earlier = first_line.setdefault(need.fingerprint, index)
        if earlier != index:
            warnings.append(Issue("repeated_row", index, params={"first": earlier}))
        else:
            needs.append(need)
    filled = sum(1 for row in body if any(cell.strip() for cell in row))
    if not filled:
        problems.append(Issue("no_rows"))
    elif filled > MAX_ROWS:
        problems.append(Issue("too_many_rows", params={"limit": MAX_ROWS}))
    return SheetCheck(needs, problems, warnings, filled)


def find_header(
    rows: list[list[str]], problems: list[Issue], warnings: list[Issue]
) -> _Header | None:
    """The header row: the first of the top rows that names a summary column."""
    filled = [(line, row) for line, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not filled:
        problems.append(Issue("empty"))
        return None
    for line, row in filled[:HEADER_SEARCH_ROWS]:
        if "summary" in (_FIELD_OF.get(header_key(cell)) for cell in row):
            return read_header(line, row, problems, warnings)
    found = ", ".join(cell.strip() for cell in filled[0][1] if cell.strip())
    problems.append(Issue("no_summary_column", filled[0][0], params={"found": found[:200]}))
    return None


def read_header(
    line: int, row: list[str], problems: list[Issue], warnings: list[Issue]
) -> _Header:
    """Which column holds which field; a field named twice is a problem, others a warning."""
    header = _Header(line, {}, {})
    unknown = []
    for index, cell in enumerate(row):
        title = cell.strip()
        name = _FIELD_OF.get(header_key(title)) if title else None
        if name is None:
            if title:
                unknown.append(title)
        elif name in header.titles:
            problems.append(
                Issue("duplicate_column", line, title, params={"other": header.titles[name]})
            )
        else:
            header.fields[index] = name
            header.titles[name] = title
    if unknown:
        warnings.append(Issue("unknown_columns", line, params={"names": ", ".join(unknown)}))
    if line > 1:
        warnings.append(Issue("above_header", line))
    return header


def check_row(
    line: int, row: list[str], header: _Header, limits: LimitsConfig, problems: list[Issue]
) -> NewNeed | None:
    """One data row as a need, or None with its problems added (every one, not the first)."""
    values: dict[str, str] = {}
    for index, name in header.fields.items():
        text = clean_text(row[index]) if index < len(row) else ""
        if name in ("category", "area", "phone"):
            text = " ".join(text.split())
        values[name] = text
    before = len(problems)
    for name, text in values.items():
        problem = value_problem(name, text, limits)
        if problem is not None:
            problems.append(Issue(problem[0], line, header.titles[name], problem[1]))
    if not values.get("summary"):
        problems.append(Issue("missing_summary", line, header.titles["summary"]))
    if len(problems) > before:
        return None
    details = PrivateDetails(**{name: values.get(name) or None for name in DETAIL_COLUMNS})
    return NewNeed(
        summary=values["summary"],
        details=details,
        category=values.get("category") or None,
        area=values.get("area") or None,
        line=line,
        slots=int(values.get("slots") or 1),
    )


def value_problem(
    name: str, text: str, limits: LimitsConfig
) -> tuple[str, dict[str, str | int]] | None:
    """What is wrong with one cell, as a kind and its words' values, or None."""
    if not text:
        return None
    if name == "slots":
        good = text.isdecimal() and 1 <= int(text) <= MAX_SLOTS
        return None if good else ("bad_slots", {"most": MAX_SLOTS})
    limit = {
        "summary": limits.summary_max_length,
        "category": LABEL_MAX_LENGTH,
        "area": LABEL_MAX_LENGTH,
    }.get(name, limits.detail_max_length)
    if len(text) > limit:
        return "too_long", {"length": len(text), "limit": limit}
    if name == "phone" and not is_phone(text):
        return "bad_phone", {}
    if name in PUBLIC_COLUMNS:
        found = find_private_data(text)
        if found:
            return "private_in_public", {"kind": found[0].kind}
    return None


def is_phone(text: str) -> bool:
    """Whether a phone cell holds phone numbers: each 7 to 15 digits, with the usual
    separators; several may be given ("13800001234 / 010-12345678")."""
    parts = [part.strip() for part in _PHONE_SPLIT.split(unicodedata.normalize("NFKC", text))]
    if not any(parts):
        return False
    for part in parts:
        digits = sum(ch.isdigit() for ch in part)
        if not _PHONE_PART.match(part) or not 7 <= digits <= 15:
            return False
    return True


# -- words ---------------------------------------------------------------------------------


def describe(issue: Issue, lang: str, escape: Callable[[str], str] = str) -> str:
    """An issue in words, with its line first; ``escape`` for text from the file (HTML)."""
    params: dict[str, object] = {
        key: escape(value) if isinstance(value, str) else value
        for key, value in issue.params.items()
    }
    if issue.kind == "private_in_public":
        params["kind"] = t(lang, f"privacy_kind_{issue.params['kind']}")
    column = escape(issue.column or "")
    text = t(lang, f"import_issue_{issue.kind}", column=column, **params)
    if issue.line is None:
        return text
    return t(lang, "import_line", line=issue.line, text=text)


def describe_all(
    issues: list[Issue], lang: str, escape: Callable[[str], str] = str, budget: int | None = None
) -> list[str]:
    """Issues in words, one a line; with ``budget`` characters, as many as fit and a line
    saying how many more there are."""
    lines = [describe(issue, lang, escape) for issue in issues]
    if budget is None:
        return lines
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        more = "" if last else t(lang, "import_more", count=len(lines) - index - 1)
        if used + len(line) + 1 + len(more) > budget:
            return [*kept, t(lang, "import_more", count=len(lines) - index)]
        kept.append(line)
        used += len(line) + 1
    return kept
