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
from collections.abc import AsyncIterator, Awaitable, Callable
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

from bot.board_render import message_markup, message_text
from bot.coalesce import QUIET_SECONDS, STALE_SECONDS, GroupEdits, Key
from bot.domain import Need
from bot.progress import ProgressBoards
from bot.service import PairingService
from storage import boards

log = logging.getLogger(__name__)
T = TypeVar("T")

NETWORK_ATTEMPTS = 4
DRAIN_SECONDS = 10.0
POST_WAIT_SECONDS = 3.0
# A group whose board failed to post (network, Telegram's error) is tried again after this.
RETRY_SECONDS = 30.0


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
    """Posts need cards and boards, and keeps each group message showing its needs' state.

    It hears of every committed change to a need from the database (``needs_changed``), so no
    writer has to remember it; edits are coalesced per message and timed per group
    (bot/coalesce.py), and a message already showing its needs' versions costs no call.
    Boards written by any process (an import) wait in the database's outbox until
    ``post_outbox`` posts them, one group message at a time per group.
    """

    def __init__(
        self,
        bot: Bot,
        service: PairingService,
        *,
        quiet: float = QUIET_SECONDS,
        stale: float = STALE_SECONDS,
    ) -> None:
        self.bot = bot
        self.service = service
        self.db = service.db
        self.language = service.config.language
        self.edits = GroupEdits(self._edit, quiet, stale)
        self.progress = ProgressBoards(bot, service)
        self._changed: set[int] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._posting: dict[int, asyncio.Future[None]] = {}
        self._posters: dict[int, asyncio.Task[None]] = {}
        self._resting: dict[int, float] = {}

    def needs_changed(self, need_ids: list[int]) -> None:
        """The database committed changes to these needs: bring their messages up to date."""
        self._changed.update(need_ids)
        if self._dispatcher is None:
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    def message_changed(self, chat_id: int, message_id: int) -> None:
        """A group message may no longer show what it should (a need left a board)."""
        self.edits.changed((chat_id, "card", message_id))

    async def _dispatch(self) -> None:
        try:
            while self._changed:
                need_ids = sorted(self._changed)
                self._changed.clear()
                try:
                    found = await boards.places(self.db, need_ids)
                except Exception as exc:
                    log.error("cards of %d needs not updated: %s", len(need_ids), exc)
                    continue
                for place in found:
                    if place.message_id is not None and place.stale:
                        self.edits.changed((place.chat_id, "card", place.message_id))
                    if self.progress.has_board(place.chat_id):
                        self.edits.changed((place.chat_id, "progress", 0))
        finally:
            self._dispatcher = None

    async def catch_up(self) -> None:
        """At start: post the cards never sent, and edit what a stop left stale."""
        for need in await self.service.unposted_needs():
            try:
                if await self.post(need.id, unless_posted=True):
                    log.info("posted the card of need %d", need.id)
            except TelegramError as exc:
                log.warning("card of need %d still not posted: %s", need.id, type(exc).__name__)
        self.needs_changed(await self.service.stale_cards())
        for chat_id in self.progress.chats():
            self.edits.changed((chat_id, "progress", 0))

    async def follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its needs move, and their cards are posted there."""
        if await self.service.group_migrated(old_chat_id, new_chat_id):
            log.info("a group moved to a new chat id; its cards are posted again")
            self.progress.forget(old_chat_id)
            self.track(asyncio.get_running_loop().create_task(self.catch_up()))

    async def post(self, need_id: int, unless_posted: bool = False) -> Message | None:
        """Send a need's card to its group and remember it; raises what Telegram raised.

        Posts of one need go one at a time (a /repost during the start-up repost waits).
        With ``unless_posted``, a need that has a card by then is left alone (None).
        """
        async with self._posts([need_id]):
            message = await self._post(need_id, unless_posted)
        # The card went out showing the need as read before the send; if a claim or a
        # release came in meanwhile, bring it up to date (no call if it is current).
        self.needs_changed([need_id])
        return message

    async def post_board(self, board_id: int) -> Message | None:
        """Send a board to its group and make it its needs' card; raises what Telegram
        raised. None if the group moved meanwhile (the board waits for its new chat)."""
        shown = await boards.board_needs(self.db, board_id)
        if not shown:
            return None
        async with self._posts([need.id for need in shown]):
            try:
                message = await self._send(shown[0].chat_id, shown)
            except ChatMigrated as exc:
                await self.follow_migration(shown[0].chat_id, exc.new_chat_id)
                return None
            await boards.board_posted(
                self.db, board_id, message.message_id, shown, self.service.clock()
            )
        self.needs_changed([need.id for need in shown])
        return message

    async def post_outbox(self) -> None:
        """Start posting the boards waiting in the outbox, each group's in order (called
        every second by the outbox job, handlers/boards.py)."""
        now = asyncio.get_running_loop().time()
        for chat_id in dict.fromkeys(o.chat_id for o in await boards.outbox(self.db)):
            if chat_id in self._posters or self._resting.get(chat_id, 0.0) > now:
                continue
            task = asyncio.get_running_loop().create_task(self._post_boards(chat_id))
            self._posters[chat_id] = task
            self.track(task)

    async def _post_boards(self, chat_id: int) -> None:
        try:
            while waiting := await boards.outbox(self.db, chat_id):
                board_id = waiting[0].board_id
                try:
                    if await self.post_board(board_id) is None:
                        return
                except Forbidden:
                    log.warning("boards not posted: the bot is no longer in their group")
                    await self.service.group_gone(chat_id)
                    return
                except TelegramError as exc:
                    log.warning("board %d not posted: %s", board_id, type(exc).__name__)
                    self._resting[chat_id] = asyncio.get_running_loop().time() + RETRY_SECONDS
                    return
                await self.progress.import_advanced(board_id)
            await self.progress.ensure(chat_id)
        finally:
            del self._posters[chat_id]

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

    @contextlib.asynccontextmanager
    async def _posts(self, need_ids: list[int]) -> AsyncIterator[None]:
        """While a message with these needs is being posted: one post of a need at a time,
        and taps on them wait (``posted``) until it is recorded."""
        for need_id in need_ids:
            while (earlier := self._posting.get(need_id)) is not None:
                await asyncio.shield(earlier)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for need_id in need_ids:
            self._posting[need_id] = done
        try:
            yield
        finally:
            for need_id in need_ids:
                del self._posting[need_id]
            done.set_result(None)

    async def _post(self, need_id: int, unless_posted: bool) -> Message | None:
        need = await self.service.need(need_id)
        if need is None:
            raise LookupError(f"need {need_id} does not exist")
        if unless_posted and need.card_message_id is not None:
            return None
        try:
            message = await self._send(need.chat_id, [need])
        except ChatMigrated as exc:
            await self.follow_migration(need.chat_id, exc.new_chat_id)
            moved = await self.service.need(need_id)
            assert moved is not None
            need, message = moved, await self._send(moved.chat_id, [moved])
        await self.service.card_posted(need, message.message_id)
        return message

    async def _send(self, chat_id: int, shown: list[Need]) -> Message:
        return await with_retries(
            lambda: self.bot.send_message(
                chat_id,
                message_text(shown, self.language, self.service.config.tz),
                parse_mode=ParseMode.HTML,
                reply_markup=message_markup(shown, self.language),
            ),
            "need card",
            idempotent=False,
        )

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep a background card task until it ends, so shutdown can wait for it."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _edit(self, key: Key) -> None:
        chat_id, what, message_id = key
        if what == "progress":
            await self._edit_progress(chat_id)
            return
        shown = await boards.message_needs(self.db, chat_id, message_id)
        if not shown or all(need.card_version == need.version for need in shown):
            return
        text = message_text(shown, self.language, self.service.config.tz)
        markup = message_markup(shown, self.language)
        if await self._show(chat_id, message_id, text, markup, "card"):
            await boards.cards_shown(self.db, shown)

    async def _edit_progress(self, chat_id: int) -> None:
        pending = await self.progress.pending(chat_id)
        if pending is None:
            return
        message_id, text = pending
        shown = await self._show(chat_id, message_id, text, None, "progress board")
        if shown:
            self.progress.shown(chat_id, text)
        elif shown is None:
            await self.progress.gone(chat_id)

    async def _show(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        what: str,
    ) -> bool | None:
        """Edit a group message to show ``text``: True if it shows it now, False if not (the
        next change or start tries again), None if the message is gone (deleted)."""
        try:
            await with_retries(
                lambda: self.bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
                f"{what} edit",
            )
        except BadRequest as exc:
            if is_not_modified(exc):
                return True
            log.warning("%s %d not updated: %s", what, message_id, exc.message)
            return None if "not found" in exc.message.lower() else False
        except Forbidden:
            log.warning("%s %d not updated: the bot left its group", what, message_id)
            await self.service.group_gone(chat_id)
        except ChatMigrated as exc:
            await self.follow_migration(chat_id, exc.new_chat_id)
        except TelegramError as exc:
            # Network faults past the retries, ...: the message stays as it was.
            log.warning("%s %d not updated: %s", what, message_id, exc.__class__.__name__)
        else:
            return True
        return False

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait for the edits and posts under way (at shutdown), at most ``timeout`` seconds.

        Marked messages are edited at once rather than after the usual quiet spell. Edits
        queue at the group's rate limit; a message left stale is corrected at the next
        start, so shutdown need not wait minutes for them.
        """
        self.edits.hurry()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (DRAIN_SECONDS if timeout is None else timeout)
        while self._pending() and (left := deadline - loop.time()) > 0:
            await asyncio.wait(self._pending(), timeout=left)
        for task in self._pending():
            task.cancel()
        if self._pending():
            left = len(self._pending())
            log.info("shutdown: %d cards left as they were, for the next start to correct", left)
            await asyncio.gather(*self._pending(), return_exceptions=True)
        self.edits.hurry(False)

    def _pending(self) -> list[asyncio.Task[None]]:
        dispatcher = [self._dispatcher] if self._dispatcher is not None else []
        return [*dispatcher, *self.edits.pending(), *self._background]
