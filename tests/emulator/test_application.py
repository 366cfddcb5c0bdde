"""A real python-telegram-bot Application polling the emulator while people use it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.emulator import BotApiEmulator, Limits

GROUP = -1001234


async def post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    need = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("I'll do it", callback_data="c:1")]])
    await update.effective_message.reply_text(f"Need: {need}", reply_markup=keyboard)


async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("Yours!")
    # Both taps edit to the same text: the second is "message is not modified".
    with contextlib.suppress(BadRequest):
        await query.edit_message_text("Need: claimed")


@pytest.fixture
def limits() -> Limits:
    return Limits(enabled=False)


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    application.add_handler(CommandHandler("post", post))
    application.add_handler(CallbackQueryHandler(claim, pattern=r"^c:\d+$"))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def test_post_and_claim_through_polling(
    emu: BotApiEmulator,
    app: Application,  # type: ignore[type-arg]
) -> None:
    group = emu.group(GROUP, "Volunteers")
    alice = emu.user(1001, "Alice", username="alice")
    bob = emu.user(1002, "Bob")

    await alice.send(group, "/post@claimbot_demo_bot Rice and oil")
    card = await emu.wait_for_message(group, "Need: Rice and oil", timeout=5)
    assert card.reply_to is not None and card.buttons[0][0]["callback_data"] == "c:1"

    taps = await asyncio.gather(bob.tap(card, "c:1"), alice.tap(card, "c:1"))
    answers = [await emu.wait_callback_answer(query_id, timeout=5) for query_id in taps]
    assert [answer["text"] for answer in answers] == ["Yours!", "Yours!"]
    await emu.wait_for(lambda: emu.count("editMessageText") == 2, timeout=5)
    assert card.text == "Need: claimed" and card.edit_count == 1
    assert card.reply_markup is None
    assert emu.count("editMessageText", 400) == 1
    assert emu.count("getUpdates", 409) == 0

    # Commands addressed to another bot are not this bot's business.
    await alice.send(group, "/post@other_bot Flour")
    await alice.send(group, "/post Tea")
    await emu.wait_for_message(group, "Need: Tea", timeout=5)
    assert [message.text for message in group.messages()] == ["Need: claimed", "Need: Tea"]
