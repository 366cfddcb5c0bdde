"""Visits: logged by command and by button, the form's steps kept in SQLite across restarts,
concerns told to coordinators, a household's history, and what no one else may do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import callbacks, runtime
from bot.config import Config
from bot.domain import Holder, Need
from bot.render import latest_that_fit, telegram_length
from bot.visits import Step, VisitService, may_log, may_read_history, step_after, toggled
from storage import audit, needs, visits
from storage.db import Database
from storage.migrations import MIGRATIONS
from storage.visits import VisitDraft
from tests.factories import (
    COORDINATOR_ID,
    GROUP_ID,
    actor,
    command_in_group,
    make_config,
    private_details,
    user,
)
from tests.fakes import Call
from tests.test_handlers import COORDINATOR, SECRETS, Harness
from tests.test_posting import ATTACHMENTS, attachment_update, buttons, started, tap_private

SECOND_COORDINATOR_ID = 222222222
ALICE, BOB, CAROL = user(5, "Alice"), user(6, "Bob"), user(8, "Carol")
GROCERIES = "Brought rice, flour, oil or eggs"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, coordinators=[COORDINATOR_ID, SECOND_COORDINATOR_ID])


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    async with started(config) as harness:
        yield harness


def visit_service(harness: Harness) -> VisitService:
    return harness.app.bot_data[runtime.VISITS]


def sent_to(harness: Harness, chat_id: int) -> list[Call]:
    return [c for c in harness.api.of("sendMessage") if int(c.params["chat_id"]) == chat_id]


def keyboard(call: Call) -> list[tuple[str, str]]:
    """(text, callback data) of each button of a sent or edited message."""
    markup = call.params.get("reply_markup") or {}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def photo(file_ids: tuple[str, ...] = ("small", "large"), caption: str | None = None) -> Any:
    sizes = [
        {"file_id": f, "file_unique_id": f"u{f}", "width": 90 * (i + 1), "height": 90}
        for i, f in enumerate(file_ids)
    ]
    return {"photo": sizes, **({"caption": caption} if caption else {})}


async def claim(
    harness: Harness, sender: dict[str, Any], summary: str = "Elder needs rice"
) -> Call:
    """Post a card and have ``sender`` claim it; the details message they received."""
    card = await harness.post_card(summary)
    await harness.tap_card(sender, card)
    return sent_to(harness, sender["id"])[-1]


async def fill_form(
    harness: Harness,
    sender: dict[str, Any],
    claim_id: int,
    ticks: tuple[str, ...] = (),
    note: str = "-",
    photo_ids: tuple[str, ...] | None = None,
    concern: bool = False,
) -> None:
    """Answer an open visit form to the end."""
    for key in ticks:
        await tap_private(harness, f"vt:{claim_id}:{key}", sender)
    await tap_private(harness, f"vo:{claim_id}:done", sender)
    await harness.private(sender, note)
    if photo_ids:
        await harness.send(attachment_update(harness.app.bot, sender, photo(photo_ids)))
    else:
        await tap_private(harness, f"vo:{claim_id}:photo", sender)
    await tap_private(harness, f"vc:{claim_id}:{'y' if concern else 'n'}", sender)


async def test_a_visit_logged_by_command_keeps_ticks_note_and_photo(harness, config):
    await claim(harness, ALICE, "Elder in Dongfeng needs rice & <oil>")
    await harness.private(ALICE, "/visit")
    checklist = sent_to(harness, 5)[-1]
    assert "Visit to need #1" in checklist.params["text"]
    assert "needs rice &amp; &lt;oil&gt;" in checklist.params["text"]
    data = [d for _, d in keyboard(checklist)]
    assert data[0] == "vt:1:groceries" and data[-1] == "vo:1:done"
    assert all(len(d.encode()) <= 64 and d.isascii() for d in data)

    for key in ("groceries", "talk", "fruit", "fruit"):  # fruit ticked, then unticked
        await tap_private(harness, f"vt:1:{key}", ALICE)
    shown = dict(keyboard(harness.api.of("editMessageReplyMarkup")[-1]))
    assert f"✓ {GROCERIES}" in shown and "✓ Sat and talked" in shown
    assert "Brought fruit" in shown and "✓ Brought fruit" not in shown

    await tap_private(harness, "vo:1:done", ALICE)
    ticked = harness.api.of("editMessageText")[-1].params
    assert ticked["text"].endswith(f"Done: {GROCERIES}, Sat and talked")
    assert keyboard(sent_to(harness, 5)[-1]) == [("Skip", "vo:1:note")]
    await harness.private(ALICE, "She is well <3 & cheerful")
    assert "Send a photo" in harness.private_texts(5)[-1]
    await harness.send(attachment_update(harness.app.bot, ALICE, photo()))
    assert [d for _, d in keyboard(sent_to(harness, 5)[-1])] == ["vc:1:n", "vc:1:y"]
    await tap_private(harness, "vc:1:n", ALICE)
    assert harness.private_texts(5)[-1] == "Visit to need #1 logged. Thank you!"

    db = harness.service.db
    (visit,) = await visits.of_need(db, 1)
    assert (visit.claim_id, visit.volunteer_id, visit.concern) == (1, 5, False)
    assert visit.done == ("groceries", "talk")
    assert visit.note == "She is well <3 & cheerful"
    assert visit.photo_file_id == "large", "the largest size, by Telegram's file_id"
    assert await visits.get_draft(db, 5) is None
    assert [e.detail for e in await audit.entries_for_need(db, 1) if e.action == "visited"] == [
        {"concern": False}
    ]
    assert not [t for t in harness.private_texts(COORDINATOR_ID) if "needs help" in t]

    # The card shows the date of the last visit, and nothing of the note or photo.
    today = datetime.now(config.tz).strftime("%Y-%m-%d")
    assert f"Last visit: {today}" in harness.api.texts_to(GROUP_ID)[-1]
    group_calls = json.dumps(
        [c.params for c in harness.api.calls if int(c.params.get("chat_id", 0) or 0) < 0]
    )
    assert "Last visit" in group_calls
    assert "cheerful" not in group_calls and "large" not in group_calls

    await harness.private(ALICE, "hello")  # the form is closed: posting's pointer answers
    assert harness.private_texts(5)[-1] == "Send /help to see what I can do."


async def test_log_a_visit_buttons_under_the_details_and_in_mine(harness):
    details = await claim(harness, ALICE)
    assert buttons(details) == ["v:1", "r:1"]
    assert keyboard(details)[0][0] == "Log a visit"
    await tap_private(harness, "v:1", ALICE)
    assert not harness.last_answer().get("text")
    assert "Visit to need #1" in harness.private_texts(5)[-1]
    assert (await visits.get_draft(harness.service.db, 5)).step == Step.DONE

    await harness.private(ALICE, "/mine")
    assert buttons(sent_to(harness, 5)[-1]) == ["v:1", "r:1"]
    # The deep link that delivers the details carries both buttons too.
    await harness.private(ALICE, "/start d_1")
    assert buttons(sent_to(harness, 5)[-1]) == ["v:1", "r:1"]


async def test_several_pairings_are_picked_by_button_or_by_number(harness):
    await claim(harness, ALICE, "first household")
    await claim(harness, ALICE, "second household")
    await claim(harness, BOB, "Bob's household")
    await harness.private(ALICE, "/visit")
    picker = sent_to(harness, 5)[-1]
    assert picker.params["text"] == "Which household did you visit?"
    assert keyboard(picker) == [("#1 · first household", "v:1"), ("#2 · second household", "v:2")]
    await tap_private(harness, "v:2", ALICE)
    assert "Visit to need #2" in harness.private_texts(5)[-1]
    await harness.private(ALICE, "/visit 1")
    assert "Visit to need #1" in harness.private_texts(5)[-1]
    draft = await visits.get_draft(harness.service.db, 5)
    assert draft.claim_id == 1, "a new form replaces the one before"

    # The replaced form's buttons change nothing.
    await tap_private(harness, "vt:2:fruit", ALICE)
    assert harness.last_answer()["text"].startswith("This button belongs to a visit form")
    assert await visits.get_draft(harness.service.db, 5) == draft

    await harness.private(ALICE, "/visit 3")
    assert harness.private_texts(5)[-1].startswith("You don't hold need #3")
    await harness.private(ALICE, "/visit abc")
    assert "is not a need number" in harness.private_texts(5)[-1]
    await harness.private(CAROL, "/visit")
    assert harness.private_texts(8)[-1] == "You hold no pairings, so there is no visit to log."

    await harness.send(command_in_group(harness.app.bot, BOB, "/visit"))
    assert "private chat with me" in harness.api.texts_to(GROUP_ID)[-1]
    assert await visits.get_draft(harness.service.db, 6) is None


async def test_form_buttons_act_only_on_their_own_step(harness):
    await claim(harness, ALICE)
    await harness.private(ALICE, "/visit")
    await tap_private(harness, "vt:1:nonsense", ALICE)  # well-formed, not in the checklist
    assert harness.last_answer()["text"].startswith("This button belongs")
    await tap_private(harness, "vt:1:Groceries", ALICE)  # not even well-formed
    assert harness.last_answer()["text"] == "This button is not valid."
    await tap_private(harness, "vc:1:y", ALICE)  # the last step, before its time
    assert harness.last_answer()["text"].startswith("This button belongs")
    assert (await visits.get_draft(harness.service.db, 5)).done == ()

    await tap_private(harness, "vo:1:done", ALICE)
    await tap_private(harness, "vo:1:done", ALICE)  # a double tap on Next skips no note
    assert harness.last_answer()["text"].startswith("This button belongs")
    await tap_private(harness, "vt:1:fruit", ALICE)  # the list is done with
    draft = await visits.get_draft(harness.service.db, 5)
    assert (draft.step, draft.done) == (Step.NOTE, ())

    await tap_private(harness, "vo:1:note", ALICE)
    await tap_private(harness, "vo:1:photo", ALICE)
    await tap_private(harness, "vc:1:n", ALICE)
    await tap_private(harness, "vc:1:n", ALICE)  # a double tap logs one visit
    assert harness.last_answer()["text"].startswith("This button belongs")
    assert len(await visits.of_need(harness.service.db, 1)) == 1


async def test_note_and_photo_steps_take_what_fits_and_hint_otherwise(harness):
    await claim(harness, ALICE)
    await harness.private(ALICE, "/visit")
    await harness.private(ALICE, "a note too early")
    assert harness.private_texts(5)[-1].startswith("Tick what you did in the list above")
    await tap_private(harness, "vo:1:done", ALICE)
    await harness.send(attachment_update(harness.app.bot, ALICE, ATTACHMENTS["sticker"]))
    assert harness.private_texts(5)[-1].startswith("Please send the note as text")
    await harness.private(ALICE, "x" * 1001)
    assert "too long (1001 characters; at most 1000)" in harness.private_texts(5)[-1]
    assert (await visits.get_draft(harness.service.db, 5)).step == Step.NOTE

    # A photo at the note step, its caption the note.
    update = attachment_update(harness.app.bot, ALICE, photo(("p1",), caption="Fixed the tap"))
    await harness.send(update)
    await harness.private(ALICE, "more words")
    assert harness.private_texts(5)[-1].startswith("Please tap All well or Needs help now")
    await tap_private(harness, "vc:1:n", ALICE)
    (visit,) = await visits.of_need(harness.service.db, 1)
    assert (visit.note, visit.photo_file_id) == ("Fixed the tap", "p1")

    # "-" skips the note and the photo alike.
    await harness.private(ALICE, "/visit")
    await tap_private(harness, "vo:1:done", ALICE)
    await harness.private(ALICE, "-")
    await harness.private(ALICE, "not a photo")
    assert harness.private_texts(5)[-1].startswith("Please send a photo")
    await harness.private(ALICE, "-")
    await tap_private(harness, "vc:1:n", ALICE)
    latest = (await visits.of_need(harness.service.db, 1))[-1]
    assert (latest.done, latest.note, latest.photo_file_id) == ((), None, None)


async def test_a_concern_reaches_every_coordinator_even_if_one_cannot_be_reached(harness, caplog):
    caplog.set_level(logging.INFO)
    await harness.private(user(SECOND_COORDINATOR_ID, "Wang", language_code="zh-hans"), "/start")
    await claim(harness, ALICE, "Widower & <b>lonely</b>")
    harness.api.unreachable.add(COORDINATOR_ID)  # never started the bot: 403
    await harness.private(ALICE, "/visit")
    await fill_form(
        harness, ALICE, 1, ("health",), note="Stove broken, <cold> & alone", concern=True
    )

    told = harness.private_texts(SECOND_COORDINATOR_ID)[-1]
    assert "需求 #1 急需帮助" in told
    assert "Widower &amp; &lt;b&gt;lonely&lt;/b&gt;" in told
    assert "Alice" in told and "Stove broken, &lt;cold&gt; &amp; alone" in told
    assert sent_to(harness, COORDINATOR_ID), "the unreachable coordinator was tried"
    texts = harness.private_texts(5)[-1]
    assert texts.startswith("Visit to need #1 logged") and "coordinators have been told" in texts
    (visit,) = await visits.of_need(harness.service.db, 1)
    assert visit.concern and visit.done == ("health",)
    assert any(
        "not delivered to coordinator 111111111: unreachable" in r.getMessage()
        for r in caplog.records
    ), "the 403 is logged, not raised"


async def test_no_one_logs_a_visit_for_someone_elses_pairing(harness):
    await claim(harness, ALICE)
    await claim(harness, BOB, "Bob's own")
    await tap_private(harness, "v:1", BOB)  # forged: names Alice's pairing
    assert harness.last_answer()["text"] == (
        "This pairing has ended, or is not yours: nothing was logged."
    )
    assert await visits.get_draft(harness.service.db, 6) is None
    await harness.private(BOB, "/visit 1")
    assert harness.private_texts(6)[-1].startswith("You don't hold need #1")

    # Alice's form waits for its last step; Bob's forged taps on it change nothing.
    await harness.private(ALICE, "/visit")
    await tap_private(harness, "vo:1:done", ALICE)
    await harness.private(ALICE, "-")
    await harness.private(ALICE, "-")
    await harness.private(BOB, "/visit")
    for data in ("vt:1:fruit", "vo:1:done", "vc:1:y", "v:999", "vc:2:y"):
        await tap_private(harness, data, BOB)
    assert await visits.of_need(harness.service.db, 1) == []
    assert await visits.of_need(harness.service.db, 2) == []
    assert (await visits.get_draft(harness.service.db, 5)).step == Step.CONCERN
    assert not [t for t in harness.private_texts(SECOND_COORDINATOR_ID) if "help" in t]


async def test_a_pairing_that_ended_logs_nothing(harness):
    card = await harness.post_card()
    await harness.tap_card(ALICE, card)
    await harness.private(ALICE, "/visit")
    for step in ("done", "note", "photo"):
        await tap_private(harness, f"vo:1:{step}", ALICE)
    await harness.private(COORDINATOR, "/free 1")  # while the form waits
    await tap_private(harness, "vc:1:y", ALICE)
    assert "has ended, so the visit was not logged" in harness.private_texts(5)[-1]
    assert await visits.of_need(harness.service.db, 1) == []
    assert await visits.get_draft(harness.service.db, 5) is None
    assert not [t for t in harness.private_texts(SECOND_COORDINATOR_ID) if "help" in t]

    # The old button, now someone else holds the need: a clear answer, nothing started.
    await harness.tap_card(BOB, card)
    await tap_private(harness, "v:1", ALICE)
    assert harness.last_answer()["text"].startswith("This pairing has ended")
    assert await visits.get_draft(harness.service.db, 5) is None
    await harness.private(BOB, "/release")
    await tap_private(harness, "v:2", BOB)
    assert harness.last_answer()["text"].startswith("This pairing has ended")
    assert await visits.get_draft(harness.service.db, 6) is None


async def test_show_gives_the_households_history_to_coordinators_and_its_holder(harness):
    await harness.post_private("Lonely elder", *private_details().values())
    card = harness.api.of("sendMessage")[-2]
    await harness.tap_card(ALICE, card)
    await harness.private(ALICE, "/visit")
    await fill_form(harness, ALICE, 1, ("groceries",), "Roof leaks", ("ph",), concern=True)
    await harness.private(ALICE, "/release")
    await harness.tap_card(BOB, card)
    await harness.private(BOB, "/visit")
    await fill_form(harness, BOB, 2, ("talk",))

    await harness.private(COORDINATOR, "/show 1")
    shown = harness.private_texts(COORDINATOR_ID)[-1]
    assert all(secret in shown for secret in SECRETS)
    order = [
        "claimed by Alice",
        f"visit by Alice: {GROCERIES} · ⚠️ needs help now · 📷 photo\n    Note: Roof leaks",
        "Alice: released",
        "claimed by Bob",
        "visit by Bob: Sat and talked",
    ]
    assert all(entry in shown for entry in order), shown
    assert [shown.index(entry) for entry in order] == sorted(shown.index(e) for e in order)
    assert "Last visit:" in shown

    await harness.private(BOB, "/show 1")  # the current holder, in private
    assert "Roof leaks" in harness.private_texts(6)[-1]
    await harness.private(BOB, "/lang zh")
    await harness.private(BOB, "/show 1")
    assert "送米面油蛋" in harness.private_texts(6)[-1], "in the reader's language"

    for someone in (ALICE, CAROL):  # a former holder, a stranger
        await harness.private(someone, "/show 1")
        assert harness.private_texts(someone["id"])[-1] == "Only coordinators can do that."
    for someone in (COORDINATOR, BOB, CAROL):
        await harness.send(command_in_group(harness.app.bot, someone, "/show 1"))
    group_texts = harness.api.texts_to(GROUP_ID)[-3:]
    assert all("private chat" in text for text in group_texts[:2]), "coordinator, holder"
    assert group_texts[2] == "Only coordinators can do that."
    group_calls = json.dumps(
        [c.params for c in harness.api.calls if int(c.params.get("chat_id", 0) or 0) < 0]
    )
    assert "Roof leaks" not in group_calls and "Secretname" not in group_calls


async def test_show_keeps_the_latest_history_within_telegrams_limit(harness, config):
    db = harness.service.db
    details = private_details(**{name: "d" * 500 for name in ("name", "address", "notes")})
    now = datetime.now(UTC) - timedelta(days=30)
    need = await needs.create(db, GROUP_ID, "s" * 500, details, actor(COORDINATOR_ID), now)
    await needs.claim(db, need.id, actor(5, "Alice"), 3, now)
    for i in range(60):
        moment = now + timedelta(hours=i + 1)
        draft = VisitDraft(5, 1, need.id, Step.CONCERN, ("talk",), f"visit {i:02} " + "&" * 990)
        saved = await visits.save_draft(db, draft, moment)
        assert (await visits.log_visit(db, saved, i % 2 == 0, moment)).visit is not None

    await harness.private(COORDINATOR, "/show 1")
    shown = harness.private_texts(COORDINATOR_ID)[-1]
    assert telegram_length(shown) <= 4096
    assert "visit 59" in shown and "visit 00" not in shown
    assert "earlier entries not shown" in shown
    assert shown.index("earlier entries") < shown.index("visit 59")


async def test_the_visit_form_survives_a_restart(config):
    async with started(config) as before:
        await claim(before, ALICE)
        await before.private(ALICE, "/visit")
        await tap_private(before, "vt:1:groceries", ALICE)
        await tap_private(before, "vo:1:done", ALICE)
    async with started(config) as after:  # a new Application on the same database file
        await after.private(ALICE, "Brought eggs")
        assert after.private_texts(5)[-1].startswith("Send a photo")
        await tap_private(after, "vo:1:photo", ALICE)
        await tap_private(after, "vc:1:n", ALICE)
        assert after.private_texts(5)[-1] == "Visit to need #1 logged. Thank you!"
        (visit,) = await visits.of_need(after.service.db, 1)
        assert (visit.done, visit.note) == (("groceries",), "Brought eggs")


async def test_cancel_drops_the_visit_form_and_leaves_posting_cancel_alone(harness):
    await claim(harness, ALICE)
    await harness.private(ALICE, "/visit")
    await tap_private(harness, "vo:1:done", ALICE)
    await harness.private(ALICE, "/cancel")
    assert harness.private_texts(5)[-1] == "The visit form is cancelled; nothing was logged."
    assert await visits.get_draft(harness.service.db, 5) is None
    await harness.private(ALICE, "a note after all")
    assert harness.private_texts(5)[-1] == "Send /help to see what I can do."
    await tap_private(harness, "vo:1:note", ALICE)
    assert harness.last_answer()["text"].startswith("This button belongs")

    await harness.private(COORDINATOR, "/post")
    await harness.private(COORDINATOR, "A need being written")
    await harness.private(COORDINATOR, "/cancel")  # no visit form: posting's cancel answers
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Cancelled; nothing was posted")
    assert await harness.service.draft(COORDINATOR_ID) is None


async def test_a_form_left_for_more_than_a_day_is_dropped(harness):
    await claim(harness, ALICE)
    await harness.private(ALICE, "/visit")
    await tap_private(harness, "vo:1:done", ALICE)
    db = harness.service.db
    draft = await visits.get_draft(db, 5)
    await visits.save_draft(db, draft, datetime.now(UTC) - timedelta(days=1, minutes=1))
    await harness.private(ALICE, "hello again")
    assert harness.private_texts(5)[-1] == "Send /help to see what I can do."
    assert await visits.get_draft(db, 5) is None


async def test_migrating_a_fresh_database_runs_migration_6(tmp_path):
    path = tmp_path / "fresh.db"
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS) >= 6
        tables = {row[0] for row in await db.fetch_all("SELECT name FROM sqlite_master")}
        assert "visit_drafts" in tables
    # A database left at version 5 gets migration 6 (and those after it) at the next open.
    old = tmp_path / "at-5.db"
    with contextlib.closing(sqlite3.connect(old)) as conn:
        for step in MIGRATIONS[:5]:
            for statement in step:
                conn.execute(statement)
        conn.execute("PRAGMA user_version=5")
        conn.commit()
    async with Database(old) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        assert await db.fetch_all("SELECT * FROM visit_drafts") == []
        assert await db.migrate() == 0


async def test_a_form_is_logged_once_however_often_it_is_finished_at_once(db):
    now = datetime.now(UTC)
    need = await needs.create(db, GROUP_ID, "rice", private_details(), actor(1), now)
    await needs.claim(db, need.id, actor(5, "Alice"), 3, now)
    saved = await visits.save_draft(db, VisitDraft(5, 1, need.id, Step.CONCERN), now)
    results = await asyncio.gather(*(visits.log_visit(db, saved, False, now) for _ in range(5)))
    assert sum(r.visit is not None for r in results) == 1
    assert len(await visits.of_need(db, need.id)) == 1

    # A form changed after it was read is not logged as it was read.
    read = await visits.save_draft(db, VisitDraft(5, 1, need.id, Step.CONCERN), now)
    await visits.save_draft(db, replace(read, note="changed"), now + timedelta(seconds=1))
    assert await visits.log_visit(db, read, True, now) == visits.Logged(None, None)
    assert len(await visits.of_need(db, need.id)) == 1


# The rules, without Telegram or a database.

NOW = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)


def held_need(user_id: int, claim_id: int) -> Need:
    return Need(1, -1, 1, "s", 1, NOW, None, Holder(claim_id, user_id, "A", None, NOW))


def test_only_the_current_holder_may_log_and_read():
    need = held_need(5, 3)
    assert may_log(need, 3, 5)
    assert not may_log(need, 3, 6) and not may_log(need, 2, 5) and not may_log(None, 3, 5)
    open_need = Need(1, -1, 1, "s", 1, NOW, None, None)
    assert not may_log(open_need, 3, 5)
    assert may_read_history(need, 5, False) and may_read_history(need, 6, True)
    assert not may_read_history(need, 6, False) and not may_read_history(open_need, 5, False)
    assert not may_read_history(None, 5, True)


def test_ticks_keep_the_checklist_order_and_steps_go_forward():
    order = ["a", "b", "c"]
    assert toggled((), "c", order) == ("c",)
    assert toggled(("c",), "a", order) == ("a", "c")
    assert toggled(("a", "c"), "a", order) == ("c",)
    assert [step_after(s) for s in Step] == [Step.NOTE, Step.PHOTO, Step.CONCERN, Step.CONCERN]


def test_history_keeps_the_latest_lines_that_fit():
    lines = [f"line {i}" for i in range(10)]
    assert latest_that_fit(lines, 4096, 30, "en") == lines
    assert latest_that_fit(lines, 4096, 3, "en") == [
        "… 7 earlier entries not shown",
        "line 7",
        "line 8",
        "line 9",
    ]
    kept = latest_that_fit(lines, 50, 30, "en")
    assert kept[-1] == "line 9" and kept[0].startswith("…")
    assert sum(telegram_length(line) + 1 for line in kept) <= 50
    assert telegram_length("<b>a&amp;b</b>") == 3 and telegram_length("📷") == 2


def test_visit_button_data_is_short_and_parsed_strictly():
    biggest = 10**12 - 1
    for data in (
        callbacks.log_visit_data(biggest),
        callbacks.visit_tick_data(biggest, "a" * 20),
        callbacks.visit_on_data(biggest, "photo"),
        callbacks.visit_concern_data(biggest, True),
    ):
        assert len(data.encode()) <= 64 and data.isascii()
    assert callbacks.parse_id(callbacks.LOG_VISIT, "v:12") == 12
    assert callbacks.parse_pair(callbacks.VISIT_TICK, "vt:3:fruit") == (3, "fruit")
    assert callbacks.parse_pair(callbacks.VISIT_CONCERN, "vc:3:y") == (3, "y")
    refused = [
        (callbacks.LOG_VISIT, "v:012"),
        (callbacks.LOG_VISIT, "v:1\n"),
        (callbacks.VISIT_TICK, "vt:1:Fruit"),
        (callbacks.VISIT_TICK, "vt:1:" + "a" * 21),
        (callbacks.VISIT_ON, "vo:1:concern"),
        (callbacks.VISIT_CONCERN, "vc:1:x"),
    ]
    for pattern, data in refused:
        assert callbacks.parse_pair(pattern, data) is None
        assert callbacks.parse_id(pattern, data) is None


async def test_forged_visit_taps_on_a_group_card_change_neither_card_nor_form(harness):
    await claim(harness, ALICE)
    card = await harness.post_card("Second household, open")
    await harness.private(ALICE, "/visit")  # Alice's form is open at the checklist
    for data in ("vt:1:fruit", "vo:1:done", "vo:1:note", "vo:1:photo", "vc:1:y", "v:1"):
        await harness.tap_card(ALICE, card, data=data)
        assert harness.last_answer()["text"] == "This button is not valid."
    calls = harness.api.of("editMessageReplyMarkup") + harness.api.of("editMessageText")
    card_id = card.result["message_id"]
    assert [c for c in calls if c.params["message_id"] == card_id] == [], "the card untouched"
    # The form is where it was: nothing ticked, no visit logged.
    rows = await harness.service.db.fetch_all("SELECT * FROM visits")
    assert rows == []
