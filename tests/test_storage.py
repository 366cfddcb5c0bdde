"""Storage against a real SQLite file: migrations, claims, releases, concurrency."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain import CardRef, ClaimOutcome, NeedState, PrivateDetails, ReleaseOutcome
from storage import audit, needs, people, teams
from storage.db import Database
from storage.migrations import MIGRATIONS
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, private_details

NOW = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
ROOT = Path(__file__).parent.parent


async def post(db: Database, summary: str = "Empty-nest elder needs rice", **kw: str) -> int:
    need = await needs.create(
        db, GROUP_ID, summary, private_details(**kw), actor(COORDINATOR_ID), NOW
    )
    return need.id


async def test_fresh_database_migrates_and_second_run_is_noop(tmp_path):
    path = tmp_path / "fresh.db"
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        assert await db.migrate() == 0
        journal = await db.fetch_one("PRAGMA journal_mode")
        assert journal[0] == "wal"
        fk = await db.fetch_one("PRAGMA foreign_keys")
        assert fk[0] == 1
    async with Database(path) as db:
        assert await db.migrate() == 0
        assert await db.schema_version() == len(MIGRATIONS)


async def test_failed_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO groups (chat_id, title, seen_at) VALUES (1, 'x', 'now')"
            )
            raise RuntimeError("boom")
    assert await db.fetch_all("SELECT * FROM groups") == []


async def test_claim_release_and_history(db):
    need_id = await post(db)
    won = await needs.claim(db, need_id, actor(5, "Li Lei"), 3, NOW)
    assert won.outcome is ClaimOutcome.WON
    assert won.need.state is NeedState.CLAIMED
    assert won.need.holder.display_name == "Li Lei"

    again = await needs.claim(db, need_id, actor(5), 3, NOW)
    assert again.outcome is ClaimOutcome.ALREADY_YOURS
    other = await needs.claim(db, need_id, actor(6), 3, NOW)
    assert other.outcome is ClaimOutcome.TAKEN
    assert other.need.holder.user_id == 5

    refused = await needs.release(db, need_id, 6, False, NOW)
    assert refused.outcome is ReleaseOutcome.NOT_HOLDER
    released = await needs.release(db, need_id, 5, False, NOW)
    assert released.outcome is ReleaseOutcome.RELEASED
    assert released.need.state is NeedState.OPEN
    assert released.previous.user_id == 5
    assert (await needs.release(db, need_id, 5, False, NOW)).outcome is (
        ReleaseOutcome.NOT_CLAIMED
    )

    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).outcome is ClaimOutcome.WON
    history = await needs.claim_history(db, need_id)
    assert [(h.volunteer_id, h.release_reason) for h in history] == [(5, "released"), (6, None)]
    actions = [e.action for e in await audit.entries_for_need(db, need_id)]
    assert actions == ["posted", "claimed", "released", "claimed"]


async def test_coordinator_frees_and_reassigns(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    await people.upsert(db, actor(7, "Zhang San"), NOW)

    freed = await needs.release(db, need_id, COORDINATOR_ID, True, NOW)
    assert freed.outcome is ReleaseOutcome.RELEASED
    assert freed.previous.user_id == 5

    await needs.claim(db, need_id, actor(5), 3, NOW)
    moved = await needs.reassign(db, need_id, 7, COORDINATOR_ID, NOW)
    assert moved.outcome is ReleaseOutcome.ASSIGNED
    assert moved.need.holder.user_id == 7
    assert moved.previous.user_id == 5
    same = await needs.reassign(db, need_id, 7, COORDINATOR_ID, NOW)
    assert same.outcome is ReleaseOutcome.SAME_PERSON
    unknown = await needs.reassign(db, need_id, 999, COORDINATOR_ID, NOW)
    assert unknown.outcome is ReleaseOutcome.UNKNOWN_PERSON

    reasons = [h.release_reason for h in await needs.claim_history(db, need_id)]
    assert reasons == ["freed", "reassigned", None]
    assigned = (await needs.claim_history(db, need_id))[-1]
    assert assigned.assigned_by == COORDINATOR_ID


async def test_limit_of_open_claims(db):
    ids = [await post(db, f"need {i}") for i in range(4)]
    outcomes = [(await needs.claim(db, i, actor(5), 3, NOW)).outcome for i in ids]
    assert outcomes == [ClaimOutcome.WON] * 3 + [ClaimOutcome.LIMIT_REACHED]
    await needs.release(db, ids[0], 5, False, NOW)
    assert (await needs.claim(db, ids[3], actor(5), 3, NOW)).outcome is ClaimOutcome.WON


async def test_claims_on_missing_need(db):
    assert (await needs.claim(db, 404, actor(5), 3, NOW)).outcome is ClaimOutcome.NOT_FOUND
    assert (await needs.release(db, 404, 5, True, NOW)).outcome is ReleaseOutcome.NOT_FOUND


async def test_database_refuses_a_second_active_claim(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO claims (need_id, volunteer_id, claimed_at) VALUES (?, 5, 'x')",
                (need_id,),
            )


async def test_500_concurrent_claims_on_one_need_have_one_winner(db):
    need_id = await post(db)
    results = await asyncio.gather(
        *(needs.claim(db, need_id, actor(1000 + i), 3, NOW) for i in range(500))
    )
    winners = [r for r in results if r.outcome is ClaimOutcome.WON]
    assert len(winners) == 1
    # FIFO writer: the first caller is the one that won.
    assert winners[0].need.holder.user_id == 1000
    holder = (await needs.get(db, need_id)).holder
    assert holder.user_id == 1000
    # Every loser was told the truth: who holds it.
    assert all(
        r.outcome is ClaimOutcome.TAKEN and r.need.holder.user_id == 1000 for r in results[1:]
    )
    rows = await db.fetch_all("SELECT COUNT(*) FROM claims WHERE need_id = ?", (need_id,))
    assert rows[0][0] == 1


async def test_500_concurrent_claims_on_500_needs_all_win(db):
    ids = [await post(db, f"need {i}") for i in range(500)]
    results = await asyncio.gather(
        *(needs.claim(db, need_id, actor(2000 + n), 3, NOW) for n, need_id in enumerate(ids))
    )
    assert [r.outcome for r in results] == [ClaimOutcome.WON] * 500
    for n, (need_id, result) in enumerate(zip(ids, results, strict=True)):
        assert result.need.id == need_id
        assert result.need.holder.user_id == 2000 + n
    counts = await needs.status(db)
    assert (counts.total, counts.claimed, counts.open) == (500, 500, 0)


async def test_status_counts_per_group(db):
    a = await post(db)
    await post(db)
    other = await needs.create(db, -42, "elsewhere", PrivateDetails(), actor(1), NOW)
    await needs.claim(db, a, actor(5), 3, NOW)
    counts = await needs.status(db, GROUP_ID)
    assert (counts.total, counts.open, counts.claimed, counts.closed) == (2, 1, 1, 0)
    assert (await needs.status(db, other.chat_id)).total == 1
    assert (await needs.status(db)).total == 3


async def test_private_details_are_kept_apart(db):
    need_id = await post(db)
    need = await needs.get(db, need_id)
    assert "Secretname" not in repr(need)
    details = await needs.details(db, need_id)
    assert details.name == "Grandma Wang Secretname"
    bare = await needs.create(db, GROUP_ID, "bare", PrivateDetails(), actor(1), NOW)
    assert (await needs.details(db, bare.id)).is_empty()


async def test_a_claim_is_committed_when_the_call_returns(config, tmp_path):
    path = tmp_path / "crash.db"
    db = Database(path, "full")
    await db.open()
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    # A second connection, without closing the first, sees it: it is committed, not
    # pending in a transaction (the SIGKILL test in tests/e2e covers a real crash).
    reopened = Database(path)
    await reopened.open()
    try:
        assert (await needs.get(reopened, need_id)).holder.user_id == 5
    finally:
        await reopened.close()
        await db.close()


async def test_a_tap_during_a_release_is_decided_in_turn(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    # The holder's release holds the writer and has not committed when two taps come in.
    async with db.serialised() as conn:
        release = asyncio.ensure_future(needs.release(db, need_id, 5, False, NOW))
        early = asyncio.ensure_future(needs.claim(db, need_id, actor(6), 3, NOW))
        await asyncio.sleep(0.05)
        assert not early.done(), "not answered from a look taken while a write was under way"
        assert conn is db.writer
    later = await needs.claim(db, need_id, actor(7), 3, NOW)
    await release
    won = await early
    assert won.outcome is ClaimOutcome.WON, "the earlier tap, after the release, wins"
    assert later.outcome is ClaimOutcome.TAKEN


async def test_writes_and_claims_take_the_writer_in_the_order_they_asked(db):
    need_id = await post(db)
    order: list[str] = []

    async def note_group(label: str) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO groups (chat_id, title, seen_at) VALUES (?, ?, 'now')",
                (len(order) + 1, label),
            )
            order.append(label)

    async def tap(user_id: int) -> None:
        result = await needs.claim(db, need_id, actor(user_id), 3, NOW)
        order.append(f"tap {user_id}: {result.outcome}")

    async with db.serialised():
        tasks = [
            asyncio.ensure_future(coro)
            for coro in (tap(5), note_group("group a"), tap(6), note_group("group b"))
        ]
        await asyncio.sleep(0.05)
        assert order == [], "nothing runs while another task holds the writer"
    await asyncio.gather(*tasks)
    assert order == ["tap 5: won", "group a", "tap 6: taken", "group b"]


async def test_a_failed_write_rolls_back_and_leaves_the_writer_usable(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (1, 'x', 1, 'y')"
            )
            raise RuntimeError("broken halfway")
    assert await db.fetch_all("SELECT * FROM groups") == []
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON


async def test_a_tap_from_an_old_card_after_a_repost_changes_nothing(db):
    need_id = await post(db)
    await needs.set_card(db, need_id, 100, 1)
    old, new = CardRef(GROUP_ID, 100), CardRef(GROUP_ID, 200)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW, old)).outcome is ClaimOutcome.WON
    assert (await needs.claim(db, need_id, actor(6), 3, NOW, old)).outcome is ClaimOutcome.TAKEN
    await needs.set_card(db, need_id, 200, 2)
    from_old = await needs.claim(db, need_id, actor(6), 3, NOW, old)
    assert from_old.outcome is ClaimOutcome.WRONG_CARD
    assert (await needs.claim(db, need_id, actor(6), 3, NOW, new)).outcome is ClaimOutcome.TAKEN


async def test_every_change_a_card_shows_bumps_the_need_version_and_is_announced(db):
    heard: list[list[int]] = []
    db.watch(heard.append)
    need_id = await post(db)
    other = await post(db, "other")
    assert heard == [[need_id], [other]], "a new need is announced"

    async def version() -> int:
        need = await needs.get(db, need_id)
        assert need is not None
        return need.version

    start = await version()
    await needs.claim(db, need_id, actor(5, "Old Name"), 3, NOW)
    assert await version() == start + 1
    await people.upsert(db, actor(5, "New Name"), NOW)  # the card shows the holder's name
    assert await version() == start + 2
    await people.upsert(db, actor(5, "New Name"), NOW)  # nothing the card shows changed
    await needs.release(db, need_id, 5, False, NOW)
    await people.upsert(db, actor(7), NOW)
    await needs.reassign(db, need_id, 7, COORDINATOR_ID, NOW)
    assert await version() == start + 4
    assert heard[2:] == [[need_id]] * 4
    await needs.claim(db, other, actor(6), 3, NOW)  # another need: this one unchanged
    assert await version() == start + 4
    assert heard[-1] == [other]


async def test_nothing_is_announced_for_a_rolled_back_change(db):
    need_id = await post(db)
    heard: list[list[int]] = []
    db.watch(heard.append)
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("UPDATE needs SET summary = 'changed' WHERE id = ?", (need_id,))
            raise RuntimeError("abandoned")
    assert heard == []
    await needs.claim(db, need_id, actor(5), 3, NOW)
    assert heard == [[need_id]], "the rolled-back change is not reported with the next one"


async def test_stale_cards_are_those_showing_an_older_version(db):
    shown, changed, unposted = await post(db), await post(db), await post(db)
    for need_id, message_id in ((shown, 100), (changed, 101)):
        need = await needs.get(db, need_id)
        await needs.set_card(db, need_id, message_id, need.version)
    assert await needs.stale_cards(db) == []
    await needs.claim(db, changed, actor(5), 3, NOW)
    assert await needs.stale_cards(db) == [changed]
    after = await needs.get(db, changed)
    await needs.card_shown(db, changed, after.version - 1)  # an edit that raced a later one
    assert await needs.stale_cards(db) == [changed]
    await needs.card_shown(db, changed, after.version)
    await needs.card_shown(db, changed, after.version - 1)  # never goes back
    assert await needs.stale_cards(db) == []
    assert unposted not in await needs.stale_cards(db)


async def test_migrating_an_older_database_takes_its_cards_as_current(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in [s for step in MIGRATIONS[:2] for s in step]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO needs (id, chat_id, card_message_id, summary, created_by, created_at)"
        " VALUES (1, -1, 50, 'old', 1, '2027-01-01T00:00:00+00:00')"
    )
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        assert await needs.stale_cards(db) == []


OPEN_DATABASE = """
import asyncio, sys
from storage.db import Database

async def main():
    async with Database(sys.argv[1]):
        pass

asyncio.run(main())
"""


async def test_a_database_file_that_cannot_be_written_is_refused_at_open(tmp_path):
    path = tmp_path / "read-only.db"
    async with Database(path):
        pass
    path.chmod(0o444)
    command = [sys.executable, "-c", OPEN_DATABASE, str(path)]
    if os.geteuid() == 0:
        # Root may write any file; in a user namespace of its own it may not.
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare")
        command = ["unshare", "--user", *command]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 0
    assert "readonly database" in err.decode()


async def test_taken_names_the_holder_as_now_known(db):
    """Losers are told the holder's name as now recorded."""
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5, "Old Name"), 3, NOW)
    await needs.claim(db, need_id, actor(6), 3, NOW)
    await people.upsert(db, actor(5, "New Name"), NOW, started_bot=True)  # /start
    taken = await needs.claim(db, need_id, actor(6), 3, NOW)
    assert taken.need is not None and taken.need.holder is not None
    assert taken.need.holder.display_name == "New Name"


async def test_a_failed_commit_leaves_the_writer_usable(db):
    """A COMMIT that fails leaves no transaction open on the writer."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("PRAGMA defer_foreign_keys=ON")
            await conn.execute(
                "INSERT INTO claims (need_id, volunteer_id, team, claimed_at)"
                " VALUES (999, 999, NULL, 'x')"
            )
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON


async def test_a_transaction_cancelled_before_it_began_leaves_the_writer_usable(db):
    gate = threading.Event()
    await db.writer.create_function("wait_for_gate", 0, lambda: gate.wait(5))
    # The writer's thread is busy (a slow statement) when the transaction asks for BEGIN.
    busy = asyncio.ensure_future(db.writer.execute("SELECT wait_for_gate()"))
    await asyncio.sleep(0.01)

    async def remember_a_group() -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (1, 'x', 1, '')"
            )

    cancelled = asyncio.ensure_future(remember_a_group())
    await asyncio.sleep(0.01)  # its BEGIN is queued behind the busy thread
    cancelled.cancel()
    await asyncio.sleep(0.01)  # the cancelled task's ROLLBACK is queued after its BEGIN
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await busy
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON
    assert await db.fetch_all("SELECT * FROM groups") == []


async def test_a_release_cancelled_while_committing_leaves_a_consistent_need(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    gate = threading.Event()
    await db.writer.create_function("wait_for_gate", 0, lambda: gate.wait(5))
    release = asyncio.ensure_future(needs.release(db, need_id, 5, False, NOW))
    tap = asyncio.ensure_future(needs.claim(db, need_id, actor(7), 3, NOW))
    await asyncio.sleep(0.01)
    # Hold up the writer's thread while the release is in flight, then cancel it.
    busy = asyncio.ensure_future(db.writer.execute("SELECT wait_for_gate()"))
    await asyncio.sleep(0.01)
    release.cancel()
    gate.set()
    await asyncio.gather(release, busy, return_exceptions=True)
    first = await tap
    holder = (await needs.get(db, need_id)).holder
    if first.outcome is ClaimOutcome.WON:
        assert holder is not None and holder.user_id == 7
    else:
        assert first.outcome is ClaimOutcome.TAKEN and holder is not None and holder.user_id == 5
    # Whatever the cancellation hit, the writer works and a free need can be won.
    await needs.release(db, need_id, holder.user_id, False, NOW)
    assert (await needs.claim(db, need_id, actor(8), 3, NOW)).outcome is ClaimOutcome.WON


async def test_a_tap_on_a_need_already_held_costs_no_trip_to_the_database(db, monkeypatch):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)

    async def no_trip(*args, **kwargs):
        raise AssertionError("a settled need went to the database")

    for conn in (db.reader, db.writer):
        monkeypatch.setattr(conn, "execute_fetchall", no_trip)
        monkeypatch.setattr(conn, "execute", no_trip)
    taken = await needs.claim(db, need_id, actor(6), 3, NOW)
    assert taken.outcome is ClaimOutcome.TAKEN and taken.need.holder.user_id == 5
    mine = await needs.claim(db, need_id, actor(5), 3, NOW)
    assert mine.outcome is ClaimOutcome.ALREADY_YOURS


async def test_what_is_kept_follows_every_committed_change(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5, "Li"), 3, NOW)
    await needs.claim(db, need_id, actor(6), 3, NOW)
    await people.upsert(db, actor(5, "Li Lei"), NOW)  # the holder's name, shown to losers
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).need.holder.display_name == "Li Lei"
    async with db.transaction() as conn:  # any writer, even one written after this test
        await conn.execute("UPDATE claims SET released_at = 'x' WHERE need_id = ?", (need_id,))
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).outcome is ClaimOutcome.WON


async def test_chosen_languages_are_known_without_a_read(db, tmp_path):
    await people.upsert(db, actor(6), NOW)
    assert db.chosen_language(6) is None
    await people.set_language(db, 6, "zh", NOW)  # one statement, no transaction
    assert db.chosen_language(6) == "zh"
    async with db.transaction() as conn:
        await conn.execute("UPDATE people SET language = 'en' WHERE user_id = 6")
    assert db.chosen_language(6) == "en"
    async with db.transaction() as conn:
        await conn.execute("UPDATE people SET language = NULL WHERE user_id = 6")
    assert db.chosen_language(6) is None
    await people.set_language(db, 6, "zh", NOW)
    async with Database(db.path) as reopened:
        assert reopened.chosen_language(6) == "zh", "read at open"


async def test_nothing_kept_is_trusted_while_another_write_is_asked_for(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    assert db.kept_need(need_id) is not None
    async with db.serialised():
        assert db.kept_need(need_id) is None
    async with db.serialised(for_claim=True):
        assert db.kept_need(need_id) is not None


async def test_the_oldest_kept_needs_make_room(db, monkeypatch):
    monkeypatch.setattr("storage.db.KEPT", 3)
    ids = [await post(db, f"need {n}") for n in range(5)]
    for need_id in ids:
        await needs.claim(db, need_id, actor(5), 9, NOW)
    kept = [db.kept_need(need_id) is not None for need_id in ids]
    assert kept == [False, False, True, True, True]


async def test_a_write_cancelled_in_flight_leaves_nothing_kept_out_of_date(db):
    need_id = await post(db)
    await needs.set_card(db, need_id, 100, 1)
    await needs.claim(db, need_id, actor(5), 3, NOW, CardRef(GROUP_ID, 100))
    assert db.kept_need(need_id) is not None
    gate = threading.Event()
    await db.writer.create_function("wait_for_gate", 0, lambda: gate.wait(5))
    busy = asyncio.ensure_future(db.writer.execute("SELECT wait_for_gate()"))
    await asyncio.sleep(0.01)
    # A new card is recorded, and its caller cancelled while the statement is queued:
    # aiosqlite still runs it.
    moving = asyncio.ensure_future(needs.set_card(db, need_id, 200, 2))
    await asyncio.sleep(0.01)
    moving.cancel()
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(busy, moving, return_exceptions=True)
    new_card = CardRef(GROUP_ID, 200)
    tap = await needs.claim(db, need_id, actor(6), 3, NOW, new_card)
    assert tap.outcome is ClaimOutcome.TAKEN, "not told the new card is not the need's"
    await people.upsert(db, actor(7), NOW)  # the next write reads what the log still holds
    assert (await needs.get(db, need_id)).card_message_id == 200


def test_a_path_sqlite_cannot_open_leaves_no_thread_behind(tmp_path, monkeypatch):
    """Refused before aiosqlite starts a thread: one left stopping after its event loop
    closed would fail in the background (seen when `claimbot run` checked a folder)."""
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    folder = tmp_path / "a-folder.db"
    folder.mkdir()

    async def open_it() -> None:
        async with Database(folder):
            pass

    for _ in range(20):
        with pytest.raises(sqlite3.Error):
            asyncio.run(open_it())
    time.sleep(0.2)
    assert errors == []


async def test_a_write_cancelled_at_its_commit_is_still_told_to_the_listeners(db, monkeypatch):
    need_id = await post(db)
    heard: list[int] = []
    db.watch(heard.extend)
    writer = db.writer
    real_execute = writer.execute

    async def execute(sql: str, parameters: Any = None) -> Any:
        if sql == "COMMIT":
            queued = asyncio.ensure_future(real_execute(sql, parameters))
            await asyncio.sleep(0.01)  # aiosqlite runs the queued COMMIT regardless
            assert queued.done()
            raise asyncio.CancelledError  # the caller was cancelled while awaiting it
        return await real_execute(sql, parameters)

    monkeypatch.setattr(writer, "execute", execute)
    with pytest.raises(asyncio.CancelledError):
        async with db.transaction() as conn:
            await conn.execute("UPDATE needs SET summary = 'changed' WHERE id = ?", (need_id,))
    monkeypatch.setattr(writer, "execute", real_execute)
    assert (await needs.get(db, need_id)).summary == "changed", "committed"
    await teams.choose(db, 404, None, NOW)  # the next write, whatever it is
    assert heard == [need_id], "the card keeper hears of the committed change"
