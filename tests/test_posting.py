"""Posting needs: the private form's loose ends, private data in summaries, drafts in SQLite."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Bot, Update

from bot import runtime
from bot.app import build_application, running
from bot.config import Config
from bot.domain import PrivateDetails
from storage import drafts, needs
from storage.drafts import Draft
from tests.factories import (
    COORDINATOR_ID,
    GROUP_ID,
    group_chat,
    message_update,
    private_chat,
    tap_update,
    user,
)
from tests.fakes import FakeBotApi
from tests.test_handlers import COORDINATOR, Harness

PHONE = "138 0000 1234"
_ids = itertools.count(900_000)

# What Telegram sends for things other than text (the fields the Bot API requires).
ATTACHMENTS: dict[str, dict[str, Any]] = {
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9}]},
    "sticker": {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "u2",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2}},
    "document": {"document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "list.xlsx"}},
    "location": {"location": {"latitude": 30.5, "longitude": 114.3}},
}


@contextlib.asynccontextmanager
async def started(config: Config) -> AsyncIterator[Harness]:
    """The bot started on ``config``'s database, as ``claimbot run`` would, on a fake Bot API."""
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False)
    async with running(app, polling=False):
        await app.bot_data[runtime.SERVICE].group_seen(GROUP_ID, "Volunteers")
        yield Harness(app, api)


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    async with started(config) as harness:
        yield harness


def attachment_update(bot: Bot, sender: dict[str, Any], content: dict[str, Any]) -> Update:
    """A private message carrying something other than text."""
    message = {
        "message_id": next(_ids),
        "date": int(datetime.now(UTC).timestamp()),
        "chat": private_chat(sender["id"]),
        "from": sender,
        **content,
    }
    update = Update.de_json({"update_id": next(_ids), "message": message}, bot)
    assert update is not None
    return update


def buttons(call: Any) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def tap_private(harness: Harness, data: str, sender: dict[str, Any] = COORDINATOR) -> None:
    chat = private_chat(sender["id"])
    await harness.send(tap_update(harness.app.bot, sender, data, chat=chat))


# 1. Anything but text while the private form runs.


@pytest.mark.parametrize("kind", sorted(ATTACHMENTS))
async def test_non_text_during_the_form_is_answered_and_changes_nothing(harness, kind):
    await harness.private(COORDINATOR, "/post")
    await harness.private(COORDINATOR, "Lonely elder needs rice")
    before = await harness.service.draft(COORDINATOR_ID)
    await harness.send(attachment_update(harness.app.bot, COORDINATOR, ATTACHMENTS[kind]))
    assert harness.private_texts(COORDINATOR_ID)[-1] == "Please answer with text, or /cancel."
    after = await harness.service.draft(COORDINATOR_ID)
    assert after == before, "the draft is as it was"

    for answer in ("Grandma Wang Secretname", "-", "-", "-", "-"):
        await harness.private(COORDINATOR, answer)
    await harness.pick_group(GROUP_ID)
    need = await harness.service.need(1)
    assert need.summary == "Lonely elder needs rice"
    assert (await needs.details(harness.service.db, 1)).name == "Grandma Wang Secretname"


async def test_non_text_with_no_form_running_gets_no_answer(harness):
    before = len(harness.api.calls)
    await harness.send(attachment_update(harness.app.bot, user(5), ATTACHMENTS["sticker"]))
    assert len(harness.api.calls) == before


# 2. Plain text outside any conversation.


async def test_plain_text_in_private_points_to_help(harness):
    await harness.private(user(5), "hello?")
    assert harness.private_texts(5) == ["Send /help to see what I can do."]
    await harness.private(user(9, language_code="zh-hans"), "你好")
    assert harness.private_texts(9) == ["发送 /help 查看我能做什么。"]
    # Not an unknown command: that answer is for commands.
    assert "don't know that command" not in harness.api.everything_sent()


async def test_plain_text_in_a_group_gets_no_answer(harness):
    before = len(harness.api.calls)
    await harness.send(message_update(harness.app.bot, user(5), group_chat(), "hello bot"))
    await harness.send(message_update(harness.app.bot, COORDINATOR, group_chat(), "rice is here"))
    assert harness.api.calls[before:] == []


# 3. /help.


@pytest.mark.parametrize(
    ("language_code", "cancel", "release"),
    [
        ("en", "/cancel: drop a need being written", "/release [number]"),
        ("zh", "/cancel：", "/release [编号]"),
    ],
)
async def test_help_lists_cancel_for_coordinators_and_release_with_optional_number(
    harness, language_code, cancel, release
):
    await harness.private({**COORDINATOR, "language_code": language_code}, "/help")
    coordinator_help = harness.private_texts(COORDINATOR_ID)[-1]
    assert cancel in coordinator_help and release in coordinator_help
    await harness.private(user(5, language_code=language_code), "/help")
    volunteer_help = harness.private_texts(5)[-1]
    assert release in volunteer_help and "/cancel" not in volunteer_help


# 4. Private data in a public summary.


async def test_group_post_with_a_phone_is_refused_and_told_privately(harness):
    await harness.group_command(COORDINATOR, f"/post Elder <Dongfeng>, call {PHONE}")
    assert (await harness.service.status(None)).total == 0
    assert harness.api.texts_to(GROUP_ID) == [], "nothing in the group, not even a refusal"
    told = harness.private_texts(COORDINATOR_ID)[-1]
    assert "did not post" in told and f"mobile number: <code>{PHONE}</code>" in told
    assert "Elder &lt;Dongfeng&gt;" in told, "the summary comes back, escaped"
    assert harness.api.of("deleteMessage"), "the command with the number leaves the group"


async def test_group_post_with_private_data_when_the_coordinator_is_unreachable(harness):
    harness.api.unreachable.add(COORDINATOR_ID)
    await harness.group_command(COORDINATOR, "/post Widow, 3号楼2单元501室, ID 11010119900307123X")
    assert (await harness.service.status(None)).total == 0
    (answer,) = harness.api.texts_to(GROUP_ID)
    assert "looks like it contains private data" in answer and "/post" in answer
    group_calls = [c for c in harness.api.calls if int(c.params.get("chat_id", 0) or 0) < 0]
    dumped = json.dumps([c.params for c in group_calls], ensure_ascii=False)
    assert "501" not in dumped and "123X" not in dumped, "what was found is never repeated"
    assert not harness.api.of("deleteMessage"), "kept: the coordinator has no other copy"


async def test_an_ordinary_group_post_still_goes_straight_out(harness):
    card = await harness.post_card("需要大米和食用油，3袋")
    assert int(card.params["chat_id"]) == GROUP_ID


async def drafted_with_phone(harness: Harness) -> Any:
    await harness.private(COORDINATOR, "/post")
    await harness.private(COORDINATOR, f"Elder <Dongfeng>, call {PHONE}")
    return harness.api.of("sendMessage")[-1]


async def test_private_form_shows_what_was_found_and_can_move_it_out(harness):
    question = await drafted_with_phone(harness)
    text = question.params["text"]
    assert f"mobile number: <code>{PHONE}</code>" in text
    assert buttons(question) == ["pv:m", "pv:k"]
    assert (await harness.service.status(None)).total == 0

    await tap_private(harness, "pv:m")
    assert harness.last_answer().get("text") is None
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Send the public summary again")
    await tap_private(harness, "pv:k")  # the question is answered: its buttons are stale
    assert harness.last_answer()["text"] == "This button is not valid."

    await harness.private(COORDINATOR, "Elder in Dongfeng needs rice")
    await harness.private(COORDINATOR, "Grandma Wang Secretname")
    for _ in range(3):
        await harness.private(COORDINATOR, "-")
    await harness.private(COORDINATOR, PHONE)  # in the notes, where it belongs
    await harness.pick_group(GROUP_ID)
    need = await harness.service.need(1)
    assert need.summary == "Elder in Dongfeng needs rice"
    assert (await needs.details(harness.service.db, 1)).notes == PHONE
    assert PHONE not in "".join(harness.api.texts_to(GROUP_ID))


async def test_private_form_can_post_the_summary_as_is(harness):
    question = await drafted_with_phone(harness)
    assert buttons(question) == ["pv:m", "pv:k"], "asked before going on"
    await tap_private(harness, "pv:k")
    assert harness.last_answer().get("text") is None
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Private: the household's name")
    for _ in range(5):
        await harness.private(COORDINATOR, "-")
    preview = harness.private_texts(COORDINATOR_ID)[-1]
    assert preview.startswith("The group will see only this:") and PHONE in preview
    await harness.pick_group(GROUP_ID)
    assert (await harness.service.need(1)).summary == f"Elder <Dongfeng>, call {PHONE}"


async def test_private_form_typing_a_new_summary_answers_the_question(harness):
    await drafted_with_phone(harness)
    await harness.private(COORDINATOR, "Elder in Dongfeng needs rice")
    assert harness.private_texts(COORDINATOR_ID)[-1].startswith("Private: the household's name")
    draft = await harness.service.draft(COORDINATOR_ID)
    assert draft.summary == "Elder in Dongfeng needs rice" and draft.step == "name"


@pytest.mark.parametrize("data", ["pv:x", "pv:", "pv:kk", "pv:k\n"])
async def test_forged_privacy_buttons_change_nothing(harness, data):
    await drafted_with_phone(harness)
    before = await harness.service.draft(COORDINATOR_ID)
    assert before.step == "summary_check"
    await tap_private(harness, data)
    assert harness.last_answer()["text"] == "This button is not valid."
    assert await harness.service.draft(COORDINATOR_ID) == before


async def test_privacy_buttons_of_someone_else_or_out_of_step_do_nothing(harness):
    await drafted_with_phone(harness)
    await tap_private(harness, "pv:k", sender=user(5))
    assert harness.last_answer()["text"] == "This button is not valid."
    assert (await harness.service.draft(COORDINATOR_ID)).step == "summary_check"
    await harness.private(COORDINATOR, "/cancel")
    await tap_private(harness, "pv:k")
    assert harness.last_answer()["text"] == "This button is not valid."
    assert await harness.service.draft(COORDINATOR_ID) is None


# 5. Drafts survive a restart.


async def test_a_draft_survives_a_restart(config):
    async with started(config) as before:
        await before.private(COORDINATOR, "/post")
        await before.private(COORDINATOR, "Lonely elder needs rice")
        await before.private(COORDINATOR, "Grandma Wang Secretname")
    async with started(config) as after:
        await after.private(COORDINATOR, "7 Hidden Lane, Room 302")
        assert after.private_texts(COORDINATOR_ID) == [
            "Private: the phone number. Send - to skip."
        ]
        for answer in ("-", "-", "knock twice"):
            await after.private(COORDINATOR, answer)
        await after.pick_group(GROUP_ID)
        assert "Posted need #1 to Volunteers" in after.private_texts(COORDINATOR_ID)[-1]
        need = await after.service.need(1)
        assert need.summary == "Lonely elder needs rice"
        details = await needs.details(after.service.db, 1)
        assert (details.name, details.address, details.notes) == (
            "Grandma Wang Secretname",
            "7 Hidden Lane, Room 302",
            "knock twice",
        )
        assert await after.service.draft(COORDINATOR_ID) is None, "posted: the draft is gone"


async def test_cancel_and_a_new_post_drop_the_stored_draft(harness):
    await harness.private(COORDINATOR, "/post")
    await harness.private(COORDINATOR, "first summary")
    await harness.private(COORDINATOR, "/post")
    draft = await harness.service.draft(COORDINATOR_ID)
    assert (draft.step, draft.summary) == ("summary", ""), "a fresh start"
    await harness.private(COORDINATOR, "/cancel")
    assert await harness.service.draft(COORDINATOR_ID) is None


async def test_drafts_storage_round_trip(db):
    now = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    assert await drafts.get(db, 7) is None
    draft = Draft(7, "phone", "needs rice", PrivateDetails(name="Secretname", address="Lane"))
    saved = await drafts.save(db, draft, now)
    assert saved.updated_at == now
    assert await drafts.get(db, 7) == saved
    later = await drafts.save(db, Draft(7), now)
    assert await drafts.get(db, 7) == later, "one draft a person: a new one replaces the old"
    assert await drafts.delete(db, 7) is True
    assert await drafts.delete(db, 7) is False
    assert await drafts.get(db, 7) is None
    assert "Secretname" not in repr(saved), "a stray log line of a draft leaks no detail"
