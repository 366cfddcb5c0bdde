"""Telegram's rules and their exact error answers."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.emulator import BotApiEmulator, Clock, Limits, SimChat
from tests.emulator.conftest import RawApi

GROUP = -1001234
KEYBOARD = {"inline_keyboard": [[{"text": "Claim", "callback_data": "c:12"}]]}


@pytest.fixture
def limits() -> Limits:
    return Limits(enabled=False)


@pytest.fixture
def group(emu: BotApiEmulator) -> SimChat:
    return emu.group(GROUP, "Volunteers")


def bad(description: str) -> dict[str, object]:
    return {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


async def test_editing_to_the_same_content_is_not_modified(group: SimChat, api: RawApi) -> None:
    _, sent = await api(
        "sendMessage",
        chat_id=GROUP,
        text="<b>Rice</b>",
        parse_mode="HTML",
        reply_markup=json.dumps(KEYBOARD),
    )
    message_id = sent["result"]["message_id"]
    # Same text after parsing, same entities, same keyboard: Telegram refuses.
    status, body = await api(
        "editMessageText",
        chat_id=GROUP,
        message_id=message_id,
        text="<strong>Rice</strong>",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
    )
    assert status == 400
    assert body == bad(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    status, _ = await api(
        "editMessageReplyMarkup", chat_id=GROUP, message_id=message_id, reply_markup=KEYBOARD
    )
    assert status == 400
    # Dropping the keyboard is a change.
    status, _ = await api(
        "editMessageText",
        chat_id=GROUP,
        message_id=message_id,
        text="<b>Rice</b>",
        parse_mode="HTML",
    )
    assert status == 200
    assert group.messages()[0].reply_markup is None


async def test_editing_a_missing_message(group: SimChat, api: RawApi) -> None:
    status, body = await api("editMessageText", chat_id=GROUP, message_id=99, text="x")
    assert (status, body) == (400, bad("message to edit not found"))


async def test_text_length_counts_after_entity_parsing(group: SimChat, api: RawApi) -> None:
    status, body = await api("sendMessage", chat_id=GROUP, text="a" * 4097)
    assert (status, body) == (400, bad("message is too long"))
    assert (await api("sendMessage", chat_id=GROUP, text="a" * 4096))[0] == 200
    tagged = "<b>" + "a" * 4096 + "</b>"
    assert (await api("sendMessage", chat_id=GROUP, text=tagged, parse_mode="HTML"))[0] == 200
    escaped = "&lt;" * 4097
    status, body = await api("sendMessage", chat_id=GROUP, text=escaped, parse_mode="HTML")
    assert (status, body) == (400, bad("message is too long"))
    status, body = await api("sendMessage", chat_id=GROUP, text=" \n ")
    assert (status, body) == (400, bad("message text is empty"))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>Rice", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>Rice</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("1 < 2 <br>", 'Unsupported start tag "" at byte offset 2'),
        ("<marquee>hi</marquee>", 'Unsupported start tag "marquee" at byte offset 0'),
        ("hi</b>", "Unexpected end tag at byte offset 2"),
    ],
)
async def test_malformed_html_is_refused(
    group: SimChat, api: RawApi, text: str, error: str
) -> None:
    status, body = await api("sendMessage", chat_id=GROUP, text=text, parse_mode="HTML")
    assert (status, body) == (400, bad(f"can't parse entities: {error}"))
    assert group.messages() == []


async def test_forged_long_callback_data_is_refused(group: SimChat, api: RawApi) -> None:
    markup = {"inline_keyboard": [[{"text": "Claim", "callback_data": "c:" + "9" * 63}]]}
    status, body = await api("sendMessage", chat_id=GROUP, text="card", reply_markup=markup)
    assert (status, body) == (400, bad("BUTTON_DATA_INVALID"))
    # 64 bytes is the limit, counted in bytes: 32 two-byte characters fit, 33 do not.
    fits = {"inline_keyboard": [[{"text": "Claim", "callback_data": "é" * 32}]]}
    assert (await api("sendMessage", chat_id=GROUP, text="card", reply_markup=fits))[0] == 200
    over = {"inline_keyboard": [[{"text": "Claim", "callback_data": "é" * 33}]]}
    assert (await api("sendMessage", chat_id=GROUP, text="card", reply_markup=over))[0] == 400


@pytest.fixture
def clock() -> Clock:
    return Clock.frozen()


async def test_callback_answers_expire_after_15_seconds(
    emu: BotApiEmulator, group: SimChat, api: RawApi
) -> None:
    alice = emu.user(1001, "Alice")
    await api("sendMessage", chat_id=GROUP, text="card", reply_markup=KEYBOARD)
    card = group.messages()[0]
    on_time = await alice.tap(card, "c:12")
    late = await alice.tap_button(card, "Claim")
    emu.clock.advance(15)
    assert (await api("answerCallbackQuery", callback_query_id=on_time, text="ok"))[0] == 200
    emu.clock.advance(0.5)
    status, body = await api("answerCallbackQuery", callback_query_id=late)
    assert (status, body) == (
        400,
        bad("query is too old and response timeout expired or query ID is invalid"),
    )
    # Answered once is answered: a second answer is refused the same way.
    assert (await api("answerCallbackQuery", callback_query_id=on_time))[0] == 400
    assert (await api("answerCallbackQuery", callback_query_id="forged"))[0] == 400
    assert [q.query_id for q in emu.unanswered_callback_queries()] == [late]


async def test_callback_answer_urls_must_be_deep_links_to_this_bot(
    emu: BotApiEmulator, group: SimChat, api: RawApi
) -> None:
    alice = emu.user(1001, "Alice")
    await api("sendMessage", chat_id=GROUP, text="card", reply_markup=KEYBOARD)
    card = group.messages()[0]
    for url in (
        "https://t.me/other_bot?start=abc",
        "https://t.me/claimbot_demo_bot?start=" + "a" * 65,
        "https://t.me/claimbot_demo_bot?start=a+b",
        "https://example.org/",
    ):
        query_id = await alice.tap(card, "c:12")
        status, body = await api("answerCallbackQuery", callback_query_id=query_id, url=url)
        assert (status, body) == (400, bad("URL_INVALID")), url
    query_id = await alice.tap(card, "c:12")
    url = "https://t.me/claimbot_demo_bot?start=d-12_x"
    assert (await api("answerCallbackQuery", callback_query_id=query_id, url=url))[0] == 200
    assert (await emu.wait_callback_answer(query_id, timeout=1))["url"] == url


async def test_messages_can_be_deleted_for_48_hours(
    emu: BotApiEmulator, group: SimChat, api: RawApi
) -> None:
    for _ in range(2):
        await api("sendMessage", chat_id=GROUP, text="card")
    first, second = group.messages()
    emu.clock.advance(48 * 3600)
    assert (await api("deleteMessage", chat_id=GROUP, message_id=first.message_id))[0] == 200
    emu.clock.advance(1)
    status, body = await api("deleteMessage", chat_id=GROUP, message_id=second.message_id)
    assert (status, body) == (400, bad("message can't be deleted"))
    status, body = await api("deleteMessage", chat_id=GROUP, message_id=first.message_id)
    assert (status, body) == (400, bad("message to delete not found"))
    assert group.messages() == [second]
    assert group.messages(include_deleted=True) == [first, second]


async def test_a_bot_that_is_no_admin_cannot_delete_peoples_messages(
    emu: BotApiEmulator, group: SimChat, api: RawApi
) -> None:
    alice = emu.user(1001, "Alice")
    posted = await alice.send(group, "/post Rice")
    status, body = await api("deleteMessage", chat_id=GROUP, message_id=posted["message_id"])
    assert (status, body) == (400, bad("message can't be deleted"))
    emu.set_bot_admin(group)
    assert (await api("deleteMessage", chat_id=GROUP, message_id=posted["message_id"]))[0] == 200


async def test_command_entities_on_peoples_messages(emu: BotApiEmulator, group: SimChat) -> None:
    alice = emu.user(1001, "Alice")
    message = await alice.send(group, "/post@claimbot_demo_bot Rice and oil")
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    assert message["chat"] == {"id": GROUP, "type": "supergroup", "title": "Volunteers"}
    plain = await alice.send(group, "no command here")
    assert "entities" not in plain


async def test_wait_for_explains_a_timeout(emu: BotApiEmulator, group: SimChat) -> None:
    with pytest.raises(TimeoutError, match="never true") as raised:
        await emu.wait_for(lambda: group.messages(), timeout=0.05, what="never true")
    assert "pending updates: 0" in str(raised.value)


async def test_wait_for_wakes_on_change(emu: BotApiEmulator, group: SimChat, api: RawApi) -> None:
    waiting = asyncio.create_task(emu.wait_for_message(group, "Rice", timeout=2))
    await asyncio.sleep(0.01)
    await api("sendMessage", chat_id=GROUP, text="Rice and oil")
    message = await waiting
    assert message.text == "Rice and oil" and message.message_id == 1
