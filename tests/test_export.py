"""The record: what ``claimbot export`` writes, read back with openpyxl and csv, matches the
database in both formats and both languages; formula-looking text stays text; ``/export``
sends the file to a coordinator in private chat only."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import stat
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import yaml
from telegram.request import RequestData

from bot import runtime
from bot.__main__ import main
from bot.app import build_application, running
from bot.config import Config
from bot.domain import PrivateDetails
from bot.export import neutralise
from bot.service import PairingService
from bot.teams import TeamService
from storage.db import Database
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, make_config, private_details, user
from tests.fakes import FakeBotApi
from tests.test_handlers import COORDINATOR, SECRETS, Harness

T0 = datetime(2027, 1, 20, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
FORMULA = '=HYPERLINK("http://evil.example","Click")'
NOTE = "-2 degrees at night, heating broken"
ALICE, BOB, CAROL = actor(5, "Alice Li"), actor(6, "Bob Zhang"), actor(7, "Carol")
COORDINATOR_ACTOR = actor(COORDINATOR_ID, "Coordinator Chen")

# What the export calls things, per language.
WORDS = {
    "en": {
        "sheets": ["Summary", "Needs", "Claims", "Visits", "Teams"],
        "summary_header": "Public summary",
        "open": "Open",
        "claimed": "Claimed",
        "closed": "Closed",
        "active": "Active",
        "released": "Released by the volunteer",
        "reassigned": "Reassigned",
        "yes": "yes",
        "no": "no",
        "no_team": "(no team)",
        "fruit_talk": "Brought fruit; Sat and talked",
        "groceries": "Brought rice, flour, oil or eggs",
    },
    "zh": {
        "sheets": ["概况", "需求", "认领记录", "走访记录", "队伍统计"],
        "summary_header": "公开摘要",
        "open": "待认领",
        "claimed": "已认领",
        "closed": "已结束",
        "active": "进行中",
        "released": "志愿者放弃",
        "reassigned": "已改派",
        "yes": "是",
        "no": "否",
        "no_team": "（无队伍）",
        "fruit_talk": "送水果、陪伴聊天",
        "groceries": "送米面油蛋",
    },
}
TABLES = ["summary", "needs", "claims", "visits", "teams"]


@pytest.fixture(autouse=True)
def restore_logging(quiet_logs: None) -> None:
    """``claimbot export`` in this process sets up logging; each test gets it back as it was."""


class Clock:
    """Each reading an hour after the last, from T0."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


async def seed(config: Config) -> None:
    """Four needs: one reassigned, one released and claimed again, one open, one closed;
    three visits logged (inserted as the visits table keeps them)."""
    async with Database(config.database.path, config.database.synchronous) as db:
        svc = PairingService(db, config, Clock())
        await svc.group_seen(GROUP_ID, "Volunteers")
        for person in (COORDINATOR_ACTOR, ALICE, BOB, CAROL):
            await svc.identify(person, in_private=True)
        teams = TeamService(db, config, Clock())
        for volunteer, name in ((ALICE, "第一支部"), (BOB, "Youth team")):
            added = await teams.add(COORDINATOR_ACTOR.user_id, name)
            assert added.team is not None
            await teams.choose(volunteer.user_id, added.team.id)
        second = private_details(name="Uncle Zhao", phone="+86 138 0000 5678")
        for summary, details in [
            (FORMULA, private_details()),
            ("Chronic illness, needs a weekly visit", second),
            ("Single parent needs help with groceries", PrivateDetails()),
            ("@everyone winter coats", PrivateDetails()),
        ]:
            await svc.post_need(COORDINATOR_ACTOR, GROUP_ID, summary, details)
        await svc.claim(1, ALICE)
        await svc.reassign(1, str(BOB.user_id), COORDINATOR_ID)
        await svc.claim(2, CAROL)
        await svc.release(2, CAROL.user_id)
        await svc.claim(2, ALICE)
        await db.execute("UPDATE needs SET closed_at = ?, closed_by = ? WHERE id = 4", (
            (T0 + timedelta(days=2)).isoformat(), COORDINATOR_ID
        ))  # fmt: skip
        visits = [
            (2, 5, T0 + timedelta(days=3), ["fruit", "talk"], "Brought dumplings", "AgAD1", 1),
            (1, 6, T0 + timedelta(days=4), ["groceries"], NOTE, None, 0),
            (2, 5, T0 + timedelta(days=5), [], None, None, 0),
        ]
        for need_id, volunteer, at, done, note, photo, concern in visits:
            await db.execute(
                "INSERT INTO visits (need_id, claim_id, volunteer_id, visited_at, done, note,"
                " photo_file_id, concern) SELECT ?1, id, ?2, ?3, ?4, ?5, ?6, ?7 FROM claims"
                " WHERE need_id = ?1 AND volunteer_id = ?2 AND released_at IS NULL",
                (need_id, volunteer, at.isoformat(), json.dumps(done), note, photo, concern),
            )


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A config file over a database with the seeded record; its path."""
    config = make_config(tmp_path)
    asyncio.run(seed(config))
    path = tmp_path / "config.yaml"
    settings = {
        "database": {"path": str(config.database.path)},
        "coordinators": [COORDINATOR_ID],
        "language": "en",
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def database(config_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The record as the database holds it, read with plain SQL."""
    import sqlite3

    settings = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    with sqlite3.connect(settings["database"]["path"]) as conn:
        conn.row_factory = sqlite3.Row
        return {
            table: [dict(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
            for table in ("needs", "need_details", "claims", "visits", "people")
        }


def local(text: str | None) -> datetime | None:
    """A database time as the export shows it: Shanghai wall-clock time, to the second."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text).astimezone(SHANGHAI)
    return moment.replace(tzinfo=None, microsecond=0)


def expected(config_path: Path, lang: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows each table must hold, built from the database and the words above."""
    w, db = WORDS[lang], database(config_path)
    names = {p["user_id"]: p["display_name"] for p in db["people"]}
    details = {d["need_id"]: d for d in db["need_details"]}
    active = {c["need_id"]: c for c in db["claims"] if c["released_at"] is None}
    last_visit = {v["need_id"]: v["visited_at"] for v in db["visits"]}  # in time order
    needs = []
    for need in db["needs"]:
        claim, d = active.get(need["id"]), details.get(need["id"], {})
        state = "closed" if need["closed_at"] else "claimed" if claim else "open"
        needs.append(
            (need["id"], "Volunteers", neutralise(need["summary"]), w[state],
             names[claim["volunteer_id"]] if claim else None, claim and claim["team"],
             local(claim and claim["claimed_at"]), local(last_visit.get(need["id"])),
             *(d.get(key) and neutralise(d[key])
               for key in ("name", "address", "phone", "health", "notes")))
        )  # fmt: skip
    claims = [
        (c["id"], c["need_id"], names[c["volunteer_id"]], c["team"], local(c["claimed_at"]),
         c["assigned_by"] and names[c["assigned_by"]], local(c["released_at"]),
         w[c["release_reason"] or "active"], c["released_by"] and names[c["released_by"]])
        for c in db["claims"]
    ]  # fmt: skip
    teams = {c["id"]: c["team"] for c in db["claims"]}
    done = {'["fruit", "talk"]': w["fruit_talk"], '["groceries"]': w["groceries"], "[]": None}
    visits = [
        (local(v["visited_at"]), names[v["volunteer_id"]], teams[v["claim_id"]], v["need_id"],
         done[v["done"]], v["note"] and neutralise(v["note"]), w["yes" if v["concern"] else "no"],
         w["yes" if v["photo_file_id"] else "no"])
        for v in db["visits"]
    ]  # fmt: skip
    return {"needs": needs, "claims": claims, "visits": visits}


def run_export(config: Path, out: Path, *options: str) -> None:
    assert main(["export", "--out", str(out), "--config", str(config), *options]) == 0


def read_xlsx(path: Path) -> tuple[list[str], dict[str, list[tuple[Any, ...]]]]:
    book = openpyxl.load_workbook(path)
    sheets = {name: list(book[title].iter_rows(values_only=True))
              for name, title in zip(TABLES, book.sheetnames, strict=True)}  # fmt: skip
    return book.sheetnames, sheets


def read_zip(path: Path) -> dict[str, list[list[str]]]:
    tables = {}
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [f"{name}.csv" for name in TABLES]
        for name in TABLES:
            raw = archive.read(f"{name}.csv")
            assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
            tables[name] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return tables


def as_csv(row: tuple[Any, ...]) -> list[str]:
    return [
        "" if v is None else v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v)
        for v in row
    ]


def teams_rows(lang: str) -> list[tuple[Any, ...]]:
    """Team, claims held, claims made, needs visited, visits: busiest first."""
    return [
        ("Youth team", 1, 1, 1, 1),  # Bob: need 1, reassigned to him, visited once
        ("第一支部", 1, 2, 1, 2),  # Alice: need 1 (reassigned away), need 2 visited twice
        (WORDS[lang]["no_team"], 0, 1, 0, 0),  # Carol: released need 2
    ]


SUMMARY_COUNTS = [4, 1, 2, 1, 0, 2, 3, 4, 2]  # needs, open, claimed, closed, cancelled, visited...


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_excel_export_matches_the_database(seeded: Path, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "record.xlsx"
    run_export(seeded, out, "--format", "xlsx", "--lang", lang)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "private details: the owner's only"
    names, sheets = read_xlsx(out)
    assert names == WORDS[lang]["sheets"]
    assert WORDS[lang]["summary_header"] in sheets["needs"][0]
    for table, rows in expected(seeded, lang).items():
        assert sheets[table][1:] == rows, table
    assert sheets["teams"][1:] == teams_rows(lang)
    summary = sheets["summary"]
    exported_at = datetime.now(SHANGHAI).replace(tzinfo=None)  # local time, not UTC
    assert abs(summary[1][1] - exported_at) < timedelta(minutes=1)
    assert summary[2][1] == "Asia/Shanghai"
    assert [row[1] for row in summary[3:]] == SUMMARY_COUNTS
    with zipfile.ZipFile(out) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<barChart>" in chart.replace("<c:barChart>", "<barChart>")
    title = WORDS[lang]["sheets"][4]
    assert f"'{title}'!$A$2:$A$4" in chart and f"'{title}'!$B$2:$B$4" in chart


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_csv_export_matches_the_database(seeded: Path, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "record.zip"
    run_export(seeded, out, "--lang", lang)  # the format from the name
    tables = read_zip(out)
    assert WORDS[lang]["summary_header"] in tables["needs"][0]
    for table, rows in expected(seeded, lang).items():
        assert tables[table][1:] == [as_csv(row) for row in rows], table
    assert tables["teams"][1:] == [as_csv(row) for row in teams_rows(lang)]
    assert [row[1] for row in tables["summary"][3:]] == [str(n) for n in SUMMARY_COUNTS]


def test_the_language_defaults_to_the_configs(seeded: Path, tmp_path: Path) -> None:
    seeded.write_text(seeded.read_text(encoding="utf-8").replace("en", "zh"), encoding="utf-8")
    run_export(seeded, tmp_path / "record.xlsx")
    assert read_xlsx(tmp_path / "record.xlsx")[0] == WORDS["zh"]["sheets"]


def test_formula_looking_text_is_written_as_text(seeded: Path, tmp_path: Path) -> None:
    run_export(seeded, tmp_path / "record.xlsx")
    run_export(seeded, tmp_path / "record.zip")
    book = openpyxl.load_workbook(tmp_path / "record.xlsx")
    needs, visits = book["Needs"], book["Visits"]
    assert needs["C2"].value == "'" + FORMULA and needs["C2"].data_type == "s"
    assert needs["C5"].value == "'@everyone winter coats"
    assert needs["K3"].value == "'+86 138 0000 5678"  # a phone is text, kept as typed
    assert visits["F3"].value == "'" + NOTE
    assert needs["C3"].value == "Chronic illness, needs a weekly visit"  # nothing else changed
    tables = read_zip(tmp_path / "record.zip")
    assert tables["needs"][1][2] == "'" + FORMULA
    assert tables["visits"][2][5] == "'" + NOTE


def test_neutralise() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(text) == "'" + text
    for text in ("1+1", "a=b", "", "'=already quoted", "王奶奶"):
        assert neutralise(text) == text


def test_no_database_file_is_a_config_error(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  path: {tmp_path / 'none.db'}\n", encoding="utf-8")
    status = main(["export", "--out", str(tmp_path / "x.xlsx"), "--config", str(path)])
    assert status == 2
    assert "config error: database.path:" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists(), "nothing created"
    assert not (tmp_path / "x.xlsx").exists()


def test_an_unwritable_out_path_is_refused(seeded: Path, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "no-such-folder" / "record.xlsx"
    assert main(["export", "--out", str(out), "--config", str(seeded)]) == 1
    assert f"cannot write {out}" in capsys.readouterr().err


# -- /export in Telegram ---------------------------------------------------------------------


@dataclass
class RecordingApi(FakeBotApi):
    """The fake Bot API, keeping each uploaded document's name and bytes."""

    documents: list[tuple[str, bytes]] = field(default_factory=list)

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:  # fmt: skip
        if request_data is not None and url.endswith("/sendDocument"):
            for name, content, _ in (request_data.multipart_data or {}).values():
                assert isinstance(content, bytes)
                self.documents.append((name, content))
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[Harness]:
    api = RecordingApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        await app.bot_data[runtime.SERVICE].group_seen(GROUP_ID, "Volunteers")
        yield Harness(app, api)


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


async def post_and_claim(bot: Harness) -> None:
    await bot.post_private("Disabled veteran needs groceries", *SECRETS)
    card = bot.api.of("sendMessage")[-2]
    await bot.tap_card(user(5, "Alice"), card)


async def test_a_coordinator_gets_the_record_privately_as_a_document(
    bot: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await post_and_claim(bot)
    files_before = files_in(tmp_path)
    for name in (None, "telegram", "aiosqlite", "httpx"):  # all at their most verbose
        caplog.set_level(logging.DEBUG, logger=name)
    # Only what the export logs: posting the need wrote its details (as SQL parameters,
    # which the product's own logging keeps aiosqlite too quiet to show).
    caplog.clear()
    await bot.private(COORDINATOR, "/export")
    (call,) = bot.api.of("sendDocument")
    assert int(call.params["chat_id"]) == COORDINATOR_ID
    assert "1 needs, 1 claims, 0 visits" in call.params["caption"]
    api: RecordingApi = bot.api  # type: ignore[assignment]
    ((name, data),) = api.documents
    assert name.startswith("claimbot-") and name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == WORDS["en"]["sheets"]
    row = [cell.value for cell in book["Needs"][2]]
    assert row[:5] == [1, "Volunteers", "Disabled veteran needs groceries", "Claimed", "Alice"]
    assert row[8:] == SECRETS
    assert files_in(tmp_path) == files_before, "nothing written on the server"
    assert "sendDocument" in caplog.text  # the log was listening
    leaked = [line for line in caplog.text.splitlines() if any(s in line for s in SECRETS)]
    assert not leaked, "nor in its log"


async def test_csv_on_request_and_headers_in_the_coordinators_language(bot: Harness) -> None:
    await post_and_claim(bot)
    await bot.private(user(COORDINATOR_ID, "Coordinator Chen", language_code="zh"), "/export csv")
    api: RecordingApi = bot.api  # type: ignore[assignment]
    ((name, data),) = api.documents
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        needs = archive.read("needs.csv").decode("utf-8-sig")
    assert needs.startswith("需求编号,群,公开摘要,状态,")
    assert "截至" in bot.api.of("sendDocument")[0].params["caption"]


async def test_a_volunteer_gets_no_export(bot: Harness) -> None:
    await post_and_claim(bot)
    await bot.private(user(5, "Alice"), "/export")
    await bot.group_command(user(5, "Alice"), "/export")
    assert bot.api.of("sendDocument") == []
    assert bot.api.texts_to(5)[-1] == "Only coordinators can do that."
    assert bot.api.texts_to(GROUP_ID)[-1] == "Only coordinators can do that."


async def test_in_a_group_a_coordinator_is_sent_to_the_private_chat(bot: Harness) -> None:
    await post_and_claim(bot)
    before = len(bot.api.calls)
    await bot.group_command(COORDINATOR, "/export")
    assert bot.api.of("sendDocument") == []
    answer = bot.api.texts_to(GROUP_ID)[-1]
    assert "only in a private chat with me" in answer and "https://t.me/" in answer
    sent = json.dumps([call.params for call in bot.api.calls[before:]], ensure_ascii=False)
    assert not any(secret in sent for secret in SECRETS)


async def test_an_unknown_format_gets_the_usage(bot: Harness) -> None:
    await bot.private(COORDINATOR, "/export pdf")
    assert bot.api.of("sendDocument") == []
    assert bot.api.texts_to(COORDINATOR_ID)[-1].startswith("Usage: /export [xlsx|csv]")
