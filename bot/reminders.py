"""Reminders: follow-ups, holidays, digests and broadcasts, planned and sent from SQLite.

Every occurrence is a row (storage/reminders.py), the only source of truth: the scheduler
only asks this service, now and then, what to send. Planning is pure (the functions below,
fed by storage and a clock) and keyed, so planning twice adds nothing. Sending is at most
once: a row is marked "sending" (committed) after a last check that it still applies, and
"sent" only after Telegram took it; one left "sending" by a crash is never sent again.
"""

from __future__ import annotations

import asyncio
import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.config import Config, RemindersConfig, parse_duration
from bot.domain import Reminder, ReminderState
from bot.holidays import Occasion, occasions
from bot.i18n import pick_language, t
from bot.service import clean_text, utc_now
from storage import needs, people
from storage import reminders as store
from storage.db import Database
from storage.reminders import FollowUpChain, GroupCounts, Planned

FOLLOW_UP = "follow_up"
ESCALATION = "escalation"
HOLIDAY = "holiday"  # a fan-out: becomes HOLIDAY_PRIVATE and HOLIDAY_GROUP when due
HOLIDAY_PRIVATE = "holiday_private"
HOLIDAY_GROUP = "holiday_group"
DIGEST = "digest"
BROADCAST = "broadcast"  # a fan-out: becomes BROADCAST_PRIVATE when due
BROADCAST_PRIVATE = "broadcast_private"
UNREACHABLE = "unreachable"
MISSED = "missed_summary"

FAN_OUTS = (HOLIDAY, BROADCAST)
# What must still hold when each kind is about to go out (storage.reminders.GUARDS).
GUARD = {
    FOLLOW_UP: "claim",
    ESCALATION: "claim",
    HOLIDAY_PRIVATE: "claimer",
    BROADCAST_PRIVATE: "claimer",
    HOLIDAY_GROUP: "group",
    DIGEST: "group",
    UNREACHABLE: "none",
    MISSED: "none",
}
SENDABLE = tuple(GUARD)
# Posts in a group are not private reminders: quiet hours do not hold them back.
IN_GROUPS = (HOLIDAY_GROUP, DIGEST)
# Sent to a volunteer: if Telegram refuses (403), the coordinators hear of it.
TO_VOLUNTEERS = (FOLLOW_UP, HOLIDAY_PRIVATE, BROADCAST_PRIVATE)

ESCALATE_AFTER = 3  # unanswered follow-ups before the coordinators are told
HOLIDAY_HORIZON = timedelta(days=60)  # holiday reminders are planned this far ahead
MAX_ATTEMPTS = 5  # sends that failed for a passing reason before one is given up
BROADCAST_MAX_LENGTH = 1000
BROADCAST_MAX_AHEAD = timedelta(days=366)
DIGEST_MAX_LINKS = 25
LISTED = 15  # scheduled fan-outs /reminders shows, each with its Cancel button
LISTED_PAIRINGS = 20  # a person's pairings named in one reminder (a message holds 4096)

_CLOCK = r"(\d{1,2}):(\d{2})"
_WHEN_AT = re.compile(rf"^{_CLOCK}$")
_WHEN_ON = re.compile(rf"^(\d{{4}})-(\d{{2}})-(\d{{2}})\s+{_CLOCK}$")
_WHEN_IN = re.compile(r"^\d+[smhd]$")
_BROADCAST = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}\s+\S+|\S+)\s+(.+)$", re.DOTALL)


# -- time ----------------------------------------------------------------------------------


def local_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """``at`` o'clock local time on ``day``, as a UTC moment."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def after_quiet_hours(moment: datetime, quiet: tuple[time, time] | None, tz: tzinfo) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (local time; a range such as
    22:00-08:00 runs across midnight)."""
    if quiet is None or quiet[0] == quiet[1]:
        return moment
    start, end = quiet
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= clock < end, local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1 if clock >= start else 0)
    return local_moment(end_day, end, tz) if inside else moment


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """When a coordinator's message should go out: ``18:00`` (the next time it is 18:00),
    ``2027-02-05 18:00`` (local time), or ``2h`` / ``30m`` from now. None if not one."""
    text = " ".join(text.split())
    if _WHEN_IN.match(text):
        return now + parse_duration(text)
    try:
        if match := _WHEN_AT.match(text):
            at = time(int(match.group(1)), int(match.group(2)))
            today = now.astimezone(tz).date()
            moment = local_moment(today, at, tz)
            return moment if moment > now else local_moment(today + timedelta(days=1), at, tz)
        if match := _WHEN_ON.match(text):
            year, month, day, hour, minute = (int(part) for part in match.groups())
            return local_moment(date(year, month, day), time(hour, minute), tz)
    except ValueError:  # 25:00, 2027-02-30
        return None
    return None


# -- planning (pure) -----------------------------------------------------------------------


def next_follow_up(
    chain: FollowUpChain, now: datetime, every: timedelta, catch_up: timedelta
) -> tuple[int, datetime]:
    """The number and due time of a pairing's next follow-up: every ``every`` after its
    anchor. One whose time passed longer than ``catch_up`` ago (the bot was down) is
    skipped, as a reminder due then would be missed: no burst of old ones at start."""
    number = chain.last_n + 1
    if chain.anchored_at + number * every < now - catch_up:
        number = math.ceil((now - chain.anchored_at) / every)
    return number, chain.anchored_at + number * every


def plan_follow_ups(
    chains: Iterable[FollowUpChain], now: datetime, settings: RemindersConfig, tz: tzinfo
) -> list[Planned]:
    """The next follow-up of each pairing that has none waiting."""
    planned = []
    for chain in chains:
        if chain.waiting:
            continue
        number, due = next_follow_up(chain, now, settings.follow_up_after, settings.catch_up)
        planned.append(
            Planned(
                FOLLOW_UP,
                f"{FOLLOW_UP}:{chain.claim_id}:{chain.anchor}:{number}",
                after_quiet_hours(due, settings.quiet_hours, tz),
                chat_id=chain.volunteer_id,
                need_id=chain.need_id,
                claim_id=chain.claim_id,
                payload={"anchor": chain.anchor, "n": number},
            )
        )
    return planned


def plan_escalations(
    chains: Iterable[FollowUpChain],
    coordinators: Iterable[int],
    now: datetime,
    settings: RemindersConfig,
    tz: tzinfo,
) -> list[Planned]:
    """Tell every coordinator, once, of each pairing whose follow-ups went unanswered: one
    interval after the last of them, if no visit is logged by then."""
    planned = []
    for chain in chains:
        if chain.escalated or chain.sent < ESCALATE_AFTER:
            continue
        due = max(now, chain.anchored_at + (ESCALATE_AFTER + 1) * settings.follow_up_after)
        due = after_quiet_hours(due, settings.quiet_hours, tz)
        planned += [
            Planned(
                ESCALATION,
                f"{ESCALATION}:{chain.claim_id}:{chain.anchor}:{coordinator}",
                due,
                chat_id=coordinator,
                need_id=chain.need_id,
                claim_id=chain.claim_id,
                payload={"anchor": chain.anchor, "unanswered": chain.sent},
            )
            for coordinator in sorted(coordinators)
        ]
    return planned


def plan_holidays(
    found: Iterable[Occasion], now: datetime, send_at: time, tz: tzinfo
) -> list[Planned]:
    """A fan-out for each occasion and each of its ``remind_before``, at ``send_at`` local
    time, for those due within ``HOLIDAY_HORIZON``."""
    planned = []
    for occasion in found:
        for before in occasion.remind_before:
            due = local_moment(occasion.day, send_at, tz) - before
            if not now < due <= now + HOLIDAY_HORIZON:
                continue
            seconds = int(before.total_seconds())
            payload = {
                "day": occasion.day.isoformat(),
                "name": occasion.name,
                "names": dict(occasion.names),
            }
            key = f"{HOLIDAY}:{occasion.day.isoformat()}:{seconds}"
            planned.append(Planned(HOLIDAY, key, due, payload=payload))
    return planned


def plan_digests(groups: Iterable[int], now: datetime, at: time, tz: tzinfo) -> list[Planned]:
    """Each group's next unclaimed digest, one a day at ``at`` local time."""
    day = now.astimezone(tz).date()
    if local_moment(day, at, tz) <= now:
        day += timedelta(days=1)
    due = local_moment(day, at, tz)
    return [
        Planned(DIGEST, f"{DIGEST}:{chat_id}:{day.isoformat()}", due, chat_id=chat_id)
        for chat_id in groups
    ]


def fan_out(
    parent: Reminder,
    claimers: Iterable[int],
    groups: Iterable[GroupCounts],
    now: datetime,
    settings: RemindersConfig,
    tz: tzinfo,
) -> list[Planned]:
    """What a due fan-out becomes: one private message per claimer (after quiet hours) and,
    for a holiday, one announcement per group with needs."""
    private_kind = HOLIDAY_PRIVATE if parent.kind == HOLIDAY else BROADCAST_PRIVATE
    private_due = after_quiet_hours(now, settings.quiet_hours, tz)
    # A holiday's children carry its occasion; a broadcast's text stays with the parent.
    payload = parent.payload if parent.kind == HOLIDAY else {}
    children = [
        Planned(private_kind, f"{parent.key}:{user_id}", private_due, user_id, payload=payload)
        for user_id in claimers
    ]
    if parent.kind == HOLIDAY:
        children += [
            Planned(HOLIDAY_GROUP, f"{parent.key}:{g.chat_id}", now, g.chat_id, payload=payload)
            for g in groups
        ]
    return children


def missed_notes(
    counts: Mapping[str, int],
    coordinators: Iterable[int],
    now: datetime,
    settings: RemindersConfig,
    tz: tzinfo,
) -> list[Planned]:
    """A note to each coordinator of what fell due while the bot was down too long ago."""
    if not counts:
        return []
    due = after_quiet_hours(now, settings.quiet_hours, tz)
    stamp = now.isoformat()
    return [
        Planned(MISSED, f"{MISSED}:{stamp}:{user_id}", due, chat_id=user_id, payload=counts)
        for user_id in sorted(coordinators)
    ]


def card_link(chat_id: int, message_id: int) -> str | None:
    """A link to a message in a supergroup (t.me/c/...); basic groups have none."""
    internal = -chat_id - 1_000_000_000_000
    return f"https://t.me/c/{internal}/{message_id}" if internal > 0 else None


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_text(moment: datetime, tz: tzinfo) -> str:
    """A moment as people here read it: local date and time."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


# -- the service ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to send for a reminder (HTML, escaped), in its reader's language; a
    follow-up carries a Log a visit button for its pairing."""

    chat_id: int
    text: str
    lang: str
    log_visit: int | None = None  # the claim a Log a visit button names


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A broadcast a coordinator scheduled: its row, and when it goes out."""

    reminder: Reminder
    goes_out: datetime
    claimers: int


@dataclass
class ReminderService:
    """Planning reminders into the database and deciding what is due, free of Telegram types."""

    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utc_now)
    # One run at a time (the scheduler's, or a test's): a run decides and sends in turn.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    started: bool = field(default=False, init=False)

    @property
    def settings(self) -> RemindersConfig:
        """The reminders part of the config."""
        return self.config.reminders

    async def prepare(self) -> None:
        """Before a run sends: at the first run, settle what a stop left behind; then plan
        what is new and turn due fan-outs into one occurrence per recipient."""
        now = self.clock()
        if not self.started:
            await self.settle_after_stop(now)
            self.started = True  # only once it worked: a failed first try is tried again
        await self.plan(now)
        await self.expand_due(now)

    async def settle_after_stop(self, now: datetime) -> None:
        """Rows left "sending" failed (never resent); rows due longer than ``catch_up`` ago
        are missed, and the coordinators told how many; the rest go out in this run."""
        await store.fail_interrupted(self.db)
        missed = await store.mark_missed(self.db, now - self.settings.catch_up)
        coordinators = self.config.coordinators
        notes = missed_notes(missed, coordinators, now, self.settings, self.config.tz)
        await store.add(self.db, notes, now)

    async def plan(self, now: datetime) -> int:
        """Add every occurrence that is due to be planned; returns how many were new."""
        settings, tz = self.settings, self.config.tz
        chains = await store.follow_up_chains(self.db, ESCALATE_AFTER)
        planned = plan_follow_ups(chains, now, settings, tz)
        planned += plan_escalations(chains, self.config.coordinators, now, settings, tz)
        local_year = now.astimezone(tz).year
        found = [o for year in (local_year, local_year + 1) for o in occasions(settings, year)]
        planned += plan_holidays(found, now, settings.send_at, tz)
        if settings.unclaimed_digest is not None:
            groups = await store.active_groups(self.db)
            planned += plan_digests(groups, now, settings.unclaimed_digest, tz)
        return await store.add(self.db, planned, now)

    async def expand_due(self, now: datetime) -> int:
        """Turn each due fan-out into its occurrences; returns how many were added."""
        added = 0
        for parent in await store.due(self.db, now, FAN_OUTS, limit=1000):
            claimers = await store.claimers(self.db)
            groups = await store.group_counts(self.db)
            children = fan_out(parent, claimers, groups, now, self.settings, self.config.tz)
            added += await store.expand(self.db, parent.id, children, now) or 0
        return added

    async def due(self, limit: int = 50) -> list[Reminder]:
        """Occurrences due now, earliest first."""
        return await store.due(self.db, self.clock(), SENDABLE, limit)

    async def take(self, reminder: Reminder) -> Outgoing | None:
        """A due occurrence made this run's to send (committed as "sending"), with its message;
        None if it waits for the end of quiet hours or no longer applies (then cancelled)."""
        now = self.clock()
        if reminder.kind not in IN_GROUPS:
            later = after_quiet_hours(now, self.settings.quiet_hours, self.config.tz)
            if later > now:
                await store.reschedule(self.db, reminder.id, later)
                return None
        taken = await store.start_sending(self.db, reminder.id, GUARD[reminder.kind])
        if taken is False:
            await store.cancel(self.db, reminder.id, "no longer applies")
        if not taken:
            return None
        try:
            lang = await self.reader_language(reminder)
            text = await self.compose(reminder, lang, now)
        except Exception:
            await self.failed(reminder, "could not be composed")
            raise
        if text is None:
            await store.finish(
                self.db, reminder.id, ReminderState.CANCELLED, now, "nothing to say"
            )
            return None
        assert reminder.chat_id is not None
        log_visit = reminder.claim_id if reminder.kind == FOLLOW_UP else None
        return Outgoing(reminder.chat_id, text, lang, log_visit)

    async def delivered(self, reminder: Reminder) -> None:
        """Telegram took the message."""
        await store.finish(self.db, reminder.id, ReminderState.SENT, self.clock())

    async def failed(self, reminder: Reminder, reason: str) -> None:
        """The message will not be sent (``reason`` names no person and no household)."""
        await store.finish(self.db, reminder.id, ReminderState.FAILED, self.clock(), reason)

    async def retry(self, reminder: Reminder, after: timedelta, reason: str) -> bool:
        """Send it again later (a 429, a network fault); False if it was tried too often."""
        if reminder.attempts + 1 >= MAX_ATTEMPTS:
            await self.failed(reminder, f"{reason}; gave up after {MAX_ATTEMPTS} attempts")
            return False
        await store.reschedule(self.db, reminder.id, self.clock() + after, reason)
        return True

    async def unreachable(self, reminder: Reminder) -> None:
        """Telegram refused (403): a volunteer who blocked the bot or never started it, or a
        group the bot left. Failed; for a volunteer, the coordinators are told once."""
        now, chat_id = self.clock(), reminder.chat_id
        await self.failed(reminder, "forbidden: blocked, never started, or not in the chat")
        if chat_id is None:
            return
        if reminder.kind in IN_GROUPS:
            await people.forget_group(self.db, chat_id, now)
            return
        await people.mark_unreachable(self.db, chat_id, now)
        if reminder.kind not in TO_VOLUNTEERS:
            return
        # Once per stretch of silence: a later delivery to them starts a new one.
        since = await store.last_sent_to(self.db, chat_id)
        due = after_quiet_hours(now, self.settings.quiet_hours, self.config.tz)
        notes = [
            Planned(
                UNREACHABLE,
                f"{UNREACHABLE}:{chat_id}:{since}:{coordinator}",
                due,
                chat_id=coordinator,
                payload={"user_id": chat_id},
            )
            for coordinator in sorted(self.config.coordinators)
        ]
        await store.add(self.db, notes, now)

    # -- coordinators' broadcasts ----------------------------------------------------------

    async def schedule_broadcast(
        self, coordinator_id: int, request: str, args: str
    ) -> Scheduled | str:
        """``/remind <when> <text>``: a message to every claimer at that local time; or the
        catalog key of what is wrong (nothing is scheduled then). ``request`` names the
        message that asked, so a repeated update schedules nothing more."""
        if not self.config.is_coordinator(coordinator_id):
            return "not_coordinator"
        now, tz = self.clock(), self.config.tz
        match = _BROADCAST.match(args)
        if match is None:
            return "rem_usage"
        when = parse_when(match.group(1), now, tz)
        text = clean_text(match.group(2))
        if when is None:
            return "rem_usage"
        if when <= now:
            return "rem_past"
        if when > now + BROADCAST_MAX_AHEAD:
            return "rem_too_far"
        if not text or len(text) > BROADCAST_MAX_LENGTH:
            return "rem_text_length"
        key = f"{BROADCAST}:{request}"
        planned = Planned(BROADCAST, key, when, payload={"text": text}, created_by=coordinator_id)
        await store.add(self.db, [planned], now)
        reminder = await store.get_by_key(self.db, key)
        assert reminder is not None
        later = after_quiet_hours(when, self.settings.quiet_hours, tz)
        return Scheduled(reminder, later, len(await store.claimers(self.db)))

    async def scheduled(self) -> tuple[list[Reminder], dict[str, int]]:
        """The fan-outs waiting to go out (soonest first), and how many other occurrences
        of each kind are pending."""
        waiting = await store.pending(self.db, FAN_OUTS, LISTED)
        counts = await store.pending_counts(self.db)
        others = {kind: n for kind, n in counts.items() if kind not in FAN_OUTS}
        return waiting, others

    async def cancel(self, coordinator_id: int, reminder_id: int) -> bool | None:
        """A coordinator cancels a scheduled fan-out: True if cancelled, False if it is no
        longer scheduled, None if the person is not a coordinator (nothing changes)."""
        if not self.config.is_coordinator(coordinator_id):
            return None
        reason = f"cancelled by coordinator {coordinator_id}"
        return await store.cancel(self.db, reminder_id, reason, FAN_OUTS)

    # -- what each reminder says -----------------------------------------------------------

    async def language_of(self, user_id: int) -> str:
        """The language a person reads: chosen, else Telegram's, else the default."""
        person = await people.get(self.db, user_id)
        if person is None:
            return self.config.language
        return pick_language(person.language, person.language_code, self.config.language)

    async def reader_language(self, reminder: Reminder) -> str:
        """The language a reminder is read in: a group's is the configured one."""
        if reminder.kind in IN_GROUPS or reminder.chat_id is None:
            return self.config.language
        return await self.language_of(reminder.chat_id)

    async def compose(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        """The text of a reminder in ``lang``, as things stand now; None if there is
        nothing to say any more."""
        composer = {
            FOLLOW_UP: self._follow_up,
            ESCALATION: self._escalation,
            HOLIDAY_PRIVATE: self._holiday_private,
            HOLIDAY_GROUP: self._holiday_group,
            DIGEST: self._digest,
            BROADCAST_PRIVATE: self._broadcast,
            UNREACHABLE: self._unreachable,
            MISSED: self._missed,
        }[reminder.kind]
        return await composer(reminder, lang, now)

    async def _follow_up(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        need = await needs.get(self.db, reminder.need_id or 0)
        if need is None or need.holder is None:
            return None
        tz = self.config.tz
        since = str(reminder.payload.get("anchor", ""))
        return t(
            lang,
            "rem_follow_up",
            id=need.id,
            summary=html.escape(shorten(need.summary, 200)),
            since=_day_of(since, tz),
        )

    async def _escalation(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        need = await needs.get(self.db, reminder.need_id or 0)
        holders = need.holders if need is not None else ()
        # The pairing that went quiet (a need for several has a place each).
        holder = next((h for h in holders if h.claim_id == reminder.claim_id), None)
        if need is None or holder is None:
            return None
        tz = self.config.tz
        return t(
            lang,
            "rem_escalation",
            id=need.id,
            summary=html.escape(shorten(need.summary, 200)),
            name=html.escape(holder.display_name),
            claimed=holder.claimed_at.astimezone(tz).strftime("%Y-%m-%d"),
            since=_day_of(str(reminder.payload.get("anchor", "")), tz),
            count=reminder.payload.get("unanswered", ESCALATE_AFTER),
        )

    def _occasion(self, reminder: Reminder, lang: str, now: datetime) -> dict[str, object]:
        name = occasion_name(reminder, lang)
        day = date.fromisoformat(str(reminder.payload.get("day")))
        ahead = (day - now.astimezone(self.config.tz).date()).days
        when = t(lang, {0: "rem_today", 1: "rem_tomorrow"}.get(ahead, "rem_in_days"), days=ahead)
        return {"name": html.escape(name), "date": day.isoformat(), "when": when}

    async def _holiday_private(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        pairings = await needs.pairings_of(self.db, reminder.chat_id or 0)
        if not pairings:
            return None
        lines = [
            t(lang, "rem_pairing", id=p.need.id, summary=html.escape(shorten(p.need.summary, 80)))
            for p in pairings
        ]
        occasion = self._occasion(reminder, lang, now)
        listed = "\n".join(capped(lines, LISTED_PAIRINGS, lang))
        return t(lang, "rem_holiday_private", pairings=listed, **occasion)

    async def _holiday_group(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        counts = await needs.status(self.db, reminder.chat_id)
        occasion = self._occasion(reminder, lang, now)
        key = "rem_holiday_group" if counts.open else "rem_holiday_group_all"
        return t(lang, key, open=counts.open, claimed=counts.claimed, **occasion)

    async def _digest(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        chat_id = reminder.chat_id or 0
        count, cards = await store.open_cards(self.db, chat_id, DIGEST_MAX_LINKS)
        if count == 0:
            return None  # every need is claimed: nothing to post
        lines = []
        for card in cards:
            summary = html.escape(shorten(card.summary, 60))
            link = card_link(chat_id, card.message_id)
            number = f'<a href="{link}">#{card.need_id}</a>' if link else f"#{card.need_id}"
            lines.append(f"{number} · {summary}")
        if count > len(cards):
            lines.append(t(lang, "rem_digest_more", count=count - len(cards)))
        return t(lang, "rem_digest", count=count, lines="\n".join(lines))

    async def _broadcast(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        parent = await store.get(self.db, reminder.parent_id or 0)
        text = str(parent.payload.get("text", "")) if parent else ""
        return t(lang, "rem_broadcast", text=html.escape(text)) if text else None

    async def _unreachable(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        user_id = int(str(reminder.payload.get("user_id", 0)))
        person = await people.get(self.db, user_id)
        name = html.escape(person.display_name) if person else str(user_id)
        numbers = [f"#{p.need.id}" for p in await needs.pairings_of(self.db, user_id)]
        held = ", ".join(capped(numbers, LISTED_PAIRINGS, lang))
        return t(lang, "rem_unreachable", name=name, user_id=user_id, needs=held or "-")

    async def _missed(self, reminder: Reminder, lang: str, now: datetime) -> str | None:
        counts = {kind: int(str(n)) for kind, n in reminder.payload.items()}
        catch_up = _duration_text(self.settings.catch_up)
        kinds = kind_counts(counts, lang)
        return t(lang, "rem_missed", count=sum(counts.values()), kinds=kinds, catch_up=catch_up)


def _day_of(stored: str, tz: tzinfo) -> str:
    moment = datetime.fromisoformat(stored) if stored else None
    return moment.astimezone(tz).strftime("%Y-%m-%d") if moment else "-"


def _duration_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def occasion_name(reminder: Reminder, lang: str) -> str:
    """A holiday reminder's occasion, named in ``lang`` if the calendar knows it so."""
    names = reminder.payload.get("names")
    name = names.get(lang) if isinstance(names, dict) else None
    return str(name or reminder.payload.get("name", ""))


def listed_text(
    listed: Sequence[Reminder], others: Mapping[str, int], lang: str, tz: tzinfo
) -> str:
    """What /reminders shows: each scheduled fan-out, and counts of the rest."""
    if not listed and not others:
        return t(lang, "rem_list_none")
    lines = [t(lang, "rem_list_header", count=len(listed))] if listed else []
    for reminder in listed:
        when = local_text(reminder.due_at, tz)
        if reminder.kind == BROADCAST:
            text = html.escape(shorten(str(reminder.payload.get("text", "")), 80))
            lines.append(t(lang, "rem_list_broadcast", id=reminder.id, when=when, text=text))
        else:
            name = html.escape(occasion_name(reminder, lang))
            day = str(reminder.payload.get("day", ""))
            item = t(lang, "rem_list_holiday", id=reminder.id, when=when, name=name, day=day)
            lines.append(item)
    if others:
        lines.append(t(lang, "rem_list_others", counts=kind_counts(others, lang)))
    return "\n".join(lines)


def kind_counts(counts: Mapping[str, int], lang: str) -> str:
    """How many of each kind, the kinds named in ``lang``."""
    return ", ".join(
        t(lang, "rem_kind_count", kind=t(lang, f"rem_kind_{kind}"), count=n)
        for kind, n in sorted(counts.items())
    )


def capped(lines: list[str], most: int, lang: str) -> list[str]:
    """At most ``most`` lines, and a last one saying how many more there are."""
    if len(lines) <= most:
        return lines
    return [*lines[:most], t(lang, "rem_digest_more", count=len(lines) - most)]
