"""A need's life after posting: edit, close, cancel, reopen (storage, service and handlers
through the real Application), and the retention purge (by date, once, audited, exported,
and ``claimbot purge``)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import main
from bot.config import Config
from bot.domain import CANCELLED, DONE, CardRef, Closing, LifeOutcome, NeedState, PrivateDetails
from bot.export import export_file
from bot.service import PairingService, TextProblem
from storage import audit, lifecycle, needs, reminders
from storage.db import Database, to_db_time
from storage.migrations import MIGRATIONS
from storage.reminders import Planned
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, make_config, private_details, user
from tests.test_handlers import COORDINATOR, SECRETS, Harness
from tests.test_posting import buttons, started, tap_private

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
VOLUNTEER = 5


async def posted(db: Database, summary: str = "Elder needs rice", **details: str) -> int:
    need = await needs.create(
        db, GROUP_ID, summary, private_details(**details), actor(COORDINATOR_ID), T0
    )
    await needs.set_card(db, need.id, 100 + need.id, need.version)
    return need.id


async def claimed(db: Database, need_id: int, volunteer: int = VOLUNTEER) -> int:
    result = await needs.claim(db, need_id, actor(volunteer, "Alice"), 3, T0)
    assert result.need is not None and result.need.holder is not None
    return result.need.holder.claim_id


async def visit(db: Database, need_id: int, claim_id: int, note: str | None, photo: str | None):
    await db.execute(
        "INSERT INTO visits (need_id, claim_id, volunteer_id, visited_at, done, note,"
        " photo_file_id) VALUES (?, ?, ?, ?, '[\"fruit\"]', ?, ?)",
        (need_id, claim_id, VOLUNTEER, to_db_time(T0), note, photo),
    )


async def audit_actions(db: Database, need_id: int) -> list[tuple[str, int | None]]:
    return [(e.action, e.actor_id) for e in await audit.entries_for_need(db, need_id)]


# -- the schema ------------------------------------------------------------------------------


async def test_claims_may_end_with_their_need_and_nothing_else_new(db):
    need_id = await posted(db)
    claim_id = await claimed(db, need_id)
    for reason in ("closed", "cancelled"):
        await db.execute("UPDATE claims SET release_reason = ? WHERE id = ?", (reason, claim_id))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("UPDATE claims SET release_reason = 'lost' WHERE id = ?", (claim_id,))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("UPDATE needs SET closed_as = 'maybe' WHERE id = ?", (need_id,))


async def test_the_widened_check_is_seen_by_a_database_opened_again(config):
    path = config.database.path
    async with Database(path) as db:
        need_id = await posted(db)
        claim_id = await claimed(db, need_id)
    async with Database(path) as db:
        assert await db.migrate() == 0
        await db.execute("UPDATE claims SET release_reason = 'closed' WHERE id = ?", (claim_id,))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


async def test_closing_and_reopening_bump_the_version_the_card_follows(db):
    need_id = await posted(db)
    before = (await needs.get(db, need_id)).version
    await lifecycle.close(db, need_id, CANCELLED, None, COORDINATOR_ID, T0)
    cancelled = await needs.get(db, need_id)
    assert cancelled.version > before and cancelled.state is NeedState.CANCELLED
    await lifecycle.reopen(db, need_id, COORDINATOR_ID, T0)
    reopened = await needs.get(db, need_id)
    assert reopened.version > cancelled.version and reopened.state is NeedState.OPEN
    # Done rather than cancelled is a change a card shows, even at the same moment.
    await db.execute(
        "UPDATE needs SET closed_at = ?, closed_as = 'done' WHERE id = ?",
        (to_db_time(T0), need_id),
    )
    done = await needs.get(db, need_id)
    await db.execute("UPDATE needs SET closed_as = 'cancelled' WHERE id = ?", (need_id,))
    assert (await needs.get(db, need_id)).version > done.version


# -- close, cancel, reopen -------------------------------------------------------------------


async def test_closing_a_held_need_ends_the_pairing_as_history_and_its_reminders(db):
    need_id = await posted(db)
    claim_id = await claimed(db, need_id)
    await reminders.add(
        db,
        [
            Planned(
                "follow_up",
                "follow_up:x:1",
                T0 + timedelta(days=3),
                VOLUNTEER,
                need_id,
                claim_id,
                payload={"anchor": to_db_time(T0), "n": 1},
            )
        ],
        T0,
    )
    result = await lifecycle.close(db, need_id, DONE, "moved in with family", COORDINATOR_ID, T0)
    assert result.outcome is LifeOutcome.CLOSED
    assert result.holder is not None and result.holder.user_id == VOLUNTEER
    assert result.need.state is NeedState.CLOSED and result.need.holder is None
    (record,) = await needs.claim_history(db, need_id)
    assert (record.release_reason, record.released_by) == ("closed", COORDINATOR_ID)
    assert record.released_at == T0
    rows = await db.fetch_all("SELECT state FROM reminders WHERE claim_id = ?", (claim_id,))
    assert [row["state"] for row in rows] == ["cancelled"]
    assert await needs.pairings_of(db, VOLUNTEER) == []
    assert await audit_actions(db, need_id) == [
        ("posted", COORDINATOR_ID),
        ("claimed", VOLUNTEER),
        ("closed", COORDINATOR_ID),
        ("need_closed", COORDINATOR_ID),
    ]
    entries = await audit.entries_for_need(db, need_id)
    assert entries[-1].detail == {"note": True}, "that there was a note, never what it says"
    assert (await lifecycle.closing(db, need_id)).note == "moved in with family"


async def test_a_closed_or_cancelled_need_cannot_be_closed_again_or_edited(db):
    need_id = await posted(db)
    await lifecycle.close(db, need_id, CANCELLED, None, COORDINATOR_ID, T0)
    before = await needs.get(db, need_id)
    entries = len(await audit.entries_for_need(db, need_id))
    for closed_as in (DONE, CANCELLED):
        result = await lifecycle.close(db, need_id, closed_as, "x", COORDINATOR_ID, T0)
        assert result.outcome is LifeOutcome.ALREADY_CLOSED
    edited = await lifecycle.edit(db, need_id, "new", PrivateDetails(), COORDINATOR_ID, T0)
    assert edited.outcome is LifeOutcome.ALREADY_CLOSED
    assert await needs.get(db, need_id) == before
    assert len(await audit.entries_for_need(db, need_id)) == entries
    assert (await lifecycle.close(db, 99, DONE, None, COORDINATOR_ID, T0)).outcome is (
        LifeOutcome.NOT_FOUND
    )


async def test_reopening_names_who_held_it_and_only_a_closed_need_reopens(db):
    need_id = await posted(db)
    assert (await lifecycle.reopen(db, need_id, COORDINATOR_ID, T0)).outcome is (
        LifeOutcome.NOT_CLOSED
    )
    await claimed(db, need_id)
    await lifecycle.close(db, need_id, DONE, None, COORDINATOR_ID, T0 + timedelta(hours=1))
    result = await lifecycle.reopen(db, need_id, COORDINATOR_ID, T0 + timedelta(hours=2))
    assert result.outcome is LifeOutcome.REOPENED
    assert result.holder is not None and result.holder.user_id == VOLUNTEER
    assert result.need.state is NeedState.OPEN and result.need.holder is None
    assert (await lifecycle.closing(db, need_id)).note is None
    assert (await audit_actions(db, need_id))[-1] == ("need_reopened", COORDINATOR_ID)


async def test_a_reopened_need_is_not_answered_from_a_kept_closed_state(db):
    need_id = await posted(db)
    await lifecycle.close(db, need_id, DONE, None, COORDINATOR_ID, T0)
    card = CardRef(GROUP_ID, 100 + need_id)
    tap = await needs.claim(db, need_id, actor(6), 3, T0, card)
    assert tap.outcome.value == "closed"
    assert db.kept_need(need_id) is not None, "a closed need is kept: taps need no read"
    await lifecycle.reopen(db, need_id, COORDINATOR_ID, T0)
    assert db.kept_need(need_id) is None
    tap = await needs.claim(db, need_id, actor(6), 3, T0, card)
    assert tap.outcome.value == "won"
    await lifecycle.close(db, need_id, CANCELLED, None, COORDINATOR_ID, T0)
    tap = await needs.claim(db, need_id, actor(7), 3, T0, card)
    assert tap.outcome.value == "closed" and tap.need.state is NeedState.CANCELLED


async def test_edit_changes_what_changed_and_records_which_fields(db):
    need_id = await posted(db)
    before = await needs.get(db, need_id)
    same = await lifecycle.edit(db, need_id, before.summary, private_details(), COORDINATOR_ID, T0)
    assert same.outcome is LifeOutcome.UNCHANGED
    details = PrivateDetails(**{**vars_of(private_details()), "phone": "13900002222"})
    result = await lifecycle.edit(db, need_id, before.summary, details, COORDINATOR_ID, T0)
    assert result.outcome is LifeOutcome.EDITED
    assert (result.summary_changed, result.details_changed) == (False, True)
    assert (await needs.details(db, need_id)).phone == "13900002222"
    assert (await needs.get(db, need_id)).version == before.version, "the card shows no details"
    result = await lifecycle.edit(
        db, need_id, "Elder needs rice and oil", PrivateDetails(), COORDINATOR_ID, T0
    )
    assert (result.summary_changed, result.details_changed) == (True, True)
    assert result.need.version > before.version
    assert (await needs.details(db, need_id)).is_empty()
    entries = [e for e in await audit.entries_for_need(db, need_id) if e.action == "need_edited"]
    assert [e.detail["fields"] for e in entries] == [
        ["phone"],
        ["summary", "name", "address", "phone", "health", "notes"],
    ]
    assert not any(s in json.dumps([e.detail for e in entries]) for s in SECRETS)


def vars_of(details: PrivateDetails) -> dict[str, Any]:
    return {
        name: getattr(details, name) for name in ("name", "address", "phone", "health", "notes")
    }


async def test_the_service_refuses_volunteers_and_bad_text(db, config):
    svc = PairingService(db, config)
    need_id = await posted(db)
    before = await needs.get(db, need_id)
    for result in (
        await svc.close_need(need_id, VOLUNTEER, DONE),
        await svc.close_need(need_id, VOLUNTEER, CANCELLED),
        await svc.reopen_need(need_id, VOLUNTEER),
        await svc.edit_need(need_id, VOLUNTEER, "hijacked", PrivateDetails()),
    ):
        assert not isinstance(result, TextProblem)
        assert result.outcome is LifeOutcome.NOT_ALLOWED
    assert isinstance(
        await svc.edit_need(need_id, COORDINATOR_ID, "  ", PrivateDetails()), TextProblem
    )
    long_note = "x" * 501
    assert isinstance(await svc.close_need(need_id, COORDINATOR_ID, DONE, long_note), TextProblem)
    assert await needs.get(db, need_id) == before


# -- retention -------------------------------------------------------------------------------


async def test_purge_takes_details_of_needs_closed_long_enough_ago_once(db):
    old, recent, still_open = await posted(db, "old"), await posted(db, "recent"), await posted(db)
    claim_id = await claimed(db, old)
    await visit(db, old, claim_id, "Grandma Wang Secretname was cheerful", "photo-file-1")
    await visit(db, old, claim_id, None, None)
    await lifecycle.close(db, old, DONE, "care home at 7 Hidden Lane", COORDINATOR_ID, T0)
    await lifecycle.close(db, recent, CANCELLED, None, COORDINATOR_ID, T0 + timedelta(days=20))
    await db.execute(
        "INSERT INTO drafts (user_id, step, summary, name, updated_at, need_id)"
        " VALUES (?, 'edit', 'old', 'Grandma Wang Secretname', ?, ?)",
        (COORDINATOR_ID, to_db_time(T0), old),
    )
    now = T0 + timedelta(days=100)
    purged = await lifecycle.purge(db, now - timedelta(days=90), now)
    assert (purged.needs, purged.visits) == (1, 1)
    assert (await needs.details(db, old)).is_empty()
    assert (await lifecycle.closing(db, old)) == Closing(None, now)
    assert not (await needs.details(db, recent)).is_empty()
    assert not (await needs.details(db, still_open)).is_empty()
    rows = await db.fetch_all("SELECT note, photo_file_id, done, purged FROM visits ORDER BY id")
    assert [tuple(row) for row in rows] == [
        (None, None, '["fruit"]', 1),
        (None, None, '["fruit"]', 0),
    ]
    assert await db.fetch_all("SELECT * FROM drafts") == []
    # The record stays: the need, its summary, its claim.
    assert (await needs.get(db, old)).summary == "old"
    assert len(await needs.claim_history(db, old)) == 1
    entries = await db.fetch_all(
        "SELECT actor_id, detail FROM audit_log WHERE action = ?", ("details_purged",)
    )
    assert len(entries) == 1 and entries[0]["actor_id"] is None
    detail = json.loads(entries[0]["detail"])
    assert (detail["needs"], detail["visits"]) == (1, 1)
    assert not any(s in entries[0]["detail"] for s in [*SECRETS, "Hidden Lane", "cheerful"])

    again = await lifecycle.purge(db, now - timedelta(days=90), now + timedelta(hours=1))
    assert (again.needs, again.visits) == (0, 0)
    assert (await lifecycle.closing(db, old)).purged_at == now, "purged once, not again"
    count = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = ?", ("details_purged",)
    )
    assert count["n"] == 1, "a run that purged nothing writes no audit entry"


async def test_purge_follows_the_config_and_null_keeps_everything(tmp_path):
    for days, expected in ((30, 1), (None, None)):
        config = make_config(tmp_path / str(days), privacy={"retention_days": days})
        async with Database(config.database.path) as db:
            need_id = await posted(db)
            await lifecycle.close(db, need_id, DONE, None, COORDINATOR_ID, T0)
            svc = PairingService(db, config, clock=lambda: T0 + timedelta(days=31))
            purged = await svc.purge_expired()
            assert (purged.needs if purged else None) == expected


async def test_an_export_after_the_purge_says_purged_where_details_were(db, config):
    old, kept = await posted(db, "old"), await posted(db, "kept")
    claim_id = await claimed(db, old)
    await visit(db, old, claim_id, "a private note", None)
    await lifecycle.close(db, old, DONE, None, COORDINATOR_ID, T0)
    await lifecycle.purge(db, T0 + timedelta(days=1), T0 + timedelta(days=1))
    exported = await export_file(db, config, "en", "csv", T0)
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        tables = {
            name.removesuffix(".csv"): list(
                csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")))
            )
            for name in archive.namelist()
        }
    header, *rows = tables["needs"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    detail_columns = ["Name", "Address", "Phone", "Health", "Notes"]
    assert [by_id[str(old)][c] for c in detail_columns] == ["purged"] * 5
    assert by_id[str(old)]["State"] == "Closed"
    assert by_id[str(kept)]["Name"] == "Grandma Wang Secretname"
    header, *rows = tables["visits"]
    assert dict(zip(header, rows[0], strict=True))["Note"] == "purged"
    assert "a private note" not in json.dumps(tables, ensure_ascii=False)


def write_config(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "config.yaml"
    settings = {"database": {"path": str(tmp_path / "bot.db")}, "coordinators": [1], **extra}
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


async def test_claimbot_purge_purges_reports_and_exits_zero(tmp_path, capsys, quiet_logs):
    path = write_config(tmp_path, privacy={"retention_days": 1})
    async with Database(tmp_path / "bot.db") as db:
        need_id = await posted(db)
        days_ago = datetime.now(UTC) - timedelta(days=2)
        await lifecycle.close(db, need_id, DONE, None, COORDINATOR_ID, days_ago)
    assert await_main(["purge", "--config", str(path)]) == 0
    assert "purged the private details of 1 needs" in capsys.readouterr().out
    assert await_main(["purge", "--config", str(path)]) == 0
    assert "of 0 needs" in capsys.readouterr().out
    async with Database(tmp_path / "bot.db") as db:
        assert (await needs.details(db, need_id)).is_empty()


def await_main(argv: list[str]) -> int:
    # main() runs its own event loop: in a thread, so this test's loop is not in its way.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(main, argv).result()


@pytest.mark.parametrize(
    ("extra", "make_db", "status", "says"),
    [
        ({}, False, 2, "no such database file"),
        ({"privacy": {"retention_days": -1}}, True, 2, "privacy.retention_days"),
        ({"privacy": {"retention_days": None}}, True, 0, "nothing purged"),
        ({"privacy": {"retention_dayz": 3}}, True, 2, "unknown key"),
    ],
)
def test_claimbot_purge_exit_codes(tmp_path, capsys, quiet_logs, extra, make_db, status, says):
    path = write_config(tmp_path, **extra)
    if make_db:
        sqlite3.connect(tmp_path / "bot.db").close()
    assert main(["purge", "--config", str(path)]) == status
    output = capsys.readouterr()
    assert says in output.out + output.err


def test_claimbot_purge_on_a_file_that_is_not_a_database(tmp_path, capsys, quiet_logs):
    path = write_config(tmp_path)
    (tmp_path / "bot.db").write_bytes(b"not a database at all" * 100)
    assert main(["purge", "--config", str(path)]) == 2
    assert "cannot use it as the bot's database" in capsys.readouterr().err


# -- in Telegram -----------------------------------------------------------------------------


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    async with started(config) as harness:
        yield harness


def group_replies(harness: Harness) -> list[str]:
    """What the bot sent (not edited) into the group, in order."""
    calls = harness.api.of("sendMessage")
    return [c.params["text"] for c in calls if int(c.params["chat_id"]) == GROUP_ID]


def card_edits(harness: Harness) -> list[dict[str, Any]]:
    return [
        c.params for c in harness.api.of("editMessageText") if int(c.params["chat_id"]) == GROUP_ID
    ]


async def test_close_cancel_and_reopen_with_their_cards_and_answers(harness):
    card = await harness.post_card()
    alice = user(VOLUNTEER, "Alice")
    await harness.tap_card(alice, card)
    await harness.group_command(COORDINATOR, "/close 1 moved in with her daughter")
    assert group_replies(harness)[-1] == (
        "Need #1 is closed as done. The pairing of Alice with it has ended; they are told."
    )
    edit = card_edits(harness)[-1]
    assert "Closed." in edit["text"] and not edit.get("reply_markup")
    told = harness.private_texts(VOLUNTEER)[-1]
    assert "closed need #1 as done" in told and "moved in with her daughter" in told
    await harness.tap_card(user(6), card, "c:1")
    assert harness.last_answer()["text"] == "This need is closed."

    await harness.group_command(COORDINATOR, "/cancel_need 1")
    assert group_replies(harness)[-1].startswith("Need #1 is already closed")
    await harness.group_command(COORDINATOR, "/reopen 1")
    assert group_replies(harness)[-1] == (
        "Need #1 is open again; its card has the Claim button back. When it closed, Alice held"
        f" it: /reassign 1 {VOLUNTEER} gives it back."
    )
    edit = card_edits(harness)[-1]
    assert "Open" in edit["text"] and "c:1" in json.dumps(edit["reply_markup"])
    await harness.tap_card(user(6, "Bob"), card)
    assert harness.last_answer()["text"].startswith("It's yours")

    await harness.private(COORDINATOR, "/cancel_need 1 the family declined")
    assert harness.private_texts(COORDINATOR_ID)[-1] == (
        "Need #1 is cancelled. The pairing of Bob with it has ended; they are told."
    )
    assert "Cancelled." in card_edits(harness)[-1]["text"]
    assert "cancelled need #1" in harness.private_texts(6)[-1]
    await harness.tap_card(alice, card, "c:1")
    assert harness.last_answer()["text"] == "This need was cancelled."
    actions = [a for a, _ in await audit_actions(harness.service.db, 1)]
    assert actions[-4:] == ["need_reopened", "claimed", "cancelled", "need_cancelled"]


@pytest.mark.parametrize("command", ["/close 1", "/cancel_need 1 note", "/reopen 1", "/edit 1"])
async def test_a_volunteer_can_do_none_of_it(harness, command):
    await harness.post_card()
    version = (await harness.service.need(1)).version
    await harness.private(user(VOLUNTEER), command)
    await harness.group_command(user(VOLUNTEER), command)
    assert harness.private_texts(VOLUNTEER) == ["Only coordinators can do that."]
    assert group_replies(harness)[-1] == "Only coordinators can do that."
    need = await harness.service.need(1)
    assert need.state is NeedState.OPEN and need.version == version
    assert await harness.service.draft(VOLUNTEER) is None


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/close", "Usage: /close &lt;need number&gt; [note]"),
        ("/close one", "Usage: /close"),
        ("/cancel_need 1x", "Usage: /cancel_need"),
        ("/reopen", "Usage: /reopen"),
        ("/reopen 1 2", "Usage: /reopen"),
        ("/edit", "Usage: /edit"),
        ("/close 42", "There is no need #42."),
        ("/reopen 42", "There is no need #42."),
        ("/edit 42", "There is no need #42."),
        ("/reopen 1", "Need #1 is not closed or cancelled; nothing changed."),
        ("/close 1 " + "x" * 501, "too long (501 characters; at most 500)"),
    ],
)
async def test_bad_arguments_get_a_clear_answer_and_change_nothing(harness, command, answer):
    await harness.post_card()
    version = (await harness.service.need(1)).version
    await harness.private(COORDINATOR, command)
    assert answer in harness.private_texts(COORDINATOR_ID)[-1]
    need = await harness.service.need(1)
    assert need.state is NeedState.OPEN and need.version == version


async def test_edit_in_a_group_points_to_the_private_chat(harness):
    await harness.post_card()
    await harness.group_command(COORDINATOR, "/edit 1")
    assert "private chat" in group_replies(harness)[-1]
    assert await harness.service.draft(COORDINATOR_ID) is None


async def edit_menu(harness: Harness) -> Any:
    return [c for c in harness.api.of("sendMessage") if "Editing need" in c.params["text"]][-1]


async def test_edit_the_summary_and_a_detail_then_save(harness):
    await harness.post_private("Disabled veteran needs groceries", *SECRETS)
    card = harness.api.of("sendMessage")[-2]
    await harness.tap_card(user(VOLUNTEER, "Alice"), card)
    await harness.private(COORDINATOR, "/edit 1")
    menu = await edit_menu(harness)
    assert "Disabled veteran needs groceries" in menu.params["text"]
    assert all(s in menu.params["text"] for s in SECRETS)
    assert buttons(menu) == [
        f"ed:1:{f}" for f in ("summary", "name", "address", "phone", "health", "notes", "save")
    ]

    await tap_private(harness, "ed:1:summary")
    assert "new <b>public summary</b>" in harness.private_texts(COORDINATOR_ID)[-1]
    await harness.private(COORDINATOR, "Disabled veteran needs groceries & a <visit>")
    await tap_private(harness, "ed:1:phone")
    await harness.private(COORDINATOR, "13900002222")
    await tap_private(harness, "ed:1:notes")
    await harness.private(COORDINATOR, "-")
    menu = await edit_menu(harness)
    assert "Changed, not saved yet:</b> public summary, phone, notes" in menu.params["text"]
    assert "&lt;visit&gt;" in menu.params["text"]
    assert "Claimed by Alice" in card_edits(harness)[-1]["text"], "nothing saved yet"

    await tap_private(harness, "ed:1:save")
    assert harness.private_texts(COORDINATOR_ID)[-1] == (
        "Need #1 saved: public summary, private details. The card in the group follows."
        " Alice, who holds it, was sent the new details."
    )
    assert "needs groceries &amp; a &lt;visit&gt;" in card_edits(harness)[-1]["text"]
    told = harness.private_texts(VOLUNTEER)[-1]
    assert "updated the household's details of need #1" in told
    assert "13900002222" in told and "knock twice" not in told
    group_text = json.dumps(harness.api.texts_to(GROUP_ID), ensure_ascii=False)
    assert "13900002222" not in group_text
    assert await harness.service.draft(COORDINATOR_ID) is None
    await tap_private(harness, "ed:1:save")  # a second tap saves nothing twice
    assert harness.last_answer()["text"] == "This button is not valid."
    entries = [
        e for e in await audit.entries_for_need(harness.service.db, 1) if e.action == "need_edited"
    ]
    assert [(e.actor_id, e.detail["fields"]) for e in entries] == [
        (COORDINATOR_ID, ["summary", "phone", "notes"])
    ]


async def test_an_edited_summary_gets_the_same_privacy_check(harness):
    await harness.post_card()
    await harness.private(COORDINATOR, "/edit 1")
    await tap_private(harness, "ed:1:summary")
    await harness.private(COORDINATOR, "Call 138 0000 1234")
    assert "looks like it contains private data" in harness.private_texts(COORDINATOR_ID)[-1]
    await tap_private(harness, "pv:m")
    assert "new <b>public summary</b>" in harness.private_texts(COORDINATOR_ID)[-1]
    await harness.private(COORDINATOR, "Call 138 0000 1234")
    await tap_private(harness, "pv:k")
    menu = await edit_menu(harness)
    assert "Changed, not saved yet:</b> public summary" in menu.params["text"]
    await harness.private(COORDINATOR, "/cancel")
    assert harness.private_texts(COORDINATOR_ID)[-1] == "Editing stopped; need #1 is as it was."
    assert (await harness.service.need(1)).summary == "Empty-nest elder in Dongfeng needs rice"


async def test_edit_buttons_of_another_need_or_person_change_nothing(harness):
    await harness.post_card()
    await harness.post_card("Second need")
    await harness.private(COORDINATOR, "/edit 1")
    for data, sender in (
        ("ed:2:save", COORDINATOR),
        ("ed:1:save", user(VOLUNTEER)),
        ("ed:1:bogus", COORDINATOR),
    ):
        await tap_private(harness, data, sender)
        assert harness.last_answer()["text"] == "This button is not valid."
    assert (await harness.service.draft(COORDINATOR_ID)).need_id == 1
    await tap_private(harness, "ed:1:save")
    assert harness.private_texts(COORDINATOR_ID)[-1] == "Nothing changed; need #1 is as it was."


async def test_a_need_closed_while_being_edited_is_not_saved(harness):
    await harness.post_card()
    await harness.private(COORDINATOR, "/edit 1")
    await tap_private(harness, "ed:1:summary")
    await harness.private(COORDINATOR, "A new summary")
    await harness.group_command(COORDINATOR, "/close 1")
    await tap_private(harness, "ed:1:save")
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Need #1 is already closed")
    assert (await harness.service.need(1)).summary != "A new summary"
    await harness.private(COORDINATOR, "/edit 1")
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Need #1 is already closed")


async def test_help_lists_the_new_commands_for_coordinators_only(harness):
    await harness.private(COORDINATOR, "/help")
    text = harness.private_texts(COORDINATOR_ID)[-1]
    for command in ("/edit", "/close", "/cancel_need", "/reopen"):
        assert command in text
    await harness.private(user(VOLUNTEER), "/help")
    assert "/cancel_need" not in harness.private_texts(VOLUNTEER)[-1]


async def test_show_tells_coordinators_the_note_and_the_purge(harness):
    await harness.post_private("Disabled veteran needs groceries", *SECRETS)
    await harness.private(COORDINATOR, "/close 1 moved away")
    await harness.private(COORDINATOR, "/show 1")
    shown = harness.private_texts(COORDINATOR_ID)[-1]
    assert "Closed." in shown and "Closing note: moved away" in shown
    svc = harness.service
    await lifecycle.purge(svc.db, svc.clock() + timedelta(seconds=1), svc.clock())
    await harness.private(COORDINATOR, "/show 1")
    shown = harness.private_texts(COORDINATOR_ID)[-1]
    assert "private details were purged on" in shown
    assert not any(s in shown for s in SECRETS) and "moved away" not in shown


async def test_the_purge_job_is_scheduled_daily(harness):
    (job,) = harness.app.job_queue.get_jobs_by_name("claimbot.purge")
    assert job.job.trigger.interval == timedelta(days=1)
