"""The record a coordinator sends upward: needs (with their private details), claims, visits and
per-team totals, as an Excel workbook with a chart or as a zip of CSV files.

The tables are built from plain rows (``storage.export``), headers and values in the export's
language, times in the configured time zone. Text that a spreadsheet would run as a formula
is written with a leading apostrophe; nothing else is changed (but for the control characters
a workbook's XML cannot hold): it is a file, not a message.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.config import Config
from bot.i18n import CATALOG, t
from storage import export as storage_export
from storage.db import Database
from storage.export import NeedEntry, Record

FORMATS: Final = ("xlsx", "csv")
# What a spreadsheet takes as the start of a formula (OWASP's list: =, +, -, @, tab, CR).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT: Final = "%Y-%m-%d %H:%M"
EXCEL_TIME_FORMAT: Final = "yyyy-mm-dd hh:mm"
MAX_COLUMN_WIDTH: Final = 60

Cell = str | int | datetime | None


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet of the workbook, one file of the zip: ``name`` is its ASCII file name."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


@dataclass(frozen=True, slots=True)
class TeamTotals:
    """A team's part in the drive (``team`` None: claims made for no team)."""

    team: str | None
    held: int
    claims: int
    needs_visited: int
    visits: int


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A finished export, in memory only: what to call it, its bytes, and what it counts."""

    filename: str
    data: bytes
    needs: int
    claims: int
    visits: int


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text by a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _value(lang: str, key: str, fallback: str) -> str:
    """A cell value's label; a value the catalog does not know yet is shown as stored."""
    return t(lang, key) if key in CATALOG else fallback


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    # Spreadsheets have no time zones: local wall-clock time, as the summary sheet says.
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


def _yes_no(lang: str, value: bool) -> str:
    return t(lang, "export_value_yes" if value else "export_value_no")


def _headers(lang: str, *keys: str) -> tuple[str, ...]:
    return tuple(t(lang, f"export_col_{key}") for key in keys)


def needs_table(record: Record, lang: str, tz: ZoneInfo) -> Table:
    """Every need with its state, holder, last visit and private details."""
    headers = _headers(
        lang, "need", "group", "summary", "state", "holder", "team", "claimed_at",
        "last_visit", "name", "address", "phone", "health", "notes",
    )  # fmt: skip
    rows: list[tuple[Cell, ...]] = [
        (
            need.id,
            need.group,
            need.summary,
            _value(lang, f"export_value_{need.state.value}", need.state.value),
            need.holder,
            need.team,
            _local(need.claimed_at, tz),
            _local(need.last_visited_at, tz),
            *details_cells(need, lang),
        )
        for need in record.needs
    ]
    return Table("needs", t(lang, "export_sheet_needs"), headers, rows)


def details_cells(need: NeedEntry, lang: str) -> tuple[Cell, ...]:
    """A need's five private details; "purged" in each, once the retention purge took them."""
    if need.purged:
        return (t(lang, "export_value_purged"),) * 5
    details = need.details
    return details.name, details.address, details.phone, details.health, details.notes


def claims_table(record: Record, lang: str, tz: ZoneInfo) -> Table:
    """Every claim ever made: who, for which team, and how and by whom it ended."""
    headers = _headers(
        lang, "claim", "need", "volunteer", "team", "claimed_at", "assigned_by", "ended_at",
        "how_ended", "ended_by",
    )  # fmt: skip
    rows: list[tuple[Cell, ...]] = []
    for claim in record.claims:
        how = claim.how_ended or "active"
        rows.append(
            (
                claim.id,
                claim.need_id,
                claim.volunteer,
                claim.team,
                _local(claim.claimed_at, tz),
                claim.assigned_by,
                _local(claim.ended_at, tz),
                _value(lang, f"export_value_{how}", how),
                claim.ended_by,
            )
        )
    return Table("claims", t(lang, "export_sheet_claims"), headers, rows)


def done_labels(done: Iterable[str], checklist: dict[str, dict[str, str]], lang: str) -> str:
    """What was done on a visit, as the checklist's labels (a key the config lost: the key)."""
    separator = "、" if lang == "zh" else "; "
    return separator.join(checklist.get(key, {}).get(lang) or key for key in done)


def visits_table(
    record: Record, lang: str, tz: ZoneInfo, checklist: dict[str, dict[str, str]]
) -> Table:
    """Every visit logged: when, by whom, for which need, what was done."""
    headers = _headers(
        lang, "visited_at", "volunteer", "team", "need", "done", "note", "concern", "photo"
    )
    rows: list[tuple[Cell, ...]] = [
        (
            _local(visit.visited_at, tz),
            visit.volunteer,
            visit.team,
            visit.need_id,
            done_labels(visit.done, checklist, lang),
            t(lang, "export_value_purged") if visit.purged else visit.note,
            _yes_no(lang, visit.concern),
            _yes_no(lang, visit.photo),
        )
        for visit in record.visits
    ]
    return Table("visits", t(lang, "export_sheet_visits"), headers, rows)


def team_totals(record: Record) -> list[TeamTotals]:
    """Per team: claims held now and ever made, needs visited and visits, busiest first."""
    teams = {claim.team for claim in record.claims} | {visit.team for visit in record.visits}
    totals = [
        TeamTotals(
            team=team,
            held=sum(1 for c in record.claims if c.team == team and c.ended_at is None),
            claims=sum(1 for c in record.claims if c.team == team),
            needs_visited=len({v.need_id for v in record.visits if v.team == team}),
            visits=sum(1 for v in record.visits if v.team == team),
        )
        for team in teams
    ]
    return sorted(totals, key=lambda s: (-s.held, -s.needs_visited, s.team is None, s.team or ""))


def teams_table(totals: Sequence[TeamTotals], lang: str) -> Table:
    """The per-team totals; the summary sheet's chart draws from it."""
    headers = _headers(lang, "team", "held", "claims_made", "needs_visited", "visits")
    rows: list[tuple[Cell, ...]] = [
        (s.team or t(lang, "export_value_no_team"), s.held, s.claims, s.needs_visited, s.visits)
        for s in totals
    ]
    return Table("teams", t(lang, "export_sheet_teams"), headers, rows)


def summary_table(
    record: Record, totals: Sequence[TeamTotals], lang: str, config: Config, now: datetime
) -> Table:
    """The drive in a few numbers, and when and in which time zone it was exported."""
    states = [need.state.value for need in record.needs]
    facts: list[tuple[str, Cell]] = [
        ("generated_at", _local(now, config.tz)),
        ("timezone", config.timezone),
        ("needs", len(record.needs)),
        ("needs_open", states.count("open")),
        ("needs_claimed", states.count("claimed")),
        ("needs_closed", states.count("closed")),
        ("needs_cancelled", states.count("cancelled")),
        ("needs_visited", len({visit.need_id for visit in record.visits})),
        ("visits", len(record.visits)),
        ("claims", len(record.claims)),
        ("teams", sum(1 for s in totals if s.team is not None)),
    ]
    rows: list[tuple[Cell, ...]] = [(t(lang, f"export_value_{key}"), v) for key, v in facts]
    return Table("summary", t(lang, "export_sheet_summary"), _headers(lang, "item", "value"), rows)


def tables(record: Record, config: Config, lang: str, now: datetime) -> list[Table]:
    """Every table of an export, the summary first."""
    tz, totals = config.tz, team_totals(record)
    return [
        summary_table(record, totals, lang, config, now),
        needs_table(record, lang, tz),
        claims_table(record, lang, tz),
        visits_table(record, lang, tz, config.visits.checklist),
        teams_table(totals, lang),
    ]


def _csv_cell(value: Cell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return neutralise(value) if isinstance(value, str) else value


def csv_zip(export_tables: Sequence[Table]) -> bytes:
    """A zip of one CSV file per table, UTF-8 with a BOM so Excel reads Chinese right."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in export_tables:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(table.headers)
            writer.writerows([_csv_cell(value) for value in row] for row in table.rows)
            archive.writestr(f"{table.name}.csv", text.getvalue().encode("utf-8-sig"))
    return buffer.getvalue()


def _xlsx_cell(value: Cell) -> str | int | datetime | None:
    if isinstance(value, str):
        # XML cannot hold most control characters; openpyxl refuses them.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _width(value: Cell) -> int:
    if isinstance(value, datetime):
        return 16
    text = "" if value is None else str(value).split("\n", 1)[0]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet(book: Workbook, table: Table) -> Worksheet:
    sheet: Worksheet = book.create_sheet(table.title)
    for column, header in enumerate(table.headers, start=1):
        sheet.cell(1, column, header).font = Font(bold=True)
    for row_number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row_number, column, _xlsx_cell(value))
            if isinstance(value, datetime):
                cell.number_format = EXCEL_TIME_FORMAT
    for column, header in enumerate(table.headers, start=1):
        widest = max([_width(header), *(_width(row[column - 1]) for row in table.rows)])
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = min(widest + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    return sheet


def _chart(summary: Worksheet, teams: Worksheet, count: int, lang: str) -> None:
    """A bar per team for claims held and needs visited, drawn from the teams sheet."""
    chart = BarChart()
    chart.type = "bar"  # horizontal: long team names stay readable
    chart.title = t(lang, "export_value_chart")
    for column in (2, 4):  # claims held, needs visited
        data = Reference(teams, min_col=column, min_row=1, max_row=count + 1)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(teams, min_col=1, min_row=2, max_row=count + 1))
    chart.height = max(7.5, 1.0 * count + 3)
    chart.width = 18
    summary.add_chart(chart, "D2")


def workbook(export_tables: Sequence[Table], lang: str) -> bytes:
    """An Excel workbook, a sheet per table, with a per-team bar chart on the summary sheet."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    sheets = {table.name: (_sheet(book, table), len(table.rows)) for table in export_tables}
    (summary, _), (teams, count) = sheets["summary"], sheets["teams"]
    if count:
        _chart(summary, teams, count, lang)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(record: Record, config: Config, lang: str, fmt: str, now: datetime) -> ExportFile:
    """The export file of ``record`` in ``fmt`` (xlsx or csv), headers in ``lang``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    export_tables = tables(record, config, lang, now)
    stamp = now.astimezone(config.tz).strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        name, data = f"claimbot-{stamp}.xlsx", workbook(export_tables, lang)
    else:
        name, data = f"claimbot-{stamp}.zip", csv_zip(export_tables)
    counts = len(record.needs), len(record.claims), len(record.visits)
    return ExportFile(name, data, *counts)


async def export_file(
    db: Database, config: Config, lang: str, fmt: str, now: datetime
) -> ExportFile:
    """The record as it stands, read and written into an export file in memory."""
    record = await storage_export.record(db)
    # Writing a workbook is CPU work: in a thread, so taps keep being answered meanwhile.
    return await asyncio.to_thread(render, record, config, lang, fmt, now)
