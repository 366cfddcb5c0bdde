"""A local Telegram Bot API emulator for the demo, end-to-end tests and benchmarks.

The real python-telegram-bot ``Application`` talks to it over HTTP on loopback
(``ApplicationBuilder().base_url(emu.base_url)``); tests drive simulated people in-process.
"""

from bot.emulator.formatting import EntityParseError, command_entities, parse_html, utf16_len
from bot.emulator.model import ApiError, Revision, SimChat, SimDocument, SimMessage, SimUser
from bot.emulator.server import ApiCall, BotApiEmulator, SimCallbackQuery, bot_link_payload
from bot.emulator.timing import Clock, Faults, Limits

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
    "SimMessage",
    "SimUser",
    "bot_link_payload",
    "command_entities",
    "parse_html",
    "utf16_len",
]
