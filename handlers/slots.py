"""/slots: a coordinator sets how many volunteers a need takes (a cleaning day for three)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.domain import MAX_SLOTS, SlotsOutcome
from bot.i18n import t
from bot.runtime import Context, service
from bot.service import parse_need_number
from handlers.common import coordinator_lang, reply


def parse_slots(args: list[str]) -> tuple[int, int] | None:
    """``<number> <places>`` as typed, else None."""
    if len(args) != 2 or not args[1].isdecimal() or len(args[1]) > 3:
        return None
    need_id = parse_need_number(args[0])
    return None if need_id is None else (need_id, int(args[1]))


async def slots_command(update: Update, context: Context) -> None:
    """/slots <number> <places>: the card follows at once (it shows the places)."""
    lang = await coordinator_lang(update, context)
    if lang is None:
        return
    parsed = parse_slots(context.args or [])
    if parsed is None:
        await reply(update, t(lang, "slots_usage", most=MAX_SLOTS))
        return
    need_id, slots = parsed
    coordinator_id = update.effective_user.id  # type: ignore[union-attr]
    outcome, need = await service(context).set_slots(need_id, slots, coordinator_id)
    taken = len(need.holders) if need is not None else 0
    current = need.slots if need is not None else slots
    key = {
        SlotsOutcome.SET: "slots_done",
        SlotsOutcome.UNCHANGED: "slots_unchanged",
        SlotsOutcome.NOT_FOUND: "need_not_found",
        SlotsOutcome.CLOSED: "slots_closed",
        SlotsOutcome.BELOW_HOLDERS: "slots_below_holders",
        SlotsOutcome.OUT_OF_RANGE: "slots_usage",
    }[outcome]
    await reply(update, t(lang, key, id=need_id, slots=current, taken=taken, most=MAX_SLOTS))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The /slots command."""
    app.add_handler(CommandHandler("slots", slots_command))
