"""Claiming and releasing: the Claim button, the Release button, /release, /free, /reassign."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging

from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.delivery import Delivery, send_private
from bot.domain import (
    CardRef,
    ClaimOutcome,
    ClaimResult,
    Holder,
    Need,
    NeedState,
    ReleaseOutcome,
    ReleaseResult,
)
from bot.i18n import t
from bot.render import details_message, holder_name, pairing_markup
from bot.runtime import Context, cards, service
from bot.service import parse_need_number
from handlers.common import actor_of, answer, coordinator_lang, reply

log = logging.getLogger(__name__)

# Telegram refuses a tap's answer after about 15 s; the details may take at most this long
# before the answer goes out with the deep link instead.
DETAILS_BEFORE_ANSWER_SECONDS = 4.0


async def deliver_details(context: Context, need: Need, user_id: int, lang: str) -> Delivery:
    """Send the holder of ``need`` (as just decided) the household's details, to release it."""
    svc = service(context)
    details = await svc.details_of(need, user_id)
    place = need.holder_of(user_id)
    if details is None or place is None:
        return Delivery.FAILED
    text = details_message(need, details, lang)
    markup = pairing_markup(place.claim_id, lang)
    delivery = await send_private(context.bot, user_id, text, markup)
    if delivery is Delivery.UNREACHABLE:
        await svc.unreachable(user_id)
    return delivery


def details_link(context: Context, claim_id: int) -> str:
    """The deep link that delivers a claim's details to its holder (and only to them)."""
    return f"https://t.me/{context.bot.username}?start={callbacks.details_payload(claim_id)}"


def tapped_card(query: CallbackQuery) -> CardRef | None:
    """The chat and message a tap came from, if Telegram told us."""
    message = query.message
    if message is None:
        return None
    return CardRef(chat_id=message.chat.id, message_id=message.message_id)


async def claim_tapped(update: Update, context: Context) -> None:
    """A tap on Claim: decide first (taps are decided in the order they came), then answer."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    need_id = callbacks.parse_id(callbacks.CLAIM, query.data)
    card = tapped_card(query)
    if need_id is None or card is None:
        await answer(query, t(context.person_lang, "answer_bad_button"))
        return
    # A tap on a card whose message id is still being recorded waits for it (all such taps
    # on one future, so in order). Otherwise no await may come before the claim: the order
    # tasks reach the database is the order Telegram delivered the taps.
    await cards(context).posted(need_id)
    svc = service(context)
    result = await svc.claim(need_id, actor_of(user), card)
    context.person, lang = result.tapper, context.person_lang
    need = result.need
    if result.outcome is ClaimOutcome.WON:
        assert need is not None
        await answer_winner(context, query, need, lang)
    elif result.outcome is ClaimOutcome.ALREADY_YOURS and need and need.holder_of(user.id):
        # The link opens the private chat, where the details arrive again.
        url = details_link(context, need.holder_of(user.id).claim_id)  # type: ignore[union-attr]
        await answer(query, refusal_text(result, lang), url=url)
    elif result.outcome is ClaimOutcome.NO_TEAM:
        # The link opens the private chat on the team picker.
        url = f"https://t.me/{context.bot.username}?start={callbacks.TEAM_LINK}"
        await answer(query, refusal_text(result, lang), url=url)
    else:
        team_limit = svc.config.limits.max_open_claims_per_team
        await answer(query, refusal_text(result, lang, team_limit))


async def answer_winner(context: Context, query: CallbackQuery, need: Need, lang: str) -> None:
    """Tell the winner, and send them the household's details in private."""
    user_id, person = query.from_user.id, context.person
    if person is not None and person.started_bot:
        # Known to be reachable: answer at once, then send the details.
        await answer(query, t(lang, "answer_won"))
        await deliver_details(context, need, user_id, lang)
        return
    # Not known to be reachable: try the details first (a 403 comes back at once), but never
    # so long that the tap's answer would come too late for Telegram.
    try:
        delivery = await asyncio.wait_for(
            deliver_details(context, need, user_id, lang), DETAILS_BEFORE_ANSWER_SECONDS
        )
    except TimeoutError:
        delivery = Delivery.FAILED
    if delivery is Delivery.DELIVERED:
        await answer(query, t(lang, "answer_won"))
    else:
        place = need.holder_of(user_id)
        assert place is not None
        url = details_link(context, place.claim_id)
        await answer(query, t(lang, "answer_won_open_bot"), url=url)


def refusal_text(result: ClaimResult, lang: str, team_limit: int | None = None) -> str:
    """What a tap that did not win is told (plain text: Telegram shows it verbatim)."""
    holders = result.need.holders if result.need is not None else ()
    if result.outcome is ClaimOutcome.TAKEN and len(holders) > 1:
        names = ", ".join(holder.display_name for holder in holders)
        return t(lang, "answer_taken_all", count=len(holders), names=names)
    if result.outcome is ClaimOutcome.TAKEN and holders:
        return t(lang, "answer_taken", name=holders[0].display_name)
    if result.outcome is ClaimOutcome.LIMIT_REACHED:
        return t(lang, "answer_limit", count=result.open_claims)
    if result.outcome is ClaimOutcome.CLOSED and result.need is not None:
        cancelled = result.need.state is NeedState.CANCELLED
        return t(lang, "answer_cancelled" if cancelled else "answer_closed")
    if result.outcome is ClaimOutcome.TEAM_LIMIT_REACHED:
        team = result.tapper.team if result.tapper is not None else None
        count = result.team_open_claims
        return t(lang, "answer_team_limit", team=team or "", count=count, limit=team_limit)
    key = {
        ClaimOutcome.NO_TEAM: "answer_no_team",
        ClaimOutcome.ALREADY_YOURS: "answer_already_yours",
        ClaimOutcome.CLOSED: "answer_closed",
        ClaimOutcome.NOT_FOUND: "answer_not_found",
    }.get(result.outcome, "answer_bad_button")
    return t(lang, key)


async def forged_button(update: Update, context: Context) -> None:
    """Button data no handler recognises: answer, change nothing."""
    if update.callback_query is not None:
        await answer(update.callback_query, t(context.person_lang, "answer_bad_button"))


async def release_tapped(update: Update, context: Context) -> None:
    """The Release button under a claimer's private message; it names one pairing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    claim_id = callbacks.parse_id(callbacks.RELEASE, query.data)
    assert claim_id is not None
    lang = context.person_lang
    result = await service(context).release_claim(claim_id, user.id)
    if result.outcome is ReleaseOutcome.RELEASED and result.need is not None:
        await answer(query, html_to_plain(t(lang, "release_done", id=result.need.id)))
    else:
        await answer(query, t(lang, "release_stale"))
    # The Release button lives in the claimer's private chat; a forged r: tap on a group card
    # must not strip that card's Claim button.
    message = query.message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        # Already without a button, or too old to edit: both are fine.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)


def release_text(result: ReleaseResult, need_id: int, lang: str) -> str:
    """What a person who asked to release a need is told."""
    if result.outcome is ReleaseOutcome.RELEASED:
        assert result.previous is not None
        return t(lang, "release_done", id=need_id)
    key = {
        ReleaseOutcome.NOT_FOUND: "need_not_found",
        ReleaseOutcome.NOT_CLAIMED: "release_not_claimed",
        ReleaseOutcome.NOT_HOLDER: "release_not_holder",
        ReleaseOutcome.NOT_ALLOWED: "not_coordinator",
    }[result.outcome]
    return t(lang, key, id=need_id)


def html_to_plain(text: str) -> str:
    """Catalog text for a callback answer, which Telegram shows without parsing."""
    return html.unescape(text.replace("<b>", "").replace("</b>", ""))


async def after_release(context: Context, result: ReleaseResult, actor_id: int) -> None:
    """Tell former holders whom someone else (a coordinator) removed."""
    if result.need is None:
        return
    svc = service(context)
    for previous in result.ended:
        if previous.user_id == actor_id:
            continue
        lang = svc.language_of(await svc.person(previous.user_id))
        text = t(lang, "notify_freed", id=result.need.id)
        await send_private(context.bot, previous.user_id, text)


async def release_command(update: Update, context: Context) -> None:
    """/release [number]: give up a pairing (with no number: the only one, or a list)."""
    user = update.effective_user
    if user is None:
        return
    svc, lang = service(context), context.lang
    if not context.args:
        # Decided in one turn on the writer: no await before it (see decides_first).
        result = await svc.release_only(user.id)
        if result.outcome is ReleaseOutcome.NO_PAIRING:
            await reply(update, t(lang, "release_none"))
        elif result.outcome is ReleaseOutcome.WHICH_ONE:
            numbers = ", ".join(f"#{need_id}" for need_id in result.choices)
            await reply(update, t(lang, "release_usage", numbers=numbers))
        else:
            assert result.need is not None
            await reply(update, release_text(result, result.need.id, lang))
        return
    need_id = parse_need_number(" ".join(context.args))
    if need_id is None:
        value = html.escape(" ".join(context.args)[:40])
        await reply(update, t(lang, "need_number_invalid", value=value))
        return
    result = await svc.release(need_id, user.id)
    await reply(update, release_text(result, need_id, lang))


def freed_text(lang: str, need_id: int, ended: tuple[Holder, ...]) -> str:
    """What a coordinator is told after freeing a need (every place on it)."""
    names = ", ".join(holder_name(holder) for holder in ended)
    return t(lang, "free_done", id=need_id, name=names)


async def free_command(update: Update, context: Context) -> None:
    """/free <number>: a coordinator ends a claim; the need is open again."""
    lang = await coordinator_lang(update, context)
    if lang is None:
        return
    need_id = parse_need_number(" ".join(context.args or []))
    if need_id is None:
        await reply(update, t(lang, "free_usage"))
        return
    user_id = update.effective_user.id  # type: ignore[union-attr]
    result = await service(context).free(need_id, user_id)
    if result.outcome is ReleaseOutcome.RELEASED and result.previous is not None:
        await reply(update, freed_text(lang, need_id, result.ended))
        await after_release(context, result, user_id)
        return
    await reply(update, release_text(result, need_id, lang))


async def reassign_command(update: Update, context: Context) -> None:
    """/reassign <number> <user id or @username>: a coordinator gives a need to someone."""
    lang = await coordinator_lang(update, context)
    if lang is None:
        return
    args = context.args or []
    need_id = parse_need_number(args[0]) if len(args) == 2 else None
    if need_id is None:
        await reply(update, t(lang, "reassign_usage"))
        return
    svc = service(context)
    coordinator_id = update.effective_user.id  # type: ignore[union-attr]
    result = await svc.reassign(need_id, args[1], coordinator_id)
    need = result.need
    if result.outcome is ReleaseOutcome.ASSIGNED:
        assert need is not None and need.holders
        assigned = max(need.holders, key=lambda holder: holder.claim_id)  # the newest place
        await reply(update, t(lang, "reassign_done", id=need_id, name=holder_name(assigned)))
        await after_release(context, result, coordinator_id)
        holder_id = assigned.user_id
        holder_lang = svc.language_of(await svc.person(holder_id))
        await send_private(context.bot, holder_id, t(holder_lang, "notify_assigned", id=need_id))
        await deliver_details(context, need, holder_id, holder_lang)
        return
    if result.outcome is ReleaseOutcome.NOT_FOUND:
        await reply(update, t(lang, "need_not_found", id=need_id))
    elif result.outcome is ReleaseOutcome.SAME_PERSON:
        assert result.previous is not None
        name = holder_name(result.previous)
        await reply(update, t(lang, "reassign_same", id=need_id, name=name))
    elif result.outcome is ReleaseOutcome.FULL:
        await reply(update, t(lang, "reassign_full", id=need_id))
    else:
        await reply(update, t(lang, "reassign_unknown"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Claim and release handlers; the forged-button catch-all goes last."""
    app.add_handler(CallbackQueryHandler(claim_tapped, pattern=callbacks.CLAIM))
    app.add_handler(CallbackQueryHandler(release_tapped, pattern=callbacks.RELEASE))
    app.add_handler(CommandHandler("release", release_command))
    app.add_handler(CommandHandler("free", free_command))
    app.add_handler(CommandHandler("reassign", reassign_command))


def register_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """Any button data no handler matched."""
    app.add_handler(CallbackQueryHandler(forged_button))
