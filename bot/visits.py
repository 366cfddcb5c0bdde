"""Visits: a claimer logs what they did for their household; concerns reach coordinators.

The visit form runs in private chat, one step at a time: tick what was done, an optional
note, an optional photo, then whether anything is worrying. Each step is kept in SQLite, so a
restart in the middle loses nothing. Only the current holder of a pairing may log a visit for
it; every button names the pairing, and every tap is checked against the database.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.config import Config
from bot.domain import ClaimRecord, Need, Pairing, PrivateDetails, Visit
from bot.i18n import pick_language
from bot.service import TextProblem, check_text, clean_text, utc_now
from storage import needs, people, visits
from storage.db import Database
from storage.visits import VisitDraft

NOTE_MAX_LENGTH = 1000
SKIP = "-"
# A form untouched this long is dropped: a note typed a week later was meant for nothing.
FORM_LASTS = timedelta(days=1)


class Step(enum.StrEnum):
    """The steps of the visit form, in order."""

    DONE = "done"  # ticking what was done
    NOTE = "note"
    PHOTO = "photo"
    CONCERN = "concern"  # all well, or needs help now


STEPS = tuple(Step)


class VisitOutcome(enum.StrEnum):
    """How finishing a visit form ended."""

    LOGGED = "logged"
    ENDED = "ended"  # the pairing ended meanwhile: nothing logged, the form dropped
    NO_FORM = "no_form"  # no such form at that step (a second tap, an old button)


@dataclass(frozen=True, slots=True)
class Form:
    """A visit form just started, with the need it is for."""

    draft: VisitDraft
    need: Need


@dataclass(frozen=True, slots=True)
class VisitResult:
    """What finishing a form did; ``need`` as it stands after it, when it was logged."""

    outcome: VisitOutcome
    visit: Visit | None = None
    need: Need | None = None


@dataclass(frozen=True, slots=True)
class Household:
    """A household's record as a coordinator or its claimer sees it."""

    need: Need
    details: PrivateDetails
    claims: list[ClaimRecord]
    visits: list[Visit]


def may_log(need: Need | None, claim_id: int, user_id: int) -> bool:
    """Whether ``user_id`` may log a visit for the pairing ``claim_id``: it is theirs, now."""
    holder = need.holder_of(user_id) if need is not None else None
    return holder is not None and holder.claim_id == claim_id


def may_read_history(need: Need | None, viewer_id: int, is_coordinator: bool) -> bool:
    """Whether a person may read a household's record: coordinators, and its current holder."""
    if need is None:
        return False
    return is_coordinator or need.holder_of(viewer_id) is not None


def toggled(done: tuple[str, ...], key: str, order: list[str]) -> tuple[str, ...]:
    """``done`` with ``key`` ticked or unticked, in the checklist's order."""
    chosen = set(done) ^ {key}
    return tuple(k for k in order if k in chosen)


def step_after(step: Step) -> Step:
    """The step that follows ``step`` (the last one is followed by saving)."""
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


@dataclass
class VisitService:
    """Logging visits and reading a household's history, free of Telegram types."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)

    def label(self, key: str, lang: str) -> str:
        """A checklist item in a language (its key, if the config no longer has it)."""
        labels = self.config.visits.checklist.get(key)
        if not labels:
            return key
        return labels.get(lang) or labels["en"]

    @property
    def checklist(self) -> list[str]:
        """The checklist's keys, in the config's order."""
        return list(self.config.visits.checklist)

    async def pairings(self, user_id: int) -> list[Pairing]:
        """A volunteer's active pairings, to pick one to log a visit for."""
        return await needs.pairings_of(self.db, user_id)

    async def start(self, user_id: int, claim_id: int) -> Form | None:
        """Open a fresh visit form for a pairing, if it is the person's now; else None."""
        need_id = await visits.need_of_claim(self.db, claim_id)
        need = await needs.get(self.db, need_id) if need_id is not None else None
        if need is None or not may_log(need, claim_id, user_id):
            return None
        draft = VisitDraft(user_id, claim_id, need.id, Step.DONE)
        return Form(await visits.save_draft(self.db, draft, self.clock()), need)

    async def start_for_need(self, user_id: int, need_id: int) -> Form | None:
        """Open a visit form for a need by number, if the person holds it."""
        need = await needs.get(self.db, need_id)
        place = need.holder_of(user_id) if need is not None else None
        if place is None:
            return None
        return await self.start(user_id, place.claim_id)

    async def draft(self, user_id: int) -> VisitDraft | None:
        """The visit form a person has open, if any (one left untouched too long is dropped)."""
        draft = await visits.get_draft(self.db, user_id)
        if draft is None or draft.updated_at is None:
            return None
        if self.clock() - draft.updated_at > FORM_LASTS:
            await visits.delete_draft(self.db, user_id)
            return None
        return draft

    async def _at(self, user_id: int, claim_id: int, step: Step) -> VisitDraft | None:
        draft = await self.draft(user_id)
        if draft is None or draft.claim_id != claim_id or draft.step != step:
            return None
        return draft

    async def _save(self, draft: VisitDraft) -> VisitDraft:
        return await visits.save_draft(self.db, draft, self.clock())

    async def toggle(self, user_id: int, claim_id: int, key: str) -> VisitDraft | None:
        """Tick or untick a checklist item; None if no form of that pairing is at the list."""
        draft = await self._at(user_id, claim_id, Step.DONE)
        if draft is None or key not in self.config.visits.checklist:
            return None
        return await self._save(replace(draft, done=toggled(draft.done, key, self.checklist)))

    async def move_on(self, user_id: int, claim_id: int, step: Step) -> VisitDraft | None:
        """Leave ``step`` as it is (Next, or Skip); None if the form is not at that step."""
        draft = await self._at(user_id, claim_id, step)
        if draft is None or step is Step.CONCERN:
            return None
        return await self._save(replace(draft, step=step_after(step)))

    async def give_note(self, draft: VisitDraft, text: str) -> VisitDraft | TextProblem:
        """The note typed at the note step ("-" skips it); then the photo step."""
        note = clean_text(text)
        if note != SKIP:
            problem = check_text(note, NOTE_MAX_LENGTH)
            if problem:
                return problem
            draft = replace(draft, note=note)
        return await self._save(replace(draft, step=Step.PHOTO))

    async def give_photo(self, draft: VisitDraft, file_id: str, caption: str | None) -> VisitDraft:
        """A photo (Telegram's file_id only) at the note or photo step; then the concern step.

        A caption counts as the note, if none was given.
        """
        note = draft.note
        caption = clean_text(caption)[:NOTE_MAX_LENGTH]
        if note is None and caption:
            note = caption
        return await self._save(
            replace(draft, photo_file_id=file_id, note=note, step=Step.CONCERN)
        )

    async def finish(self, user_id: int, claim_id: int, concern: bool) -> VisitResult:
        """Log the visit the form holds, with or without a concern, if the pairing is still
        the person's."""
        draft = await self._at(user_id, claim_id, Step.CONCERN)
        if draft is None:
            return VisitResult(VisitOutcome.NO_FORM)
        logged = await visits.log_visit(self.db, draft, concern, self.clock())
        if logged.draft is None:
            return VisitResult(VisitOutcome.NO_FORM)
        if logged.visit is None:
            return VisitResult(VisitOutcome.ENDED, need=await needs.get(self.db, draft.need_id))
        need = await needs.get(self.db, draft.need_id)
        return VisitResult(VisitOutcome.LOGGED, logged.visit, need)

    async def cancel(self, user_id: int) -> bool:
        """Drop a person's visit form; False if they had none open."""
        if await self.draft(user_id) is None:
            return False  # none, or one left too long (already dropped)
        return await visits.delete_draft(self.db, user_id)

    async def coordinators(self) -> list[tuple[int, str]]:
        """Every coordinator, with the language to tell them things in."""
        recipients = []
        for user_id in sorted(self.config.coordinators):
            person = await people.get(self.db, user_id)
            chosen = person.language if person else None
            code = person.language_code if person else None
            recipients.append((user_id, pick_language(chosen, code, self.config.language)))
        return recipients

    async def household(self, need_id: int, viewer_id: int) -> Household | None:
        """A household's record (details, claims, visits) if the viewer may read it."""
        need = await needs.get(self.db, need_id)
        if need is None or not may_read_history(
            need, viewer_id, self.config.is_coordinator(viewer_id)
        ):
            return None
        return Household(
            need=need,
            details=await needs.details(self.db, need_id),
            claims=await needs.claim_history(self.db, need_id),
            visits=await visits.of_need(self.db, need_id),
        )
