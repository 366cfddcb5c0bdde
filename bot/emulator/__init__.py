"""A local Telegram Bot API emulator for the demo, end-to-end tests and benchmarks.

The real python-telegram-bot ``Application`` talks to it over HTTP on loopback; tests drive
simulated people in-process and read back what the bot did::

    async with BotApiEmulator(token="123456:TEST", bot_username="claimbot_demo_bot") as emu:
        app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
        group = emu.group(chat_id=-1001234, title="Volunteers")
        alice = emu.user(user_id=1001, first_name="Alice", language_code="en")
        await alice.start_bot()
        await alice.send(group, "/post@claimbot_demo_bot Rice and oil")
        card = await emu.wait_for_message(group, "Rice")
        query_id = await alice.tap(card, card.callback_data[0])
        answer = await emu.wait_callback_answer(query_id)

Time: ``emu.clock`` follows the real clock and ``emu.clock.advance(16)`` jumps ahead (the 15 s
callback rule, the 48 h delete rule, flood windows); ``Clock.frozen()`` stands still instead,
which suits unit tests but not a running bot whose rate limiter waits in real time.

The modules, each importing only those above it: ``wire`` (JSON, ApiError, ApiCall),
``links``, ``timing``, ``formatting``; ``model`` (people, chats, messages), ``params``,
``updates``; ``world`` (the simulated Telegram and what its people do); ``checks`` and
``methods`` (the Bot API methods over a world); ``webhooks`` (updates pushed to the bot's
webhook); ``routes`` (HTTP); ``server``
(``BotApiEmulator``: a world served over HTTP, plus the call log and waiting for tests).
"""

from bot.emulator.formatting import EntityParseError, command_entities, parse_html, utf16_len
from bot.emulator.links import bot_link_payload
from bot.emulator.model import (
    Revision,
    SimCallbackQuery,
    SimChat,
    SimDocument,
    SimFile,
    SimMessage,
    SimUser,
)
from bot.emulator.server import BotApiEmulator
from bot.emulator.timing import Clock, Faults, Limits
from bot.emulator.wire import ApiCall, ApiError

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "Clock",
    "EntityParseError",
    "Faults",
    "Limits",
    "Revision",
    "SimCallbackQuery",
    "SimChat",
    "SimDocument",
    "SimFile",
    "SimMessage",
    "SimUser",
    "bot_link_payload",
    "command_entities",
    "parse_html",
    "utf16_len",
]
