"""The claim loop end to end over HTTP: the real bot, the emulator, simulated people."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot.emulator import BotApiEmulator, Faults, SimUser
from tests.e2e.conftest import ROOT, TOKEN, USERNAME, cards, post

SECRETS = ("Wang Secretname", "7 Hidden Lane", "13800005678", "insulin")


async def people(emu: BotApiEmulator, count: int, start: int = 5000, started: bool = True):
    crowd = [emu.user(start + n, f"V{n}", last_name="Tester") for n in range(count)]
    if started:
        for person in crowd:
            await person.start_bot()
    return crowd


async def post_private(emu: BotApiEmulator, coordinator: SimUser, summary: str) -> None:
    """The full posting form with private details, in private chat, one answer at a time."""
    # The welcome to the coordinator's /start comes first; count the replies after it.
    await emu.wait_for_message(coordinator, "Hello", timeout=10)
    before = len(emu.private_messages(coordinator))
    for step, text in enumerate(
        [
            "/post",
            summary,
            "Grandma Wang Secretname",
            "7 Hidden Lane",
            "13800005678",
            "diabetic, insulin twice a day",
            "-",
        ]
    ):
        await coordinator.send_private(text)
        await emu.wait_for(
            lambda n=before + step + 1: len(emu.private_messages(coordinator)) >= n, timeout=10
        )
    preview = emu.last_message(coordinator)
    assert preview is not None and (preview.text or "").startswith("The group will see")
    before = len(cards(emu))
    await coordinator.tap_button(preview, "Post to Volunteers")
    await emu.wait_for(lambda: len(cards(emu)) > before, timeout=10)


async def test_burst_of_taps_has_one_winner_and_every_tapper_an_answer(
    emu, group, coordinator, run_bot
):
    async with run_bot():
        card = await post(emu, coordinator, group, "Empty-nest elder needs rice and oil")
        # Only the first has started the bot: 150 welcome messages would take Telegram's
        # 30 messages a second, 5 s, and the card edit would queue behind them.
        crowd = [*await people(emu, 1), *await people(emu, 149, start=5001, started=False)]
        taps = await asyncio.gather(*(p.tap(card, "c:1") for p in crowd))
        answers = await asyncio.gather(*(emu.wait_callback_answer(q, 10) for q in taps))
        won = [a for a in answers if a["text"].startswith("It's yours")]
        assert len(won) == 1
        assert answers[0]["text"].startswith("It's yours"), "the first delivered tap won"
        assert all(a["text"] == "Already claimed by V0 Tester." for a in answers[1:])
        await emu.wait_for(lambda: "Claimed by V0 Tester" in (cards(emu)[0].text or ""), 10)
        assert cards(emu)[0].buttons == []
        # The winner had started the bot: answered first, the details follow (they may come
        # after the card's edit).
        await emu.wait_for(lambda: "need #1" in (emu.last_message(crowd[0]).text or ""), 10)
        for person in crowd[1:]:
            assert not any("paired" in (m.text or "") for m in emu.private_messages(person))


@pytest.mark.parametrize("data", ["c:999", "c:1x", "hello", "r:1", "g:-1", "c:" + "9" * 60])
async def test_forged_button_data_changes_nothing(emu, group, coordinator, run_bot, data):
    async with run_bot():
        card = await post(emu, coordinator, group, "Single parent needs tutoring")
        (mallory,) = await people(emu, 1)
        answer = await emu.wait_callback_answer(await mallory.tap(card, data), 10)
        assert answer["text"] in (
            "This button is not valid.",
            "This need no longer exists.",
            "This pairing has already ended.",
        )
        await asyncio.sleep(0.2)
        assert cards(emu)[0].edit_count == 0
        assert cards(emu)[0].callback_data == ["c:1"]


async def test_unstarted_or_blocked_winner_gets_a_deep_link_only_they_can_use(
    emu, group, coordinator, run_bot
):
    async with run_bot():
        await post_private(emu, coordinator, "Disabled veteran needs groceries")
        card = cards(emu)[0]
        newcomer = emu.user(6001, "Newcomer")
        answer = await emu.wait_callback_answer(await newcomer.tap(card, "c:1"), 10)
        assert answer["url"] == f"https://t.me/{USERNAME}?start=d_1"
        (snoop,) = await people(emu, 1)
        await snoop.open_link(answer["url"])
        refusal = await emu.wait_for_message(snoop, "not yours", timeout=10)
        assert not any(s in (refusal.text or "") for s in SECRETS)
        await newcomer.open_link(answer["url"])
        details = await emu.wait_for_message(newcomer, "You are paired with", timeout=10)
        assert all(s in (details.text or "") for s in SECRETS)

        # Someone who started the bot is answered at once; if they have blocked it since,
        # the 403 marks them, and their next win comes with the link.
        await post(emu, coordinator, group, "Second household")
        await post(emu, coordinator, group, "Third household")
        (blocker,) = await people(emu, 1, start=7000)
        await emu.wait_for_message(blocker, "Hello", timeout=10)  # started, then blocked
        blocker.block_bot()
        refused = emu.count("sendMessage", 403)
        answer = await emu.wait_callback_answer(await blocker.tap(cards(emu)[1], "c:2"), 10)
        assert answer["text"].startswith("It's yours") and not answer.get("url")
        # The details' 403 comes after the answer (paced: one private message a second).
        await emu.wait_for(lambda: emu.count("sendMessage", 403) > refused, timeout=10)
        await asyncio.sleep(0.2)  # the bot records it
        answer = await emu.wait_callback_answer(await blocker.tap(cards(emu)[2], "c:3"), 10)
        assert answer["url"] == f"https://t.me/{USERNAME}?start=d_3"
        group_text = "\n".join(m.text or "" for m in emu.messages(group))
        assert not any(s in group_text for s in SECRETS)


async def test_5xx_answers_are_retried_until_everything_arrives(emu, group, coordinator, run_bot):
    async with run_bot():
        crowd = await people(emu, 6)
        emu.faults = Faults(
            error_rate=0.4,
            methods={"sendMessage", "editMessageText", "answerCallbackQuery"},
            seed=11,
        )
        for n in range(4):
            await coordinator.send(group, f"/post@{USERNAME} household {n}")
        await emu.wait_for(lambda: len(cards(emu)) == 4, timeout=30)
        taps = [await crowd[n].tap(card, f"c:{n + 1}") for n, card in enumerate(cards(emu))]
        answers = await asyncio.gather(*(emu.wait_callback_answer(q, 20) for q in taps))
        assert all(a["text"].startswith("It's yours") for a in answers)
        await emu.wait_for(lambda: all("Claimed by" in (c.text or "") for c in cards(emu)), 20)
        assert emu.count(status=500) > 0
        assert len(cards(emu)) == 4, "a retried send never posts a card twice"


async def test_a_card_whose_delivery_is_unknown_is_never_posted_twice(
    emu, group, coordinator, run_bot
):
    async with run_bot():
        (alice,) = await people(emu, 1)
        # Telegram takes the card, but the answer is lost: the bot cannot know it arrived.
        emu.faults = Faults(drop_rate=1.0, drop_after_action=True, methods={"sendMessage"})
        await coordinator.send(group, f"/post@{USERNAME} household")
        await emu.wait_for_message(coordinator, "could not be confirmed", timeout=15)
        emu.faults = None
        assert len(cards(emu)) == 1, "not sent a second time on a guess"
        orphan = cards(emu)[0]
        answer = await emu.wait_callback_answer(await alice.tap(orphan, "c:1"), 10)
        assert answer["text"] == "This button is not valid."

        await coordinator.send_private("/repost 1")
        await emu.wait_for_message(coordinator, "Posted a new card for need #1", timeout=10)
        fresh = cards(emu)[-1]
        assert fresh.message_id != orphan.message_id
        answer = await emu.wait_callback_answer(await alice.tap(fresh, "c:1"), 10)
        assert answer["text"].startswith("It's yours")


async def test_restart_after_a_crash_keeps_every_answered_claim(
    emu, group, coordinator, bot_process
):
    await bot_process.start()
    await post_private(emu, coordinator, "Lonely elder needs company")
    card = cards(emu)[0]
    alice, bob = await people(emu, 2)
    won = await emu.wait_callback_answer(await alice.tap(card, "c:1"), 15)
    assert won["text"].startswith("It's yours")
    log = (await bot_process.kill()).decode()

    # While the bot is down, a tap waits at Telegram, as updates do for up to 24 hours.
    pending = await bob.tap(card, "c:1")
    await bot_process.start()
    late = await emu.wait_callback_answer(pending, 15)
    assert late["text"] == "Already claimed by V0 Tester."
    await alice.send_private("/mine")
    mine = await emu.wait_for_message(alice, "Your pairings (1)", timeout=15)
    assert "#1" in (mine.text or "")
    await emu.wait_for(lambda: "Claimed by V0 Tester" in (cards(emu)[0].text or ""), 10)
    log += (await bot_process.stop()).decode()

    assert "starting" in log, log[-2000:]
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert not any(secret in log for secret in SECRETS), "private details reached the log"


async def test_run_with_a_refused_token_exits_with_a_clear_message(emu, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        f"telegram:\n  base_url: {emu.base_url}\ncoordinators: [1]\n"
        f"database:\n  path: {tmp_path / 'x.db'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "CLAIMBOT_TOKEN": "999:wrong-token", "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "telegram.token: the Bot API refused the token" in err.decode()
    assert "wrong-token" not in err.decode()
