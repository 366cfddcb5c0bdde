"""The pairing service: the rules of posting, claiming and releasing, free of Telegram types.

Handlers turn an update into plain values, call one method here, and render what comes back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import callbacks
from bot.config import Config
from bot.domain import (
    Actor,
    CardRef,
    ClaimRecord,
    ClaimResult,
    Closing,
    Group,
    LifeOutcome,
    LifeResult,
    Need,
    Pairing,
    Person,
    PrivateDetails,
    Purged,
    ReleaseOutcome,
    ReleaseResult,
    SlotsOutcome,
    StatusCounts,
)
from bot.i18n import LANGUAGES, pick_language
from bot.privacy import Finding, find_private_data
from storage import drafts, lifecycle, needs, people
from storage.db import Database
from storage.drafts import Draft

_USER_REF = re.compile(r"^(?:@([A-Za-z0-9_]{4,32})|([1-9]\d{0,15}))$")
_NEED_NUMBER = re.compile(r"^#?([1-9]\d{0,11})$")


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why a piece of text was refused: empty, or longer than the limit."""

    key: str
    length: int = 0
    limit: int = 0


def clean_text(text: str | None) -> str:
    """Trim and drop control characters other than newlines (they garble cards and exports)."""
    if not text:
        return ""
    kept = (ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return "".join(kept).strip()


def check_text(text: str, limit: int) -> TextProblem | None:
    """None if ``text`` is usable, else what is wrong with it."""
    if not text:
        return TextProblem("text_empty")
    if len(text) > limit:
        return TextProblem("text_too_long", len(text), limit)
    return None


def parse_need_number(text: str | None) -> int | None:
    """A need number as a person types it (``12`` or ``#12``), else None."""
    match = _NEED_NUMBER.match((text or "").strip())
    return int(match.group(1)) if match else None


@dataclass
class PairingService:
    """Posting, claiming, releasing and reporting, over the database."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)

    def is_coordinator(self, user_id: int) -> bool:
        """Whether this person may post and manage needs."""
        return self.config.is_coordinator(user_id)

    def language_of(self, person: Person | None, language_code: str | None = None) -> str:
        """The language to speak with a person."""
        chosen = person.language if person else None
        code = language_code if language_code is not None else (person and person.language_code)
        return pick_language(chosen, code or None, self.config.language)

    def tapper_language(self, user_id: int, language_code: str | None) -> str:
        """The language to answer a tap in, without a trip to the database."""
        chosen = self.db.chosen_language(user_id)
        return pick_language(chosen, language_code, self.config.language)

    async def identify(self, actor: Actor, in_private: bool) -> Person:
        """The person behind an update, recorded or refreshed (once per update).

        A person writing to the bot in private has started it: it can write to them.
        """
        return await people.identify(self.db, actor, self.clock(), started_bot=in_private)

    def on_needs_changed(self, listener: Callable[[list[int]], None]) -> None:
        """Call ``listener(need_ids)`` after every committed change to needs, by any writer."""
        self.db.watch(listener)

    async def person(self, user_id: int) -> Person | None:
        """A person the bot has seen, by user id."""
        return await people.get(self.db, user_id)

    async def set_language(self, user_id: int, language: str) -> bool:
        """Remember a person's language; False if it is not one we speak."""
        if language not in LANGUAGES:
            return False
        await people.set_language(self.db, user_id, language, self.clock())
        return True

    async def group_seen(self, chat_id: int, title: str) -> None:
        """Remember a group the bot is in, so coordinators can post to it."""
        await people.remember_group(self.db, chat_id, title or str(chat_id), self.clock())

    async def group_gone(self, chat_id: int) -> None:
        """The bot is no longer in a group."""
        await people.forget_group(self.db, chat_id, self.clock())

    async def group_migrated(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: its needs follow it; how many moved."""
        return await needs.move_to_chat(self.db, old_chat_id, new_chat_id, self.clock())

    async def groups(self) -> list[Group]:
        """Groups a coordinator can post needs to."""
        return await people.active_groups(self.db)

    def check_summary(self, summary: str) -> TextProblem | None:
        """None if a public summary is usable."""
        return check_text(summary, self.config.limits.summary_max_length)

    def check_detail(self, detail: str) -> TextProblem | None:
        """None if one private detail is usable."""
        return check_text(detail, self.config.limits.detail_max_length)

    async def post_need(
        self, author: Actor, chat_id: int, summary: str, details: PrivateDetails
    ) -> Need | TextProblem:
        """Record a need for a group; the caller then posts its card."""
        summary = clean_text(summary)
        problem = self._checked(summary, details)
        if problem:
            return problem
        return await needs.create(self.db, chat_id, summary, details, author, self.clock())

    async def card_posted(self, need: Need, message_id: int) -> None:
        """Remember which group message is the need's card, showing ``need`` as it was read."""
        await needs.set_card(self.db, need.id, message_id, need.version)

    async def card_shown(self, need: Need) -> None:
        """The need's card now shows ``need`` as it was read."""
        await needs.card_shown(self.db, need.id, need.version)

    async def stale_cards(self) -> list[int]:
        """Needs whose card shows an older state (the bot stopped before editing it)."""
        return await needs.stale_cards(self.db)

    async def need(self, need_id: int) -> Need | None:
        """A need by number."""
        return await needs.get(self.db, need_id)

    async def unposted_needs(self) -> list[Need]:
        """Open needs whose card never reached their group."""
        return await needs.unposted(self.db)

    async def claim(
        self, need_id: int, volunteer: Actor, card: CardRef | None = None
    ) -> ClaimResult:
        """A tap on Claim (on ``card``, when it came from a button); the first to arrive wins."""
        limits = self.config.limits
        team_rules = needs.TeamRules(limits.max_open_claims_per_team, limits.require_team)
        return await needs.claim(
            self.db,
            need_id,
            volunteer,
            limits.max_open_claims_per_volunteer,
            self.clock(),
            card,
            team_rules,
        )

    async def release(self, need_id: int, holder_id: int) -> ReleaseResult:
        """The holder gives a need up (freeing someone else's is ``free``)."""
        return await needs.release(self.db, need_id, holder_id, False, self.clock())

    async def release_only(self, holder_id: int) -> ReleaseResult:
        """/release with no number: the person's only pairing (else why not, or the list)."""
        return await needs.release_only(self.db, holder_id, self.clock())

    async def release_claim(self, claim_id: int, holder_id: int) -> ReleaseResult:
        """The holder ends the pairing a Release button names; a stale button does nothing."""
        return await needs.release_claim(self.db, claim_id, holder_id, self.clock())

    async def free(self, need_id: int, coordinator_id: int) -> ReleaseResult:
        """A coordinator ends whoever's claim is on a need."""
        if not self.is_coordinator(coordinator_id):
            return ReleaseResult(ReleaseOutcome.NOT_ALLOWED, None)
        return await needs.release(self.db, need_id, coordinator_id, True, self.clock())

    async def reassign(self, need_id: int, target: str, coordinator_id: int) -> ReleaseResult:
        """A coordinator gives a need to the person named by user id or @username."""
        if not self.is_coordinator(coordinator_id):
            return ReleaseResult(ReleaseOutcome.NOT_ALLOWED, None)
        match = _USER_REF.match(target.strip())
        if match is None:
            return ReleaseResult(ReleaseOutcome.UNKNOWN_PERSON, await self.need(need_id))
        to = match.group(1) or int(match.group(2))
        return await needs.reassign(self.db, need_id, to, coordinator_id, self.clock())

    async def set_slots(
        self, need_id: int, slots: int, coordinator_id: int
    ) -> tuple[SlotsOutcome, Need | None]:
        """A coordinator sets how many volunteers a need takes."""
        if not self.is_coordinator(coordinator_id):
            return SlotsOutcome.NOT_FOUND, None
        return await needs.set_slots(self.db, need_id, slots, coordinator_id, self.clock())

    async def details_for(self, need_id: int, viewer_id: int) -> PrivateDetails | None:
        """A need's private details if the viewer may see them (holder or coordinator)."""
        need = await self.need(need_id)
        return await self.details_of(need, viewer_id) if need is not None else None

    async def details_of(self, need: Need, viewer_id: int) -> PrivateDetails | None:
        """The details of a need just read or decided, if the viewer may see them."""
        holds = need.holder_of(viewer_id) is not None
        if not holds and not self.is_coordinator(viewer_id):
            return None
        return await needs.details(self.db, need.id)

    async def need_by_details_link(self, payload: str, viewer_id: int) -> Need | None:
        """The need a deep-link payload names, if the viewer is its current holder."""
        claim_id = callbacks.parse_id(callbacks.DETAILS_LINK, payload)
        if claim_id is None:
            return None
        for pairing in await self.pairings(viewer_id):
            if pairing.claim_id == claim_id:
                return pairing.need
        return None

    async def pairings(self, user_id: int) -> list[Pairing]:
        """A volunteer's active pairings."""
        return await needs.pairings_of(self.db, user_id)

    async def status(self, chat_id: int | None) -> StatusCounts:
        """Progress in one group, or everywhere with None."""
        return await needs.status(self.db, chat_id)

    async def history(self, need_id: int) -> list[ClaimRecord]:
        """Every claim ever made on a need."""
        return await needs.claim_history(self.db, need_id)

    async def unreachable(self, user_id: int) -> None:
        """Telegram refused to deliver a private message to this person."""
        await people.mark_unreachable(self.db, user_id, self.clock())

    def private_data_in(self, summary: str) -> list[Finding]:
        """What in a public summary looks like a household's phone, ID number or address."""
        return find_private_data(summary)

    async def draft(self, user_id: int) -> Draft | None:
        """The need a coordinator is writing in private chat, if any."""
        return await drafts.get(self.db, user_id)

    async def save_draft(self, draft: Draft) -> Draft:
        """Keep a need being written as it now stands, so a restart does not lose it."""
        return await drafts.save(self.db, draft, self.clock())

    async def drop_draft(self, user_id: int) -> bool:
        """Forget a person's draft (posted or cancelled); False if there was none."""
        return await drafts.delete(self.db, user_id)

    # -- a need's life after posting (coordinators) -----------------------------------------

    def _checked(self, summary: str, details: PrivateDetails) -> TextProblem | None:
        """None if a summary and the details are usable, as /post and /edit check them."""
        problem = self.check_summary(summary)
        for value in details.values():
            problem = problem or self.check_detail(value)
        return problem

    async def edit_need(
        self, need_id: int, coordinator_id: int, summary: str, details: PrivateDetails
    ) -> LifeResult | TextProblem:
        """A coordinator gives an open or claimed need a new summary and private details."""
        if not self.is_coordinator(coordinator_id):
            return LifeResult(LifeOutcome.NOT_ALLOWED, None)
        summary = clean_text(summary)
        problem = self._checked(summary, details)
        if problem:
            return problem
        return await lifecycle.edit(
            self.db, need_id, summary, details, coordinator_id, self.clock()
        )

    async def close_need(
        self, need_id: int, coordinator_id: int, closed_as: str, note: str | None = None
    ) -> LifeResult | TextProblem:
        """A coordinator closes a need as done, or cancels it, with an optional note (kept
        for coordinators and told to the holder; purged with the private details)."""
        if not self.is_coordinator(coordinator_id):
            return LifeResult(LifeOutcome.NOT_ALLOWED, None)
        note = clean_text(note) or None
        problem = self.check_detail(note) if note else None
        if problem:
            return problem
        return await lifecycle.close(
            self.db, need_id, closed_as, note, coordinator_id, self.clock()
        )

    async def reopen_need(self, need_id: int, coordinator_id: int) -> LifeResult:
        """A coordinator opens a closed or cancelled need again."""
        if not self.is_coordinator(coordinator_id):
            return LifeResult(LifeOutcome.NOT_ALLOWED, None)
        return await lifecycle.reopen(self.db, need_id, coordinator_id, self.clock())

    async def closing(self, need_id: int) -> Closing:
        """A need's closing note and when its details were purged (coordinators only)."""
        return await lifecycle.closing(self.db, need_id)

    async def purge_expired(self) -> Purged | None:
        """Purge the private details of needs closed more than ``privacy.retention_days``
        ago; None if the config keeps them."""
        days = self.config.privacy.retention_days
        if days is None:
            return None
        now = self.clock()
        return await lifecycle.purge(self.db, now - timedelta(days=days), now)
