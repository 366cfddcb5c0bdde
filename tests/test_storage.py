"""Storage against a real SQLite file: migrations, claims, releases, concurrency."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain import CardRef, ClaimOutcome, NeedState, PrivateDetails, ReleaseOutcome
from storage import audit, needs, people
from storage.db import Database, immediate
from storage.migrations import MIGRATIONS
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, private_details

NOW = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)


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
    assert moved.outcome is ReleaseOutcome.RELEASED
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


async def test_writes_run_in_the_order_asked_for_around_a_transaction(db):
    order: list[str] = []

    def note(conn, label):
        order.append(label)
        return label

    first = asyncio.ensure_future(db.write(note, "write 1"))
    await asyncio.sleep(0)  # the task starts: its write is asked for
    async with db.transaction() as conn:
        # Asked for while the transaction holds the writer: must not run inside it.
        second = asyncio.ensure_future(db.write(note, "write 2"))
        await conn.execute("SELECT 1")
        await asyncio.sleep(0.05)
        order.append("transaction")
    assert await db.write(note, "write 3") == "write 3"
    await asyncio.gather(first, second)
    assert order == ["write 1", "transaction", "write 2", "write 3"]


async def test_a_write_that_fails_rolls_back_and_leaves_the_writer_usable(db):
    def half_done(conn):
        with immediate(conn):
            conn.execute(
                "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (1, 'x', 1, 'y')"
            )
            raise RuntimeError("broken halfway")

    with pytest.raises(RuntimeError):
        await db.write(half_done)
    assert await db.fetch_all("SELECT * FROM groups") == []
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON


async def test_taps_on_a_settled_need_are_answered_from_memory(db, monkeypatch):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)

    async def no_read(*args, **kwargs):
        raise AssertionError("a settled need was read again")

    def no_write(*args, **kwargs):
        raise AssertionError("a settled need went to the writer")

    monkeypatch.setattr(db.reader, "execute_fetchall", no_read)
    monkeypatch.setattr(db, "write", no_write)
    taken = await needs.claim(db, need_id, actor(6), 3, NOW)
    assert taken.outcome is ClaimOutcome.TAKEN and taken.need.holder.user_id == 5
    mine = await needs.claim(db, need_id, actor(5), 3, NOW)
    assert mine.outcome is ClaimOutcome.ALREADY_YOURS


async def test_memory_forgets_a_need_once_it_is_released(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).outcome is ClaimOutcome.TAKEN
    await needs.release(db, need_id, 5, False, NOW)
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).outcome is ClaimOutcome.WON
    assert (await needs.claim(db, need_id, actor(7), 3, NOW)).need.holder.user_id == 6
    await needs.reassign(db, need_id, 5, COORDINATOR_ID, NOW)
    assert (await needs.claim(db, need_id, actor(7), 3, NOW)).need.holder.user_id == 5


async def test_memory_follows_a_reposted_card(db):
    need_id = await post(db)
    await needs.set_card(db, need_id, 100)
    old, new = CardRef(GROUP_ID, 100), CardRef(GROUP_ID, 200)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW, old)).outcome is ClaimOutcome.WON
    assert (await needs.claim(db, need_id, actor(6), 3, NOW, old)).outcome is ClaimOutcome.TAKEN
    await needs.set_card(db, need_id, 200)
    from_old = await needs.claim(db, need_id, actor(6), 3, NOW, old)
    assert from_old.outcome is ClaimOutcome.WRONG_CARD
    assert (await needs.claim(db, need_id, actor(6), 3, NOW, new)).outcome is ClaimOutcome.TAKEN


async def test_answers_from_memory_speak_the_chosen_language(db):
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).language is None
    await people.upsert(db, actor(6), NOW)  # a loser is not recorded; /lang records them
    await people.set_language(db, 6, "en", NOW)
    assert db.settled, "the need is still remembered"
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).language == "en"
    await people.set_language(db, 404, "en", NOW)  # nobody: nothing remembered either
    assert 404 not in db.languages
    reopened = Database(db.path)
    await reopened.open()
    try:
        assert reopened.languages == {6: "en"}
    finally:
        await reopened.close()


async def test_a_new_card_for_one_need_leaves_the_others_remembered(db, monkeypatch):
    held, other = await post(db, "held"), await post(db, "other")
    await needs.claim(db, held, actor(5), 3, NOW)
    await needs.set_card(db, other, 300)
    assert held in db.settled

    async def no_read(*args, **kwargs):
        raise AssertionError("a settled need was read again")

    monkeypatch.setattr(db.reader, "execute_fetchall", no_read)
    assert (await needs.claim(db, held, actor(6), 3, NOW)).outcome is ClaimOutcome.TAKEN


async def test_an_earlier_tap_is_not_overtaken_while_another_card_is_recorded(db):
    """First come wins even while a card for another need is being recorded.

    While a card is recorded no look is trusted; the later tap must still not reach the
    writer ahead of the earlier one, whose look is queued behind a busy reader.
    """
    need_id = await post(db)
    await needs.set_card(db, need_id, 100)
    other = await post(db, "other need")
    card = CardRef(GROUP_ID, 100)
    gate = threading.Event()
    # The reader is busy with an earlier read (any other tap's look, /status, ...).
    busy = asyncio.ensure_future(db.reader.call(lambda conn: gate.wait(5)))
    await asyncio.sleep(0)
    early = asyncio.ensure_future(needs.claim(db, need_id, actor(5), 3, NOW, card))
    await asyncio.sleep(0)  # the earlier tap is being decided: its look is queued
    posting = asyncio.ensure_future(needs.set_card(db, other, 300))
    await asyncio.sleep(0)  # a coordinator's new card, for another need, is being recorded
    later = asyncio.ensure_future(needs.claim(db, need_id, actor(6), 3, NOW, card))
    await posting
    await asyncio.sleep(0.05)
    gate.set()
    await busy
    first, second = await early, await later
    assert first.outcome is ClaimOutcome.WON, "the tap Telegram delivered first must win"
    assert second.outcome is ClaimOutcome.TAKEN


async def test_an_earlier_tap_is_not_overtaken_on_an_idle_reader(db):
    """The same, with nothing else on the reader: one thread trip is enough to lose."""
    need_id = await post(db)
    await needs.set_card(db, need_id, 100)
    other = await post(db, "other need")
    card = CardRef(GROUP_ID, 100)
    early = asyncio.ensure_future(needs.claim(db, need_id, actor(5), 3, NOW, card))
    await asyncio.sleep(0)
    posting = asyncio.ensure_future(needs.set_card(db, other, 300))
    later = asyncio.ensure_future(needs.claim(db, need_id, actor(6), 3, NOW, card))
    await posting
    first, second = await early, await later
    assert first.outcome is ClaimOutcome.WON, "the tap Telegram delivered first must win"
    assert second.outcome is ClaimOutcome.TAKEN


async def test_a_cancelled_release_leaves_no_stale_memory(db, monkeypatch):
    """A release cancelled while its COMMIT is queued: aiosqlite still runs the commit.

    Until it has, the need must not be remembered as held (or no tap could ever win it).
    """
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5), 3, NOW)
    assert (await needs.claim(db, need_id, actor(6), 3, NOW)).outcome is ClaimOutcome.TAKEN
    assert need_id in db.settled

    gate = threading.Event()
    committing = asyncio.Event()
    writer = db.writer
    real_execute = writer.execute

    async def execute(sql: str, params: Any = None) -> Any:
        if sql == "COMMIT" and not committing.is_set():
            # The writer's thread is still busy with earlier work when COMMIT is queued.
            writer._tx.put_nowait((None, lambda: gate.wait(5)))
            committing.set()
        return await real_execute(sql, params)

    monkeypatch.setattr(writer, "execute", execute)
    release = asyncio.ensure_future(needs.release(db, need_id, 5, False, NOW))
    await committing.wait()
    release.cancel()  # shutdown, or a caller's timeout
    with pytest.raises(asyncio.CancelledError):
        await release
    # A tap now: nothing is marked under way any more, the reader still sees the holder.
    tap = asyncio.ensure_future(needs.claim(db, need_id, actor(7), 3, NOW))
    await asyncio.sleep(0.05)
    gate.set()
    first = await tap
    await db.write(lambda conn: None)  # the queued COMMIT has run
    assert first.outcome is ClaimOutcome.WON or (await needs.get(db, need_id)).holder is None
    again = await needs.claim(db, need_id, actor(7), 3, NOW)
    assert ClaimOutcome.WON in (first.outcome, again.outcome), (
        "the need is free in the database, but stale memory refuses every tap"
    )


async def test_taken_names_the_holder_as_now_known(db):
    """Losers are told the holder's name as now recorded, not as when it was remembered."""
    need_id = await post(db)
    await needs.claim(db, need_id, actor(5, "Old Name"), 3, NOW)
    await needs.claim(db, need_id, actor(6), 3, NOW)  # remembered now
    await people.upsert(db, actor(5, "New Name"), NOW, started_bot=True)  # /start
    taken = await needs.claim(db, need_id, actor(6), 3, NOW)
    assert taken.need is not None and taken.need.holder is not None
    assert taken.need.holder.display_name == "New Name"


async def test_a_failed_commit_leaves_the_writer_usable(db):
    """A COMMIT that fails leaves no transaction open on the writer."""

    def commit_fails(conn: sqlite3.Connection) -> None:
        with immediate(conn):
            conn.execute("PRAGMA defer_foreign_keys=ON")
            conn.execute(
                "INSERT INTO claims (need_id, volunteer_id, team, claimed_at)"
                " VALUES (999, 999, NULL, 'x')"
            )

    with pytest.raises(sqlite3.IntegrityError):
        await db.write(commit_fails)
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON


async def test_a_transaction_cancelled_before_it_began_leaves_the_writer_usable(db):
    gate = threading.Event()
    busy = asyncio.ensure_future(db.writer.call(lambda conn: gate.wait(5)))
    await asyncio.sleep(0)

    async def remember_a_group() -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO groups (chat_id, title, active, seen_at) VALUES (1, 'x', 1, '')"
            )

    cancelled = asyncio.ensure_future(remember_a_group())
    await asyncio.sleep(0.01)  # its BEGIN is queued behind the busy thread
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    gate.set()
    await busy  # the BEGIN has run now, and nobody will commit it
    need_id = await post(db)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON
    assert await db.fetch_all("SELECT * FROM groups") == []
