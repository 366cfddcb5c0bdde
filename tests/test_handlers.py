"""Handlers through the real Application.process_update, with a recording fake Bot API."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Update

from bot import runtime
from bot.app import build_application, running
from bot.config import Config
from bot.logs import configure_logging
from bot.service import PairingService
from storage import needs
from storage.db import Database
from tests.factories import (
    COORDINATOR_ID,
    GROUP_ID,
    actor,
    command_in_group,
    group_chat,
    make_config,
    message_update,
    migration_update,
    private_chat,
    tap_update,
    user,
)
from tests.fakes import BOT_USERNAME, TOKEN, Call, FakeBotApi

COORDINATOR = user(COORDINATOR_ID, "Coordinator Chen")
SECRETS = ["Grandma Wang Secretname", "7 Hidden Lane", "13800001234", "wheelchair", "knock twice"]


@dataclass
class Harness:
    """The real Application on a fake Bot API, and helpers to act as people."""

    app: Any
    api: FakeBotApi

    @property
    def service(self) -> PairingService:
        return self.app.bot_data[runtime.SERVICE]

    async def send(self, update: Update) -> None:
        await self.app.process_update(update)
        await self.app.bot_data[runtime.CARDS].drain()

    async def group_command(self, sender: dict[str, Any], text: str) -> None:
        await self.send(command_in_group(self.app.bot, sender, text))

    async def private(self, sender: dict[str, Any], text: str) -> None:
        await self.send(message_update(self.app.bot, sender, private_chat(sender["id"]), text))

    async def tap(self, sender: dict[str, Any], data: str, message_id: int = 1) -> None:
        await self.send(tap_update(self.app.bot, sender, data, message_id))

    async def tap_card(self, sender: dict[str, Any], card: Call, data: str | None = None) -> None:
        """Tap a card's Claim button (or forged ``data`` on that card)."""
        message_id = card.result["message_id"]
        await self.tap(sender, data or claim_button(card), message_id)

    async def post_card(self, summary: str = "Empty-nest elder in Dongfeng needs rice") -> Call:
        before = len(self.api.of("sendMessage"))
        await self.group_command(COORDINATOR, f"/post {summary}")
        cards = self.api.of("sendMessage")[before:]
        assert len(cards) == 1, cards
        return cards[0]

    async def post_private(self, summary: str, *answers: str) -> None:
        """A coordinator posts a need with private details, step by step ("-" skips one)."""
        await self.private(COORDINATOR, "/post")
        answers = (*answers, *["-"] * (5 - len(answers)))
        for text in (summary, *answers):
            await self.private(COORDINATOR, text)
        await self.pick_group(GROUP_ID)

    async def pick_group(self, chat_id: int, sender: dict[str, Any] = COORDINATOR) -> None:
        """Tap "Post to <group>" under the preview."""
        chat = private_chat(sender["id"])
        await self.send(tap_update(self.app.bot, sender, f"g:{chat_id}", chat=chat))

    def answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self.api.of("answerCallbackQuery")]

    def last_answer(self) -> dict[str, Any]:
        return self.answers()[-1]

    def private_texts(self, user_id: int) -> list[str]:
        return self.api.texts_to(user_id)


def claim_button(card: Call) -> str:
    markup = card.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return markup["inline_keyboard"][0][0]["callback_data"]


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        # The bot has seen the group (someone spoke there), as in real use.
        await app.bot_data[runtime.SERVICE].group_seen(GROUP_ID, "Volunteers")
        yield Harness(app, api)


async def test_coordinator_posts_a_card_with_a_claim_button(harness):
    card = await harness.post_card("Chronic illness, <Dongfeng> & needs help")
    assert int(card.params["chat_id"]) == GROUP_ID
    text = card.params["text"]
    assert "Need #1" in text and "Open" in text
    assert "&lt;Dongfeng&gt; &amp; needs help" in text  # escaped, not markup
    data = claim_button(card)
    assert data == "c:1" and len(data.encode()) <= 64
    assert harness.api.of("deleteMessage"), "the coordinator's command is tidied away"


async def test_volunteer_cannot_post(harness):
    await harness.group_command(user(5), "/post Free rice for all")
    assert harness.api.texts_to(GROUP_ID) == ["Only coordinators can do that."]
    assert (await harness.service.status(None)).total == 0


async def test_post_without_summary_gets_usage(harness):
    await harness.group_command(COORDINATOR, "/post")
    assert "Usage: /post" in harness.api.texts_to(GROUP_ID)[0]
    assert (await harness.service.status(None)).total == 0


async def test_overlong_summary_is_refused(harness):
    await harness.group_command(COORDINATOR, "/post " + "x" * 501)
    assert "too long (501 characters; at most 500)" in harness.api.texts_to(GROUP_ID)[0]
    assert (await harness.service.status(None)).total == 0


async def test_first_tap_wins_card_is_edited_others_told_who_holds_it(harness):
    card = await harness.post_card()
    await harness.post_card("another")  # so the edit below is for need 1 only
    alice, bob = user(5, "Alice"), user(6, "Bob")
    await harness.tap_card(alice, card)
    assert harness.last_answer()["text"].startswith("It's yours")
    assert "need #1" in harness.private_texts(5)[0]
    edits = harness.api.of("editMessageText")
    assert len(edits) == 1
    assert "Claimed by Alice" in edits[0].params["text"]
    assert "reply_markup" not in edits[0].params or not edits[0].params["reply_markup"]

    await harness.tap_card(bob, card)
    assert harness.last_answer()["text"] == "Already claimed by Alice."
    assert harness.private_texts(6) == []
    assert len(harness.api.of("editMessageText")) == 1


async def test_winner_gets_private_details_with_release_button(harness):
    await harness.post_private(
        "Disabled veteran needs groceries",
        "Grandma Wang Secretname",
        "7 Hidden Lane, Room 302",
        "13800001234",
        "diabetic, uses a wheelchair",
        "knock twice",
    )
    card = harness.api.of("sendMessage")[-2]  # the card, then "Posted need #1"
    assert int(card.params["chat_id"]) == GROUP_ID
    await harness.tap_card(user(5, "Alice"), card)
    message = harness.api.of("sendMessage")[-1]
    assert int(message.params["chat_id"]) == 5
    for secret in SECRETS:
        assert secret in message.params["text"]
    assert "r:1" in json.dumps(message.params["reply_markup"])


async def test_unstarted_winner_gets_deep_link_only_they_can_use(harness):
    card = await harness.post_card()
    harness.api.unreachable.add(5)
    await harness.tap_card(user(5, "Alice"), card)
    answer = harness.last_answer()
    assert answer["url"] == f"https://t.me/{BOT_USERNAME}?start=d_1"
    assert "Open the chat with me" in answer["text"]
    assert "Claimed by Alice" in harness.api.of("editMessageText")[0].params["text"]

    # Someone else opening the same link learns nothing.
    await harness.private(user(6), "/start d_1")
    assert "not yours" in harness.private_texts(6)[-1]
    # Forged payloads are refused the same way.
    await harness.private(user(6), "/start d_99999")
    await harness.private(user(6), "/start ../etc")
    assert all("not yours" in text for text in harness.private_texts(6))

    harness.api.unreachable.discard(5)
    await harness.private(user(5, "Alice"), "/start d_1")
    assert "You are paired with" in harness.private_texts(5)[-1]


@pytest.mark.parametrize("data", ["c:999", "c:0", "c:abc", "c:1;drop", "x:1", "c:-1", "r:1"])
async def test_forged_or_stale_button_data_changes_nothing(harness, data):
    card = await harness.post_card()
    await harness.tap_card(user(7), card, data)
    answer = harness.last_answer()["text"]
    assert answer in (
        "This button is not valid.",
        "This need no longer exists.",
        "This pairing has already ended.",
    )
    need = await harness.service.need(1)
    assert need.holder is None
    assert harness.api.of("editMessageText") == []


async def test_limit_of_open_claims_per_volunteer(harness):
    cards = [await harness.post_card(f"need {i}") for i in range(4)]
    for card in cards:
        await harness.tap_card(user(5), card)
    assert harness.last_answer()["text"].startswith("You already hold 3 open claims")
    need = await harness.service.need(4)
    assert need.holder is None


async def test_release_by_button_and_command(harness):
    card = await harness.post_card()
    await harness.tap_card(user(5, "Alice"), card)
    details = harness.api.of("sendMessage")[-1]
    release = json.dumps(details.params["reply_markup"])
    assert '"r:1"' in release  # names claim 1, the pairing, not the need
    await harness.send(tap_update(harness.app.bot, user(6), "r:1", chat=private_chat(6)))
    assert harness.last_answer()["text"] == "This pairing has already ended."
    assert (await harness.service.need(1)).holder.user_id == 5
    await harness.send(tap_update(harness.app.bot, user(5), "r:1", chat=private_chat(5)))
    assert harness.last_answer()["text"].startswith("You released need #1")
    assert "Open" in harness.api.of("editMessageText")[-1].params["text"]

    await harness.tap_card(user(6, "Bob"), card)
    # Alice's old button names her ended pairing: it cannot end Bob's.
    await harness.send(tap_update(harness.app.bot, user(5), "r:1", chat=private_chat(5)))
    assert harness.last_answer()["text"] == "This pairing has already ended."
    assert (await harness.service.need(1)).holder.user_id == 6

    await harness.private(user(6, "Bob"), "/release")
    assert harness.private_texts(6)[-1].startswith("You released need #1")
    assert (await harness.service.need(1)).holder is None
    await harness.private(user(6, "Bob"), "/release")
    assert harness.private_texts(6)[-1] == "You hold no needs."
    await harness.private(user(6, "Bob"), "/release abc")
    assert "is not a need number" in harness.private_texts(6)[-1]


async def test_release_command_ends_only_your_own_pairing(harness):
    card = await harness.post_card()
    await harness.tap_card(user(5, "Alice"), card)
    await harness.private(COORDINATOR, "/release 1")
    assert harness.private_texts(COORDINATOR_ID)[-1] == "You don't hold need #1."
    assert (await harness.service.need(1)).holder.user_id == 5


async def test_coordinator_frees_and_reassigns(harness):
    card = await harness.post_card()
    await harness.tap_card(user(5, "Alice"), card)
    await harness.private(user(8, "Carol"), "/start")

    await harness.private(user(5), "/free 1")
    assert harness.private_texts(5)[-1] == "Only coordinators can do that."
    await harness.private(COORDINATOR, "/free 1")
    assert "open again" in harness.private_texts(COORDINATOR_ID)[-1]
    assert "coordinator ended your pairing" in harness.private_texts(5)[-1]

    await harness.private(COORDINATOR, "/reassign 1 8")
    assert harness.private_texts(COORDINATOR_ID)[-1] == "Need #1 is now held by Carol."
    assert "paired you with need #1" in harness.private_texts(8)[-2]
    assert "You are paired with" in harness.private_texts(8)[-1]
    assert "Claimed by Carol" in harness.api.of("editMessageText")[-1].params["text"]

    await harness.private(COORDINATOR, "/reassign 1 424242")
    assert "don't know that person" in harness.private_texts(COORDINATOR_ID)[-1]
    await harness.private(COORDINATOR, "/reassign one")
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Usage: /reassign")


async def test_mine_status_and_help(harness):
    await harness.post_private("Single parent needs tutoring", "Grandma Wang Secretname")
    card = harness.api.of("sendMessage")[-2]
    await harness.post_card("second")
    await harness.tap_card(user(5, "Alice"), card)

    await harness.group_command(user(5, "Alice"), "/mine")
    group_text = harness.api.texts_to(GROUP_ID)[-1]
    assert "#1 · Single parent needs tutoring" in group_text
    assert "Secretname" not in group_text

    await harness.private(user(5, "Alice"), "/mine")
    assert any("Secretname" in text for text in harness.private_texts(5)[-2:])

    await harness.group_command(user(5, "Alice"), "/status")
    assert "Needs: 2" in harness.api.texts_to(GROUP_ID)[-1]
    assert "Open 1 · claimed 1" in harness.api.texts_to(GROUP_ID)[-1]

    await harness.private(user(5), "/help")
    assert "/mine" in harness.private_texts(5)[-1]
    assert "For coordinators" not in harness.private_texts(5)[-1]
    await harness.private(COORDINATOR, "/help")
    assert "For coordinators" in harness.private_texts(COORDINATOR_ID)[-1]


async def test_show_is_for_coordinators_in_private_only(harness):
    await harness.post_private("needs a visit", "Grandma Wang Secretname")
    await harness.group_command(COORDINATOR, "/show 1")
    assert "Secretname" not in harness.api.texts_to(GROUP_ID)[-1]
    await harness.private(user(5), "/show 1")
    assert harness.private_texts(5)[-1] == "Only coordinators can do that."
    await harness.private(COORDINATOR, "/show 1")
    assert "Secretname" in harness.private_texts(COORDINATOR_ID)[-1]


async def test_private_posting_previews_then_posts_once_to_the_chosen_group(harness):
    await harness.service.group_seen(-1002, "Second group")
    await harness.private(COORDINATOR, "/post")
    for text in ("Lonely elder", "Grandma Wang Secretname", "-", "-", "-", "-"):
        await harness.private(COORDINATOR, text)
    preview = harness.api.of("sendMessage")[-1]
    assert preview.params["text"].startswith("The group will see only this:")
    assert "Lonely elder" in preview.params["text"]
    assert "Secretname" not in preview.params["text"]
    buttons = json.dumps(preview.params["reply_markup"])
    assert "Post to Second group" in buttons and "Post to Volunteers" in buttons
    assert (await harness.service.status(None)).total == 0, "nothing posted before the choice"

    await harness.pick_group(-555)  # a group the bot is not in
    assert harness.last_answer()["text"] == "This button is not valid."
    await harness.pick_group(-1002, sender=user(5))  # not a coordinator
    assert harness.last_answer()["text"] == "This button is not valid."
    assert (await harness.service.status(None)).total == 0

    await harness.pick_group(-1002)
    assert int(harness.api.of("sendMessage")[-2].params["chat_id"]) == -1002
    assert "Posted need #1 to Second group" in harness.private_texts(COORDINATOR_ID)[-1]
    # A double tap, or the other group's button, posts nothing more.
    await harness.pick_group(-1002)
    await harness.pick_group(GROUP_ID)
    assert (await harness.service.status(None)).total == 1


async def test_private_posting_steps_keep_their_order_under_concurrent_processing(tmp_path):
    config = make_config(tmp_path, telegram={"concurrent_updates": 16})
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        await app.bot_data[runtime.SERVICE].group_seen(GROUP_ID, "Volunteers")
        chat = private_chat(COORDINATOR_ID)
        steps = ["/post", "Needs rice", "Grandma Wang Secretname", "-", "-", "-", "-"]
        # All queued at once, as after a reconnect: they must still be taken in order.
        for text in steps:
            await app.update_queue.put(message_update(app.bot, COORDINATOR, chat, text))
        for _ in range(300):
            texts = api.texts_to(COORDINATOR_ID)
            if texts and texts[-1].startswith("The group will see"):
                break
            await asyncio.sleep(0.01)
        preview = api.texts_to(COORDINATOR_ID)[-1]
        assert "Needs rice" in preview and "Secretname" not in preview


async def test_private_posting_by_volunteer_is_refused(harness):
    await harness.private(user(5), "/post")
    assert harness.private_texts(5)[-1] == "Only coordinators can do that."
    await harness.private(user(5), "some text")
    assert (await harness.service.status(None)).total == 0


async def test_private_posting_cancel(harness):
    await harness.private(COORDINATOR, "/post")
    await harness.private(COORDINATOR, "summary")
    await harness.private(COORDINATOR, "/cancel")
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Cancelled")
    assert (await harness.service.status(None)).total == 0


async def test_unknown_command_and_languages(harness):
    await harness.private(user(5), "/frobnicate")
    assert "don't know that command" in harness.private_texts(5)[-1]
    await harness.group_command(user(5), "/frobnicate")
    assert "don't know that command" in harness.api.texts_to(GROUP_ID)[-1]
    # A bare command in a group may be for someone else: no answer, no group message spent.
    sent = len(harness.api.texts_to(GROUP_ID))
    await harness.send(message_update(harness.app.bot, user(5), group_chat(), "/weather Beijing"))
    assert len(harness.api.texts_to(GROUP_ID)) == sent
    before = len(harness.api.calls)
    await harness.send(
        message_update(harness.app.bot, user(5), private_chat(5), "/other@some_other_bot")
    )
    assert len(harness.api.calls) == before
    await harness.private(user(9, language_code="zh-hans"), "/help")
    assert "我能做什么" in harness.private_texts(9)[-1]
    await harness.private(user(5), "/lang zh")
    await harness.private(user(5), "/status")
    assert "需求共" in harness.private_texts(5)[-1]
    await harness.private(user(5), "/lang fr")
    assert harness.private_texts(5)[-1].startswith("用法")


async def test_team_is_shown_on_the_card(harness):
    card = await harness.post_card()
    await harness.private(COORDINATOR, "/team add Party Branch No. 3")
    await harness.private(user(5, "Alice"), "/team party branch no. 3")
    assert "Party Branch No. 3" in harness.private_texts(5)[-1]
    await harness.tap_card(user(5, "Alice"), card)
    assert (
        "Claimed by Alice (Party Branch No. 3)"
        in (harness.api.of("editMessageText")[-1].params["text"])
    )


async def test_private_details_never_reach_group_buttons_or_logs(harness, caplog, quiet_logs):
    configure_logging("DEBUG", secrets=[TOKEN])
    caplog.set_level(logging.DEBUG)
    await harness.post_private(
        "Household with a disabled member",
        "Grandma Wang Secretname",
        "7 Hidden Lane, Room 302",
        "13800001234",
        "diabetic, uses a wheelchair",
        "knock twice",
    )
    card = harness.api.of("sendMessage")[-2]
    harness.api.unreachable.add(6)
    await harness.tap_card(user(6, "Bob"), card)  # 403 path, logged
    await harness.private(user(6, "Bob"), "/start d_1")
    await harness.private(user(6, "Bob"), "/release")
    await harness.tap_card(user(5, "Alice"), card)
    await harness.group_command(user(5), "/mine")
    await harness.group_command(COORDINATOR, "/show 1")

    for call in harness.api.calls:
        chat_id = int(call.params.get("chat_id", 0) or 0)
        dumped = json.dumps(call.params, ensure_ascii=False, default=str)
        if chat_id < 0 or call.method == "answerCallbackQuery":
            assert not any(secret in dumped for secret in SECRETS), call
        for row in (
            json.loads(json.dumps(call.params.get("reply_markup") or "{}")).get(
                "inline_keyboard", []
            )
            if isinstance(call.params.get("reply_markup"), dict)
            else []
        ):
            for button in row:
                data = button.get("callback_data", "")
                assert len(data.encode()) <= 64 and data.isascii()
    assert any("Secretname" in t for t in harness.private_texts(6))  # delivered privately
    assert caplog.records, "the flow logged something"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(secret in logged for secret in SECRETS)
    assert TOKEN not in logged


async def test_fairness_with_concurrent_update_processing(tmp_path):
    config = make_config(tmp_path, telegram={"concurrent_updates": 16})
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        svc = app.bot_data[runtime.SERVICE]
        await svc.group_seen(GROUP_ID, "Volunteers")
        await app.process_update(command_in_group(app.bot, COORDINATOR, "/post rice"))
        await app.bot_data[runtime.CARDS].drain()  # the card goes out in the background
        card_id = api.of("sendMessage")[-1].result["message_id"]
        taps = [tap_update(app.bot, user(3000 + i), "c:1", card_id) for i in range(200)]
        for update in taps:
            await app.update_queue.put(update)
        for _ in range(500):
            if len(api.of("answerCallbackQuery")) == 200:
                break
            await asyncio.sleep(0.01)
        answers = api.of("answerCallbackQuery")
        assert len(answers) == 200, "every tapper got an answer"
        need = await needs.get(svc.db, 1)
        assert need.holder.user_id == 3000, "the earliest delivered tap won"
        won = [a for a in answers if a.params["text"].startswith("It's yours")]
        assert len(won) == 1


async def test_first_come_holds_for_new_people_among_known_ones(tmp_path):
    """A newcomer's tap is not overtaken by later taps of people the bot already knows,
    nor by other updates that must be recorded first."""
    config = make_config(tmp_path, telegram={"concurrent_updates": 16})
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        svc = app.bot_data[runtime.SERVICE]
        await svc.group_seen(GROUP_ID, "Volunteers")
        for i in range(1, 40):
            await app.process_update(
                message_update(app.bot, user(4000 + i), private_chat(4000 + i), "/start")
            )
        for n in range(3):
            await app.process_update(command_in_group(app.bot, COORDINATOR, f"/post need {n}"))
        await app.bot_data[runtime.CARDS].drain()
        cards = [c.result["message_id"] for c in api.of("sendMessage")[-3:]]
        updates = []
        for n, card_id in enumerate(cards):
            # A newcomer first, then people the bot knows (one renamed), with /start and
            # /help from others mixed in.
            updates.append(tap_update(app.bot, user(5000 + n), f"c:{n + 1}", card_id))
            for i in range(1, 13):
                sender = 4000 + n * 13 + i
                name = "Renamed" if i == 1 else None
                updates.append(tap_update(app.bot, user(sender, name), f"c:{n + 1}", card_id))
                updates.append(
                    message_update(app.bot, user(6000 + i), private_chat(6000 + i), "/start")
                )
        for update in updates:
            await app.update_queue.put(update)
        for _ in range(500):
            if len(api.of("answerCallbackQuery")) == 3 * 13:
                break
            await asyncio.sleep(0.01)
        assert len(api.of("answerCallbackQuery")) == 3 * 13
        for n in range(3):
            assert (await needs.get(svc.db, n + 1)).holder.user_id == 5000 + n


async def test_a_card_left_stale_by_a_stop_is_corrected_at_start(harness, config):
    card = await harness.post_card()
    # A claim recorded while no bot listened (as if it stopped before editing the card).
    async with Database(config.database.path) as elsewhere:
        await PairingService(elsewhere, config).claim(1, actor(5, "Alice"))
    await harness.tap_card(user(6, "Bob"), card)
    assert harness.last_answer()["text"] == "Already claimed by Alice."
    assert harness.api.of("editMessageText") == [], "a tap does not edit cards"
    keeper = harness.app.bot_data[runtime.CARDS]
    await keeper.catch_up()
    await keeper.drain()
    assert "Claimed by Alice" in harness.api.of("editMessageText")[-1].params["text"]
    await keeper.catch_up()
    await keeper.drain()
    assert len(harness.api.of("editMessageText")) == 1, "a current card costs no edit"


async def test_any_change_to_a_need_reaches_its_card(harness):
    card = await harness.post_card()
    await harness.service.claim(1, actor(5, "Alice"))  # no handler involved
    await harness.app.bot_data[runtime.CARDS].drain()
    assert "Claimed by Alice" in harness.api.of("editMessageText")[-1].params["text"]
    await harness.group_command(user(5, "Alice Wu"), "/status")  # her name changed
    assert "Claimed by Alice Wu" in harness.api.of("editMessageText")[-1].params["text"]
    await harness.service.free(1, COORDINATOR_ID)
    await harness.app.bot_data[runtime.CARDS].drain()
    last = harness.api.of("editMessageText")[-1].params
    assert last["message_id"] == card.result["message_id"] and "Claim" in str(last)
    assert len(harness.api.of("editMessageText")) == 3


async def test_a_group_made_a_supergroup_takes_its_needs_and_cards_along(harness):
    open_card = await harness.post_card("open need")
    held_card = await harness.post_card("held need")
    await harness.tap_card(user(5, "Alice"), held_card)
    supergroup = GROUP_ID - 1
    harness.api.migrated[GROUP_ID] = supergroup
    await harness.send(migration_update(harness.app.bot, GROUP_ID, supergroup))
    await harness.app.bot_data[runtime.CARDS].drain()
    reposted = [c for c in harness.api.of("sendMessage") if c.params["chat_id"] == supergroup]
    assert sorted(c.params["text"].split("\n")[1] for c in reposted) == ["held need", "open need"]
    for need_id in (1, 2):
        need = await harness.service.need(need_id)
        assert need.chat_id == supergroup and need.card_message_id is not None
    assert [g.chat_id for g in await harness.service.groups()] == [supergroup]
    # A tap on the new card counts; the old card's button claims nothing.
    new_open = next(c for c in reposted if "open need" in c.params["text"])
    await harness.tap_card(user(6, "Bob"), open_card)
    assert harness.last_answer()["text"] != "You claimed it."
    assert (await harness.service.need(1)).holder is None
    await harness.send(
        tap_update(
            harness.app.bot,
            user(6, "Bob"),
            "c:1",
            new_open.result["message_id"],
            chat={"id": supergroup, "type": "supergroup", "title": "Volunteers"},
        )
    )
    assert (await harness.service.need(1)).holder.user_id == 6


async def test_a_card_edit_refused_as_migrated_moves_the_group(harness):
    await harness.post_card("open need")
    supergroup = GROUP_ID - 1
    harness.api.migrated[GROUP_ID] = supergroup
    await harness.service.claim(1, actor(5, "Alice"))  # its card edit meets the migration
    keeper = harness.app.bot_data[runtime.CARDS]
    await keeper.drain()
    need = await harness.service.need(1)
    assert need.chat_id == supergroup
    moved = [c for c in harness.api.of("sendMessage") if c.params["chat_id"] == supergroup]
    assert len(moved) == 1 and "Claimed by Alice" in moved[0].params["text"]
    assert need.card_message_id == moved[0].result["message_id"]


async def test_delivery_waits_out_429_and_retries_network_faults(monkeypatch):
    from datetime import timedelta

    from telegram.error import NetworkError, RetryAfter

    from bot import delivery

    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(delivery.asyncio, "sleep", fake_sleep)
    failures = [RetryAfter(timedelta(seconds=3)), NetworkError("connection reset")]

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    assert await delivery.with_retries(flaky, "test") == "sent"
    assert sleeps == [3.0, 0.5]

    async def always_down() -> str:
        raise NetworkError("down")

    with pytest.raises(NetworkError):
        await delivery.with_retries(always_down, "test")


async def test_a_claim_from_any_other_message_is_refused(harness):
    await harness.service.group_seen(-1002, "Other group")
    card = await harness.post_card()
    # Forged c:1 on a message in the tapper's own private chat, and on another group's message.
    await harness.send(tap_update(harness.app.bot, user(5), "c:1", 77, chat=private_chat(5)))
    assert harness.last_answer()["text"] == "This button is not valid."
    other = {"id": -1002, "type": "supergroup", "title": "Other group"}
    await harness.send(tap_update(harness.app.bot, user(5), "c:1", 77, chat=other))
    assert harness.last_answer()["text"] == "This button is not valid."
    # The right group but not the card.
    await harness.tap(user(5), "c:1", message_id=card.result["message_id"] + 50)
    assert harness.last_answer()["text"] == "This button is not valid."
    assert (await harness.service.need(1)).holder is None
    assert "paired" not in " ".join(harness.private_texts(5))


async def test_already_yours_links_to_the_details_again(harness):
    card = await harness.post_card()
    await harness.tap_card(user(5, "Alice"), card)
    await harness.tap_card(user(5, "Alice"), card)
    answer = harness.last_answer()
    assert answer["text"] == "You already hold this one."
    assert answer["url"] == f"https://t.me/{BOT_USERNAME}?start=d_1"


async def test_known_reachable_winner_is_answered_before_the_details_are_sent(harness):
    card = await harness.post_card()
    await harness.private(user(5, "Alice"), "/start")
    await harness.tap_card(user(5, "Alice"), card)
    methods = [c.method for c in harness.api.calls]
    answer_at = methods.index("answerCallbackQuery")
    details_at = max(
        i
        for i, c in enumerate(harness.api.calls)
        if c.method == "sendMessage" and "paired" in str(c.params.get("text"))
    )
    assert answer_at < details_at


async def test_username_belongs_to_whoever_shows_it_now(harness):
    card = await harness.post_card()
    old_owner = {**user(5, "Old Owner"), "username": "alice"}
    new_owner = {**user(9, "New Alice"), "username": "alice"}
    await harness.private(old_owner, "/start")
    await harness.private(new_owner, "/start")
    await harness.private(COORDINATOR, "/reassign 1 @alice")
    assert harness.private_texts(COORDINATOR_ID)[-1] == "Need #1 is now held by New Alice."
    assert (await harness.service.need(1)).holder.user_id == 9
    assert int(card.params["chat_id"]) == GROUP_ID


async def test_sends_are_not_repeated_after_an_ambiguous_failure_and_answers_skip_429s():
    from datetime import timedelta

    import httpx
    from telegram.error import RetryAfter, TimedOut

    from bot import delivery

    class Bot:
        sent = 0

        async def send_message(self, *args, **kwargs):
            self.sent += 1
            try:
                raise httpx.ReadTimeout("answer lost")
            except httpx.ReadTimeout as exc:
                raise TimedOut() from exc  # Telegram may have delivered it

    bot = Bot()
    assert await delivery.send_private(bot, 5, "details") is delivery.Delivery.FAILED
    assert bot.sent == 1, "a send that may have arrived is not sent again"

    calls = []

    async def answer():
        calls.append(1)
        raise RetryAfter(timedelta(seconds=5))

    with pytest.raises(RetryAfter):
        await delivery.with_retries(answer, "tap answer", wait_out_429=False)
    assert calls == [1]


async def test_two_posts_of_one_need_go_one_after_the_other(harness):
    card = await harness.post_card()
    keeper = harness.app.bot_data[runtime.CARDS]
    first, second = await asyncio.gather(keeper.post(1), keeper.post(1))
    assert first.message_id != second.message_id
    assert (await harness.service.need(1)).card_message_id == second.message_id
    await keeper.posted(1)  # returns: nothing left under way
    assert keeper._posting == {}
    assert card.result["message_id"] != second.message_id


async def test_a_tap_is_answered_in_the_language_its_tapper_chose(harness):
    card = await harness.post_card()
    await harness.tap_card(user(5, "Alice"), card)
    await harness.tap_card(user(6, "Bob"), card)  # the need is now kept as settled
    assert harness.last_answer()["text"] == "Already claimed by Alice."
    await harness.private(user(6, "Bob"), "/lang zh")
    await harness.tap_card(user(6, "Bob"), card)
    assert harness.last_answer()["text"] == "已被 Alice 认领。"


async def test_replies_in_a_group_speak_the_groups_language(harness):
    chinese = user(7, "Wang", language_code="zh-hans")
    await harness.group_command(chinese, "/status")
    assert harness.api.texts_to(GROUP_ID)[-1].startswith("<b>Needs: 0</b>")
    await harness.group_command(chinese, "/mine")
    assert harness.api.texts_to(GROUP_ID)[-1].startswith("You hold no needs yet")
    await harness.group_command(chinese, "/release 1x")
    assert all("需求" not in text and "您" not in text for text in harness.api.texts_to(GROUP_ID))
    # In private, the same person is answered in their own language.
    await harness.private(chinese, "/mine")
    assert harness.private_texts(7)[-1].startswith("您还没有结对")


async def test_command_menus_for_everyone_and_for_coordinators(harness):
    menus = harness.api.of("setMyCommands")

    def names(call):
        commands = call.params["commands"]
        commands = json.loads(commands) if isinstance(commands, str) else commands
        return [c["command"] for c in commands]

    scoped = [c for c in menus if "scope" in c.params]
    assert len(scoped) == 1, "one menu per coordinator"
    assert {"post", "remind", "export", "visit"} <= set(names(scoped[0]))
    for call in menus:
        if call not in scoped:
            assert "visit" in names(call) and "post" not in names(call)


async def test_a_release_delivered_before_a_tap_is_decided_before_it(harness):
    card = await harness.post_card("Household")
    alice, bob = user(5, "Alice"), user(6, "Bob")
    await harness.tap_card(alice, card)  # Alice holds need #1, pairing 1
    await harness.tap_card(bob, card)  # the need is now kept as settled
    bot = harness.app.bot
    release = tap_update(bot, alice, "r:1", chat=private_chat(5))
    bobs_tap = tap_update(bot, bob, claim_button(card), card.result["message_id"])
    # Delivered in this order and handled concurrently, as with concurrent_updates.
    await asyncio.gather(harness.app.process_update(release), harness.app.process_update(bobs_tap))
    assert (await harness.service.need(1)).holder.user_id == 6, harness.answers()[-2:]


async def test_a_release_with_no_number_delivered_before_a_tap_is_decided_before_it(harness):
    card = await harness.post_card("Household")
    alice, bob = user(5, "Alice"), user(6, "Bob")
    await harness.tap_card(alice, card)
    await harness.tap_card(bob, card)  # the need is now kept as settled
    bot = harness.app.bot
    release = message_update(bot, alice, private_chat(5), "/release")
    bobs_tap = tap_update(bot, bob, claim_button(card), card.result["message_id"])
    await asyncio.gather(harness.app.process_update(release), harness.app.process_update(bobs_tap))
    assert (await harness.service.need(1)).holder.user_id == 6, harness.answers()[-1:]
    assert harness.private_texts(5)[-1].startswith("You released need #1")
    # Someone holding two is asked which; someone holding none is told so.
    await harness.post_card("Second household")
    await harness.tap_card(bob, harness.api.of("sendMessage")[-1])
    await harness.private(bob, "/release")
    assert "#1, #2" in harness.private_texts(6)[-1]
    await harness.private(user(7, "Carol"), "/release")
    assert harness.private_texts(7)[-1] == "You hold no needs."


async def test_a_reassignment_delivered_before_a_tap_is_decided_before_it(harness):
    card = await harness.post_card("Household")
    alice, bob, carol = user(5, "Alice"), user(6, "Bob"), user(7, "Carol")
    await harness.tap_card(alice, card)
    await harness.private(carol, "/start")
    bot = harness.app.bot
    reassign = command_in_group(bot, COORDINATOR, "/reassign 1 7")
    bobs_tap = tap_update(bot, bob, claim_button(card), card.result["message_id"])
    await asyncio.gather(
        harness.app.process_update(reassign), harness.app.process_update(bobs_tap)
    )
    assert (await harness.service.need(1)).holder.user_id == 7
    assert harness.last_answer()["text"] == "Already claimed by Carol."
