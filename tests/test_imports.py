"""Writing an import (needs, details, boards as the outbox, audit) in one transaction, and
``claimbot import`` as a process: exit codes, output, dry run, the same file twice."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import LimitsConfig
from bot.spreadsheet import check_file
from storage import imports, needs, people
from storage.db import Database
from storage.imports import COMMAND_LINE, ImportSource
from tests.factories import GROUP_ID, actor

ROOT = Path(__file__).parent.parent
DRIVE = ROOT / "bot" / "data" / "drive_zh.csv"
NOW = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
OTHER_GROUP = -1009999


def drive() -> list:
    sheet = check_file(DRIVE.read_bytes(), DRIVE.name, LimitsConfig())
    assert sheet.clean
    return sheet.needs


async def test_an_import_writes_needs_details_boards_and_audit_in_file_order(db: Database):
    rows = drive()[:20]
    result = await imports.write(db, GROUP_ID, rows, ImportSource("drive.csv"), 8, NOW)
    assert result is not None
    assert result.added == list(range(2, 22)) and result.skipped == []
    assert len(result.boards) == 3
    boards = await db.fetch_all(
        "SELECT id, chat_id, message_id, import_id FROM boards ORDER BY id"
    )
    assert [b["id"] for b in boards] == result.boards
    assert all(b["message_id"] is None and b["chat_id"] == GROUP_ID for b in boards)
    placed = await db.fetch_all(
        "SELECT board_id, summary, created_by, fingerprint, category, area FROM needs ORDER BY id"
    )
    assert [row["summary"] for row in placed] == [need.summary for need in rows]
    per_board = [sum(1 for r in placed if r["board_id"] == b) for b in result.boards]
    assert per_board == [8, 8, 4]
    assert {row["created_by"] for row in placed} == {COMMAND_LINE}
    assert placed[0]["fingerprint"] == rows[0].fingerprint
    assert (placed[0]["category"], placed[0]["area"]) == ("独居空巢老人", "东风社区")
    details = await needs.details(db, result.need_ids[0])
    assert details is not None and details.phone == "13800001000"
    (record,) = await db.fetch_all("SELECT * FROM imports")
    assert (record["needs"], record["skipped"], record["created_by"]) == (20, 0, None)
    audit = await db.fetch_all("SELECT actor_id, action, detail FROM audit_log ORDER BY id")
    assert len(audit) == 20 and {a["action"] for a in audit} == {"imported"}
    assert all(a["actor_id"] is None for a in audit)
    detail = json.loads(audit[0]["detail"])
    assert detail["file"] == "drive.csv" and detail["line"] == 2
    # The audit names the file and the line, never what the line says.
    assert "胡桂兰" not in json.dumps([dict(a) for a in audit], ensure_ascii=False)


async def test_the_same_file_twice_adds_nothing_the_second_time(db: Database):
    rows = drive()
    first = await imports.write(db, GROUP_ID, rows, ImportSource("a.csv"), 8, NOW)
    second = await imports.write(db, GROUP_ID, rows, ImportSource("a.csv"), 8, NOW)
    assert first is not None and second is not None
    assert len(first.added) == 53 and second.added == [] and len(second.skipped) == 53
    assert second.boards == []
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM needs")
    assert count is not None and count["n"] == 53
    (_, record) = await db.fetch_all("SELECT needs, skipped FROM imports ORDER BY id")
    assert (record["needs"], record["skipped"]) == (0, 53)
    # Another group has none of them.
    other = await imports.plan(db, OTHER_GROUP, rows, 8)
    assert len(other.new) == 53 and other.boards == 7


async def test_a_need_posted_by_hand_is_recognised(db: Database):
    rows = drive()[:3]
    posted = rows[1]
    await needs.create(db, GROUP_ID, posted.summary, posted.details, actor(5), NOW)
    plan = await imports.plan(db, GROUP_ID, rows, 8)
    assert [n.line for n in plan.skipped] == [posted.line]
    result = await imports.write(db, GROUP_ID, rows, ImportSource("a.csv", 7, 7), 8, NOW)
    assert result is not None and result.added == [2, 4] and result.skipped == [3]
    record = await db.fetch_one("SELECT created_by, report_chat_id FROM imports")
    assert record is not None and tuple(record) == (7, 7)


async def test_a_waiting_file_is_imported_once(db: Database):
    pending_id = await imports.keep_pending(db, 7, "a.csv", DRIVE.read_bytes(), NOW)
    assert await imports.choose_group(db, pending_id, 7, GROUP_ID)
    rows = drive()
    source = ImportSource("a.csv", 7, 7)
    results = await asyncio.gather(
        *(imports.write(db, GROUP_ID, rows, source, 8, NOW, pending_id=pending_id) for _ in "ab")
    )
    assert sum(result is not None for result in results) == 1
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM needs")
    assert count is not None and count["n"] == 53
    assert await imports.pending(db, pending_id, 7) is None
    # A newer file never takes an older one's number.
    newer = await imports.keep_pending(db, 7, "b.csv", b"x", NOW)
    assert newer > pending_id


async def test_a_file_left_waiting_a_week_goes_when_the_next_comes(db: Database):
    old = await imports.keep_pending(db, 7, "old.csv", b"x", NOW)
    recent = await imports.keep_pending(db, 8, "recent.csv", b"x", NOW + timedelta(days=6))
    await imports.keep_pending(db, 9, "new.csv", b"x", NOW + timedelta(days=7, seconds=1))
    assert await imports.pending(db, old, 7) is None
    assert await imports.pending(db, recent, 8) is not None


# -- claimbot import as a process ----------------------------------------------------------


async def seed(database: Path) -> None:
    """A database whose bot has seen two groups, and left one."""
    async with Database(database) as db:
        await people.remember_group(db, GROUP_ID, "Volunteers", NOW)
        await people.remember_group(db, OTHER_GROUP, "Last year", NOW)
        await people.forget_group(db, OTHER_GROUP, NOW)


def setup(tmp_path: Path) -> Path:
    """A config, and a seeded database."""
    asyncio.run(seed(tmp_path / "bot.db"))
    return write_config(tmp_path)


def write_config(tmp_path: Path) -> Path:
    database = tmp_path / "bot.db"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  path: {database}\nlanguage: en\nposting:\n  needs_per_board: 8\n",
        encoding="utf-8",
    )
    return config


def claimbot_import(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLAIMBOT_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", "import", *args, "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def counts(tmp_path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("needs", "boards", "imports")
        )


def test_cli_imports_then_skips_everything_the_second_time(tmp_path: Path) -> None:
    config = setup(tmp_path)
    first = claimbot_import(config, str(DRIVE), "--group", str(GROUP_ID))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "drive_zh.csv: 53 needs, 0 problem(s), 0 warning(s)" in first.stdout
    assert 'Imported into "Volunteers": 53 needs on 7 boards; 0 already' in first.stdout
    assert "same summary, name, address and phone" in first.stdout
    assert "within seconds" in first.stdout and "when it starts" in first.stdout
    # The bar, on stderr, for both phases.
    assert "checking   [##############################] 53/53" in first.stderr
    assert "writing    [##############################] 53/53" in first.stderr
    assert counts(tmp_path) == (53, 7, 1)
    second = claimbot_import(config, str(DRIVE), "--group", str(GROUP_ID))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 needs on 0 boards; 53 already in the group were skipped" in second.stdout
    assert counts(tmp_path) == (53, 7, 2)
    # Nothing private on the terminal.
    assert "胡桂兰" not in first.stdout + first.stderr + second.stdout + second.stderr


def test_cli_dry_run_writes_nothing(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = claimbot_import(config, str(DRIVE), "--group", str(GROUP_ID), "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Dry run, nothing written" in result.stdout
    assert "53 needs would be posted on 7 boards; 0 already in the group" in result.stdout
    assert counts(tmp_path) == (0, 0, 0)


def test_cli_dirty_file_lists_every_problem_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    config = setup(tmp_path)
    bad = tmp_path / "bad.csv"
    lines = DRIVE.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = "," + lines[3].split(",", 1)[1]  # line 4: no summary
    lines[9] = lines[9].replace("13800001008", "ring the bell")  # line 10: not a phone
    bad.write_text("\n".join(lines), encoding="gb18030")
    for extra in ([], ["--dry-run"]):
        result = claimbot_import(config, str(bad), "--group", str(GROUP_ID), *extra)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Line 4: no summary (摘要 is empty)" in result.stdout
        assert "Line 10: 电话 is not a phone number" in result.stdout
        assert "Nothing was imported" in result.stdout
    assert counts(tmp_path) == (0, 0, 0)


def test_cli_in_chinese(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = claimbot_import(config, str(DRIVE), "--group", str(GROUP_ID), "--lang", "zh")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "已导入“Volunteers”：53 条需求" in result.stdout


def test_cli_refuses_a_group_the_bot_does_not_know(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = claimbot_import(config, str(DRIVE), "--group", "-100123")
    assert result.returncode == 2
    assert "--group -100123: not a group the bot knows" in result.stdout
    assert f'{GROUP_ID} "Volunteers"' in result.stdout
    assert "Last year" not in result.stdout  # the bot left it
    assert counts(tmp_path) == (0, 0, 0)


def test_cli_refuses_a_missing_file_or_database(tmp_path: Path) -> None:
    config = setup(tmp_path)
    missing = claimbot_import(config, str(tmp_path / "nope.csv"), "--group", str(GROUP_ID))
    assert missing.returncode == 2 and "cannot read it" in missing.stderr
    (tmp_path / "bot.db").unlink()
    no_db = claimbot_import(config, str(DRIVE), "--group", str(GROUP_ID))
    assert no_db.returncode == 2 and "no such database file" in no_db.stderr


async def test_cli_writes_while_the_bot_has_the_database_open(tmp_path: Path) -> None:
    await seed(tmp_path / "bot.db")
    config = write_config(tmp_path)
    async with Database(tmp_path / "bot.db") as db:
        # As a running bot would: its writer busy with a write of its own meanwhile.
        await people.remember_group(db, GROUP_ID, "Volunteers", NOW)
        env = {k: v for k, v in os.environ.items() if k != "CLAIMBOT_TOKEN"}
        env["PYTHONPATH"] = str(ROOT)
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "bot", "import", str(DRIVE), "--group", str(GROUP_ID)],
            *["--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
        assert process.returncode == 0, (stdout + stderr).decode()
        # The bot's own connection sees the outbox the other process wrote.
        rows = await db.fetch_all("SELECT id FROM boards WHERE message_id IS NULL")
        assert len(rows) == 7


async def test_an_imported_need_for_several_takes_its_places(db) -> None:
    sheet = check_file(b"summary,slots\nSpring cleaning,3\n", "drive.csv", LimitsConfig())
    assert await imports.write(db, GROUP_ID, sheet.needs, ImportSource("drive.csv"), 8, NOW)
    (need,) = await needs.select(db, "1 ORDER BY n.id")
    assert (need.slots, need.full, need.state.value) == (3, False, "open")
