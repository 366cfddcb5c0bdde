"""Importing a spreadsheet of needs into a group: checked whole, then written in one go.

The command line and the private chat both come here; no Telegram types. What is written
is needs on boards with no message yet: the running bot posts them from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.domain import Group
from bot.service import utc_now
from bot.spreadsheet import SheetCheck, check_file
from storage import imports, people
from storage.db import Database
from storage.imports import ImportPlan, ImportResult, ImportSource, PendingImport


@dataclass
class ImportService:
    """A coordinator's spreadsheet, from a file to needs waiting to be posted."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)

    async def check(self, data: bytes, filename: str) -> SheetCheck:
        """Read and check a whole file, off the event loop (a big workbook takes a while)."""
        return await asyncio.to_thread(check_file, data, filename, self.config.limits)

    async def group(self, chat_id: int) -> Group | None:
        """A group needs can be imported into (one the bot is in), by chat id."""
        for group in await people.active_groups(self.db):
            if group.chat_id == chat_id:
                return group
        return None

    async def plan(self, chat_id: int, sheet: SheetCheck) -> ImportPlan:
        """What importing a checked file into a group would post, and skip."""
        per_board = self.config.posting.needs_per_board
        return await imports.plan(self.db, chat_id, sheet.needs, per_board)

    async def keep(self, user_id: int, filename: str, data: bytes) -> int:
        """Keep a clean file until its coordinator picks a group and confirms."""
        return await imports.keep_pending(self.db, user_id, filename, data, self.clock())

    async def pending(self, pending_id: int, user_id: int) -> PendingImport | None:
        """A coordinator's waiting file."""
        return await imports.pending(self.db, pending_id, user_id)

    async def choose_group(self, pending_id: int, user_id: int, chat_id: int) -> bool:
        """The group a waiting file goes to; False if it waits no more."""
        return await imports.choose_group(self.db, pending_id, user_id, chat_id)

    async def cancel(self, pending_id: int, user_id: int) -> bool:
        """Drop a waiting file; False if it waited no more."""
        return await imports.drop_pending(self.db, pending_id, user_id)

    async def confirm(
        self, waiting: PendingImport, chat_id: int, report_chat_id: int
    ) -> ImportResult | SheetCheck | None:
        """Import a waiting file into the group it was confirmed for. The file is read again
        (the limits may have changed since): a SheetCheck with its problems if it is no
        longer clean; None if it was taken already (a second tap)."""
        sheet = await self.check(waiting.data, waiting.filename)
        if not sheet.clean:
            return sheet
        source = ImportSource(waiting.filename, waiting.user_id, report_chat_id)
        return await imports.write(
            self.db,
            chat_id,
            sheet.needs,
            source,
            self.config.posting.needs_per_board,
            self.clock(),
            pending_id=waiting.id,
        )

    async def report_message(self, import_id: int, message_id: int) -> None:
        """The private message that shows an import's progress."""
        await imports.set_report_message(self.db, import_id, message_id)
