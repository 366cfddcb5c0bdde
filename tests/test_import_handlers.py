"""A spreadsheet sent in private chat, through the real Application on the fake Bot API:
checked, a group picked, a summary, Confirm; a volunteer refused; a restart in between.

The emulator has no file downloads yet, so these run on the recording fake (tests/fakes.py
serves getFile and the download)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import runtime
from bot.app import build_application, running
from bot.config import Config
from tests.factories import GROUP_ID, document_update, private_chat, tap_update, user
from tests.fakes import FakeBotApi
from tests.test_handlers import COORDINATOR, Harness

DRIVE = Path(__file__).parent.parent / "bot" / "data" / "drive_en.csv"
VOLUNTEER = user(555, "Volunteer Li")


@asynccontextmanager
async def started(config: Config, api: FakeBotApi) -> AsyncIterator[Harness]:
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        yield Harness(app, api)


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    async with started(config, FakeBotApi()) as harness:
        await harness.service.group_seen(GROUP_ID, "Volunteers")
        yield harness


async def send_file(
    harness: Harness, data: bytes, name: str, sender: dict[str, Any] = COORDINATOR
) -> None:
    file_id = f"f{len(harness.api.files)}"
    harness.api.files[file_id] = data
    await harness.send(document_update(harness.app.bot, sender, file_id, name, len(data)))


def buttons(harness: Harness) -> list[tuple[str, str]]:
    """The buttons of the last message sent, as (text, data)."""
    markup = harness.api.of("sendMessage")[-1].params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def tap(harness: Harness, data: str, sender: dict[str, Any] = COORDINATOR) -> None:
    chat = private_chat(sender["id"])
    await harness.send(tap_update(harness.app.bot, sender, data, chat=chat))


async def count(harness: Harness, table: str) -> int:
    row = await harness.service.db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


def last_text(harness: Harness) -> str:
    return harness.api.texts_to(COORDINATOR["id"])[-1]


async def test_file_group_summary_confirm_writes_the_outbox_and_a_progress_message(harness):
    await send_file(harness, DRIVE.read_bytes(), "drive_en.csv")
    assert "<b>drive_en.csv</b>: 53 needs, all fine." in last_text(harness)
    (group, cancel) = buttons(harness)
    assert group[0] == "Volunteers" and group[1].startswith("ig:") and cancel[0] == "Cancel"
    assert await count(harness, "needs") == 0
    await tap(harness, group[1])
    summary = last_text(harness)
    assert "53 needs will be posted, on 7 group messages of up to 8 needs each" in summary
    assert "already in the group" not in summary
    confirm, _ = buttons(harness)
    assert confirm[0] == "Post 53 needs" and confirm[1].startswith("iy:")
    await tap(harness, confirm[1])
    assert await count(harness, "needs") == 53 and await count(harness, "boards") == 7
    progress = harness.api.of("sendMessage")[-1]
    assert "Posting to the group: <b>0 of 53</b> needs are up." in progress.params["text"]
    record = await harness.service.db.fetch_one(
        "SELECT created_by, report_chat_id, report_message_id, source FROM imports"
    )
    assert record is not None
    assert tuple(record) == (
        COORDINATOR["id"],
        COORDINATOR["id"],
        progress.result["message_id"],
        "drive_en.csv",
    )
    creators = await harness.service.db.fetch_all("SELECT DISTINCT created_by FROM needs")
    assert [row[0] for row in creators] == [COORDINATOR["id"]]
    # A second tap on Confirm imports nothing more; the file waits no more.
    await tap(harness, confirm[1])
    assert await count(harness, "needs") == 53
    assert "no longer waiting" in harness.last_answer()["text"]
    # No household's private details went anywhere (the poster may be posting the boards).
    assert "Hu Guilan" not in harness.api.everything_sent()


async def test_the_same_file_again_is_recognised(harness):
    data = DRIVE.read_bytes()
    await send_file(harness, data, "drive_en.csv")
    await tap(harness, buttons(harness)[0][1])
    await tap(harness, buttons(harness)[0][1])
    partial = data.decode("utf-8").replace("Hu Guilan", "Hu Guilan Jr")
    await send_file(harness, partial.encode("utf-8"), "drive_en.csv")
    await tap(harness, buttons(harness)[0][1])
    summary = last_text(harness)
    assert "1 needs will be posted, on 1 group messages" in summary
    assert "52 already in the group will be skipped" in summary
    assert "same summary, name, address and phone" in summary
    await send_file(harness, data, "again.csv")
    await tap(harness, buttons(harness)[0][1])
    assert "already in <b>Volunteers</b>" in last_text(harness)
    assert "nothing to post" in last_text(harness)
    assert await count(harness, "pending_imports") == 0


async def test_a_dirty_file_gets_its_problems_and_nothing_is_kept(harness):
    text = "摘要,电话\n需要陪伴,13800001234\n,13800001235\n找 13800001236 送米,\n"
    await send_file(harness, text.encode("gb18030"), "名单.csv")
    answer = last_text(harness)
    assert "<b>名单.csv</b> was not imported: 2 problem(s)" in answer
    assert "Line 3: no summary" in answer and "Line 4: 摘要 seems to hold a mobile" in answer
    assert await count(harness, "pending_imports") == 0 and await count(harness, "needs") == 0


async def test_a_long_list_of_problems_fits_one_message(harness):
    text = "summary,phone\n" + "".join(f"Need {n},no phone\n" for n in range(500))
    await send_file(harness, text.encode(), "many.csv")
    answer = last_text(harness)
    assert "500 problem(s)" in answer and len(answer) < 4096
    assert "more" in answer.splitlines()[-1]


async def test_a_volunteer_is_told_only_coordinators_import(harness):
    await send_file(harness, DRIVE.read_bytes(), "drive_en.csv", VOLUNTEER)
    assert harness.api.texts_to(VOLUNTEER["id"]) == [
        "Only coordinators can import a spreadsheet of needs."
    ]
    assert harness.api.of("getFile") == []
    # Nor can they tap a coordinator's buttons, forged or not.
    await tap(harness, f"iy:1:{GROUP_ID}", VOLUNTEER)
    assert harness.last_answer()["text"] == "Only coordinators can do that."


async def test_other_files_get_a_clear_answer(harness):
    await send_file(harness, b"%PDF-1.4", "drive.pdf")
    assert "send a .csv or .xlsx file" in last_text(harness)
    await send_file(harness, b"\xd0\xcf\x11\xe0 old", "drive.xls")
    assert "old Excel .xls file" in last_text(harness)
    await send_file(harness, b"PK\x03\x04 broken", "drive.xlsx")
    assert "not an Excel workbook I can read" in last_text(harness)


async def test_cancel_drops_the_waiting_file(harness):
    await send_file(harness, DRIVE.read_bytes(), "drive_en.csv")
    group, cancel = buttons(harness)
    await tap(harness, cancel[1])
    assert last_text(harness) == "Import cancelled; nothing was posted."
    await tap(harness, group[1])
    assert "no longer waiting" in harness.last_answer()["text"]
    assert await count(harness, "pending_imports") == 0 and await count(harness, "needs") == 0


async def test_a_newer_file_makes_the_older_buttons_stale(harness):
    await send_file(harness, DRIVE.read_bytes(), "first.csv")
    old_group = buttons(harness)[0][1]
    await send_file(harness, DRIVE.read_bytes(), "second.csv")
    await tap(harness, old_group)
    assert "no longer waiting" in harness.last_answer()["text"]


async def test_a_restart_between_file_and_confirm_loses_nothing(config: Config):
    api = FakeBotApi()
    async with started(config, api) as first:
        await first.service.group_seen(GROUP_ID, "Volunteers")
        await send_file(first, DRIVE.read_bytes(), "drive_en.csv")
        await tap(first, buttons(first)[0][1])
        confirm = buttons(first)[0][1]
    async with started(config, api) as second:
        assert await count(second, "needs") == 0
        await tap(second, confirm)
        assert await count(second, "needs") == 53
        assert "<b>0 of 53</b> needs are up" in last_text(second)
        assert runtime.SERVICE in second.app.bot_data


async def test_a_file_during_the_post_form_is_left_to_the_form(harness):
    await harness.private(COORDINATOR, "/post")
    await send_file(harness, DRIVE.read_bytes(), "drive_en.csv")
    assert last_text(harness) == "Please answer with text, or /cancel."
    assert harness.api.of("getFile") == []
    await harness.private(COORDINATOR, "/cancel")
    await send_file(harness, DRIVE.read_bytes(), "drive_en.csv")
    assert "53 needs, all fine" in last_text(harness)
