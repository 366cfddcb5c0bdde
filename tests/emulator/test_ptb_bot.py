"""python-telegram-bot's own Bot against the emulator: every answer parses, errors map right."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    MessageEntity,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest

from bot.emulator import BotApiEmulator

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("I'll do it", callback_data="c:12")]])


async def test_get_me(bot: Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert me.id == emu.bot_id == 123456
    assert me.username == "claimbot_demo_bot" and me.is_bot


async def test_send_edit_answer_round_trip(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, title="Volunteers")
    alice = emu.user(1001, "Alice", language_code="en", username="alice")

    sent = await bot.send_message(
        group.chat_id, "<b>Rice</b> &amp; oil", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert sent.text == "Rice & oil"
    assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 4),)
    assert sent.reply_markup == KEYBOARD
    assert sent.from_user is not None and sent.from_user.id == emu.bot_id
    assert sent.chat.type == "supergroup" and sent.chat.title == "Volunteers"

    query_id = await alice.tap(emu.messages(group)[0], "c:12")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "c:12"
    assert isinstance(query.message, Message) and query.message.reply_markup == KEYBOARD
    assert query.from_user.username == "alice"

    assert await bot.answer_callback_query(query_id, "Yours!", show_alert=True)
    answer = await emu.wait_callback_answer(query_id, timeout=1)
    assert answer["text"] == "Yours!" and answer["show_alert"] is True

    edited = await bot.edit_message_text(
        "Rice & oil — taken by Alice", chat_id=group.chat_id, message_id=sent.message_id
    )
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert edited.reply_markup is None, "editing text without a keyboard removes it"
    stored = emu.messages(group)[0]
    assert stored.edit_count == 1 and stored.text == "Rice & oil — taken by Alice"
    assert [revision.text for revision in stored.history] == [
        "Rice & oil",
        "Rice & oil — taken by Alice",
    ]
    assert await bot.edit_message_reply_markup(
        group.chat_id, sent.message_id, reply_markup=KEYBOARD
    )
    assert emu.messages(group)[0].callback_data == ["c:12"]


async def test_reply_pin_delete_and_chat_info(bot: Bot, emu: BotApiEmulator) -> None:
    owner = emu.user(7, "Olga")
    alice = emu.user(1001, "Alice")
    group = emu.group(-1001234, "Volunteers", owner=owner, bot_admin=True)
    group.make_admin(alice)
    asked = await alice.send(group, "/post@claimbot_demo_bot Rice")
    reply = await bot.send_message(
        group.chat_id, "Posted", reply_parameters=ReplyParameters(asked["message_id"])
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/post@claimbot_demo_bot Rice"

    assert await bot.pin_chat_message(group.chat_id, reply.message_id)
    assert emu.messages(group)[0].pinned
    assert await bot.unpin_chat_message(group.chat_id)
    assert not emu.messages(group)[0].pinned
    assert await bot.delete_message(group.chat_id, asked["message_id"])
    assert emu.message(group, asked["message_id"]).deleted  # type: ignore[union-attr]

    chat = await bot.get_chat(group.chat_id)
    assert chat.title == "Volunteers"
    assert isinstance(await bot.get_chat_member(group.chat_id, 7), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(group.chat_id, 1001), ChatMemberAdministrator)
    admins = await bot.get_chat_administrators(group.chat_id)
    assert [member.user.id for member in admins] == [7, 1001, emu.bot_id]
    stranger = emu.user(1002, "Bob")
    assert (await bot.get_chat_member(group.chat_id, stranger.user_id)).status == "left"
    await stranger.send(group, "hi")
    assert isinstance(await bot.get_chat_member(group.chat_id, 1002), ChatMemberMember)
    assert await bot.send_chat_action(group.chat_id, ChatAction.TYPING)


async def test_pinning_needs_admin_rights(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, "Volunteers")
    sent = await bot.send_message(group.chat_id, "card")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.pin_chat_message(group.chat_id, sent.message_id)


async def test_commands_and_menu(bot: Bot, emu: BotApiEmulator) -> None:
    commands = [BotCommand("post", "Post a need"), BotCommand("mine", "My claims")]
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands(commands, scope=scope, language_code="en")
    assert await bot.get_my_commands(scope=scope, language_code="en") == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert emu.commands({"type": "all_private_chats"}, "en")[0]["command"] == "post"
    assert await bot.delete_my_commands(scope=scope, language_code="en")
    assert await bot.get_my_commands(scope=scope, language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Post!", "bad")])
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)


async def test_send_document_multipart(bot: Bot, emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    await alice.start_bot()
    data = b"need,claimed_by\nrice,Alice\n" + bytes(range(256))
    sent = await bot.send_document(
        alice.user_id, data, filename="claims.csv", caption="<i>Claims</i>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "claims.csv"
    assert sent.document.file_size == len(data)
    assert sent.caption == "Claims" and sent.caption_entities[0].type == "italic"
    stored = emu.private_messages(alice)[0]
    assert stored.document is not None
    assert stored.document.data == data and stored.document.file_name == "claims.csv"

    # The file can be fetched back the way a bot downloads files.
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as other:
        file = await other.get_file(sent.document.file_id)
        assert bytes(await file.download_as_bytearray()) == data
