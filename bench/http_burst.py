"""Claim burst over HTTP: the real bot and a minimal reference, long polling the Bot API emulator.

Each bot runs in its own process by default (as it would beside a remote Telegram), pointed at
the emulator's ``base_url``, with the emulator's flood limits and the bot's ``rate_limit``
scaled up so that neither binds, and the same ``concurrent_updates`` and ``synchronous``:

* product: the product as it runs in production, ``build_application`` and
  ``bot.app.running(polling=True)``. ``--product-root DIR`` (repeatable, ``LABEL=DIR``) takes
  it from another checkout: its process starts in DIR and imports ``bot``, ``storage``,
  ``handlers`` and the config factory (``tests.factories.make_config``) from there, while the
  emulator, the harness and the reference stay this tree's. So before and after run in one go.
* reference: ``bench.reference``, a bare python-telegram-bot Application that decides a tap
  with one ``UPDATE ... WHERE holder IS NULL`` and edits the winner's card.

A coordinator posts ``--needs`` needs with ``/post`` in a group; then ``--taps`` volunteers
(distinct, all have started the bot) tap Claim, the taps queued at the emulator in a seeded
random order within a few milliseconds (or spread evenly over ``--spread`` seconds). Each tap
gets the next update_id, so the order of the taps is the delivery order. Each repeat runs every
bot at each concurrency, in an order rotated from one repeat to the next, so the machine's
drift hits all alike; the ratio to the reference is taken within each repeat.

Reported: taps/s end to end (first tap to last answer), p50/p99 from a tap to its answer, the
time until every card shows its holder, and how many needs were won by the first tap
delivered for them (must be all), read from the bot's database after it stopped.

    python -m bench.http_burst                       # product and reference, about 2 minutes
    python -m bench.http_burst --product-root before=/tmp/before --product-root after=.
    python -m bench.http_burst --concurrency 1,4,8,16 --repeats 5
    python -m bench.http_burst --same-process        # bot and emulator share one event loop
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from telegram.ext import ApplicationBuilder

from bench import reference
from bench.burst import Tap, burst, first_tappers
from bench.timing import machine, median, percentile, table
from bot.emulator import ApiCall, BotApiEmulator, Limits, SimMessage
from tests.factories import COORDINATOR_ID, GROUP_ID
from tests.fakes import BOT_USERNAME, TOKEN

# This checkout: the harness, the emulator and the reference always come from here.
HERE = Path(__file__).resolve().parents[1]
READY = "READY"
# Far above anything a burst reaches: the limits exist (the code paths run) but never bind.
UNBINDING_LIMITS = Limits(
    overall_per_second=1_000_000, group_per_minute=10_000_000, private_per_second=10_000
)
UNBINDING_RATE_LIMIT = {"overall_per_second": 1_000_000, "group_per_minute": 10_000_000}
PRODUCT_HOLDERS = "SELECT need_id, volunteer_id FROM claims WHERE released_at IS NULL"
# What a product checkout's version is made of (for the label of what was measured).
PRODUCT_PATHS = ("bot", "storage", "handlers", "tests/factories.py", "tests/fakes.py")

# The product's process. It starts in the product's checkout and imports nothing from this
# one; it refuses to run if a product module would come from anywhere else (an installed
# copy in site-packages, say). argv: the checkout, the config overrides as JSON.
PRODUCT_CHILD = """
import asyncio, importlib, json, sys
from pathlib import Path

root = Path(sys.argv[1]).resolve()
overrides = json.loads(sys.argv[2])
sys.path.insert(0, str(root))
for name in ("bot", "storage", "handlers", "tests.factories", "bot.app"):
    where = Path(importlib.import_module(name).__file__).resolve()
    if not where.is_relative_to(root):
        sys.exit(f"{name} would come from {where}, not from {root}")
from bot.app import build_application, running
from tests.factories import make_config


async def main():
    config = make_config(Path(overrides.pop("directory")), **overrides)
    async with running(build_application(config), polling=True, poll_timeout=1):
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
"""


@dataclass(frozen=True)
class Subject:
    """A bot under test: a product checkout, or the reference (``root`` None)."""

    label: str
    root: Path | None
    version: str

    @property
    def is_reference(self) -> bool:
        return self.root is None


@dataclass(frozen=True)
class BotSpec:
    """What one run of a bot is started with."""

    kind: str  # "product" or "reference"
    directory: str
    base_url: str
    concurrency: int
    synchronous: str

    @property
    def database(self) -> Path:
        name = reference.DATABASE if self.kind == "reference" else "claimbot.db"
        return Path(self.directory) / name

    def product_overrides(self) -> dict[str, Any]:
        """The keys given to the product's ``make_config`` (the same in old checkouts)."""
        return {
            "directory": self.directory,
            "telegram": {
                "token": TOKEN,
                "base_url": self.base_url,
                "concurrent_updates": self.concurrency,
                "rate_limit": UNBINDING_RATE_LIMIT,
                "poll_timeout": 1,
            },
            "database": {"path": str(self.database), "synchronous": self.synchronous},
        }


@contextlib.asynccontextmanager
async def reference_serving(spec: BotSpec) -> AsyncIterator[None]:
    """The reference bot, long polling like the product, until the block ends."""
    conn = await reference.open_database(spec.database, spec.synchronous)
    try:
        builder = ApplicationBuilder().token(TOKEN).base_url(spec.base_url)
        app = reference.build_reference(builder, conn, spec.concurrency)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(
                allowed_updates=["message", "callback_query"], timeout=1, poll_interval=0
            )
            await app.start()
            try:
                yield
            finally:
                await app.updater.stop()
                await app.stop()
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def product_serving(spec: BotSpec) -> AsyncIterator[None]:
    """This checkout's product in this process (``--same-process``), until the block ends."""
    from bot.app import build_application, running
    from tests.factories import make_config

    overrides = spec.product_overrides()
    config = make_config(Path(overrides.pop("directory")), **overrides)
    async with running(build_application(config), polling=True, poll_timeout=1):
        yield


async def reference_child(spec: BotSpec) -> None:
    """The reference's process: run until the parent closes our stdin."""
    async with reference_serving(spec):
        print(READY, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@contextlib.asynccontextmanager
async def bot_running(subject: Subject, spec: BotSpec, same_process: bool) -> AsyncIterator[None]:
    """The bot under test, running until the block ends (then stopped cleanly)."""
    if same_process:
        async with reference_serving(spec) if subject.is_reference else product_serving(spec):
            yield
        return
    if subject.root is None:
        command = ["-m", "bench.http_burst", "--reference-child", json.dumps(asdict(spec))]
        cwd = HERE
    else:
        command = product_command(subject.root, spec.product_overrides())
        cwd = subject.root
    async with child_running(subject.label, command, cwd):
        yield


def product_command(root: Path, overrides: dict[str, Any]) -> list[str]:
    """The interpreter's arguments that run the product of checkout ``root`` (long polling,
    ``make_config(directory, **rest)`` from ``overrides``) in a process for ``child_running``."""
    return ["-c", PRODUCT_CHILD, str(root), json.dumps(overrides)]


@contextlib.asynccontextmanager
async def child_running(
    label: str, command: Sequence[str], cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A Python process (``command``: its arguments) that prints READY once it serves, runs
    until its stdin is closed at the end of the block, and must then exit with 0."""
    # The child's own directory comes first on its path, whatever this shell exported.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if line.decode().strip() != READY:
            raise RuntimeError(f"{label} did not start: {line!r}")
        yield process
    finally:
        process.stdin.close()
        if await asyncio.wait_for(process.wait(), 60) != 0:
            raise RuntimeError(f"{label} exited with {process.returncode}")


@dataclass
class HttpRun:
    """One burst over HTTP."""

    label: str
    concurrency: int
    taps: int
    elapsed: float
    cards_current: float
    latencies: list[float]
    first_come: int
    needs: int
    answered: int
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.taps / self.elapsed

    @property
    def correct(self) -> bool:
        return not self.problems


def claim_cards(emu: BotApiEmulator, group: int) -> dict[int, SimMessage]:
    """The need cards in the group that still show a Claim button, by need id."""
    cards = {}
    for message in emu.messages(group):
        for data in message.callback_data:
            if data.startswith("c:"):
                cards[int(data[2:])] = message
    return cards


@dataclass(frozen=True)
class Burst:
    """What every run of one invocation shares."""

    taps: Sequence[Tap]
    needs: int
    synchronous: str
    spread: float
    same_process: bool
    warm: bool
    parent: Path | None


async def http_run(subject: Subject, concurrency: int, b: Burst) -> HttpRun:
    """One burst: emulator up, bot up, needs posted, taps queued, answers awaited, checks."""
    taps = b.taps
    with tempfile.TemporaryDirectory(dir=b.parent) as tmp:
        emu = BotApiEmulator(TOKEN, BOT_USERNAME, UNBINDING_LIMITS, record_calls=False)
        await emu.start()
        try:
            kind = "reference" if subject.is_reference else "product"
            spec = BotSpec(kind, tmp, emu.base_url, concurrency, b.synchronous)
            group = emu.group(GROUP_ID, "Volunteers", bot_admin=True)
            coordinator = emu.user(COORDINATOR_ID, "Chen", language_code="en")
            volunteers = {
                tap.user_id: emu.user(tap.user_id, f"V{tap.user_id}", language_code="en")
                for tap in taps
            }
            for person in volunteers.values():
                person.started = True  # they pressed Start some day before
            async with bot_running(subject, spec, b.same_process):
                if b.warm:
                    # ... and the bot saw it: it knows them before the burst.
                    for person in volunteers.values():
                        await person.start_bot()
                for number in range(1, b.needs + 1):
                    await coordinator.send(
                        group, f"/post@{BOT_USERNAME} Household {number} needs rice"
                    )

                def all_cards() -> dict[int, SimMessage] | None:
                    found = claim_cards(emu, GROUP_ID)
                    return found if len(found) == b.needs else None

                cards = await emu.wait_for(all_cards, timeout=60, what=f"{b.needs} need cards")
                if b.warm:
                    await asyncio.sleep(1.0)  # the last /start answered too
                answered: dict[str, float] = {}
                refused: dict[str, str] = {}  # e.g. "query is too old" after 15 s
                all_answered = asyncio.Event()

                def on_call(call: ApiCall) -> None:
                    if call.method != "answerCallbackQuery":
                        return
                    query_id = str(call.params["callback_query_id"])
                    if call.status == 200:
                        answered.setdefault(query_id, clock())
                    else:
                        refused.setdefault(query_id, str(call.description))
                    if len(answered) + len(refused) >= len(taps):
                        all_answered.set()

                clock = time.perf_counter
                emu.on_call = on_call
                tapped: dict[str, float] = {}
                delivery: dict[str, Tap] = {}
                out_of_order = 0
                start = clock()
                for i, tap in enumerate(taps):
                    if b.spread:
                        await asyncio.sleep(max(0.0, start + b.spread * i / len(taps) - clock()))
                    before = emu.pending_updates
                    query_id = emu.tap(
                        volunteers[tap.user_id], cards[tap.need_id], f"c:{tap.need_id}"
                    )
                    tapped[query_id] = clock()
                    delivery[query_id] = tap
                    # The tap became the next update (with nothing else queued in between).
                    out_of_order += emu.pending_updates != before + 1 and not b.spread
                await asyncio.wait_for(all_answered.wait(), 120)
                elapsed = max(answered.values()) - start
                await emu.wait_for(
                    lambda: not claim_cards(emu, GROUP_ID), timeout=60, what="cards current"
                )
                cards_current = clock() - start
                emu.on_call = None
            holders = read_holders(spec)
        finally:
            await emu.stop()
    expected = first_tappers(taps)
    first_come = sum(1 for need, who in expected.items() if holders.get(need) == who)
    problems = []
    if out_of_order:
        problems.append(f"{out_of_order} taps were not queued as the next update")
    if len(answered) != len(taps):
        problems.append(f"{len(taps) - len(answered)} taps unanswered")
    for reason, count in Counter(refused.values()).items():
        problems.append(f"{count} answers refused: {reason}")
    if len(holders) != b.needs or first_come != b.needs:
        problems.append(f"{len(holders)} winners, {first_come} of them the first tapper")
    winners = set(expected.values())
    won_answers = sum(
        1
        for query_id, tap in delivery.items()
        if tap.user_id in winners
        and (emu.callback_answer(query_id) or {}).get("text", "").startswith("It's yours")
    )
    if won_answers != b.needs:
        problems.append(f"{won_answers} winners were told they won")
    latencies = [answered[q] - t for q, t in tapped.items() if q in answered]
    return HttpRun(
        subject.label,
        concurrency,
        len(taps),
        elapsed,
        cards_current,
        latencies,
        first_come,
        b.needs,
        len(answered),
        [f"{subject.label} c={concurrency}: {problem}" for problem in problems],
    )


def read_holders(spec: BotSpec) -> dict[int, int]:
    """Who holds each need, from the bot's database (after the bot stopped)."""
    conn = sqlite3.connect(spec.database)
    try:
        query = reference.HOLDERS if spec.kind == "reference" else PRODUCT_HOLDERS
        rows = conn.execute(query).fetchall()
    finally:
        conn.close()
    return dict(rows)


def version_of(root: Path, paths: Sequence[str]) -> str:
    """The commit checked out in ``root``, marked if ``paths`` there have uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=7", "HEAD") or "no commit"
    dirty = git("status", "--porcelain", "--", *paths)
    return f"{commit} + uncommitted changes" if dirty else commit


def product_subject(value: str) -> Subject:
    """``--product-root [LABEL=]DIR``: a product checkout, labelled by its folder by default."""
    label, _, directory = value.rpartition("=")
    root = Path(directory).resolve()
    for needed in ("bot/app.py", "storage", "handlers", "tests/factories.py"):
        if not (root / needed).exists():
            raise argparse.ArgumentTypeError(f"{root} has no {needed}: not a product checkout")
    return Subject(label or root.name, root, version_of(root, PRODUCT_PATHS))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def spread_of(values: Sequence[float], form: str) -> str:
    return f"{form.format(min(values))}-{form.format(max(values))}"


def report(
    subjects: Sequence[Subject],
    concurrencies: Sequence[int],
    runs: dict[tuple[str, int], list[HttpRun]],
) -> str:
    """One table: each bot at each concurrency, and its ratio to the reference in each repeat."""
    rows = []
    for concurrency in concurrencies:
        base = next((runs[s.label, concurrency] for s in subjects if s.is_reference), None)
        for subject in subjects:
            found = runs[subject.label, concurrency]
            rates = [r.rate for r in found]
            ratio = "-"
            if base is not None and not subject.is_reference:
                ratios = [r.rate / b.rate for r, b in zip(found, base, strict=True)]
                ratio = f"{median(ratios):.0%} ({spread_of(ratios, '{:.0%}')})"
            rows.append(
                [
                    concurrency,
                    subject.label,
                    f"{median(rates):.0f}",
                    spread_of(rates, "{:.0f}"),
                    ratio,
                    ms(median([percentile(r.latencies, 0.5) for r in found])),
                    ms(median([percentile(r.latencies, 0.99) for r in found])),
                    f"{median([r.cards_current for r in found]):.2f}",
                    f"{min(r.first_come for r in found)}/{found[0].needs}",
                    "yes" if all(r.correct for r in found) else "NO",
                ]
            )
    return table(
        [
            "concurrent_updates",
            "bot",
            "taps/s (median)",
            "taps/s (range)",
            "/ reference (median, range)",
            "p50 ms",
            "p99 ms",
            "cards current s",
            "first come (worst run)",
            "correct",
        ],
        rows,
    )


async def main_async(args: argparse.Namespace) -> int:
    subjects: list[Subject] = args.product_root or [product_subject(str(HERE))]
    if not args.no_reference:
        subjects.append(Subject("reference", None, version_of(HERE, ["bench"])))
    labels = [s.label for s in subjects]
    if len(set(labels)) != len(labels):
        raise SystemExit(f"labels must differ: {labels} (use --product-root LABEL=DIR)")
    if args.same_process and any(s.root not in (None, HERE) for s in subjects):
        raise SystemExit("--same-process runs only this checkout's product")
    b = Burst(
        burst(args.taps, args.needs, args.seed),
        args.needs,
        args.sync,
        args.spread,
        args.same_process,
        args.warm,
        Path(args.dir) if args.dir else None,
    )
    for subject in subjects:
        where = f" from {subject.root}" if subject.root else " (bench/reference.py)"
        print(f"{subject.label}: {subject.version}{where}")
    print(f"harness and emulator: {version_of(HERE, ['bench', 'bot/emulator'])} in {HERE}")
    runs: dict[tuple[str, int], list[HttpRun]] = {
        (s.label, n): [] for s in subjects for n in args.concurrency
    }
    for repeat in range(args.repeats):
        for concurrency in args.concurrency:
            turn = (repeat + args.concurrency.index(concurrency)) % len(subjects)
            for subject in subjects[turn:] + subjects[:turn]:
                run = await http_run(subject, concurrency, b)
                runs[subject.label, concurrency].append(run)
                print(
                    f"  [{repeat + 1}/{args.repeats}] {subject.label:>10} c={concurrency:<3} "
                    f"{run.rate:6.0f} taps/s  p50 {ms(percentile(run.latencies, 0.5))} ms  "
                    f"p99 {ms(percentile(run.latencies, 0.99))} ms  cards current after "
                    f"{run.cards_current:.2f} s  first come {run.first_come}/{run.needs}"
                    f"{'' if run.correct else '  WRONG: ' + '; '.join(run.problems)}",
                    flush=True,
                )
    where = "one process (shared event loop)" if args.same_process else "separate processes"
    print(f"\nmachine: {machine()}")
    print(
        f"burst: {args.taps} taps over {args.needs} needs, distinct users"
        f"{' known to the bot' if args.warm else ''}, "
        f"{'all at once' if not args.spread else f'spread over {args.spread} s'}; "
        f"bot and emulator in {where}; synchronous={args.sync}; "
        f"{args.repeats} repeats, interleaved\n"
    )
    print(report(subjects, args.concurrency, runs))
    if args.json:
        dump = [
            {
                "bot": label,
                "version": next(s.version for s in subjects if s.label == label),
                "concurrency": concurrency,
                "rates": [r.rate for r in found],
                "p50": [percentile(r.latencies, 0.5) for r in found],
                "p99": [percentile(r.latencies, 0.99) for r in found],
                "cards_current": [r.cards_current for r in found],
            }
            for (label, concurrency), found in runs.items()
        ]
        Path(args.json).write_text(json.dumps(dump, indent=1))  # noqa: ASYNC240 (after the runs)
    failures = [p for found in runs.values() for r in found for p in r.problems]
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        return 1
    print("\nall runs correct: every tap answered, every need won by its first delivered tap")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--needs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1, 8],
        help="concurrent_updates values (default 1,8; 8 is the product's default)",
    )
    parser.add_argument(
        "--product-root",
        type=product_subject,
        action="append",
        metavar="[LABEL=]DIR",
        help="run the product from this checkout (repeatable; default: this one)",
    )
    parser.add_argument("--no-reference", action="store_true", help="leave the reference out")
    parser.add_argument("--sync", default="full", choices=["full", "normal"])
    parser.add_argument("--spread", type=float, default=0.0, help="seconds to spread taps over")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="volunteers send /start before the burst, so the bot already knows them",
    )
    parser.add_argument("--same-process", action="store_true")
    parser.add_argument("--dir", help="where the temporary database goes (a real disk)")
    parser.add_argument("--json", help="also write every run's figures here")
    parser.add_argument("--reference-child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.reference_child:
        asyncio.run(reference_child(BotSpec(**json.loads(args.reference_child))))
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
