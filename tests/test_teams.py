"""Teams: the rule, the storage (and the migration of free-text teams), and /team through the
real Application on a fake Bot API."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import runtime
from bot.config import Config
from bot.domain import (
    MAX_TEAMS,
    CardRef,
    ClaimOutcome,
    TeamOutcome,
)
from bot.teams import TeamService
from storage import needs, people, teams
from storage.db import Database
from storage.migrations import MIGRATIONS
from tests.factories import (
    COORDINATOR_ID,
    GROUP_ID,
    actor,
    make_config,
    private_details,
    tap_update,
    user,
)
from tests.test_handlers import COORDINATOR, Harness
from tests.test_posting import buttons, started, tap_private

NOW = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
CARD = CardRef(chat_id=-100, message_id=7)
ALICE, BOB, CAROL = user(5, "Alice"), user(6, "Bob"), user(8, "Carol")


# -- storage ----------------------------------------------------------------------------------


async def post(db: Database, summary: str) -> int:
    need = await needs.create(db, GROUP_ID, summary, private_details(), actor(COORDINATOR_ID), NOW)
    return need.id


async def team_of(db: Database, members: list[int], name: str) -> int:
    result = await teams.add(db, name, COORDINATOR_ID, NOW)
    assert result.team is not None
    for member in members:
        await people.upsert(db, actor(member), NOW)
        assert await teams.choose(db, member, result.team.id, NOW)
    return result.team.id


async def test_a_claim_records_the_team_and_a_removed_team_stays_in_the_record(db):
    team_id = await team_of(db, [5], "Party Branch 3")
    need_id = await post(db, "Elder needs rice")
    won = await needs.claim(db, need_id, actor(5), 3, NOW)
    assert won.need.holder.team == "Party Branch 3"
    removed = await teams.remove(db, "party branch 3", COORDINATOR_ID, NOW)
    assert removed.outcome is TeamOutcome.REMOVED and removed.members == (5,)
    assert (await people.get(db, 5)).team is None
    held = await needs.get(db, need_id)
    assert held.holder.team == "Party Branch 3", "the claim keeps the name it was made for"
    assert [c.team for c in await needs.claim_history(db, need_id)] == ["Party Branch 3"]
    assert not await teams.choose(db, 5, team_id, NOW), "a removed team cannot be picked"
    # Adding it again brings the same team back, its open claims counting again.
    again = await teams.add(db, "PARTY BRANCH 3", COORDINATOR_ID, NOW)
    assert again.outcome is TeamOutcome.ADDED
    assert (again.team.id, again.team.name, again.team.open_claims) == (
        team_id,
        "PARTY BRANCH 3",
        1,
    )


async def test_the_team_limit_holds_under_concurrent_taps(db):
    """20 members of one team tap 20 open needs at once, limit 3: the first 3 win."""
    crowd = list(range(100, 120))
    team_id = await team_of(db, crowd, "Youth Team")
    await team_of(db, [200], "Party Branch 1")
    ids = [await post(db, f"need {n}") for n in range(21)]
    rules = needs.TeamRules(max_open_claims=3)
    results = await asyncio.gather(
        *(
            needs.claim(db, need, actor(who), 3, NOW, None, rules)
            for who, need in zip(crowd, ids, strict=False)
        )
    )
    outcomes = [r.outcome for r in results]
    assert outcomes == [ClaimOutcome.WON] * 3 + [ClaimOutcome.TEAM_LIMIT_REACHED] * 17
    assert {r.team_open_claims for r in results[3:]} == {3}
    rows = await db.fetch_all(
        "SELECT COUNT(*) AS n FROM claims WHERE team_id = ? AND released_at IS NULL", (team_id,)
    )
    assert rows[0]["n"] == 3
    # Another team, and a volunteer in no team, are not held back by it.
    other = await needs.claim(db, ids[20], actor(200), 3, NOW, None, rules)
    assert other.outcome is ClaimOutcome.WON
    # A release makes room again.
    await needs.release(db, ids[0], crowd[0], False, NOW)
    retry = await needs.claim(db, ids[5], actor(crowd[5]), 3, NOW, None, rules)
    assert retry.outcome is ClaimOutcome.WON


async def test_a_volunteer_with_no_team_is_asked_for_one_only_when_required_and_teams_exist(db):
    need_id = await post(db, "Elder needs rice")
    required = needs.TeamRules(required=True)
    assert (await needs.claim(db, need_id, actor(5), 3, NOW, None, required)).outcome is (
        ClaimOutcome.WON
    ), "no team exists yet: nothing to pick"
    await needs.release(db, need_id, 5, False, NOW)
    await teams.add(db, "Party Branch 1", COORDINATOR_ID, NOW)
    refused = await needs.claim(db, need_id, actor(5), 3, NOW, None, required)
    assert refused.outcome is ClaimOutcome.NO_TEAM
    assert (await needs.get(db, need_id)).holder is None
    assert (await needs.claim(db, need_id, actor(5), 3, NOW)).outcome is ClaimOutcome.WON


def teams_step() -> int:
    """How many migrations came before the one that made teams."""
    return next(
        n for n, step in enumerate(MIGRATIONS) if any("CREATE TABLE teams" in s for s in step)
    )


def database_before_teams(path: Path) -> None:
    """A database at the schema before teams, with the free text volunteers typed."""
    step = teams_step()
    conn = sqlite3.connect(path)
    for statement in [s for migration in MIGRATIONS[:step] for s in migration]:
        conn.execute(statement)
    typed = [
        (5, "Party Branch 3", "2027-01-01T00:00:01+00:00"),
        (6, "  party branch 3 ", "2027-01-01T00:00:02+00:00"),
        (7, "Youth Team", "2027-01-01T00:00:03+00:00"),
        (8, None, "2027-01-01T00:00:04+00:00"),
        (9, "   ", "2027-01-01T00:00:05+00:00"),
        (10, "青年志愿者服务队", "2027-01-01T00:00:06+00:00"),
    ]
    for user_id, team, at in typed:
        conn.execute(
            "INSERT INTO people (user_id, display_name, team, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (user_id, f"V{user_id}", team, at, at),
        )
    for need_id in (1, 2, 3):
        conn.execute(
            "INSERT INTO needs (id, chat_id, card_message_id, summary, created_by, created_at)"
            " VALUES (?, -1, ?, 'x', 1, '2027-01-01T00:00:00+00:00')",
            (need_id, 50 + need_id),
        )
    claims = [
        (1, 6, "  party branch 3 ", None),  # open, typed differently
        (2, 7, "Old Name", "2027-01-02T00:00:00+00:00"),  # history: a name nobody has now
        (3, 8, None, None),
    ]
    for need_id, volunteer, team, released in claims:
        conn.execute(
            "INSERT INTO claims (need_id, volunteer_id, team, claimed_at, released_at)"
            " VALUES (?, ?, ?, '2027-01-01T00:00:00+00:00', ?)",
            (need_id, volunteer, team, released),
        )
    conn.execute(f"PRAGMA user_version={step}")
    conn.commit()
    conn.close()


async def test_free_text_teams_are_migrated(tmp_path):
    path = tmp_path / "before-teams.db"
    database_before_teams(path)
    async with Database(path) as db:
        assert await db.schema_version() == len(MIGRATIONS)
        defined = await teams.active(db)
        assert [(t.name, t.members, t.open_claims) for t in defined] == [
            ("Party Branch 3", 2, 1),  # one team, the first spelling, whatever the case
            ("Youth Team", 1, 0),
            ("青年志愿者服务队", 1, 0),
        ]
        by_person = {p: (await people.get(db, p)).team for p in (5, 6, 7, 8, 9, 10)}
        assert by_person == {
            5: "Party Branch 3",
            6: "Party Branch 3",
            7: "Youth Team",
            8: None,
            9: None,
            10: "青年志愿者服务队",
        }
        columns = [row["name"] for row in await db.fetch_all("PRAGMA table_info(people)")]
        assert "team" not in columns, "no reader can take the old free text for the team"
        # The record is untouched: each claim keeps the name it was made with.
        assert [c.team for n in (1, 2, 3) for c in await needs.claim_history(db, n)] == [
            "  party branch 3 ",
            "Old Name",
            None,
        ]
        # A new claim records the team's name as it is now defined.
        need_id = await post(db, "new")
        won = await needs.claim(db, need_id, actor(5, "V5"), 3, NOW)
        assert won.need.holder.team == "Party Branch 3"
        assert await db.migrate() == 0


async def test_the_config_teams_are_defined_at_start_and_only_the_file_removes_them(tmp_path):
    config = make_config(tmp_path, teams=["Branch A", "Branch B"])
    async with Database(config.database.path) as db:
        service = TeamService(db, config)
        await service.load_config()
        await service.add(COORDINATOR_ID, "Youth Team")
        assert [(t.name, t.in_config) for t in await service.teams()] == [
            ("Branch A", True),
            ("Branch B", True),
            ("Youth Team", False),
        ]
        refused = await service.remove(COORDINATOR_ID, "branch a")
        assert refused.outcome is TeamOutcome.IN_CONFIG
        assert (await service.add(COORDINATOR_ID, "BRANCH B")).outcome is TeamOutcome.EXISTS
        # The file now lists Branch B (spelt anew) and Youth Team; Branch A was taken out.
        listed = make_config(tmp_path, teams=["branch b", "Youth Team"])
        later = TeamService(db, listed)
        await later.load_config()
        assert [(t.name, t.in_config) for t in await later.teams()] == [
            ("Branch A", False),
            ("branch b", True),
            ("Youth Team", True),
        ]
        removed = await later.remove(COORDINATOR_ID, "Branch A")
        assert removed.outcome is TeamOutcome.REMOVED


@pytest.mark.parametrize(
    ("teams_value", "problem"),
    [
        ("Branch A", "must be a list"),
        (["A", "a"], "listed twice"),
        (["x" * 61], "at most 60"),
        (["remove"], "cannot be team names"),
        ([""], "cannot be empty"),
        ([3], "not a team name"),
        ([f"T{n}" for n in range(MAX_TEAMS + 1)], f"at most {MAX_TEAMS}"),
    ],
)
def test_bad_config_teams_are_refused_naming_the_key(tmp_path, teams_value, problem):
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, teams=teams_value)
    assert "teams" in str(caught.value) and problem in str(caught.value)


# -- /team through the real Application -------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def harness(config: Config) -> AsyncIterator[Harness]:
    async with started(config) as harness:
        yield harness


def team_service(harness: Harness) -> TeamService:
    return harness.app.bot_data[runtime.TEAMS]


def last_to(harness: Harness, chat_id: int) -> Any:
    return [c for c in harness.api.of("sendMessage") if int(c.params["chat_id"]) == chat_id][-1]


async def test_coordinators_add_teams_and_a_volunteer_picks_one_from_buttons(harness):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    assert "Added the team <b>Party Branch 3</b>" in harness.private_texts(COORDINATOR_ID)[-1]
    await harness.private(COORDINATOR, "/team add  youth   team ")
    await harness.private(ALICE, "/team")
    picker = last_to(harness, 5)
    assert "Your claims count for no team." in picker.params["text"]
    assert buttons(picker) == ["tm:1", "tm:2", "tm:0"]
    await tap_private(harness, "tm:2", ALICE)
    assert (
        harness.last_answer()["text"] == "Your new claims count for youth team. /team changes it."
    )
    assert (await harness.service.person(5)).team == "youth team"
    card = await harness.post_card()
    await harness.tap_card(ALICE, card)
    assert "Claimed by Alice (youth team)" in harness.api.of("editMessageText")[-1].params["text"]
    await harness.private(ALICE, "/team -")
    assert (await harness.service.person(5)).team is None
    await harness.private(ALICE, "/team PARTY branch 3")
    assert "Your new claims count for <b>Party Branch 3</b>" in harness.private_texts(5)[-1]
    assert (await harness.service.need(1)).holder.team == "youth team", "claims keep theirs"


async def test_coordinators_see_the_teams_with_members_and_open_claims(harness):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    await harness.private(ALICE, "/team Party Branch 3")
    await harness.tap_card(ALICE, await harness.post_card())
    await harness.private(COORDINATOR, "/team")
    text = harness.private_texts(COORDINATOR_ID)[-1]
    assert "Party Branch 3: 1 volunteers, 1 open claims" in text
    assert "/team add" in text


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/team add party BRANCH 3", "There is already a team <b>Party Branch 3</b>"),
        ("/team add " + "x" * 61, "That name is too long (61 characters; at most 60)"),
        ("/team add add", "cannot be team names"),
        ("/team add \u200b\u200b", "A team needs a name"),
        ("/team add", "Usage: /team add"),
        ("/team remove", "Usage: /team remove"),
        ("/team remove Nobody's Team", "There is no team “Nobody&#x27;s Team”"),
    ],
)
async def test_bad_team_changes_are_answered_and_change_nothing(harness, command, answer):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    await harness.private(COORDINATOR, command)
    assert answer in harness.private_texts(COORDINATOR_ID)[-1]
    assert [t.name for t in await team_service(harness).teams()] == ["Party Branch 3"]


async def test_a_hostile_team_name_is_escaped_everywhere(harness):
    await harness.private(COORDINATOR, "/team add <b>Branch</b> & <a href='x'>co</a>")
    reply = harness.private_texts(COORDINATOR_ID)[-1]
    assert "&lt;b&gt;Branch&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;co&lt;/a&gt;" in reply
    await harness.private(ALICE, "/team")
    assert "tm:1" in buttons(last_to(harness, 5))
    await tap_private(harness, "tm:1", ALICE)
    card = await harness.post_card()
    await harness.tap_card(ALICE, card)
    shown = harness.api.of("editMessageText")[-1].params["text"]
    assert "(&lt;b&gt;Branch&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;co&lt;/a&gt;)" in shown


async def test_volunteers_cannot_manage_teams(harness):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    for command in ("/team add Mine", "/team remove Party Branch 3", "/team add"):
        await harness.private(ALICE, command)
        assert harness.private_texts(5)[-1] == "Only coordinators can do that."
    await harness.group_command(ALICE, "/team remove Party Branch 3")
    assert harness.api.texts_to(GROUP_ID)[-1] == "Only coordinators can do that."
    assert [t.name for t in await team_service(harness).teams()] == ["Party Branch 3"]


async def test_removing_a_team_asks_its_members_to_pick_again(harness):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    await harness.private(COORDINATOR, "/team add Youth Team")
    for volunteer in (ALICE, BOB):
        await harness.private(volunteer, "/team Party Branch 3")
    await harness.private(CAROL, "/team Youth Team")
    await harness.tap_card(ALICE, await harness.post_card())
    harness.api.unreachable.add(6)  # Bob blocked the bot since
    await harness.private(COORDINATOR, "/team remove party branch 3")
    assert harness.private_texts(COORDINATOR_ID)[-1] == (
        "Removed the team <b>Party Branch 3</b>. 2 volunteers in it were asked to pick again;"
        " its 1 open claims keep its name in the record."
    )
    notice = last_to(harness, 5)
    assert "removed the team <b>Party Branch 3</b>" in notice.params["text"]
    assert buttons(notice) == ["tm:2", "tm:0"], "the teams there are now"
    assert (await harness.service.person(5)).team is None
    assert (await harness.service.person(6)).started_bot is False, "noted as unreachable"
    assert (await harness.service.person(8)).team == "Youth Team", "other teams untouched"
    assert (await harness.service.need(1)).holder.team == "Party Branch 3"
    # The old picker's button for the removed team changes nothing.
    await tap_private(harness, "tm:1", ALICE)
    assert harness.last_answer()["text"].startswith("That team no longer exists")
    assert (await harness.service.person(5)).team is None
    edited = harness.api.of("editMessageText")[-1]
    assert buttons(edited) == ["tm:2", "tm:0"], "the stale picker shows the teams now"


@pytest.mark.parametrize("data", ["tm:999", "tm:01", "tm:-1", "tm:1:x", "tm:"])
async def test_forged_team_buttons_change_nothing(harness, data):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    await harness.private(COORDINATOR, "/team add Youth Team")
    await harness.private(ALICE, "/team Youth Team")
    await tap_private(harness, data, ALICE)
    assert harness.answers(), "every tap is answered"
    assert (await harness.service.person(5)).team == "Youth Team"


async def test_a_team_button_on_a_group_message_changes_nothing(harness):
    await harness.private(COORDINATOR, "/team add Party Branch 3")
    await harness.private(ALICE, "/start")
    await harness.send(tap_update(harness.app.bot, ALICE, "tm:1"))  # on a group message
    assert harness.last_answer()["text"] == "This button is not valid."
    assert (await harness.service.person(5)).team is None
    assert not harness.api.of("editMessageText")


async def test_team_in_the_group_points_to_the_private_chat(harness):
    await harness.group_command(ALICE, "/team")
    assert "Pick your team in a private chat with me" in harness.api.texts_to(GROUP_ID)[-1]


async def test_no_teams_defined_says_so(harness):
    await harness.private(ALICE, "/team")
    message = last_to(harness, 5)
    assert "No teams are defined yet" in message.params["text"]
    assert buttons(message) == []
    await harness.private(ALICE, "/team Anything")
    assert "There is no team “Anything”; nothing changed." in harness.private_texts(5)[-1]


async def test_help_lists_team(harness):
    await harness.private(ALICE, "/help")
    assert "/team: pick the party branch or team" in harness.private_texts(5)[-1]
    assert "/team add" not in harness.private_texts(5)[-1]
    await harness.private(COORDINATOR, "/help")
    assert (
        "/team add &lt;name&gt;, /team remove &lt;name&gt;"
        in harness.private_texts(COORDINATOR_ID)[-1]
    )


async def test_a_tap_over_the_team_limit_is_answered_naming_the_limit(tmp_path):
    config = make_config(
        tmp_path, teams=["Party Branch 3"], limits={"max_open_claims_per_team": 1}
    )
    async with started(config) as harness:
        for volunteer in (ALICE, BOB):
            await harness.private(volunteer, "/team Party Branch 3")
        first, second = await harness.post_card("one"), await harness.post_card("two")
        await harness.tap_card(ALICE, first)
        await harness.tap_card(BOB, second)
        assert harness.last_answer()["text"] == (
            "Your team Party Branch 3 already holds 1 open claims; a team may hold at most 1."
            " Nothing was claimed."
        )
        assert (await harness.service.need(2)).holder is None
        await harness.tap_card(CAROL, second)  # in no team: not held back
        assert (await harness.service.need(2)).holder.user_id == 8


async def test_a_required_team_sends_the_tapper_to_pick_one(tmp_path):
    config = make_config(tmp_path, teams=["Party Branch 3"], limits={"require_team": True})
    async with started(config) as harness:
        card = await harness.post_card()
        await harness.tap_card(ALICE, card)
        answer = harness.last_answer()
        assert answer["text"].startswith("Pick your team first")
        assert answer["url"].endswith("?start=team")
        assert (await harness.service.need(1)).holder is None
        await harness.private(ALICE, "/start team")
        assert buttons(last_to(harness, 5)) == ["tm:1", "tm:0"]
        await tap_private(harness, "tm:1", ALICE)
        await harness.tap_card(ALICE, card)
        assert (await harness.service.need(1)).holder.team == "Party Branch 3"
