"""``claimbot demo``: the whole story, told by the real bot on the local Bot API emulator.

Nothing here is staged: the real python-telegram-bot Application polls the emulator over HTTP
on loopback, with a real SQLite file, and simulated coordinators and volunteers act through
the emulator as people would in Telegram. Every step is checked; a failed check makes the
demo exit non-zero. Telegram's flood limits are scaled up (the same factor for the emulator
and the bot) so the story finishes in well under a minute.
"""

from __future__ import annotations

import asyncio
import csv
import html
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from bot.app import build_application, running
from bot.config import config_from_mapping
from bot.emulator import BotApiEmulator, Limits, SimChat, SimMessage, SimUser
from bot.i18n import t

TOKEN = "777000:DEMO-token-for-the-local-emulator"
BOT_USERNAME = "claimbot_demo_bot"
GROUP_ID = -1001000000001
COORDINATOR_ID = 900001
SPEEDUP = 30  # flood limits scaled by this, for the emulator and the bot alike
TEAMS_EN = [f"Party Branch {n}" for n in range(1, 35)] + ["Youth Volunteer Team", "Red Cross Team"]
TEAMS_ZH = [f"第{n}党支部" for n in range(1, 35)] + ["青年志愿者服务队", "红十字志愿队"]
SURNAMES = "Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Ma Zhu Hu Guo He Lin Luo Gao"
GIVEN = "Wei Fang Min Jing Lei Yan Jun Tao Ping Hui Qiang Xia Bo Ning Gang Lan Hong Yu"
_TAG = re.compile(r"<[^>]+>")


def load_households() -> list[dict[str, str]]:
    """The synthetic households shipped with the project (no real person's data)."""
    text = resources.files("bot").joinpath("data/households.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def plain(text: str) -> str:
    """Bot HTML as a person reads it."""
    return html.unescape(_TAG.sub("", text))


@dataclass
class Story:
    """Prints the transcript and keeps the score of checks."""

    out: TextIO
    lang: str
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def chapter(self, title: str) -> None:
        self.out.write(f"\n== {title} ==\n")

    def say(self, where: str, who: str, text: str | None, indent: str = "   ") -> None:
        lines = plain(text or "").splitlines() or [""]
        self.out.write(f"[{where}] {who}: {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{indent}{line}\n")

    def note(self, text: str) -> None:
        self.out.write(f"   … {text}\n")

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
            self.out.write(f"   ✗ CHECK FAILED: {what}\n")
        return ok

    def words(self, en: str, zh: str) -> str:
        return zh if self.lang == "zh" else en


def volunteer_names(count: int, seed: int) -> list[str]:
    """Made-up volunteer names."""
    rng = random.Random(seed)
    surnames, given = SURNAMES.split(), GIVEN.split()
    return [f"{rng.choice(surnames)} {rng.choice(given)}" for _ in range(count)]


@dataclass
class Stage:
    """What the scenes share: the emulator, its people, the households and the rush of taps."""

    emu: BotApiEmulator
    rng: random.Random
    group: SimChat
    coordinator: SimUser
    volunteers: list[SimUser]
    teams: list[str]
    team_of: dict[int, str]  # volunteer's user id -> team
    names: dict[int, str]  # volunteer's user id -> full name
    strangers: set[int]  # volunteers who never pressed Start in a private chat with the bot
    rows: list[dict[str, str]]  # the households posted
    taps: list[tuple[SimUser, SimMessage]] = field(default_factory=list)
    tap_ids: list[str] = field(default_factory=list)  # callback query ids, as taps
    answers: list[dict[str, Any]] = field(default_factory=list)  # the bot's answers, as taps
    first_tap: dict[int, int] = field(default_factory=dict)  # card -> its first tapper's id


def set_stage(story: Story, emu: BotApiEmulator, households: int, seed: int) -> Stage:
    """The group, the coordinator, 72 volunteers in teams, and the households to post."""
    lang = story.lang
    group = emu.group(
        chat_id=GROUP_ID, title=story.words("Spring Festival volunteers", "送温暖志愿者群")
    )
    coordinator = emu.user(
        user_id=COORDINATOR_ID,
        first_name=story.words("Coordinator Chen", "陈协调员"),
        language_code=lang,
    )
    teams = TEAMS_ZH if lang == "zh" else TEAMS_EN
    volunteers: list[SimUser] = []
    for n, name in enumerate(volunteer_names(72, seed)):
        first, last = name.split()
        volunteers.append(
            emu.user(user_id=1000 + n, first_name=first, last_name=last, language_code=lang)
        )
    return Stage(
        emu=emu,
        rng=random.Random(seed),
        group=group,
        coordinator=coordinator,
        volunteers=volunteers,
        teams=teams,
        team_of={v.user_id: teams[n % len(teams)] for n, v in enumerate(volunteers)},
        names={v.user_id: f"{v.first_name} {v.last_name}" for v in volunteers},
        strangers={volunteers[n].user_id for n in (5, 17, 40)},
        rows=load_households()[:households],
    )


async def volunteers_join(story: Story, stage: Stage) -> None:
    """1. Volunteers start the bot and name their team; three never open a private chat."""
    emu, volunteers, strangers = stage.emu, stage.volunteers, stage.strangers
    team_of = stage.team_of
    story.chapter(
        story.words(
            "1. Volunteers join; each names their team", "1. 志愿者加入，登记所属支部或队伍"
        )
    )
    await stage.coordinator.start_bot()
    for volunteer in volunteers:
        if volunteer.user_id not in strangers:
            await volunteer.start_bot()
            await volunteer.send_private(f"/team {team_of[volunteer.user_id]}")
    await emu.wait_for(
        lambda: all(
            len(emu.private_messages(v.user_id)) >= 2
            for v in volunteers
            if v.user_id not in strangers
        ),
        timeout=20,
    )
    example = volunteers[0]
    example_name = f"{example.first_name} {example.last_name}"
    story.say(story.words("private", "私聊"), example_name, f"/team {team_of[example.user_id]}")
    for message in emu.private_messages(example.user_id)[-1:]:
        story.say(story.words("private", "私聊"), f"bot → {example_name}", message.text or "")
    story.note(
        story.words(
            f"{len(volunteers) - len(strangers)} volunteers from {len(stage.teams)} teams are"
            f" set up; {len(strangers)} have never opened a chat with the bot",
            f"{len(volunteers) - len(strangers)} 名志愿者来自 {len(stage.teams)} 个支部和队伍；"
            f"{len(strangers)} 人从未与机器人私聊",
        )
    )
    await stage.coordinator.send(stage.group, f"/status@{BOT_USERNAME}")


async def coordinator_posts_needs(story: Story, stage: Stage) -> None:
    """2. The coordinator posts every household; private details never reach the group."""
    emu, rows, lang = stage.emu, stage.rows, story.lang
    story.chapter(
        story.words(
            f"2. The coordinator posts {len(rows)} households, private details in private chat",
            f"2. 协调员在私聊中发布 {len(rows)} 户家庭，隐私信息只在私聊中填写",
        )
    )
    for index, row in enumerate(rows):
        await post_household(story, stage, row, shown=index == 0)
    await emu.wait_for(lambda: len(cards(emu)) >= len(rows), timeout=30)
    first = cards(emu)[0]
    story.say(story.words("group", "群"), "bot", f"{first.text}   [{button_text(first)}]")
    story.note(story.words(f"and {len(rows) - 1} more cards", f"另有 {len(rows) - 1} 张卡片"))
    group_text = "\n".join(text_of(m) for m in emu.messages(GROUP_ID))
    story.check(len(cards(emu)) == len(rows), "every household has a card in the group")
    story.check(
        not any(r["phone"] in group_text or r[f"name_{lang}"] in group_text for r in rows),
        "no name or phone number reached the group",
    )


async def post_household(story: Story, stage: Stage, row: dict[str, str], shown: bool) -> None:
    """One household through /post step by step, then the preview's button posts the card."""
    emu, coordinator, lang = stage.emu, stage.coordinator, story.lang
    summary = story.words(
        f"{row['category_en'].capitalize()}, {row['neighbourhood_en']}: {row['help_en']}",
        f"{row['category_zh']}，{row['neighbourhood_zh']}：{row['help_zh']}",
    )
    steps = [
        "/post",
        summary,
        row[f"name_{lang}"],
        row[f"address_{lang}"],
        row["phone"],
        row[f"health_{lang}"],
        "-",
    ]
    before = len(emu.private_messages(COORDINATOR_ID))
    for step, text in enumerate(steps):
        await coordinator.send_private(text)
        replies = before + step + 1
        await emu.wait_for(
            lambda n=replies: len(emu.private_messages(COORDINATOR_ID)) >= n,  # type: ignore[misc]
            timeout=10,
        )
        if shown:
            story.say(story.words("private", "私聊"), coordinator.first_name, text)
            reply = emu.private_messages(COORDINATOR_ID)[-1]
            story.say(story.words("private", "私聊"), "bot", reply.text)
    # The preview shows what the group will see; tapping the group posts it.
    preview = emu.private_messages(COORDINATOR_ID)[-1]
    label = t(lang, "button_post_to", group=stage.group.title)
    if shown:
        story.say(story.words("private", "私聊"), coordinator.first_name, f"[{label}]")
    await coordinator.tap_button(preview, label)
    done = before + len(steps) + 1  # then "Posted need #n to ..."
    await emu.wait_for(
        lambda n=done: len(emu.private_messages(COORDINATOR_ID)) >= n,  # type: ignore[misc]
        timeout=15,
    )
    if shown:
        posted = emu.private_messages(COORDINATOR_ID)[-1]
        story.say(story.words("private", "私聊"), "bot", posted.text)


async def everyone_taps_at_once(story: Story, stage: Stage) -> None:
    """3. Every volunteer taps Claim on a few cards, all at once; every tap is answered."""
    emu, rng, lang = stage.emu, stage.rng, story.lang
    story.chapter(
        story.words(
            f"3. {len(stage.volunteers)} volunteers tap Claim at once",
            f"3. {len(stage.volunteers)} 名志愿者同时点“认领”",
        )
    )
    taps = stage.taps
    for volunteer in stage.volunteers:
        for card in rng.sample(cards(emu), k=rng.randint(2, 6)):
            taps.append((volunteer, card))
    rng.shuffle(taps)
    # One who never started the bot is among the quickest, so the deep-link path is shown.
    quick = next(i for i, (v, _c) in enumerate(taps) if v.user_id in stage.strangers)
    taps.insert(0, taps.pop(quick))
    started = time.monotonic()
    stage.tap_ids = await asyncio.gather(
        *(volunteer.tap(card, card_data(card)) for volunteer, card in taps)
    )
    stage.answers = await asyncio.gather(
        *(emu.wait_callback_answer(tap_id, timeout=20) for tap_id in stage.tap_ids)
    )
    elapsed = time.monotonic() - started
    story.note(
        story.words(
            f"{len(taps)} taps answered in {elapsed:.2f} s",
            f"{len(taps)} 次点击在 {elapsed:.2f} 秒内全部得到回应",
        )
    )
    won_text = plain(t(lang, "answer_won"))
    outcomes = Counter(
        "won" if a.get("url") or a.get("text") == won_text else a.get("text", "")[:12]
        for a in stage.answers
    )
    show_some_answers(story, stage, won_text)
    story.note(
        story.words(
            f"{outcomes['won']} won; the other {len(taps) - outcomes['won']} were told who holds"
            " the need, or that they hold as many as allowed",
            f"{outcomes['won']} 次认领成功；其余 {len(taps) - outcomes['won']} 次被告知由谁认领，"
            "或已达结对上限",
        )
    )
    story.check(all(answer.get("text") for answer in stage.answers), "every tapper got an answer")


def show_some_answers(story: Story, stage: Stage, won_text: str) -> None:
    """The first two winning answers and the first two others, as the tappers saw them."""
    shown: Counter[bool] = Counter()
    for (volunteer, _card), answer in zip(stage.taps, stage.answers, strict=True):
        winning = answer.get("text") == won_text
        if shown[winning] < 2:
            shown[winning] += 1
            story.say(
                story.words("tap", "点击"),
                f"bot → {volunteer.first_name} {volunteer.last_name}",
                answer.get("text", ""),
            )


async def first_tap_wins(story: Story, stage: Stage) -> None:
    """Each card names its first tapper in Telegram's delivery order, who gets the details."""
    emu, names = stage.emu, stage.names
    # Who should have won: the first tap per card in delivery (update_id) order.
    first_tap = stage.first_tap
    for (volunteer, card), _tap_id in sorted(
        zip(stage.taps, stage.tap_ids, strict=True),
        key=lambda pair: int(pair[1]),  # query ids are issued in delivery order
    ):
        first_tap.setdefault(card.message_id, volunteer.user_id)
    await emu.wait_for(
        lambda: (
            sum("Claim" not in button_text(c) and button_text(c) == "" for c in cards(emu))
            >= len(first_tap)
        ),
        timeout=30,
    )
    holders = {c.message_id: holder_of(c) for c in cards(emu)}
    winners_ok = all(
        holders.get(message_id, "").startswith(names[user_id])
        for message_id, user_id in first_tap.items()
    )
    story.check(winners_ok, "each card names its first tapper, in Telegram's delivery order")
    edited = next(c for c in cards(emu) if c.message_id in first_tap)
    story.say(story.words("group · edited", "群 · 已编辑"), "bot", edited.text)
    winner_id = first_tap[edited.message_id]
    if winner_id not in stage.strangers:
        details = emu.private_messages(winner_id)[-1]
        story.say(story.words("private", "私聊"), f"bot → {names[winner_id]}", details.text)


async def phones_reach_claimers_only(story: Story, stage: Stage) -> None:
    """No household's phone number is in anyone's private chat but its claimer's."""
    emu = stage.emu
    all_private = {
        uid: "\n".join(text_of(m) for m in emu.private_messages(uid)) for uid in stage.names
    }
    leaks = 0
    for row, card in zip(stage.rows, cards(emu), strict=True):
        winner = stage.first_tap.get(card.message_id)
        for uid, text in all_private.items():
            if row["phone"] in text and uid != winner:
                leaks += 1
    story.check(leaks == 0, "each household's phone number reached its claimer only")


async def link_for_a_stranger(story: Story, stage: Stage) -> None:
    """4. A winner who never started the bot follows the answer's link to their details."""
    story.chapter(
        story.words(
            "4. A winner who never opened the bot is sent there by a link",
            "4. 从未私聊过机器人的认领人通过链接打开私聊",
        )
    )
    stranger_wins = [
        (uid, answer)
        for (volunteer, _c), answer in zip(stage.taps, stage.answers, strict=True)
        if (uid := volunteer.user_id) in stage.strangers and answer.get("url")
    ]
    if not story.check(bool(stranger_wins), "a volunteer who never started the bot won a claim"):
        return
    emu, rows, names = stage.emu, stage.rows, stage.names
    uid, answer = stranger_wins[0]
    story.say(story.words("tap", "点击"), f"bot → {names[uid]}", answer["text"])
    story.note(f"url: {answer['url']}")
    stranger = next(v for v in stage.volunteers if v.user_id == uid)
    await stranger.open_link(answer["url"])
    await emu.wait_for(lambda: len(emu.private_messages(uid)) >= 1, timeout=10)
    delivered = emu.private_messages(uid)[-1]
    story.say(story.words("private", "私聊"), f"bot → {names[uid]}", delivered.text)
    story.check(
        any(r["phone"] in text_of(delivered) for r in rows),
        "the details arrived through the link",
    )
    thief = stage.volunteers[0]
    before = len(emu.private_messages(thief.user_id))
    await thief.open_link(answer["url"])
    await emu.wait_for(lambda: len(emu.private_messages(thief.user_id)) > before, timeout=10)
    story.check(
        not any(r["phone"] in text_of(emu.private_messages(thief.user_id)[-1]) for r in rows),
        "someone else opening the same link sees nothing private",
    )


async def release_and_reclaim(story: Story, stage: Stage) -> None:
    """5. A holder releases a need with /release; the next volunteer to tap claims it."""
    emu, first_tap = stage.emu, stage.first_tap
    story.chapter(
        story.words("5. A release, and someone else claims", "5. 有人放弃结对，另一人认领")
    )
    released_card = next(c for c in cards(emu) if c.message_id in first_tap)
    holder = next(v for v in stage.volunteers if v.user_id == first_tap[released_card.message_id])
    need_number = need_number_of(released_card)
    await holder.send_private(f"/release {need_number}")
    await emu.wait_for(lambda: button_text(card_by_id(emu, released_card.message_id)) != "", 10)
    story.say(story.words("private", "私聊"), holder.first_name, f"/release {need_number}")
    story.say(story.words("private", "私聊"), "bot", emu.private_messages(holder.user_id)[-1].text)
    story.say(
        story.words("group · edited", "群 · 已编辑"),
        "bot",
        card_by_id(emu, released_card.message_id).text,
    )
    taker = next(
        v
        for v in stage.volunteers
        if v.user_id not in stage.strangers
        and v.user_id != holder.user_id
        and len([1 for h in first_tap.values() if h == v.user_id]) < 3
    )
    retap = await taker.tap(card_by_id(emu, released_card.message_id), card_data(released_card))
    reanswer = await emu.wait_callback_answer(retap, timeout=10)
    story.say(story.words("tap", "点击"), f"bot → {taker.first_name}", reanswer.get("text", ""))
    await emu.wait_for(lambda: button_text(card_by_id(emu, released_card.message_id)) == "", 10)
    story.check(
        holder_of(card_by_id(emu, released_card.message_id)).startswith(
            stage.names[taker.user_id]
        ),
        "the released need went to the next volunteer",
    )


async def bad_input_changes_nothing(story: Story, stage: Stage) -> None:
    """6. A forged button and a volunteer's /post are refused and change nothing."""
    emu, volunteers, lang = stage.emu, stage.volunteers, story.lang
    story.chapter(story.words("6. Bad input changes nothing", "6. 错误输入不改变任何数据"))
    forged = await volunteers[1].tap(cards(emu)[0], "c:99999")
    forged_answer = await emu.wait_callback_answer(forged, timeout=10)
    story.say(
        story.words("tap", "点击"),
        f"{volunteers[1].first_name} (c:99999) → bot",
        forged_answer.get("text", ""),
    )
    before = len(emu.messages(GROUP_ID))
    await volunteers[2].send(stage.group, f"/post@{BOT_USERNAME} free phones for everyone")
    refusal = await next_group_message(emu, before)
    story.say(
        story.words("group", "群"), volunteers[2].first_name, "/post free phones for everyone"
    )
    story.say(story.words("group", "群"), "bot", refusal)
    story.check(refusal == t(lang, "not_coordinator"), "a volunteer's /post is refused")
    story.check(len(cards(emu)) == len(stage.rows), "a volunteer's /post created nothing")


async def progress_by_team(story: Story, stage: Stage) -> None:
    """7. /status counts every need; the transcript lists who holds how many, by team."""
    emu, rows, lang = stage.emu, stage.rows, story.lang
    story.chapter(story.words("7. Progress, and who holds what", "7. 进度与结对情况"))
    before = len(emu.messages(GROUP_ID))
    await stage.coordinator.send(stage.group, f"/status@{BOT_USERNAME}")
    status = await next_group_message(emu, before)
    story.say(story.words("group", "群"), "bot", status)
    holders = {c.message_id: holder_of(c) for c in cards(emu)}
    claimed = sum(1 for h in holders.values() if h)
    expected = plain(
        t(lang, "status", total=len(rows), open=len(rows) - claimed, claimed=claimed, closed=0)
    )
    story.check(status == expected, "the status counts every need")
    per_team = Counter(
        stage.team_of.get(next((uid for uid, n in stage.names.items() if h.startswith(n)), 0), "?")
        for h in holders.values()
        if h
    )
    story.note(
        story.words(f"{claimed}/{len(rows)} households paired", f"{claimed}/{len(rows)} 户已结对")
    )
    for team, count in per_team.most_common(8):
        story.out.write(f"   {team:<28} {count}\n")
    if len(per_team) > 8:
        story.note(
            story.words(f"and {len(per_team) - 8} more teams", f"另有 {len(per_team) - 8} 个队伍")
        )


Scene = Callable[[Story, Stage], Awaitable[None]]

# The story, scene by scene; each one checks what it shows.
SCENES: tuple[Scene, ...] = (
    volunteers_join,
    coordinator_posts_needs,
    everyone_taps_at_once,
    first_tap_wins,
    phones_reach_claimers_only,
    link_for_a_stranger,
    release_and_reclaim,
    bad_input_changes_nothing,
    progress_by_team,
)


async def tell(story: Story, emu: BotApiEmulator, households: int, seed: int) -> None:
    """The story itself: the scenes in order, on one stage."""
    stage = set_stage(story, emu, households, seed)
    for scene in SCENES:
        await scene(story, stage)


async def next_group_message(emu: BotApiEmulator, before: int) -> str:
    """The text of the bot's next message in the group after ``before`` messages."""
    await emu.wait_for(lambda: len(emu.messages(GROUP_ID)) > before, timeout=10)
    return emu.messages(GROUP_ID)[before].text or ""


def text_of(message: Any) -> str:
    """A message's plain text ("" for none)."""
    return str(message.text or "")


def cards(emu: BotApiEmulator) -> list[SimMessage]:
    """The need cards in the group, in order."""
    return [m for m in emu.messages(GROUP_ID) if is_card(m)]


def is_card(message: Any) -> bool:
    return bool(re.match(r"^(Need|需求) #\d+", plain(message.text)))


def card_by_id(emu: BotApiEmulator, message_id: int) -> Any:
    return next(m for m in emu.messages(GROUP_ID) if m.message_id == message_id)


def card_data(card: Any) -> str:
    return str(card.reply_markup["inline_keyboard"][0][0]["callback_data"])


def button_text(card: Any) -> str:
    markup = card.reply_markup
    if not markup or not markup.get("inline_keyboard"):
        return ""
    return str(markup["inline_keyboard"][0][0]["text"])


def need_number_of(card: Any) -> int:
    match = re.match(r"^(?:Need|需求) #(\d+)", plain(card.text))
    assert match
    return int(match.group(1))


def holder_of(card: Any) -> str:
    match = re.search(r"(?:Claimed by|已由) (.+?)(?: 认领)?$", plain(card.text), re.M)
    return match.group(1) if match else ""


async def run_demo(lang: str, out: TextIO, households: int = 53, seed: int = 7) -> Story:
    """Start the emulator and the real bot, tell the story, stop both."""
    story = Story(out, lang)
    limits = Limits(
        overall_per_second=30 * SPEEDUP, group_per_minute=20 * SPEEDUP, private_per_second=SPEEDUP
    )
    with tempfile.TemporaryDirectory(prefix="claimbot-demo-") as tmp:
        async with BotApiEmulator(token=TOKEN, bot_username=BOT_USERNAME, limits=limits) as emu:
            config = config_from_mapping(
                {
                    "telegram": {
                        "token": TOKEN,
                        "base_url": emu.base_url,
                        "poll_timeout": 1,
                        "rate_limit": {
                            "overall_per_second": 30 * SPEEDUP,
                            "group_per_minute": 20 * SPEEDUP,
                        },
                    },
                    "database": {"path": str(Path(tmp) / "demo.db"), "synchronous": "normal"},
                    "coordinators": [COORDINATOR_ID],
                    "language": lang,
                },
                env={},
            )
            out.write(
                story.words(
                    f"claimbot demo: the real bot on a local Bot API emulator at {emu.base_url}\n"
                    f"(flood limits scaled {SPEEDUP}x so the story fits in a minute)\n",
                    f"claimbot 演示：真实的机器人运行在本地 Bot API 模拟器 {emu.base_url}\n"
                    f"（限流速率放大 {SPEEDUP} 倍，一分钟内讲完）\n",
                )
            )
            app = build_application(config)
            async with running(app, polling=True, poll_timeout=1):
                try:
                    await tell(story, emu, households, seed)
                except TimeoutError as exc:
                    story.check(False, f"timed out waiting: {exc}")
    return story


def main(lang: str = "en", out: TextIO | None = None, households: int = 53) -> int:
    """Run the demo; returns the process exit code (non-zero if any check failed)."""
    out = out or sys.stdout
    story = asyncio.run(run_demo(lang, out, households))
    elapsed = time.monotonic() - story.started
    out.write(f"\n{story.passed} passed, {len(story.failures)} failed ({elapsed:.1f} s)\n")
    return 1 if story.failures else 0


__all__ = ["main", "run_demo"]
