"""Boards end to end over HTTP: written to the database by another connection (as
`claimbot import` in its own process writes them), posted by the running bot, claimed in a
rush, kept current within the group's 20 messages a minute."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

from bot.domain import NewNeed, PrivateDetails
from bot.emulator import BotApiEmulator, SimMessage
from storage.db import to_db_time
from tests.e2e.conftest import GROUP_ID
from tests.e2e.test_claim_loop import people
from tests.test_boards import NOW

SECRETS = ("Secretname", "Hidden Lane", "1380000")


def write_import(db_path: Path, per_board: list[int]) -> None:
    """An import written by a connection of its own, beside the running bot."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA busy_timeout = 5000")
        cursor = conn.execute(
            "INSERT INTO imports (chat_id, created_by, created_at, source, needs)"
            " VALUES (?, NULL, ?, 'drive.csv', ?)",
            (GROUP_ID, to_db_time(NOW), sum(per_board)),
        )
        import_id, number = cursor.lastrowid, 0
        for size in per_board:
            board = conn.execute(
                "INSERT INTO boards (chat_id, import_id, created_at) VALUES (?, ?, ?)",
                (GROUP_ID, import_id, to_db_time(NOW)),
            ).lastrowid
            for _ in range(size):
                number += 1
                row = NewNeed(
                    f"Household {number}: groceries and company",
                    PrivateDetails(name=f"Secretname {number}", address="Hidden Lane"),
                )
                need = conn.execute(
                    "INSERT INTO needs (chat_id, summary, created_by, created_at, board_id,"
                    " fingerprint) VALUES (?, ?, 0, ?, ?, ?)",
                    (GROUP_ID, row.summary, to_db_time(NOW), board, row.fingerprint),
                ).lastrowid
                conn.execute(
                    "INSERT INTO need_details (need_id, name, address, phone)"
                    " VALUES (?, ?, ?, '13800001111')",
                    (need, row.details.name, row.details.address),
                )


def boards(emu: BotApiEmulator) -> list[SimMessage]:
    return [m for m in emu.messages(GROUP_ID) if (m.text or "").startswith("Needs #")]


def progress(emu: BotApiEmulator) -> list[SimMessage]:
    return [m for m in emu.messages(GROUP_ID) if "Drive progress" in (m.text or "")]


def holders(db_path: Path) -> dict[int, str]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT c.need_id, p.display_name FROM claims c"
            " JOIN people p ON p.user_id = c.volunteer_id WHERE c.released_at IS NULL"
        ).fetchall()
    return {need: name for need, name in rows}


def board_is_current(board: SimMessage, held: dict[int, str], numbers: range) -> bool:
    text = board.text or ""
    for number in numbers:
        entry = text.split(f"#{number} ", 1)[-1].split("\n\n", 1)[0]
        if number in held and f"✅ {held[number]}" not in entry:
            return False
        if number not in held and "open" not in entry:
            return False
    return board.callback_data == [f"c:{n}" for n in numbers if n not in held]


async def test_an_import_is_posted_as_boards_claimed_in_a_rush_and_kept_current(
    emu, group, coordinator, run_bot, tmp_path
):
    db_path = tmp_path / "bot.db"
    async with run_bot():
        write_import(db_path, [8, 8, 4])
        await emu.wait_for(lambda: len(boards(emu)) == 3, timeout=15)
        assert [b.callback_data for b in boards(emu)][2] == ["c:17", "c:18", "c:19", "c:20"]
        await emu.wait_for(lambda: progress(emu) and progress(emu)[0].pinned, timeout=15)
        crowd = await people(emu, 30)
        rng = random.Random(5)
        by_need = {n: boards(emu)[(n - 1) // 8] for n in range(1, 21)}
        wanted = [rng.randint(1, 20) for _ in range(60)]
        taps = [await crowd[i % 30].tap(by_need[n], f"c:{n}") for i, n in enumerate(wanted)]
        answers = await asyncio.gather(*(emu.wait_callback_answer(q, 15) for q in taps))
        first_tap: dict[int, int] = {}
        for i, n in enumerate(wanted):
            first_tap.setdefault(n, i)
        won = {n for i, n in enumerate(wanted) if answers[i]["text"].startswith("It's yours")}
        assert won == set(first_tap), "each need tapped is won once"
        assert all(answers[i]["text"].startswith("It's yours") for i in first_tap.values())
        held = holders(db_path)
        assert set(held) == won
        await emu.wait_for(
            lambda: all(
                board_is_current(b, held, range(1 + 8 * k, min(21, 9 + 8 * k)))
                for k, b in enumerate(boards(emu))
            ),
            timeout=20,
        )
        await emu.wait_for(
            lambda: f"Claimed {len(held)} of 20" in (progress(emu)[0].text or ""), timeout=20
        )
        edits = sum(b.edit_count for b in boards(emu)) + progress(emu)[0].edit_count
        assert edits <= 12, f"{edits} edits for {len(won)} claims"
        assert emu.flood_rejections == 0
        group_text = "\n".join(m.text or "" for m in emu.messages(GROUP_ID))
        assert not any(secret in group_text for secret in SECRETS)

    # Started again on the same database: nothing is posted twice.
    async with run_bot():
        await asyncio.sleep(2.5)
        assert len(boards(emu)) == 3 and len(progress(emu)) == 1
