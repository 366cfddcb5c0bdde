"""Getting messages to Telegram and keeping need cards current, whatever Telegram answers.

Flood limits (429) are waited out by the rate limiter; here we handle what remains: a person
who never started the bot (403), an edit to identical content ("message is not modified"),
and network faults, which are retried a few times with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.domain import Need
from bot.render import card_markup, card_text
from bot.service import PairingService

log = logging.getLogger(__name__)
T = TypeVar("T")

NETWORK_ATTEMPTS = 4
DRAIN_SECONDS = 10.0
POST_WAIT_SECONDS = 3.0


class Delivery(enum.Enum):
    """What became of a private message."""

    DELIVERED = "delivered"
    UNREACHABLE = "unreachable"  # 403: never started the bot, or blocked it
    FAILED = "failed"


def is_not_modified(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing: harmless."""
    return "not modified" in error.message.lower()


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait (a timedelta: see PTB_TIMEDELTA in bot/__init__)."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def surely_not_sent(error: NetworkError) -> bool:
    """Whether Telegram surely did not act on the failed request.

    True when the connection was never made, or when Telegram answered with an error status
    (5xx: it did not act). False when the request may have arrived and the answer was lost
    (read timeout, dropped connection): repeating a send then could post it twice.
    """
    cause = error.__cause__
    if cause is None:
        return True
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    what: str,
    *,
    idempotent: bool = True,
    wait_out_429: bool = True,
) -> T:
    """Run a Bot API call, retrying network faults with backoff; other errors raise.

    Edits and tap answers are idempotent and always retried. A send is retried only when it
    surely did not arrive; an ambiguous failure is raised for the caller to handle. Without
    ``wait_out_429`` a 429 is raised at once (an answer that waited would come too late).
    """
    delay = 0.5
    for attempt in range(1, NETWORK_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            # The rate limiter already retried; wait once more rather than drop the message.
            if attempt == NETWORK_ATTEMPTS or not wait_out_429:
                raise
            await asyncio.sleep(retry_seconds(exc))
        except (Forbidden, BadRequest):
            raise
        except NetworkError as exc:
            if attempt == NETWORK_ATTEMPTS or not (idempotent or surely_not_sent(exc)):
                raise
            log.warning("%s: %s, retrying (%d)", what, exc.__class__.__name__, attempt)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def send_private(
    bot: Bot, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Delivery:
    """Send a private message; a 403 is a normal outcome, reported, not raised."""
    try:
        await with_retries(
            lambda: bot.send_message(
                user_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            ),
            "private message",
            idempotent=False,
        )
    except Forbidden:
        return Delivery.UNREACHABLE
    except TelegramError as exc:
        log.warning("private message to a user failed: %s", exc.__class__.__name__)
        return Delivery.FAILED
    return Delivery.DELIVERED


class CardKeeper:
    """Posts need cards and keeps each card showing its need's current state.

    It hears of every committed change to a need from the database (``needs_changed``), so no
    writer has to remember it. Edits are coalesced per need: one worker per card re-reads the
    need before each edit, so a burst of changes costs at most one edit in flight and one
    after it, and a card already showing the need's version costs no call.
    """

    def __init__(self, bot: Bot, service: PairingService) -> None:
        self.bot = bot
        self.service = service
        self.language = service.config.language
        self._dirty: set[int] = set()
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._posting: dict[int, asyncio.Future[None]] = {}

    def needs_changed(self, need_ids: list[int]) -> None:
        """The database committed changes to these needs: bring their cards up to date."""
        for need_id in need_ids:
            self._refresh(need_id)

    async def catch_up(self) -> None:
        """At start: post the cards never sent, and edit those left stale by a stop."""
        for need in await self.service.unposted_needs():
            try:
                if await self.post(need.id, unless_posted=True):
                    log.info("posted the card of need %d", need.id)
            except TelegramError as exc:
                log.warning("card of need %d still not posted: %s", need.id, type(exc).__name__)
        self.needs_changed(await self.service.stale_cards())

    async def follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its needs move, and their cards are posted there."""
        if await self.service.group_migrated(old_chat_id, new_chat_id):
            log.info("a group moved to a new chat id; its cards are posted again")
            self.track(asyncio.get_running_loop().create_task(self.catch_up()))

    async def post(self, need_id: int, unless_posted: bool = False) -> Message | None:
        """Send a need's card to its group and remember it; raises what Telegram raised.

        Posts of one need go one at a time (a /repost during the start-up repost waits).
        With ``unless_posted``, a need that has a card by then is left alone (None).
        """
        while (earlier := self._posting.get(need_id)) is not None:
            await asyncio.shield(earlier)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._posting[need_id] = done
        try:
            message = await self._post(need_id, unless_posted)
        finally:
            del self._posting[need_id]
            done.set_result(None)
        # The card went out showing the need as read before the send; if a claim or a
        # release came in meanwhile, bring it up to date (no call if it is current).
        self._refresh(need_id)
        return message

    async def posted(self, need_id: int, timeout: float = POST_WAIT_SECONDS) -> None:  # noqa: ASYNC109
        """If this need's card is being posted now, wait (a little) until it is recorded.

        A tap can arrive between Telegram showing a card and the bot recording its message
        id. Every tap that finds the post under way waits on the same future, so they go on
        in the order they came; a post stuck behind flood limits is not waited for long.
        """
        waiting = self._posting.get(need_id)
        if waiting is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiting), timeout)

    async def _post(self, need_id: int, unless_posted: bool) -> Message | None:
        need = await self.service.need(need_id)
        if need is None:
            raise LookupError(f"need {need_id} does not exist")
        if unless_posted and need.card_message_id is not None:
            return None
        try:
            message = await self._send_card(need)
        except ChatMigrated as exc:
            await self.follow_migration(need.chat_id, exc.new_chat_id)
            moved = await self.service.need(need_id)
            assert moved is not None
            need, message = moved, await self._send_card(moved)
        await self.service.card_posted(need, message.message_id)
        return message

    async def _send_card(self, need: Need) -> Message:
        return await with_retries(
            lambda: self.bot.send_message(
                need.chat_id,
                card_text(need, self.language, self.service.config.tz),
                parse_mode=ParseMode.HTML,
                reply_markup=card_markup(need, self.language),
            ),
            "need card",
            idempotent=False,
        )

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep a background card task until it ends, so shutdown can wait for it."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _refresh(self, need_id: int) -> None:
        self._dirty.add(need_id)
        if need_id not in self._workers:
            task = asyncio.get_running_loop().create_task(self._work(need_id))
            self._workers[need_id] = task

    async def _work(self, need_id: int) -> None:
        try:
            while need_id in self._dirty:
                self._dirty.discard(need_id)
                await self._edit(need_id)
        finally:
            self._workers.pop(need_id, None)

    async def _edit(self, need_id: int) -> None:
        need = await self.service.need(need_id)
        if need is None or need.card_message_id is None or need.card_version == need.version:
            return
        message_id = need.card_message_id
        try:
            await with_retries(
                lambda: self.bot.edit_message_text(
                    card_text(need, self.language, self.service.config.tz),
                    chat_id=need.chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=card_markup(need, self.language),
                ),
                "card edit",
            )
            await self.service.card_shown(need)
        except BadRequest as exc:
            if is_not_modified(exc):
                await self.service.card_shown(need)
            else:
                log.warning("card of need %d not updated: %s", need_id, exc.message)
        except Forbidden:
            log.warning("card of need %d not updated: the bot left its group", need_id)
            await self.service.group_gone(need.chat_id)
        except ChatMigrated as exc:
            await self.follow_migration(need.chat_id, exc.new_chat_id)
        except TelegramError as exc:
            # Network faults past the retries, ...: the card stays as it was; the next
            # change to the need, or the next start, tries again.
            log.warning("card of need %d not updated: %s", need_id, exc.__class__.__name__)

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait for the card edits under way (at shutdown), for at most ``timeout`` seconds.

        Edits queue at the group's rate limit; a card left stale is corrected by the next
        change or tap, so shutdown need not wait minutes for them.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (DRAIN_SECONDS if timeout is None else timeout)
        while self._pending() and (left := deadline - loop.time()) > 0:
            await asyncio.wait(self._pending(), timeout=left)
        for task in self._pending():
            task.cancel()
        if self._pending():
            left = len(self._pending())
            log.info("shutdown: %d cards left as they were, for a later tap to correct", left)
            await asyncio.gather(*self._pending(), return_exceptions=True)

    def _pending(self) -> list[asyncio.Task[None]]:
        return [*self._workers.values(), *self._background]
