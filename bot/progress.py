"""A group's pinned progress board, and the coordinator's message about an import going out.

The progress board shows a group's drive at a glance (claimed, open, visited, per team); it
is edited with the group's cards (bot/coalesce.py), and only when its text would change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.board_render import import_progress_text, progress_text
from bot.service import PairingService
from storage import boards

log = logging.getLogger(__name__)

# The coordinator's import message is edited at most this often while boards go out.
REPORT_EVERY_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Posted:
    """A progress board went up (``message_id``), pinned or not."""

    message_id: int
    pinned: bool


class ProgressBoards:
    """Posts, pins and edits each group's progress board; reports imports' progress."""

    def __init__(self, bot: Bot, service: PairingService) -> None:
        self.bot = bot
        self.service = service
        self.db = service.db
        self.language = service.config.language
        self._boards: dict[int, int] = {}  # chat id: message id
        self._shown: dict[int, str] = {}  # chat id: the text it shows, as far as we know
        self._reported: dict[int, float] = {}  # import id: loop time of the last edit

    async def load(self) -> None:
        """Learn the groups' progress boards (at start)."""
        rows = await self.db.fetch_all("SELECT chat_id, message_id FROM progress_boards")
        self._boards = {row["chat_id"]: row["message_id"] for row in rows}

    def has_board(self, chat_id: int) -> bool:
        """Whether this group has a progress board to keep current."""
        return chat_id in self._boards

    def chats(self) -> list[int]:
        """The groups with a progress board."""
        return list(self._boards)

    def forget(self, chat_id: int) -> None:
        """The group's board can no longer be edited (the group moved, the board is gone)."""
        self._boards.pop(chat_id, None)
        self._shown.pop(chat_id, None)

    async def post(self, chat_id: int) -> Posted:
        """Post the group's progress board (again) and pin it; raises what Telegram raised
        on sending. The old board, if any, is unpinned and stays as it was."""
        text = progress_text(await boards.progress(self.db, chat_id), self.language)
        message = await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        old = self._boards.get(chat_id)
        await boards.set_progress_board(self.db, chat_id, message.message_id, self.service.clock())
        self._boards[chat_id], self._shown[chat_id] = message.message_id, text
        if old is not None:
            with contextlib.suppress(TelegramError):
                await self.bot.unpin_chat_message(chat_id, message_id=old)
        try:
            await self.bot.pin_chat_message(chat_id, message.message_id, disable_notification=True)
        except TelegramError as exc:
            log.info("progress board not pinned: %s", type(exc).__name__)
            return Posted(message.message_id, pinned=False)
        return Posted(message.message_id, pinned=True)

    async def ensure(self, chat_id: int) -> None:
        """Give a group that just received boards a progress board, if it has none."""
        if chat_id in self._boards:
            return
        try:
            await self.post(chat_id)
        except TelegramError as exc:
            log.warning("progress board not posted: %s", type(exc).__name__)

    async def pending(self, chat_id: int) -> tuple[int, str] | None:
        """The group's progress board and the text it should show, if that text is not what
        it shows (None: no board, or nothing to change)."""
        message_id = self._boards.get(chat_id)
        if message_id is None:
            return None
        text = progress_text(await boards.progress(self.db, chat_id), self.language)
        return None if self._shown.get(chat_id) == text else (message_id, text)

    def shown(self, chat_id: int, text: str) -> None:
        """The group's progress board now shows ``text``."""
        self._shown[chat_id] = text

    async def gone(self, chat_id: int) -> None:
        """The board was deleted (by someone): /board posts a new one."""
        await boards.drop_progress_board(self.db, chat_id)
        self.forget(chat_id)

    async def import_advanced(self, board_id: int) -> None:
        """A board of an import went out: update its coordinator's message (every couple of
        seconds, and always at the end)."""
        progress = await boards.import_progress(self.db, board_id)
        if progress is None or progress.report_message_id is None:
            return
        assert progress.report_chat_id is not None
        now = asyncio.get_running_loop().time()
        done = progress.posted >= progress.total
        if not done and now - self._reported.get(progress.import_id, -1e9) < REPORT_EVERY_SECONDS:
            return
        self._reported[progress.import_id] = now
        if done:
            self._reported.pop(progress.import_id, None)
        language = self.service.language_of(await self.service.person(progress.report_chat_id))
        text = import_progress_text(progress.posted, progress.total, language)
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=progress.report_chat_id,
                message_id=progress.report_message_id,
                parse_mode=ParseMode.HTML,
            )
        except TelegramError as exc:
            log.info("import progress not updated: %s", type(exc).__name__)
