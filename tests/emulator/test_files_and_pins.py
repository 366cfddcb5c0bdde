"""What people send (documents, photos), getFile and downloads, and pins with the bot's rights,
through python-telegram-bot's own Bot as the real bot would call them."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot, ChatMemberAdministrator, Update
from telegram.error import BadRequest

from bot.config import config_from_mapping
from bot.emulator import BotApiEmulator
from tests.emulator.conftest import RawApi

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def drain(bot: Bot) -> None:
    """Confirm every pending update (a /start)."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


async def only_update(bot: Bot) -> Update:
    updates = await bot.get_updates()
    assert len(updates) == 1
    await bot.get_updates(offset=updates[0].update_id + 1)
    return updates[0]


async def test_a_person_sends_a_document_the_bot_downloads(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    await alice.start_bot()
    data = "household,needs\n王奶奶,rice\n".encode() + bytes(range(256))
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        await drain(bot)
        sent = await alice.send_document(data, "households 2027.xlsx", caption="the list")
        message = (await only_update(bot)).message
        assert message is not None and message.message_id == sent["message_id"]
        document = message.document
        assert document is not None and message.caption == "the list"
        assert document.file_name == "households 2027.xlsx"
        assert document.mime_type == XLSX, "guessed from the name, as Telegram apps do"
        assert document.file_size == len(data)
        assert document.file_id.startswith("BQAC") and document.file_unique_id
        file = await bot.get_file(document.file_id)
        assert file.file_path is not None and "/documents/file_" in file.file_path
        assert file.file_path.endswith(".xlsx")
        assert bytes(await file.download_as_bytearray()) == data


async def test_a_photo_comes_in_sizes_smallest_first(emu: BotApiEmulator) -> None:
    alice = emu.user(1001, "Alice")
    await alice.start_bot()
    jpeg = b"\xff\xd8\xff\xe0" + b"photo" * 100
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        await drain(bot)
        await alice.send_photo(jpeg, width=1600, height=1200, caption="visit")
        message = (await only_update(bot)).message
        assert message is not None and message.caption == "visit"
        sizes = message.photo
        assert [(size.width, size.height) for size in sizes] == [
            (90, 68),
            (320, 240),
            (800, 600),
            (1280, 960),
            (1600, 1200),
        ]
        assert len({size.file_id for size in sizes}) == len(sizes)
        assert all(size.file_id.startswith("AgAC") for size in sizes)
        largest = await bot.get_file(sizes[-1].file_id)
        assert largest.file_path is not None and "/photos/file_" in largest.file_path
        assert bytes(await largest.download_as_bytearray()) == jpeg
        # A photo is not a document: sending its file_id as one is refused, as Telegram does.
        with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
            await bot.send_document(alice.user_id, sizes[-1].file_id)


async def test_a_document_sent_in_a_group_and_one_the_bot_cannot_see(
    emu: BotApiEmulator, api: RawApi
) -> None:
    group = emu.group(-1001234, "Volunteers")
    bob = emu.user(1002, "Bob")
    await bob.send_document(b"a,b\n", "list.csv", chat=group)
    _, body = await api("getUpdates")
    (update,) = body["result"]
    assert update["message"]["chat"]["id"] == group.chat_id
    assert update["message"]["document"]["mime_type"] == "text/csv"
    emu.remove_bot(group)
    await bob.send_photo(b"jpeg", chat=group)
    _, body = await api("getUpdates", offset=update["update_id"] + 1)
    assert [u for u in body["result"] if "message" in u] == []
    with pytest.raises(ValueError, match="empty"):
        await bob.send_document(b"", "empty.csv")


async def test_get_file_refuses_unknown_ids_and_files_over_20_mb(
    emu: BotApiEmulator, api: RawApi
) -> None:
    alice = emu.user(1001, "Alice")
    await alice.start_bot()
    big = await alice.send_document(b"x" * (20 * 1024 * 1024 + 1), "big.bin")
    status, body = await api("getFile", file_id=big["document"]["file_id"])
    assert status == 400 and body["description"] == "Bad Request: file is too big"
    status, body = await api("getFile", file_id="BQACnothing")
    assert status == 400 and body["description"] == "Bad Request: invalid file_id"
    # A path not handed out by getFile is not served.
    async with httpx.AsyncClient() as client:
        missing = await client.get(f"{emu.base_file_url}{emu.token}/documents/file_1.bin")
    assert missing.status_code == 404


def test_the_file_url_follows_base_url_unless_set() -> None:
    def file_url(**telegram: str) -> str | None:
        return config_from_mapping({"telegram": telegram}, env={}).telegram.file_url

    assert file_url(base_url="http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url(base_url="http://h:1/bot/") == "http://h:1/file/bot"
    assert file_url(base_url="http://h:1/api", base_file_url="http://f/x") == "http://f/x"
    assert file_url(base_url="http://h:1/api") is None
    assert file_url() is None


async def test_pins_need_the_right_to_pin(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, "Volunteers")
    card = await bot.send_message(group.chat_id, "board")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage pinned messages"):
        await bot.pin_chat_message(group.chat_id, card.message_id)
    # Where every member may pin, so may the bot as a member.
    emu.set_permissions(group, can_pin_messages=True)
    assert await bot.pin_chat_message(group.chat_id, card.message_id)
    emu.set_permissions(group, can_pin_messages=False)
    # An administrator without the right to pin may not either, and getChatMember says so.
    emu.set_bot_admin(group, can_pin_messages=False)
    member = await bot.get_chat_member(group.chat_id, emu.bot_id)
    assert isinstance(member, ChatMemberAdministrator) and not member.can_pin_messages
    assert member.can_delete_messages
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.unpin_chat_message(group.chat_id)
    emu.set_bot_admin(group)
    assert await bot.unpin_chat_message(group.chat_id)
    # Each change of the bot's rights was told to it.
    updates = [u for u in await bot.get_updates() if u.my_chat_member is not None]
    assert [u.my_chat_member.new_chat_member.status for u in updates] == [  # type: ignore[union-attr]
        "administrator",
        "administrator",
    ]
    with pytest.raises(ValueError, match="not administrator rights"):
        emu.set_bot_admin(group, can_fly=True)


async def test_pinned_message_in_get_chat_and_the_service_message(
    bot: Bot, emu: BotApiEmulator
) -> None:
    group = emu.group(-1001234, "Volunteers", bot_admin=True)
    first = await bot.send_message(group.chat_id, "board one")
    second = await bot.send_message(group.chat_id, "board two")
    assert (await bot.get_chat(group.chat_id)).pinned_message is None
    assert await bot.pin_chat_message(group.chat_id, first.message_id, disable_notification=True)
    assert await bot.pin_chat_message(group.chat_id, second.message_id)
    chat = await bot.get_chat(group.chat_id)
    assert chat.pinned_message is not None and chat.pinned_message.text == "board two"
    assert chat.permissions is not None and not chat.permissions.can_pin_messages
    # Each pin left a service message, which is not among what the bot sent.
    notice = emu.message(group, second.message_id + 1)
    assert notice is not None and notice.pinned_message is not None
    assert notice.pinned_message.message_id == first.message_id
    assert [m.text for m in emu.messages(group)] == ["board one", "board two"]
    assert await bot.unpin_chat_message(group.chat_id)  # the newest
    chat = await bot.get_chat(group.chat_id)
    assert chat.pinned_message is not None and chat.pinned_message.text == "board one"
    assert await bot.unpin_all_chat_messages(group.chat_id)
    assert (await bot.get_chat(group.chat_id)).pinned_message is None


async def test_pins_count_against_the_groups_20_a_minute(bot: Bot, emu: BotApiEmulator) -> None:
    group = emu.group(-1001234, "Volunteers", bot_admin=True)
    sent = [await bot.send_message(group.chat_id, f"m{n}") for n in range(19)]
    assert await bot.pin_chat_message(group.chat_id, sent[0].message_id)
    status = emu.flood.retry_after(group.chat_id, True, emu.clock.now())
    assert status is not None, "19 messages and a pin fill the group's minute"
