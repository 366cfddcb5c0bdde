"""A whole drive at Telegram's pace: a spreadsheet imported with ``claimbot import`` while the
bot runs, its needs posted as boards, a claim rush, and the group kept current (issue 9).

Everything runs on the project's Bot API emulator with Telegram's flood limits on (30
messages a second overall, 20 a minute per group, sends and edits together, 1 a second per
private chat), and the bot's ``rate_limit`` set to the same. The emulator runs here; the bot
runs in its own process against the emulator's ``base_url`` (``bench.http_burst``'s product
process, this checkout), on a real SQLite file with ``synchronous=full``; ``claimbot import``
runs as a third process, writing the same file while the bot runs.

1. The seed drive: ``--households`` (53) synthetic households, built from
   ``bot/data/households.csv``, imported with ``claimbot import FILE --group ID --config
   PATH`` into a group where the bot runs; once every need has a Claim button in the group,
   ``--volunteers`` (100, all started the bot) tap ``--taps`` (300) times within ``--within``
   (10) seconds, each tap on a seeded random need, on the group message carrying it.
   Reported: seconds from starting the import to every need claimable; the group messages
   used (sends, edits and pins into the group, from the emulator's record); seconds from the
   last tap until every message carrying needs shows the holders the database has (checked
   against the emulator's current texts and keyboards); 429s drawn; first come exact (each
   need's holder is the first tap delivered for it, in update order).
2. The same drive posted one message per need (``posting.needs_per_board: 1``), interleaved
   with (1) in every repeat, the order rotated from one repeat to the next.
3. ``--big`` (1,000) needs in one import, boards and one per need: group messages used, time
   until fully posted, peak memory of the bot's process (VmHWM) and of the import's. At 20 a
   minute this takes minutes to an hour, so the emulator's and the bot's flood limits are
   both sped up ``--speedup`` times and the times are reported multiplied back to Telegram's
   real limits. The windows are shortened (20 per 60/k s), not the counts raised (20k per
   60 s, as ``claimbot demo`` does): that would let the first 20k messages go at once, and
   multiplying back would understate the time. The edits' timing (2 s of quiet, 15 s at
   most) and the outbox's 1 s poll are not scaled; a board import edits nothing until it is
   posted, and the time until the first message is reported as measured.

    python -m bench.drive                  # 3 repeats, then 1,000 needs: about 27 minutes
    python -m bench.drive --repeats 1 --big 0   # about 7 minutes
    python -m bench.drive --quick          # a smoke run: limits scaled 10x, 200 needs, ~2 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import html
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.burst import Tap
from bench.http_burst import (
    HERE,
    PRODUCT_HOLDERS,
    PRODUCT_PATHS,
    READY,
    child_running,
    claim_cards,
    version_of,
)
from bench.outbound import ideal_seconds
from bench.timing import machine, median, table
from bot.emulator import ApiCall, BotApiEmulator, Limits, SimMessage
from bot.i18n import t
from tests.factories import COORDINATOR_ID, GROUP_ID
from tests.fakes import BOT_USERNAME, TOKEN

HOUSEHOLDS = HERE / "bot" / "data" / "households.csv"
COLUMNS = ("summary", "name", "address", "phone", "health", "notes", "category", "area")
FIRST_VOLUNTEER = 710_000_000
# Telegram's limits, as the emulator enforces them and as the bot is told.
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
PRIVATE_PER_SECOND = 1
# What the emulator counts against a group's 20 a minute, and how this report names it.
GROUP_MESSAGES = {
    "sendMessage": "send",
    "sendDocument": "send",
    "editMessageText": "edit",
    "editMessageReplyMarkup": "edit",
    "editMessageCaption": "edit",
    "pinChatMessage": "pin",
    "unpinChatMessage": "pin",
}
EDITS = {name for name, kind in GROUP_MESSAGES.items() if kind == "edit"}
# The goals for the seed drive, in seconds.
CLAIMABLE_GOAL = 10.0
CURRENT_GOAL = 15.0
MAX_OPEN_CLAIMS = 3  # the product's default limits.max_open_claims_per_volunteer

# The bot's process: the product as ``claimbot run`` builds it, from this checkout, with
# Telegram's windows (the pacer's too) shortened by the time scale. argv: the config
# overrides as JSON, with "directory" and "time_scale".
BOT_CHILD = f"""
import asyncio, json, sys
from pathlib import Path
from bot.app import build_application, running
from bot.pacing import PacedRateLimiter
from tests.factories import make_config

overrides = json.loads(sys.argv[1])
scale = overrides.pop("time_scale")
PacedRateLimiter.OVERALL_WINDOW /= scale
PacedRateLimiter.GROUP_WINDOW /= scale


async def main():
    config = make_config(Path(overrides.pop("directory")), **overrides)
    async with running(build_application(config), polling=True, poll_timeout=1):
        print("{READY}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
"""
# ``claimbot import`` as it runs from the command line, noting its own peak memory as it
# exits (a forked child's ru_maxrss would count its parent's memory at the fork).
IMPORT_CHILD = """
import atexit, os, runpy, sys


def peak():
    with open("/proc/self/status") as status, open(os.environ["DRIVE_PEAK"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])


atexit.register(peak)
sys.argv = ["claimbot", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


# -- what is imported and tapped -------------------------------------------------------------


def households_csv(count: int) -> str:
    """``count`` synthetic households in the import's English columns.

    The first 53 are the shipped synthetic households as they are; beyond that they repeat
    with another room and phone number, so each is a household of its own (the import
    recognises a need already in the group by its summary, name, address and phone).
    """
    with HOUSEHOLDS.open(encoding="utf-8") as source:
        base = list(csv.DictReader(source))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(count):
        row = base[i % len(base)]
        address, phone = row["address_en"], row["phone"]
        if i >= len(base):
            address = f"{address.rsplit(',', 1)[0]}, Room {100 + i}"
            phone = f"139{i:08d}"
        writer.writerow(
            [
                f"{row['help_en']}",
                row["name_en"],
                address,
                phone,
                row["health_en"],
                "call before visiting",
                row["category_en"],
                row["neighbourhood_en"],
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class Rush:
    """The claim rush: each tap's volunteer (index) and need (1-based position in the
    import, which is the need's id in a fresh database), and when it comes (seconds)."""

    taps: tuple[Tap, ...]
    at: tuple[float, ...]
    volunteers: int


def rush(volunteers: int, taps: int, needs: int, within: float, seed: int) -> Rush:
    """``taps`` taps shared evenly among ``volunteers`` (seeded order), a seeded random need
    each, at seeded random moments within ``within`` seconds."""
    rng = random.Random(seed)
    who = [v for v in range(volunteers) for _ in range(taps // volunteers)]
    who += rng.sample(range(volunteers), taps % volunteers)
    rng.shuffle(who)
    at = sorted(rng.uniform(0.0, within) for _ in range(taps))
    chosen = tuple(Tap(rng.randrange(needs) + 1, FIRST_VOLUNTEER + v) for v in who)
    return Rush(chosen, tuple(at), volunteers)


def winning_taps(taps: Sequence[Tap], max_open: int = MAX_OPEN_CLAIMS) -> dict[int, int]:
    """The tap (its index) that must win each need, in this order of delivery: the need's
    first tap, unless its volunteer already held ``max_open`` needs by then (then the next)."""
    winners: dict[int, int] = {}
    held: Counter[int] = Counter()
    for i, tap in enumerate(taps):
        if tap.need_id not in winners and held[tap.user_id] < max_open:
            winners[tap.need_id] = i
            held[tap.user_id] += 1
    return winners


def volunteer_name(user_id: int) -> str:
    return f"V{user_id - FIRST_VOLUNTEER:03d}"


# -- the processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """One run's settings."""

    per_board: int
    households: int
    rush: Rush | None
    time_scale: float  # Telegram's windows this many times shorter (1: Telegram's own)
    parent: Path | None

    @property
    def label(self) -> str:
        return f"boards of {self.per_board}" if self.per_board > 1 else "one per need"

    def limits(self) -> Limits:
        return Limits(
            overall_per_second=OVERALL_PER_SECOND,
            group_per_minute=GROUP_PER_MINUTE,
            private_per_second=PRIVATE_PER_SECOND,
            time_scale=self.time_scale,
        )

    def bot_overrides(self, directory: Path, base_url: str) -> dict[str, Any]:
        """The bot's config (``make_config`` keys): the emulator, the same limits, the file."""
        return {
            "directory": str(directory),
            "time_scale": self.time_scale,
            "telegram": {
                "token": TOKEN,
                "base_url": base_url,
                "poll_timeout": 1,
                "rate_limit": {
                    "overall_per_second": OVERALL_PER_SECOND,
                    "group_per_minute": GROUP_PER_MINUTE,
                },
            },
            "database": {"path": str(directory / "claimbot.db"), "synchronous": "full"},
            "posting": {"needs_per_board": self.per_board},
        }

    def cli_config(self, directory: Path) -> str:
        """The import's config file: the same database and the same board size."""
        return (
            f"database:\n  path: {directory / 'claimbot.db'}\n  synchronous: full\n"
            f"language: en\nposting:\n  needs_per_board: {self.per_board}\n"
        )


@dataclass
class CliRun:
    """``claimbot import`` as a process."""

    status: int
    seconds: float
    peak: int  # bytes, its peak resident memory (ru_maxrss)
    output: str


def run_import(directory: Path, setup: Setup) -> CliRun:
    """Write the spreadsheet and the config, then run ``claimbot import`` to its end."""
    sheet = directory / "households.csv"
    sheet.write_text(households_csv(setup.households), encoding="utf-8")
    config = directory / "import.yaml"
    config.write_text(setup.cli_config(directory), encoding="utf-8")
    command = [sys.executable, "-c", IMPORT_CHILD, "import", str(sheet)]
    command += ["--group", str(GROUP_ID), "--config", str(config)]
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMBOT_TOKEN", "PYTHONSAFEPATH")}
    env["PYTHONPATH"] = str(HERE)
    env["DRIVE_PEAK"] = str(directory / "import.peak")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=HERE, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak = directory / "import.peak"
    kilobytes = int(peak.read_text()) if peak.exists() else 0
    return CliRun(done.returncode, seconds, kilobytes * 1024, done.stdout + done.stderr)


def peak_memory(pid: int) -> int:
    """A running process's peak resident memory in bytes (VmHWM), 0 if unreadable."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the bot's database while it runs (a reader beside its writer)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def until(check: Callable[[], bool], within: float, what: str, every: float = 0.1) -> None:
    """Poll ``check`` until it holds (TimeoutError after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(every)


# -- one run ---------------------------------------------------------------------------------


@dataclass
class DriveRun:
    """One drive: the import, the posting, the rush (if any), what the group shows."""

    label: str
    per_board: int
    needs: int
    time_scale: float
    cli: CliRun
    claimable: float  # s from starting the import to every need with a Claim button
    first_post: float  # s from starting the import to the first message in the group
    progress_posted: float  # s from starting the import to the progress board sent (NaN: not)
    used: Counter[str]  # group messages by kind, the whole run
    rush_used: Counter[str]  # from the first tap on
    current_after: float = float("nan")  # s from the last tap until the group is current
    current_after_claim: float = float("nan")  # the same from the last winning tap
    last_claim: float = float("nan")  # s from the first tap to the last winning one
    taps: int = 0
    tapped: int = 0  # needs that drew a tap
    first_come: int = 0
    too_many: int = 0  # in the group
    private_too_many: int = 0
    bot_peak: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(self.used.values())

    @property
    def at_telegram(self) -> float:
        """Seconds to fully posted at Telegram's own limits: until the first message as
        measured (the import and the outbox's poll, which no limit slows), the paced rest
        multiplied back by the time scale."""
        return self.first_post + (self.claimable - self.first_post) * self.time_scale

    @property
    def least_posting(self) -> float:
        """The least time Telegram's limits allow for this run's group sends (and pins): a
        minute's worth at once, then 20 a minute (the bot paces at 95% of that)."""
        posts = self.used["send"] + self.used["pin"]
        return ideal_seconds(0, posts, 1, OVERALL_PER_SECOND, GROUP_PER_MINUTE)


async def drive_run(setup: Setup) -> DriveRun:
    """Emulator, bot, group; the import as a process; the rush; the checks."""
    with tempfile.TemporaryDirectory(dir=setup.parent) as tmp:
        directory = Path(tmp)
        emu = BotApiEmulator(TOKEN, BOT_USERNAME, setup.limits())
        await emu.start()
        try:
            return await _drive(emu, directory, setup)
        finally:
            await emu.stop()


async def _drive(emu: BotApiEmulator, directory: Path, setup: Setup) -> DriveRun:
    database = directory / "claimbot.db"
    group = emu.group(GROUP_ID, "Volunteers")
    coordinator = emu.user(COORDINATOR_ID, "Chen", language_code="en")
    group.make_admin(coordinator)
    volunteers = setup.rush.volunteers if setup.rush else 0
    people = {}
    for v in range(volunteers):
        user_id = FIRST_VOLUNTEER + v
        people[user_id] = emu.user(user_id, volunteer_name(user_id), language_code="en")
        people[user_id].started = True  # they pressed Start some day before
        group.add_member(people[user_id])
    command = ["-c", BOT_CHILD, json.dumps(setup.bot_overrides(directory, emu.base_url))]
    async with child_running("bot", command, HERE) as bot:
        emu.add_bot(group, by=coordinator, admin=True)
        await until(
            lambda: bool(query(database, f"SELECT 1 FROM groups WHERE chat_id = {GROUP_ID}")),
            30,
            "the bot to know the group",
        )
        clock = emu.clock.now
        start = clock()
        importing = asyncio.create_task(asyncio.to_thread(run_import, directory, setup))
        try:
            await emu.wait_for(
                lambda: len(claim_cards(emu, GROUP_ID)) >= setup.households,
                timeout=60 + 4 * setup.households * 60 / GROUP_PER_MINUTE / setup.time_scale,
                what=f"{setup.households} needs claimable",
            )
        finally:
            cli = await importing
        claimable = clock() - start
        if cli.status != 0:
            raise RuntimeError(f"claimbot import exited with {cli.status}:\n{cli.output}")
        first_post = min(c.time for kind, c in group_messages(emu.calls) if kind == "send")
        run = DriveRun(
            setup.label,
            setup.per_board,
            setup.households,
            setup.time_scale,
            cli,
            claimable,
            first_post - start,
            float("nan"),
            Counter(),
            Counter(),
        )
        if setup.rush is not None:
            await claim_rush(emu, database, setup.rush, people, run)
        else:
            await until(lambda: progress_message(emu) is not None, 30, "the progress board")
        run.bot_peak = peak_memory(bot.pid)
    calls = list(emu.calls)
    run.used = Counter(kind for kind, _ in group_messages(calls))
    progress = progress_message(emu)
    if progress is not None:
        run.progress_posted = progress.sent_at - start
    # The group's 429s are the goal's; a private chat's (a winner of two needs within a
    # second gets two messages of details: the emulator takes one a second, Telegram allows
    # short bursts, and the bot does not space them) are counted apart.
    refused = [str(c.params.get("chat_id")) == str(GROUP_ID) for c in calls if c.status == 429]
    run.too_many = sum(refused)
    run.private_too_many = len(refused) - run.too_many
    if run.too_many:
        run.problems.append(f"{run.label}: {run.too_many} 429s in the group")
    return run


def group_messages(calls: Sequence[ApiCall]) -> list[tuple[str, ApiCall]]:
    """The calls the group's flood window counted: (send, edit or pin, the call)."""
    found = []
    for call in calls:
        kind = GROUP_MESSAGES.get(call.method)
        if kind and call.status == 200 and str(call.params.get("chat_id")) == str(GROUP_ID):
            found.append((kind, call))
    return found


def progress_message(emu: BotApiEmulator) -> SimMessage | None:
    """The group's pinned progress board, once posted."""
    title = t("en", "progress_title").replace("<b>", "").replace("</b>", "")
    for message in emu.messages(GROUP_ID):
        if (message.text or "").startswith(title):
            return message
    return None


async def claim_rush(
    emu: BotApiEmulator,
    database: Path,
    plan: Rush,
    people: dict[int, Any],
    run: DriveRun,
) -> None:
    """The taps, each on the message carrying its need; then wait until the group shows
    what the database holds, and judge."""
    carriers = {need: message.message_id for need, message in claim_cards(emu, GROUP_ID).items()}
    answered: set[str] = set()
    refused: Counter[str] = Counter()

    def on_call(call: ApiCall) -> None:
        if call.method == "answerCallbackQuery":
            query_id = str(call.params["callback_query_id"])
            if call.status == 200:
                answered.add(query_id)
            else:
                refused[str(call.description)] += 1

    emu.on_call = on_call
    clock = emu.clock.now
    begin = time.perf_counter()
    rush_start = clock()
    tapped_at = []
    for tap, at in zip(plan.taps, plan.at, strict=True):
        await asyncio.sleep(max(0.0, begin + at - time.perf_counter()))
        message = emu.find_message({"chat": {"id": GROUP_ID}, "message_id": carriers[tap.need_id]})
        emu.tap(people[tap.user_id], message, f"c:{tap.need_id}")
        tapped_at.append(clock())
    last_tap = tapped_at[-1]
    winners = winning_taps(plan.taps)
    last_claim = max(tapped_at[i] for i in winners.values())
    await until(lambda: len(answered) + sum(refused.values()) >= len(plan.taps), 60, "answers")
    emu.on_call = None
    holders: dict[int, int] = {}

    def current() -> bool:
        holders.clear()
        holders.update(query(database, PRODUCT_HOLDERS))
        return shows(emu, carriers, holders)

    await until(current, 900, "the group to show the final holders", every=0.2)
    seen = clock()
    edits = [
        call.time
        for kind, call in group_messages(emu.calls)
        if kind == "edit"
        and call.time <= seen
        and int(call.params["message_id"]) in set(carriers.values())
    ]
    run.current_after = max(0.0, max(edits, default=last_tap) - last_tap)
    run.current_after_claim = max(0.0, max(edits, default=last_claim) - last_claim)
    run.last_claim = last_claim - rush_start
    run.rush_used = Counter(kind for kind, c in group_messages(emu.calls) if c.time >= rush_start)
    expected = {need: plan.taps[i].user_id for need, i in winners.items()}
    run.taps = len(plan.taps)
    run.tapped = len(expected)
    run.first_come = sum(1 for need, who in expected.items() if holders.get(need) == who)
    if len(answered) != len(plan.taps):
        run.problems.append(f"{len(plan.taps) - len(answered)} taps unanswered {dict(refused)}")
    if run.first_come != len(expected) or len(holders) != len(expected):
        run.problems.append(
            f"{len(holders)} needs held, {run.first_come} of {len(expected)} by the first tap"
        )


def shows(emu: BotApiEmulator, carriers: dict[int, int], holders: dict[int, int]) -> bool:
    """Whether every message carrying needs shows each one's holder from the database: a
    Claim button exactly on the open ones, and each entry's state line."""
    messages = {m.message_id: m for m in emu.messages(GROUP_ID)}
    for need, message_id in carriers.items():
        message = messages.get(message_id)
        if message is None:
            return False
        holder = holders.get(need)
        if (f"c:{need}" in message.callback_data) != (holder is None):
            return False
        if holder is None:
            expected = t("en", "board_open")
        else:
            expected = html.unescape(t("en", "board_claimed", name=volunteer_name(holder)))
        if entry_state(message.text or "", need) != expected:
            return False
    return True


def entry_state(text: str, need: int) -> str | None:
    """The state line of need ``need``'s entry on a board (its last line)."""
    for entry in text.split("\n\n"):
        if entry.startswith(f"#{need} "):
            return entry.splitlines()[-1]
    return None


# -- the report ------------------------------------------------------------------------------


def spread(values: Sequence[float], form: str = "{:.1f}") -> str:
    """The median and, over more than one run, the range."""
    middle = form.format(median(values))
    if len(values) < 2:
        return middle
    return f"{middle} ({form.format(min(values))}-{form.format(max(values))})"


def used(run: DriveRun, counts: Counter[str] | None = None) -> str:
    counts = run.used if counts is None else counts
    pins = f" + {counts['pin']} pin" if counts["pin"] else ""
    return f"{sum(counts.values())}: {counts['send']} sends + {counts['edit']} edits{pins}"


def drive_table(runs: dict[str, list[DriveRun]]) -> str:
    """The seed drive, one row per way of posting: medians (ranges) over the repeats."""
    rows = []
    for label, found in runs.items():
        first = found[0]
        rows.append(
            [
                label,
                spread([r.claimable for r in found]),
                " / ".join(str(r.messages) for r in found),
                used(first),
                spread([r.rush_used["edit"] for r in found], "{:.0f}"),
                spread([r.current_after for r in found]),
                spread([r.current_after_claim for r in found]),
                max(r.too_many for r in found),
                max(r.private_too_many for r in found),
                f"{min(r.first_come for r in found)}/{first.tapped}",
            ]
        )
    return table(
        [
            "posting",
            "all claimable s",
            "group messages (each run)",
            "of them (first run)",
            "edits in the rush, until current",
            "current after last tap s",
            "current after last claim s",
            "429s group (worst)",
            "429s private (worst)",
            "first come (worst)",
        ],
        rows,
    )


def big_table(runs: dict[str, list[DriveRun]], speedup: float) -> str:
    """The big import, one row per way of posting."""
    rows = []
    for label, found in runs.items():
        first = found[0]
        claimable = [r.claimable for r in found]
        rows.append(
            [
                label,
                used(first),
                spread(claimable),
                spread([r.at_telegram / 60 for r in found]),
                f"{first.least_posting / 60:.1f}",
                spread([r.bot_peak / 2**20 for r in found], "{:.0f}"),
                spread([r.cli.peak / 2**20 for r in found], "{:.0f}"),
                spread([r.cli.seconds for r in found]),
            ]
        )
    return table(
        [
            "posting",
            "group messages",
            f"fully posted s (time x{speedup:g})",
            "fully posted at Telegram's pace, min",
            "least possible at Telegram's limits, min",
            "bot peak MB",
            "import peak MB",
            "import process s",
        ],
        rows,
    )


def goals(runs: dict[str, list[DriveRun]]) -> list[tuple[str, bool, str]]:
    """The issue's goals, for the boards (the first way of posting)."""
    label, found = next(iter(runs.items()))
    claimable = max(r.claimable for r in found)
    current = max(r.current_after for r in found)
    too_many = max(r.too_many for r in found)
    return [
        (
            f"{label}: all claimable within {CLAIMABLE_GOAL:g} s",
            claimable <= CLAIMABLE_GOAL,
            f"worst {claimable:.1f} s",
        ),
        (
            f"{label}: the group current within {CURRENT_GOAL:g} s of the last tap",
            current <= CURRENT_GOAL,
            f"worst {current:.1f} s",
        ),
        (f"{label}: no 429 in the group", too_many == 0, f"worst {too_many}"),
        (
            "first come exact, every run",
            all(r.first_come == r.tapped for found in runs.values() for r in found),
            "",
        ),
    ]


def print_run(run: DriveRun, tag: str) -> None:
    tail = (
        f"; last claim at {run.last_claim:.1f} s of the rush, current"
        f" {run.current_after_claim:.1f} s after it, {run.current_after:.1f} s after the last"
        f" tap; first come "
        f"{run.first_come}/{run.tapped}"
        if run.taps
        else f"; bot peak {run.bot_peak / 2**20:.0f} MB, import peak {run.cli.peak / 2**20:.0f} MB"
    )
    print(
        f"  [{tag}] {run.needs} needs, {run.label}: all claimable {run.claimable:.1f} s"
        f" (import process {run.cli.seconds:.1f} s), progress board {run.progress_posted:.1f} s;"
        f" group messages {used(run)}; 429s {run.too_many} in the group,"
        f" {run.private_too_many} private{tail}"
        f"{'  PROBLEMS: ' + '; '.join(run.problems) if run.problems else ''}",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> int:
    parent = Path(args.dir) if args.dir else None
    plan = rush(args.volunteers, args.taps, args.households, args.within, args.seed)
    postings = [args.per_board, 1]
    print(f"bot, import and emulator: {version_of(HERE, [*PRODUCT_PATHS, 'bench'])} in {HERE}")
    drives: dict[str, list[DriveRun]] = {}
    bigs: dict[str, list[DriveRun]] = {}
    for repeat in range(args.repeats):
        turn = repeat % len(postings)
        for per_board in postings[turn:] + postings[:turn]:
            setup = Setup(per_board, args.households, plan, args.drive_speedup, parent)
            run = await drive_run(setup)
            drives.setdefault(setup.label, []).append(run)
            print_run(run, f"drive {repeat + 1}/{args.repeats}")
    drives = {label: drives[label] for label in sorted(drives, key=lambda s: s == "one per need")}
    for repeat in range(args.big_repeats if args.big else 0):
        turn = repeat % len(postings)
        for per_board in postings[turn:] + postings[:turn]:
            setup = Setup(per_board, args.big, None, args.speedup, parent)
            run = await drive_run(setup)
            bigs.setdefault(setup.label, []).append(run)
            print_run(run, f"big {repeat + 1}/{args.big_repeats}")
    bigs = {label: bigs[label] for label in sorted(bigs, key=lambda s: s == "one per need")}
    print(f"\nmachine: {machine()}")
    scaled = f"time scaled x{args.drive_speedup:g}, " if args.drive_speedup != 1 else ""
    print(
        f"seed drive: {args.households} households imported with `claimbot import` while the bot"
        f" runs; {args.volunteers} volunteers tap {args.taps} times within {args.within:g} s"
        f" (seed {args.seed}); {scaled}emulator and bot at {OVERALL_PER_SECOND}/s overall,"
        f" {GROUP_PER_MINUTE}/min per group; {args.repeats} repeat(s), interleaved\n"
    )
    print(drive_table(drives))
    if bigs:
        print(
            f"\n{args.big} needs in one import, the emulator's and the bot's flood windows"
            f" {args.speedup:g} times shorter (times multiplied back to Telegram's limits);"
            f" {args.big_repeats} repeat(s)\n"
        )
        print(big_table(bigs, args.speedup))
    verdicts = goals(drives)
    print()
    for name, ok, value in verdicts:
        print(f"goal {name}: {'met' if ok else 'MISSED'}{f' ({value})' if value else ''}")
    problems = [
        p for found in [*drives.values(), *bigs.values()] for r in found for p in r.problems
    ]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 0 if all(ok for _, ok, _ in verdicts) and not problems else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=53)
    parser.add_argument("--volunteers", type=int, default=100)
    parser.add_argument("--taps", type=int, default=300)
    parser.add_argument("--within", type=float, default=10.0, help="seconds the taps span")
    parser.add_argument("--per-board", type=int, default=8, help="posting.needs_per_board")
    parser.add_argument("--repeats", type=int, default=3, help="seed drives of each kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big", type=int, default=1000, help="needs in the big import (0: none)")
    parser.add_argument("--big-repeats", type=int, default=1)
    parser.add_argument(
        "--speedup",
        type=float,
        default=10,
        help="the big import's time scale: Telegram's windows this many times shorter",
    )
    parser.add_argument(
        "--drive-speedup",
        type=float,
        default=1,
        help="the seed drive's time scale (1: Telegram's own; the edits' timing, 2 s of quiet"
        " and 15 s at most, is not scaled)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run, not for the record: 1 repeat, the drive's time x10, 200 needs x60"
        " (these win over --repeats, --drive-speedup, --big and --speedup)",
    )
    parser.add_argument("--dir", help="where the temporary databases go (a real disk)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.drive_speedup, args.big, args.speedup = 1, 10, 200, 60
    if args.taps and args.households < 1:
        parser.error("--households must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
