"""Reminders with a controlled clock: planning, the local times they go out at, quiet hours,
at-most-once sending across restarts, and the coordinators' /remind and /reminders.

The real Application runs on a recording fake Bot API; time passes only when a test moves
the clock, and a test runs the reminder job's work itself (``run``) instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import runtime
from bot.app import build_application, running
from bot.config import Config
from bot.domain import ReminderState
from bot.pacing import PacedRateLimiter
from bot.reminders import (
    FollowUpChain,
    after_quiet_hours,
    card_link,
    next_follow_up,
    parse_when,
    plan_digests,
)
from handlers.reminders import run_reminders
from storage import reminders as store
from storage.db import Database, to_db_time
from tests.factories import (
    COORDINATOR_ID,
    GROUP_ID,
    make_config,
    message_update,
    private_chat,
    tap_update,
    user,
)
from tests.fakes import Call, FakeBotApi
from tests.test_handlers import COORDINATOR, SECRETS, Harness, claim_button

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ALICE, BOB = user(5, "Alice"), user(6, "Bob")
ZHANG = user(8, "Zhang", language_code="zh-hans")
# Chosen so that 09:00 is not inside the default quiet hours and not in the past.
START = datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)


class Clock:
    """The time the bot sees; only the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def advance(self, span: timedelta) -> None:
        self.now += span


class FloodApi(FakeBotApi):
    """A fake Bot API that answers 429 (retry after 5 s) to private messages for ``flood``."""

    flood: set[int]

    def __init__(self) -> None:
        super().__init__()
        self.flood = set()

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any):  # type: ignore[override]
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if endpoint == "sendMessage" and int(params.get("chat_id", 0)) in self.flood:
            body = {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            }
            self.calls.append(Call(endpoint, params))
            return 429, json.dumps(body).encode()
        return await super().do_request(url, method, request_data, **kw)


class Bot(Harness):
    """The harness, with the clock and the reminder job's work at hand."""

    clock: Clock

    @property
    def reminders(self):
        return self.app.bot_data[runtime.REMINDERS]

    @property
    def db(self) -> Database:
        return self.service.db

    async def run(self) -> int:
        """One run of the reminder job, as the scheduler would make it now."""
        return await run_reminders(self.app.bot, self.reminders, wait=True)

    async def at(self, moment: datetime) -> int:
        """Move the clock to ``moment`` and run the job."""
        self.clock.set(moment)
        return await self.run()

    async def claim(self, sender: dict[str, Any], card: Any) -> None:
        await self.tap_card(sender, card)

    def texts(self, chat_id: int) -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in self.api.of("sendMessage")
            if int(c.params["chat_id"]) == chat_id
        ]

    def reminder_texts(self, chat_id: int, needle: str) -> list[str]:
        return [text for text in self.texts(chat_id) if needle in text]


Starter = Callable[..., contextlib.AbstractAsyncContextManager[Bot]]


@pytest.fixture
def start(tmp_path: Path) -> Starter:
    """Start the bot (again) on one database file: ``async with start(clock, **config)``."""

    @contextlib.asynccontextmanager
    async def starter(
        clock: Clock, api: FakeBotApi | None = None, **overrides: Any
    ) -> AsyncIterator[Bot]:
        config = reminder_config(tmp_path, **overrides)
        api = api or FakeBotApi()
        app = build_application(config, request=api, rate_limiter=False, clock=clock)
        async with running(app, polling=False):
            bot = Bot(app, api)
            bot.clock = clock
            await bot.service.group_seen(GROUP_ID, "Volunteers")
            await bot.run()  # the run at start has happened (it may have raced the line above)
            yield bot

    return starter


def reminder_config(tmp_path: Path, **overrides: Any) -> Config:
    reminders = {"country": None, "unclaimed_digest": None, **overrides.pop("reminders", {})}
    return make_config(tmp_path, reminders=reminders, **overrides)


async def log_visit(db: Database, claim_id: int, at: datetime) -> None:
    """A visit row, as /visit writes it."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO visits (need_id, claim_id, volunteer_id, visited_at)"
            " SELECT need_id, id, volunteer_id, ? FROM claims WHERE id = ?",
            (to_db_time(at), claim_id),
        )


async def states(db: Database, kind: str) -> list[str]:
    rows = await db.fetch_all("SELECT state FROM reminders WHERE kind = ? ORDER BY id", (kind,))
    return [row["state"] for row in rows]


# -- time, pure ------------------------------------------------------------------------------


QUIET = (time(22, 0), time(8, 0))


@pytest.mark.parametrize("zone", [SHANGHAI, BERLIN])
def test_quiet_hours_across_midnight_end_at_their_local_end(zone):
    def local(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2027, 3, day, hour, minute, tzinfo=zone)

    assert after_quiet_hours(local(10, 21, 59), QUIET, zone) == local(10, 21, 59)
    assert after_quiet_hours(local(10, 22), QUIET, zone) == local(11, 8)
    assert after_quiet_hours(local(10, 23, 30), QUIET, zone) == local(11, 8)
    assert after_quiet_hours(local(11, 3), QUIET, zone) == local(11, 8)
    assert after_quiet_hours(local(11, 8), QUIET, zone) == local(11, 8)
    assert after_quiet_hours(local(11, 3), None, zone) == local(11, 3)
    daytime = (time(12, 0), time(14, 0))
    assert after_quiet_hours(local(11, 13), daytime, zone) == local(11, 14)
    assert after_quiet_hours(local(11, 15), daytime, zone) == local(11, 15)


def test_quiet_hours_over_a_clock_change():
    # Europe/Berlin moves to summer time at 02:00 on 2027-03-28: the night is an hour shorter.
    night = datetime(2027, 3, 27, 23, 0, tzinfo=BERLIN)
    end = after_quiet_hours(night, QUIET, BERLIN)
    assert end == datetime(2027, 3, 28, 8, 0, tzinfo=BERLIN)
    assert end - night == 8 * HOUR


@pytest.mark.parametrize("zone", [SHANGHAI, BERLIN])
def test_when_a_coordinators_message_goes_out(zone):
    now = datetime(2027, 2, 1, 17, 0, tzinfo=zone)
    assert parse_when("18:00", now, zone) == datetime(2027, 2, 1, 18, 0, tzinfo=zone)
    assert parse_when("16:30", now, zone) == datetime(2027, 2, 2, 16, 30, tzinfo=zone)
    on = parse_when("2027-02-05  18:00", now, zone)
    assert on == datetime(2027, 2, 5, 18, 0, tzinfo=zone)
    assert parse_when("2h", now, zone) == now + 2 * HOUR
    assert parse_when("30m", now, zone) == now + timedelta(minutes=30)
    for bad in ("25:00", "2027-02-30 18:00", "tomorrow", "2x", "", "18"):
        assert parse_when(bad, now, zone) is None, bad


def test_follow_ups_skip_times_that_passed_while_the_bot_was_down():
    anchor = datetime(2027, 1, 1, tzinfo=UTC)
    chain = FollowUpChain(1, 1, 5, to_db_time(anchor), 1, 0, 1, False)
    catch_up = 12 * HOUR
    assert next_follow_up(chain, anchor + 4 * DAY, 3 * DAY, catch_up) == (2, anchor + 6 * DAY)
    # Due 6 hours ago: within catch_up, so it goes out now.
    late = anchor + 6 * DAY + 6 * HOUR
    assert next_follow_up(chain, late, 3 * DAY, catch_up) == (2, anchor + 6 * DAY)
    later = anchor + 10 * DAY
    assert next_follow_up(chain, later, 3 * DAY, catch_up) == (4, anchor + 12 * DAY)


def test_digest_is_planned_for_the_next_local_time_it_comes():
    morning = datetime(2027, 1, 4, 8, 59, tzinfo=BERLIN)
    (planned,) = plan_digests([GROUP_ID], morning, time(9, 0), BERLIN)
    assert planned.due_at == datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)
    (planned,) = plan_digests([GROUP_ID], morning + 2 * HOUR, time(9, 0), BERLIN)
    assert planned.due_at == datetime(2027, 1, 5, 9, 0, tzinfo=BERLIN)
    assert planned.key == f"digest:{GROUP_ID}:2027-01-05"


def test_card_links_are_for_supergroups_only():
    assert card_link(-1001234567890, 42) == "https://t.me/c/1234567890/42"
    assert card_link(-123456, 42) is None


# -- follow-ups and escalation -----------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_follow_up_comes_after_follow_up_after_and_waits_out_quiet_hours(start, zone):
    tz = ZoneInfo(zone)
    # Claimed at 21:30 local: three days later is 21:30, before the quiet hours.
    clock = Clock(datetime(2027, 1, 4, 21, 30, tzinfo=tz))
    async with start(clock, timezone=zone, reminders={"follow_up_after": "3d"}) as bot:
        card = await bot.post_card("Elder in Dongfeng needs rice")
        await bot.claim(ALICE, card)
        assert await bot.at(datetime(2027, 1, 7, 21, 29, tzinfo=tz)) == 0
        assert await bot.at(datetime(2027, 1, 7, 21, 30, tzinfo=tz)) == 1
        (text,) = bot.reminder_texts(5, "How is need #1 doing?")
        assert "/visit 1" in text and "2027-01-04" in text
        assert "Elder in Dongfeng needs rice" in text
        # Its button opens the visit form for this pairing (claim 1).
        assert buttons(bot.api.of("sendMessage")[-1]) == [("Log a visit", "v:1")]

        # Claimed at 23:00 instead, a pairing's follow-up waits for 08:00.
        card = await bot.post_card("Second household")
        clock.set(datetime(2027, 1, 7, 23, 0, tzinfo=tz))
        await bot.claim(BOB, card)
        assert await bot.at(datetime(2027, 1, 10, 21, 30, tzinfo=tz)) == 1  # Alice's second
        assert await bot.at(datetime(2027, 1, 10, 23, 0, tzinfo=tz)) == 0
        assert bot.reminder_texts(6, "How is need #2") == []
        assert await bot.at(datetime(2027, 1, 11, 7, 59, tzinfo=tz)) == 0
        assert await bot.at(datetime(2027, 1, 11, 8, 0, tzinfo=tz)) == 1
        assert len(bot.reminder_texts(6, "How is need #2")) == 1


async def test_follow_ups_repeat_and_coordinators_hear_once_after_three_unanswered(start):
    clock = Clock(START)
    async with start(clock, reminders={"follow_up_after": "3d"}) as bot:
        card = await bot.post_card()
        await bot.claim(ALICE, card)
        for days in (3, 6, 9):
            await bot.at(START + days * DAY)
        assert len(bot.reminder_texts(5, "How is need #1")) == 3
        assert bot.reminder_texts(COORDINATOR_ID, "gone quiet") == []
        # One interval after the third: still no visit.
        await bot.at(START + 12 * DAY)
        (note,) = bot.reminder_texts(COORDINATOR_ID, "gone quiet")
        assert "need #1" in note and "Alice" in note and "3 reminders went unanswered" in note
        assert "/reassign 1" in note
        await bot.at(START + 15 * DAY)
        await bot.at(START + 18 * DAY)
        assert len(bot.reminder_texts(COORDINATOR_ID, "gone quiet")) == 1
        assert len(bot.reminder_texts(5, "How is need #1")) == 6, "they go on, every 3 days"


async def test_a_visit_stops_the_follow_ups_and_the_next_comes_after_it(start):
    clock = Clock(START)
    async with start(clock, reminders={"follow_up_after": "3d"}) as bot:
        card = await bot.post_card()
        await bot.claim(ALICE, card)
        await bot.at(START + DAY)
        await log_visit(bot.db, 1, START + DAY)
        await bot.at(START + 3 * DAY)
        assert bot.reminder_texts(5, "How is need #1") == []
        assert await states(bot.db, "follow_up") == ["cancelled", "pending"]
        assert await bot.at(START + 4 * DAY - timedelta(seconds=1)) == 0
        await bot.at(START + 4 * DAY)
        (text,) = bot.reminder_texts(5, "How is need #1")
        assert (START + DAY).strftime("%Y-%m-%d") in text


async def test_a_visit_after_three_reminders_means_no_escalation(start):
    clock = Clock(START)
    async with start(clock, reminders={"follow_up_after": "3d"}) as bot:
        await bot.claim(ALICE, await bot.post_card())
        for days in (3, 6, 9):
            await bot.at(START + days * DAY)
        await log_visit(bot.db, 1, START + 10 * DAY)
        await bot.at(START + 12 * DAY)
        await bot.at(START + 13 * DAY)
        assert bot.reminder_texts(COORDINATOR_ID, "gone quiet") == []
        assert len(bot.reminder_texts(5, "How is need #1")) == 4  # 10 + 3 days: a new one


async def test_release_free_and_reassign_stop_or_move_follow_ups(start):
    clock = Clock(START)
    async with start(clock, reminders={"follow_up_after": "3d"}) as bot:
        cards = [await bot.post_card(f"household {n}") for n in range(3)]
        for card in cards:
            await bot.claim(ALICE, card)
        await bot.run()
        await bot.private(ALICE, "/release 1")
        await bot.private(COORDINATOR, "/free 2")
        await bot.private(ZHANG, "/start")
        clock.advance(DAY)
        await bot.private(COORDINATOR, "/reassign 3 8")
        await bot.at(START + 3 * DAY)
        assert bot.reminder_texts(5, "How is need") == []
        assert bot.reminder_texts(8, "近况如何") == []
        assert await states(bot.db, "follow_up") == ["cancelled"] * 3 + ["pending"]
        await bot.at(START + 4 * DAY)
        (text,) = bot.reminder_texts(8, "需求 #3 近况如何")
        assert "/visit 3" in text


# -- holidays ----------------------------------------------------------------------------------


SPRING = {"name": "Spring Festival", "date": "2027-02-06", "remind_before": ["7d", "1d"]}


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_holiday_reminders_reach_every_claimer_and_the_group_at_send_at(start, zone):
    tz = ZoneInfo(zone)
    clock = Clock(datetime(2027, 1, 20, 12, 0, tzinfo=tz))
    config = {"holidays": [SPRING], "send_at": "09:30", "follow_up_after": "60d"}
    async with start(clock, timezone=zone, reminders=config) as bot:
        cards = [await bot.post_card(f"household <{n}>") for n in range(3)]
        await bot.claim(ALICE, cards[0])
        await bot.claim(ALICE, cards[1])
        await bot.private(ZHANG, "/start")
        await bot.claim(ZHANG, cards[2])
        await bot.private(BOB, "/start")  # holds nothing: not a claimer
        await bot.run()
        assert await bot.at(datetime(2027, 1, 30, 9, 29, tzinfo=tz)) == 0
        assert await bot.at(datetime(2027, 1, 30, 9, 30, tzinfo=tz)) == 3
        (alice,) = bot.reminder_texts(5, "Spring Festival")
        assert "2027-02-06, in 7 days" in alice
        assert "#1 · household &lt;0&gt;" in alice and "#2 · household &lt;1&gt;" in alice
        (zhang,) = bot.reminder_texts(8, "Spring Festival")
        assert "还有 7 天" in zhang and "#3" in zhang and "#1" not in zhang
        assert bot.reminder_texts(6, "Spring Festival") == []
        (group,) = bot.reminder_texts(GROUP_ID, "Spring Festival")
        assert "All 3 households are paired" in group
        await bot.run()
        assert await bot.at(datetime(2027, 2, 5, 9, 30, tzinfo=tz)) == 3
        assert "tomorrow" in bot.reminder_texts(5, "Spring Festival")[-1]
        await bot.at(datetime(2027, 2, 6, 9, 30, tzinfo=tz))
        assert len(bot.reminder_texts(5, "Spring Festival")) == 2


async def test_holiday_reminders_to_people_wait_out_quiet_hours_the_group_does_not(start):
    clock = Clock(START)
    config = {"holidays": [SPRING], "send_at": "07:00", "follow_up_after": "60d"}
    async with start(clock, reminders=config) as bot:
        cards = [await bot.post_card(f"household {n}") for n in range(2)]
        await bot.claim(ALICE, cards[0])
        await bot.run()
        await bot.at(datetime(2027, 1, 30, 7, 0, tzinfo=SHANGHAI))
        (group,) = bot.reminder_texts(GROUP_ID, "Spring Festival")
        assert "1 households are paired" in group and "1 still wait" in group
        assert bot.reminder_texts(5, "Spring Festival") == []
        await bot.at(datetime(2027, 1, 30, 8, 0, tzinfo=SHANGHAI))
        assert len(bot.reminder_texts(5, "Spring Festival")) == 1


async def test_lunar_and_library_holidays_come_on_their_2027_and_2028_dates(start):
    clock = Clock(datetime(2027, 9, 1, 12, 0, tzinfo=SHANGHAI))
    config = {
        "country": "CN",
        "country_remind_before": ["3d"],
        "follow_up_after": "400d",
        "holidays": [{"name": "Double Ninth", "lunar": "09-09", "remind_before": ["2d"]}],
    }
    async with start(clock, reminders=config) as bot:
        await bot.private(ZHANG, "/start")
        await bot.claim(ZHANG, await bot.post_card())
        await bot.claim(ALICE, await bot.post_card())
        await bot.run()
        # Mid-Autumn 2027-09-15, three days before, at 09:00 local, named in each language.
        await bot.at(datetime(2027, 9, 12, 9, 0, tzinfo=SHANGHAI))
        assert "中秋节" in bot.texts(8)[-1] and "Mid-Autumn Festival" in bot.texts(5)[-1]
        # National Day 2027-10-01; Double Ninth 2027-10-08, two days before.
        await bot.at(datetime(2027, 9, 28, 9, 0, tzinfo=SHANGHAI))
        assert "国庆节" in bot.texts(8)[-1]
        assert await bot.at(datetime(2027, 10, 6, 8, 59, tzinfo=SHANGHAI)) == 0
        await bot.at(datetime(2027, 10, 6, 9, 0, tzinfo=SHANGHAI))
        assert "Double Ninth</b>（2027-10-08）" in bot.texts(8)[-1]
        # A year on: Double Ninth 2028-10-26.
        await bot.at(datetime(2028, 9, 1, 9, 0, tzinfo=SHANGHAI))
        await bot.at(datetime(2028, 10, 24, 9, 0, tzinfo=SHANGHAI))
        assert "Double Ninth</b> is on 2028-10-26" in bot.texts(5)[-1]


async def test_planning_twice_adds_nothing(start):
    clock = Clock(START)
    config = {"holidays": [SPRING], "unclaimed_digest": "09:00", "country": "CN"}
    async with start(clock, reminders=config) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.run()
        count = len(await bot.db.fetch_all("SELECT id FROM reminders"))
        assert count >= 4  # a follow-up, a digest, two Spring Festival reminders, ...
        assert await bot.reminders.plan(clock()) == 0
        await bot.run()
        assert len(await bot.db.fetch_all("SELECT id FROM reminders")) == count


# -- the unclaimed digest ----------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_unclaimed_digest_links_each_open_card_and_is_silent_when_all_are_claimed(
    start, zone
):
    tz = ZoneInfo(zone)
    clock = Clock(datetime(2027, 1, 4, 12, 0, tzinfo=tz))
    async with start(clock, timezone=zone, reminders={"unclaimed_digest": "08:30"}) as bot:
        cards = [await bot.post_card(f"household <{n}>") for n in range(3)]
        await bot.claim(ALICE, cards[1])
        await bot.run()
        assert await bot.at(datetime(2027, 1, 5, 8, 29, tzinfo=tz)) == 0
        assert await bot.at(datetime(2027, 1, 5, 8, 30, tzinfo=tz)) == 1
        (digest,) = bot.reminder_texts(GROUP_ID, "wait for a volunteer")
        assert "2 needs still wait" in digest
        first, third = (card.result["message_id"] for card in (cards[0], cards[2]))
        assert f'<a href="https://t.me/c/1234567890/{first}">#1</a> · household &lt;0&gt;' in (
            digest
        )
        assert f"/{third}" in digest and "#2" not in digest
        await bot.claim(ALICE, cards[0])
        await bot.claim(BOB, cards[2])
        await bot.at(datetime(2027, 1, 6, 8, 30, tzinfo=tz))
        assert len(bot.reminder_texts(GROUP_ID, "wait for a volunteer")) == 1
        assert await states(bot.db, "digest") == ["sent", "cancelled", "pending"]


# -- coordinators' broadcasts --------------------------------------------------------------------


async def test_remind_schedules_a_message_to_every_claimer_at_a_local_time(start):
    clock = Clock(datetime(2027, 2, 1, 17, 0, tzinfo=SHANGHAI))
    async with start(clock) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.private(ZHANG, "/start")
        await bot.claim(ZHANG, await bot.post_card())
        await bot.private(COORDINATOR, "/remind 18:00 Bring <dumplings> & couplets")
        reply = bot.texts(COORDINATOR_ID)[-1]
        assert reply.startswith("Scheduled #") and "2027-02-01 18:00" in reply
        assert "(2 now)" in reply
        assert await bot.at(datetime(2027, 2, 1, 17, 59, tzinfo=SHANGHAI)) == 0
        assert await bot.at(datetime(2027, 2, 1, 18, 0, tzinfo=SHANGHAI)) == 2
        assert "Bring &lt;dumplings&gt; &amp; couplets" in bot.texts(5)[-1]
        assert bot.texts(8)[-1].startswith("<b>协调员消息</b>")
        await bot.run()
        assert len(bot.reminder_texts(5, "dumplings")) == 1


async def test_remind_refuses_volunteers_groups_and_bad_input(start):
    clock = Clock(datetime(2027, 2, 1, 17, 0, tzinfo=SHANGHAI))
    async with start(clock) as bot:
        await bot.private(ALICE, "/remind 18:00 hello")
        assert bot.texts(5)[-1] == "Only coordinators can do that."
        await bot.group_command(COORDINATOR, "/remind 18:00 hello")
        assert "private chat" in bot.texts(GROUP_ID)[-1]
        for text, answer in [
            ("/remind", "Usage: /remind"),
            ("/remind 18:00", "Usage: /remind"),
            ("/remind soon hello", "Usage: /remind"),
            ("/remind 2027-01-01 09:00 hello", "That time has passed"),
            ("/remind 2029-01-01 09:00 hello", "more than a year ahead"),
            ("/remind 2h " + "x" * 1001, "1 to 1000 characters"),
        ]:
            await bot.private(COORDINATOR, text)
            assert answer in bot.texts(COORDINATOR_ID)[-1], text
        assert await states(bot.db, "broadcast") == []


async def test_a_broadcast_in_quiet_hours_goes_out_at_their_end(start):
    clock = Clock(datetime(2027, 2, 1, 17, 0, tzinfo=SHANGHAI))
    async with start(clock) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.private(COORDINATOR, "/remind 23:00 late news")
        assert "2027-02-02 08:00" in bot.texts(COORDINATOR_ID)[-1]
        await bot.at(datetime(2027, 2, 1, 23, 0, tzinfo=SHANGHAI))
        assert bot.reminder_texts(5, "late news") == []
        await bot.at(datetime(2027, 2, 2, 8, 0, tzinfo=SHANGHAI))
        assert len(bot.reminder_texts(5, "late news")) == 1


def buttons(call: Any) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup or {}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def test_reminders_lists_what_is_scheduled_and_a_coordinator_cancels_it(start):
    clock = Clock(datetime(2027, 2, 1, 17, 0, tzinfo=SHANGHAI))
    async with start(clock) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.run()
        await bot.private(COORDINATOR, "/reminders")
        assert "Also waiting: 1 × follow-up" in bot.texts(COORDINATOR_ID)[-1]
        await bot.private(COORDINATOR, "/remind 2027-02-05 18:00 Visit before the festival")
        await bot.private(COORDINATOR, "/remind 20:00 Second <note>")
        await bot.private(COORDINATOR, "/reminders")
        listing = bot.api.of("sendMessage")[-1]
        assert "Second &lt;note&gt;" in listing.params["text"]
        assert "2027-02-05 18:00" in listing.params["text"]
        (second, first) = buttons(listing)  # soonest first
        assert second == ("Cancel #3", "rc:3") and first == ("Cancel #2", "rc:2")

        chat = private_chat(COORDINATOR_ID)
        # A volunteer's forged tap, and forged data, change nothing.
        await bot.send(tap_update(bot.app.bot, ALICE, "rc:3", chat=private_chat(5)))
        assert bot.last_answer()["text"] == "Only coordinators can do that."
        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:3x", chat=chat))
        assert bot.last_answer()["text"] == "This button is not valid."
        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:999", chat=chat))
        assert bot.last_answer()["text"] == "That reminder is no longer scheduled."
        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:1", chat=chat))  # a follow-up
        assert bot.last_answer()["text"] == "That reminder is no longer scheduled."
        edits = len(bot.api.of("editMessageText"))
        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:999"))  # on a group card
        assert len(bot.api.of("editMessageText")) == edits, "a group card is never the list"
        assert await states(bot.db, "broadcast") == ["pending", "pending"]

        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:3", chat=chat))
        assert bot.last_answer()["text"] == "Cancelled #3."
        edited = bot.api.of("editMessageText")[-1]
        assert "Second" not in edited.params["text"] and buttons(edited) == [("Cancel #2", "rc:2")]
        await bot.send(tap_update(bot.app.bot, COORDINATOR, "rc:3", chat=chat))
        assert bot.last_answer()["text"] == "That reminder is no longer scheduled."
        await bot.at(datetime(2027, 2, 1, 20, 0, tzinfo=SHANGHAI))
        assert bot.reminder_texts(5, "Second") == []
        await bot.at(datetime(2027, 2, 5, 18, 0, tzinfo=SHANGHAI))
        assert len(bot.reminder_texts(5, "Visit before the festival")) == 1

        await bot.private(ALICE, "/reminders")
        assert bot.texts(5)[-1] == "Only coordinators can do that."


async def test_the_same_remind_update_twice_schedules_once(start):
    clock = Clock(datetime(2027, 2, 1, 17, 0, tzinfo=SHANGHAI))
    async with start(clock) as bot:
        chat = private_chat(COORDINATOR_ID)
        update = message_update(bot.app.bot, COORDINATOR, chat, "/remind 2h hi")
        await bot.send(update)
        await bot.send(update)
        assert await states(bot.db, "broadcast") == ["pending"]


# -- durability: restarts, failures ---------------------------------------------------------------


async def test_due_while_down_is_sent_once_at_start_and_never_again(start):
    clock = Clock(START)
    config = {"reminders": {"follow_up_after": "3d", "catch_up": "12h"}}
    async with start(clock, **config) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.claim(BOB, await bot.post_card())
        await bot.run()
        await bot.private(BOB, "/release 2")
    # Down over the moment it fell due; Bob released his meanwhile.
    clock.set(START + 3 * DAY + 5 * HOUR)
    async with start(clock, **config) as bot:
        assert len(bot.reminder_texts(5, "How is need #1")) == 1  # the run at start
        assert await bot.run() == 0
        assert bot.reminder_texts(6, "How is need") == []
    async with start(clock, **config) as bot:
        assert bot.api.of("sendMessage") == [], "a second start sends nothing more"
        assert await states(bot.db, "follow_up") == ["sent", "cancelled", "pending"]


async def test_too_late_is_missed_and_the_coordinators_told_how_many(start):
    clock = Clock(START)
    config = {"reminders": {"follow_up_after": "3d", "catch_up": "12h", "quiet_hours": None}}
    async with start(clock, **config) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.run()
    clock.set(START + 3 * DAY + 13 * HOUR)
    async with start(clock, **config) as bot:
        assert bot.reminder_texts(5, "How is need") == []
        (note,) = bot.reminder_texts(COORDINATOR_ID, "While I was down")
        assert "1 reminders fell due more than 12h ago" in note and "1 × follow-up" in note
        # The pairing's next follow-up is planned from now on, not a burst of old ones.
        assert await states(bot.db, "follow_up") == ["missed", "pending"]
        await bot.at(START + 6 * DAY)
        assert len(bot.reminder_texts(5, "How is need")) == 1


async def test_a_reminder_left_sending_by_a_crash_is_never_sent_again(start):
    clock = Clock(START)
    config = {"reminders": {"follow_up_after": "3d"}}
    async with start(clock, **config) as bot:
        await bot.claim(ALICE, await bot.post_card())
        await bot.run()
        # As if the process died between marking it and hearing back from Telegram.
        await bot.db.execute("UPDATE reminders SET state = 'sending' WHERE kind = 'follow_up'")
    clock.set(START + 3 * DAY + HOUR)
    async with start(clock, **config) as bot:
        assert bot.reminder_texts(5, "How is need") == []
        (row,) = await bot.db.fetch_all("SELECT state, last_error FROM reminders WHERE id = 1")
        assert row["state"] == "failed" and "interrupted" in row["last_error"]


async def test_the_job_runs_at_start_by_itself(tmp_path):
    clock = Clock(START)
    config = reminder_config(tmp_path, reminders={"follow_up_after": "3d"})
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False, clock=clock)
    async with running(app, polling=False):
        bot = Bot(app, api)
        await bot.service.group_seen(GROUP_ID, "Volunteers")
        await bot.claim(ALICE, await bot.post_card())
        await run_reminders(app.bot, app.bot_data[runtime.REMINDERS], wait=True)
    clock.advance(3 * DAY)
    api = FakeBotApi()
    app = build_application(config, request=api, rate_limiter=False, clock=clock)
    async with running(app, polling=False):
        for _ in range(500):
            if api.texts_to(5):
                break
            await asyncio.sleep(0.01)  # the scheduler's run at start, on its own
        assert any("How is need #1" in text for text in api.texts_to(5))
        job_names = [job.name for job in app.job_queue.jobs()]
        assert "claimbot.reminders" in job_names


async def test_a_blocked_volunteer_is_reported_to_the_coordinators_once(start):
    clock = Clock(START)
    async with start(clock, reminders={"follow_up_after": "3d"}) as bot:
        await bot.claim(ALICE, await bot.post_card())
        bot.api.unreachable.add(5)
        await bot.at(START + 3 * DAY)
        (note,) = bot.reminder_texts(COORDINATOR_ID, "I cannot reach Alice")
        assert "(id 5)" in note and "#1" in note
        await bot.at(START + 6 * DAY)
        assert len(bot.reminder_texts(COORDINATOR_ID, "I cannot reach")) == 1
        assert await states(bot.db, "follow_up") == ["failed", "failed"]
        person = await bot.service.person(5)
        assert person is not None and not person.started_bot
        # Reachable again, then blocked again: the coordinators hear of it again.
        bot.api.unreachable.discard(5)
        await bot.at(START + 9 * DAY)
        bot.api.unreachable.add(5)
        await bot.at(START + 12 * DAY)
        assert len(bot.reminder_texts(COORDINATOR_ID, "I cannot reach")) == 2


async def test_flood_and_network_errors_are_retried_later(start):
    clock = Clock(START)
    api = FloodApi()
    async with start(clock, api=api, reminders={"follow_up_after": "3d"}) as bot:
        await bot.claim(ALICE, await bot.post_card())
        api.flood.add(5)
        assert await bot.at(START + 3 * DAY) == 0
        reminder = await store.get(bot.db, 1)
        assert reminder is not None and reminder.state is ReminderState.PENDING
        assert reminder.attempts == 1 and reminder.due_at == clock() + timedelta(seconds=6)
        api.flood.discard(5)
        api.fail["sendMessage"] = (502, "Bad Gateway")
        assert await bot.at(START + 3 * DAY + timedelta(seconds=6)) == 0
        reminder = await store.get(bot.db, 1)
        assert reminder is not None and reminder.state is ReminderState.PENDING
        assert reminder.attempts == 2 and "network" in (reminder.last_error or "")
        del api.fail["sendMessage"]
        assert await bot.at(reminder.due_at) == 1
        assert (await store.get(bot.db, 1)).state is ReminderState.SENT  # type: ignore[union-attr]
        assert len(bot.reminder_texts(5, "How is need #1")) == 3, "three tries, one arrived"


async def test_reminder_sends_are_bulk_for_the_rate_limiter(tmp_path, monkeypatch):
    seen: list[Any] = []
    original = PacedRateLimiter.process_request

    async def recording(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint == "sendMessage":
            seen.append(rate_limit_args)
        return await original(self, callback, args, kwargs, endpoint, data, rate_limit_args)

    monkeypatch.setattr(PacedRateLimiter, "process_request", recording)
    clock = Clock(START)
    config = reminder_config(tmp_path, reminders={"follow_up_after": "3d"})
    api = FakeBotApi()
    app = build_application(config, request=api, clock=clock)
    async with running(app, polling=False):
        bot = Bot(app, api)
        await bot.service.group_seen(GROUP_ID, "Volunteers")
        await bot.claim(ALICE, await bot.post_card())
        reminders = app.bot_data[runtime.REMINDERS]
        await run_reminders(app.bot, reminders, wait=True)
        clock.advance(3 * DAY)
        seen.clear()
        assert await run_reminders(app.bot, reminders, wait=True) == 1
    assert seen == [{"bulk": True}]


async def test_reminders_never_carry_private_details_or_reach_the_log(start, caplog):
    caplog.set_level(logging.DEBUG)
    clock = Clock(START)
    async with start(
        clock, reminders={"follow_up_after": "3d", "unclaimed_digest": "09:00"}
    ) as bot:
        await bot.post_private("Disabled veteran needs groceries", *SECRETS)
        card = bot.api.of("sendMessage")[-2]
        assert claim_button(card) == "c:1"
        await bot.post_private("Another household", *SECRETS)
        await bot.claim(ALICE, card)
        bot.api.unreachable.add(5)
        for days in range(1, 16):
            await bot.at(START + days * DAY)
        reminders = [
            c.params["text"]
            for c in bot.api.of("sendMessage")
            if "How is need" in c.params["text"]
            or "wait for a volunteer" in c.params["text"]
            or "cannot reach" in c.params["text"]
        ]
        assert reminders
        ours = [
            r.getMessage()
            for r in caplog.records
            if r.name.split(".")[0] in ("bot", "handlers", "storage")
        ]
        assert any("reminder" in line for line in ours)  # the 403 was logged
        for secret in SECRETS:
            assert all(secret not in text for text in reminders)
            assert all(secret not in line for line in ours)
