"""Boards, the outbox they are posted from, the progress board, and the edits' timing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from bot import runtime
from bot.board_render import (
    BOARD_BUDGET,
    board_markup,
    board_text,
    import_progress_text,
    progress_bar,
    progress_text,
)
from bot.coalesce import GroupEdits, Key
from bot.domain import Holder, Need, NewNeed, PrivateDetails, Progress, TeamTally
from bot.render import telegram_length
from storage import boards
from storage.db import Database, to_db_time
from tests.factories import COORDINATOR_ID, GROUP_ID, private_details, tap_update, user
from tests.fakes import Call
from tests.test_handlers import COORDINATOR, SECRETS, Harness
from tests.test_handlers import harness as handlers_harness

NOW = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)
harness = handlers_harness  # the real Application on a fake Bot API


async def make_board(
    db: Database,
    chat_id: int,
    *listed: list[NewNeed],
    report_chat_id: int | None = None,
    report_message_id: int | None = None,
) -> list[int]:
    """An import of one board per list, written as `claimbot import` writes it: the boards
    wait in the outbox with no message."""
    total = sum(len(needs) for needs in listed)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO imports (chat_id, created_by, created_at, source, needs,"
            " report_chat_id, report_message_id) VALUES (?, ?, ?, 'test.csv', ?, ?, ?)",
            (chat_id, COORDINATOR_ID, to_db_time(NOW), total, report_chat_id, report_message_id),
        )
        import_id = cursor.lastrowid
        board_ids = []
        for needs in listed:
            cursor = await conn.execute(
                "INSERT INTO boards (chat_id, import_id, created_at) VALUES (?, ?, ?)",
                (chat_id, import_id, to_db_time(NOW)),
            )
            board_ids.append(cursor.lastrowid)
            for row in needs:
                await _insert_need(conn, chat_id, cursor.lastrowid, row)
    return board_ids


async def _insert_need(conn: Any, chat_id: int, board_id: int | None, row: NewNeed) -> None:
    cursor = await conn.execute(
        "INSERT INTO needs (chat_id, summary, created_by, created_at, board_id,"
        " fingerprint, category, area) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chat_id,
            row.summary,
            COORDINATOR_ID,
            to_db_time(NOW),
            board_id,
            row.fingerprint,
            row.category,
            row.area,
        ),
    )
    details = row.details
    await conn.execute(
        "INSERT INTO need_details (need_id, name, address, phone, health, notes)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            cursor.lastrowid,
            details.name,
            details.address,
            details.phone,
            details.health,
            details.notes,
        ),
    )


def rows(count: int, details: PrivateDetails | None = None) -> list[NewNeed]:
    return [
        NewNeed(
            f"Household {i} <needs> rice & oil",
            details or private_details(),
            category="elder",
            area="Dongfeng",
        )
        for i in range(1, count + 1)
    ]


def markup_of(call: Call) -> list[list[dict[str, Any]]]:
    markup = call.params.get("reply_markup")
    if not markup:
        return []
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return markup["inline_keyboard"]  # type: ignore[no-any-return]


async def post_outbox(harness: Harness) -> None:
    keeper = harness.app.bot_data[runtime.CARDS]
    await keeper.post_outbox()
    await keeper.drain()


def group_sends(harness: Harness) -> list[Call]:
    """Messages that reached the group (a refused send has no result)."""
    sent = harness.api.of("sendMessage")
    return [c for c in sent if int(c.params["chat_id"]) == GROUP_ID and c.result is not None]


# -- the rules of timing, without Telegram ----------------------------------------------------


async def test_first_change_after_quiet_is_shown_at_once_then_a_rush_costs_one_edit_each():
    edited: list[Key] = []

    async def edit(key: Key) -> None:
        edited.append(key)

    edits = GroupEdits(edit, quiet=0.2, stale=5.0)
    edits.changed((1, "card", 10))
    await asyncio.sleep(0)
    assert edited == [(1, "card", 10)], "a change on a calm group is shown at once"
    for _ in range(10):  # a rush on three messages of one group
        for message in (10, 11, 12):
            edits.changed((1, "card", message))
        await asyncio.sleep(0.01)
    assert edited == [(1, "card", 10)], "nothing more while the rush goes on"
    await asyncio.gather(*edits.pending())
    assert sorted(edited[1:]) == [(1, "card", 10), (1, "card", 11), (1, "card", 12)]


async def test_a_long_rush_still_shows_each_message_within_stale_seconds():
    edited: list[Key] = []

    async def edit(key: Key) -> None:
        edited.append(key)

    edits = GroupEdits(edit, quiet=0.2, stale=0.3)
    edits.changed((1, "card", 1))
    await asyncio.sleep(0)
    edited.clear()
    for _ in range(60):  # never quiet for 0.2 s, for about 0.6 s
        edits.changed((1, "card", 2))
        await asyncio.sleep(0.01)
    assert (1, "card", 2) in edited, "stale changes are shown before the rush ends"
    edits.hurry()
    await asyncio.gather(*edits.pending())


async def test_groups_are_timed_apart_and_a_failing_edit_does_not_stop_the_others():
    edited: list[Key] = []

    async def edit(key: Key) -> None:
        if key[2] == 13:
            raise RuntimeError("boom")
        edited.append(key)

    edits = GroupEdits(edit, quiet=0.05, stale=1.0)
    for key in [(1, "card", 13), (2, "card", 20), (1, "card", 14), (1, "progress", 0)]:
        edits.changed(key)
    await asyncio.gather(*edits.pending())
    assert sorted(edited) == [(1, "card", 14), (1, "progress", 0), (2, "card", 20)]


# -- how a board looks -----------------------------------------------------------------------


def need(
    number: int,
    summary: str = "rice",
    holder: str | None = None,
    closed_at: datetime | None = None,
    **more: Any,
) -> Need:
    held = Holder(number, 5, holder, "Branch <3>", NOW) if holder else None
    return Need(number, GROUP_ID, 7, summary, 1, NOW, closed_at, held, board_id=1, **more)


def test_a_board_lists_numbers_summaries_and_holders_escaped_with_a_button_per_open_need():
    shown = [need(1, "<b>rice</b>"), need(2, holder="Li <Wei>"), need(3, category="elder & co")]
    text = board_text(shown, "en")
    assert "Needs #1–#3" in text
    assert "&lt;b&gt;rice&lt;/b&gt;" in text
    assert "Li &lt;Wei&gt; (Branch &lt;3&gt;)" in text
    assert "[elder &amp; co]" in text
    buttons = [b for row in board_markup(shown, "en").inline_keyboard for b in row]
    assert [b.callback_data for b in buttons] == ["c:1", "c:3"]
    over = [need(4, closed_at=NOW), need(5, closed_at=NOW, closed_as="cancelled")]
    assert "☑️ closed" in board_text(over, "en") and "✖️ cancelled" in board_text(over, "en")
    assert board_markup(over, "en") is None
    full = [need(1, holder="A"), need(2, holder="B")]
    assert board_markup(full, "en") is None
    assert "paired up" in board_text(full, "en")


def test_a_full_board_of_the_longest_summaries_and_names_fits_one_message():
    summary = "很长的摘要" * 600  # the longest summary a config allows (3,000 characters)
    shown = [need(i, summary, holder="名" * 64 if i % 2 else None) for i in range(1, 21)]
    text = board_text(shown, "zh")
    assert telegram_length(text) <= BOARD_BUDGET
    assert all(f"#{i}" in text for i in range(1, 21))


def test_progress_board_counts_bar_and_teams():
    progress = Progress(
        total=53,
        open=12,
        claimed=40,
        visited=20,
        closed=1,
        teams=[TeamTally("Branch <1>", 4, 2), TeamTally("", 1, 0)],
        other_teams=3,
    )
    text = progress_text(progress, "en")
    assert "Claimed <b>40</b> of 53 · open 12 · visited 20" in text
    assert progress_bar(41, 53) in text
    assert "Branch &lt;1&gt;: 4 claimed, 2 visited" in text
    assert "(no team): 1 claimed" in text
    assert "3 more teams" in text
    assert progress_bar(0, 0) == "░░░░░░░░░░ 0%"
    assert progress_bar(53, 53) == "▓▓▓▓▓▓▓▓▓▓ 100%"
    assert "All 5 needs are up" in import_progress_text(5, 5, "en")
    assert "2 of 5" in import_progress_text(2, 5, "en")


# -- through the real Application -------------------------------------------------------------


async def test_an_imported_board_goes_out_once_with_a_pinned_progress_board(harness):
    db = harness.service.db
    await make_board(db, GROUP_ID, rows(3))
    await post_outbox(harness)
    sent = group_sends(harness)
    assert len(sent) == 2, "the board, then the group's progress board"
    board, progress = sent
    assert "Needs #1–#3" in board.params["text"]
    assert [b["callback_data"] for row in markup_of(board) for b in row] == ["c:1", "c:2", "c:3"]
    assert "Claimed <b>0</b> of 3" in progress.params["text"]
    pins = harness.api.of("pinChatMessage")
    assert [int(p.params["message_id"]) for p in pins] == [progress.result["message_id"]]
    leaked = harness.api.everything_sent()
    assert not [secret for secret in SECRETS if secret in leaked]
    # Posted: the outbox is empty, and every need's card is the board.
    assert await boards.outbox(db) == []
    on_board = await boards.message_needs(db, GROUP_ID, board.result["message_id"])
    assert [n.id for n in on_board] == [1, 2, 3]
    await post_outbox(harness)
    assert len(group_sends(harness)) == 2, "nothing posted twice"


async def test_taps_on_a_board_claim_its_needs_and_the_board_and_progress_follow(harness):
    db = harness.service.db
    await make_board(db, GROUP_ID, rows(3))
    await post_outbox(harness)
    board, progress = group_sends(harness)
    message_id = board.result["message_id"]
    await harness.tap(user(5, "Alice"), "c:2", message_id)
    assert harness.last_answer()["text"].startswith("It's yours")
    await harness.tap(user(6, "Bob"), "c:2", message_id)
    assert harness.last_answer()["text"] == "Already claimed by Alice."
    # Need 2's data on another message (forged, or an old copy) changes nothing.
    await harness.tap(user(7, "Carol"), "c:3", message_id + 100)
    assert not harness.last_answer()["text"].startswith("It's yours")
    edits = [c for c in harness.api.of("editMessageText") if int(c.params["chat_id"]) == GROUP_ID]
    board_edits = [c for c in edits if c.params["message_id"] == message_id]
    assert "✅ Alice" in board_edits[-1].params["text"]
    assert [b["callback_data"] for row in markup_of(board_edits[-1]) for b in row] == [
        "c:1",
        "c:3",
    ]
    progress_edits = [c for c in edits if c.params["message_id"] == progress.result["message_id"]]
    assert "Claimed <b>1</b> of 3" in progress_edits[-1].params["text"]
    assert (await harness.service.need(3)).holder is None


async def test_a_rush_of_taps_costs_a_few_edits_not_one_per_tap(harness):
    db = harness.service.db
    await make_board(db, GROUP_ID, rows(8))
    await post_outbox(harness)
    board = group_sends(harness)[0]
    message_id = board.result["message_id"]
    before = len(harness.api.of("editMessageText"))
    taps = [
        tap_update(harness.app.bot, user(100 + i, f"V{i}"), f"c:{i % 8 + 1}", message_id)
        for i in range(40)
    ]
    await asyncio.gather(*(harness.app.process_update(tap) for tap in taps))
    keeper = harness.app.bot_data[runtime.CARDS]
    await asyncio.gather(*keeper.edits.pending())  # waits for the quiet spell, no hurry
    edits = harness.api.of("editMessageText")[before:]
    assert 1 <= len(edits) <= 4, [c.params["message_id"] for c in edits]
    final = [c for c in edits if c.params["message_id"] == message_id][-1]
    assert final.params["text"].count("✅") == 8
    assert markup_of(final) == []


async def test_the_coordinator_who_imported_sees_one_message_count_up(harness):
    db = harness.service.db
    await make_board(
        db, GROUP_ID, rows(3), rows(2), report_chat_id=COORDINATOR_ID, report_message_id=77
    )
    await post_outbox(harness)
    reports = [c for c in harness.api.of("editMessageText") if c.params["message_id"] == 77]
    assert reports, "the progress message is edited, not a message per board"
    assert "3 of 5" in reports[0].params["text"]
    assert "All 5 needs are up" in reports[-1].params["text"]
    assert all(int(c.params["chat_id"]) == COORDINATOR_ID for c in reports)
    assert not [c for c in harness.api.of("sendMessage") if int(c.params["chat_id"]) > 0]


async def test_board_command_is_for_coordinators_in_a_group(harness):
    await harness.group_command(user(5, "Alice"), "/board")
    assert harness.api.texts_to(GROUP_ID) == ["Only coordinators can post the progress board."]
    await harness.private(COORDINATOR, "/board")
    assert "in the group" in harness.private_texts(COORDINATOR_ID)[-1]
    await harness.group_command(COORDINATOR, "/board")
    first = group_sends(harness)[-1]
    assert "No needs posted in this group yet." in first.params["text"]
    await harness.group_command(COORDINATOR, "/board")
    second = group_sends(harness)[-1]
    assert second.result["message_id"] != first.result["message_id"]
    unpinned = harness.api.of("unpinChatMessage")
    assert [int(c.params["message_id"]) for c in unpinned] == [first.result["message_id"]]
    assert await boards.progress_board(harness.service.db, GROUP_ID) == second.result["message_id"]


async def test_a_group_the_bot_left_gets_no_board_and_a_failed_post_waits(harness):
    db = harness.service.db
    await harness.service.group_gone(GROUP_ID)
    await make_board(db, GROUP_ID, rows(1))
    await post_outbox(harness)
    assert group_sends(harness) == []
    await harness.service.group_seen(GROUP_ID, "Volunteers")
    harness.api.fail["sendMessage"] = (400, "Bad Request: not enough rights to send text")
    await post_outbox(harness)
    del harness.api.fail["sendMessage"]
    tries = len(harness.api.of("sendMessage"))
    await post_outbox(harness)  # resting after the failure: not tried again at once
    assert len(harness.api.of("sendMessage")) == tries
    assert group_sends(harness) == []
    assert len(await boards.outbox(db)) == 1, "still waiting, nothing lost"


async def test_a_deleted_progress_board_is_forgotten_for_board_to_post_again(harness):
    db = harness.service.db
    await make_board(db, GROUP_ID, rows(2))
    await post_outbox(harness)
    board = group_sends(harness)[0]
    assert await boards.progress_board(db, GROUP_ID) is not None
    harness.api.fail["editMessageText"] = (400, "Bad Request: message to edit not found")
    await harness.tap(user(5, "Alice"), "c:1", board.result["message_id"])
    assert harness.last_answer()["text"].startswith("It's yours")
    assert await boards.progress_board(db, GROUP_ID) is None
    # The board's own edit failed the same way: it stays stale, to be tried again later.
    assert (await harness.service.need(1)).card_version != (await harness.service.need(1)).version
