"""Claim burst over HTTP: the real bot, long polling the Bot API emulator, many taps at once.

The bot is the product as it runs in production: ``build_application`` and
``bot.app.running(polling=True)``, its own process by default (as it would be beside a remote
Telegram), pointed at the emulator's ``base_url``, with the emulator's flood limits and the
bot's ``rate_limit`` scaled up so that neither binds. A coordinator posts ``--needs`` needs
with ``/post`` in a group; then ``--taps`` volunteers (distinct, all have started the bot) tap
Claim, the taps queued at the emulator in a seeded random order within a few milliseconds (or
spread evenly over ``--spread`` seconds). Each tap gets the next update_id, so the order of the
taps is the delivery order.

Reported: taps/s end to end (first tap to last answer), p50/p99 from a tap to its answer, the
time until every card shows its holder, and how many needs were won by the first tap
delivered for them (must be all), read from the bot's database after it stopped.

    python -m bench.http_burst                       # about a minute
    python -m bench.http_burst --concurrency 1,4,8,16 --repeats 5
    python -m bench.http_burst --same-process        # bot and emulator share one event loop
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.burst import Tap, burst, first_tappers
from bench.timing import machine, median, percentile, table
from bot.emulator import ApiCall, BotApiEmulator, Limits, SimMessage
from tests.factories import COORDINATOR_ID, GROUP_ID
from tests.fakes import BOT_USERNAME, TOKEN

READY = "READY"
# Far above anything a burst reaches: the limits exist (the code paths run) but never bind.
UNBINDING_LIMITS = Limits(
    overall_per_second=1_000_000, group_per_minute=10_000_000, private_per_second=10_000
)
UNBINDING_RATE_LIMIT = {"overall_per_second": 1_000_000, "group_per_minute": 10_000_000}


@dataclass(frozen=True)
class BotSpec:
    """What the bot under test is started with."""

    directory: str
    base_url: str
    concurrency: int
    synchronous: str

    def config(self) -> Any:
        from tests.factories import make_config

        return make_config(
            Path(self.directory),
            telegram={
                "base_url": self.base_url,
                "concurrent_updates": self.concurrency,
                "rate_limit": UNBINDING_RATE_LIMIT,
                "poll_timeout": 1,
            },
            database={"synchronous": self.synchronous},
        )

    @property
    def database(self) -> Path:
        return Path(self.config().database.path)


async def bot_child(spec: BotSpec) -> None:
    """The bot process: run until the parent closes our stdin."""
    from bot.app import build_application, running

    app = build_application(spec.config())
    async with running(app, polling=True, poll_timeout=1):
        print(READY, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@contextlib.asynccontextmanager
async def bot_running(spec: BotSpec, same_process: bool) -> AsyncIterator[None]:
    """The bot under test, running until the block ends (then stopped cleanly)."""
    if same_process:
        from bot.app import build_application, running

        async with running(build_application(spec.config()), polling=True, poll_timeout=1):
            yield
        return
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.http_burst",
        "--bot-child",
        json.dumps(spec.__dict__),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if line.decode().strip() != READY:
            raise RuntimeError(f"the bot did not start: {line!r}")
        yield
    finally:
        process.stdin.close()
        if await asyncio.wait_for(process.wait(), 60) != 0:
            raise RuntimeError(f"the bot exited with {process.returncode}")


@dataclass
class HttpRun:
    """One burst over HTTP."""

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


async def http_run(
    taps: Sequence[Tap],
    needs: int,
    concurrency: int,
    synchronous: str,
    spread: float,
    same_process: bool,
    parent: Path | None,
) -> HttpRun:
    """One burst: emulator up, bot up, needs posted, taps queued, answers awaited, checks."""
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        emu = BotApiEmulator(TOKEN, BOT_USERNAME, UNBINDING_LIMITS, record_calls=False)
        await emu.start()
        try:
            spec = BotSpec(tmp, emu.base_url, concurrency, synchronous)
            group = emu.group(GROUP_ID, "Volunteers", bot_admin=True)
            coordinator = emu.user(COORDINATOR_ID, "Chen", language_code="en")
            volunteers = {
                tap.user_id: emu.user(tap.user_id, f"V{tap.user_id}", language_code="en")
                for tap in taps
            }
            for person in volunteers.values():
                person.started = True  # they pressed Start some day before
            async with bot_running(spec, same_process):
                for number in range(1, needs + 1):
                    await coordinator.send(
                        group, f"/post@{BOT_USERNAME} Household {number} needs rice"
                    )

                def all_cards() -> dict[int, SimMessage] | None:
                    found = claim_cards(emu, GROUP_ID)
                    return found if len(found) == needs else None

                cards = await emu.wait_for(all_cards, timeout=60, what=f"{needs} need cards")
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
                    if spread:
                        await asyncio.sleep(max(0.0, start + spread * i / len(taps) - clock()))
                    before = emu.pending_updates
                    query_id = emu.tap(
                        volunteers[tap.user_id], cards[tap.need_id], f"c:{tap.need_id}"
                    )
                    tapped[query_id] = clock()
                    delivery[query_id] = tap
                    # The tap became the next update (with nothing else queued in between).
                    out_of_order += emu.pending_updates != before + 1 and not spread
                await asyncio.wait_for(all_answered.wait(), 120)
                elapsed = max(answered.values()) - start
                await emu.wait_for(
                    lambda: not claim_cards(emu, GROUP_ID), timeout=60, what="cards current"
                )
                cards_current = clock() - start
                emu.on_call = None
            holders = read_holders(spec.database)
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
    if len(holders) != needs or first_come != needs:
        problems.append(f"{len(holders)} winners, {first_come} of them the first tapper")
    winners = set(expected.values())
    won_answers = sum(
        1
        for query_id, tap in delivery.items()
        if tap.user_id in winners
        and (emu.callback_answer(query_id) or {}).get("text", "").startswith("It's yours")
    )
    if won_answers != needs:
        problems.append(f"{won_answers} winners were told they won")
    latencies = [answered[q] - t for q, t in tapped.items() if q in answered]
    return HttpRun(
        concurrency,
        len(taps),
        elapsed,
        cards_current,
        latencies,
        first_come,
        needs,
        len(answered),
        problems,
    )


def read_holders(database: Path) -> dict[int, int]:
    """Who holds each need, from the bot's database (after the bot stopped)."""
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT need_id, volunteer_id FROM claims WHERE released_at IS NULL"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


async def main_async(args: argparse.Namespace) -> int:
    taps = burst(args.taps, args.needs, args.seed)
    parent = Path(args.dir) if args.dir else None
    runs: dict[int, list[HttpRun]] = {n: [] for n in args.concurrency}
    for repeat in range(args.repeats):
        for concurrency in args.concurrency:
            run = await http_run(
                taps, args.needs, concurrency, args.sync, args.spread, args.same_process, parent
            )
            runs[concurrency].append(run)
            print(
                f"  [{repeat + 1}/{args.repeats}] concurrent_updates={concurrency:<3} "
                f"{run.rate:6.0f} taps/s  p50 {ms(percentile(run.latencies, 0.5))} ms  "
                f"p99 {ms(percentile(run.latencies, 0.99))} ms  cards current after "
                f"{run.cards_current:.2f} s  first come {run.first_come}/{run.needs}"
                f"{'' if run.correct else '  WRONG: ' + '; '.join(run.problems)}",
                flush=True,
            )
    where = "one process (shared event loop)" if args.same_process else "separate processes"
    print(f"\nmachine: {machine()}")
    print(
        f"burst: {args.taps} taps over {args.needs} needs, distinct users, "
        f"{'all at once' if not args.spread else f'spread over {args.spread} s'}; "
        f"bot and emulator in {where}; synchronous={args.sync}; median of {args.repeats}\n"
    )
    rows = []
    for concurrency, found in runs.items():
        rows.append(
            [
                concurrency,
                f"{median([r.rate for r in found]):.0f}",
                ms(median([percentile(r.latencies, 0.5) for r in found])),
                ms(median([percentile(r.latencies, 0.99) for r in found])),
                f"{median([r.cards_current for r in found]):.2f}",
                f"{min(r.first_come for r in found)}/{args.needs}",
                "yes" if all(r.correct for r in found) else "NO",
            ]
        )
    print(
        table(
            [
                "concurrent_updates",
                "taps/s",
                "p50 ms",
                "p99 ms",
                "cards current s",
                "first come (worst run)",
                "correct",
            ],
            rows,
        )
    )
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
    parser.add_argument("--sync", default="full", choices=["full", "normal"])
    parser.add_argument("--spread", type=float, default=0.0, help="seconds to spread taps over")
    parser.add_argument("--same-process", action="store_true")
    parser.add_argument("--dir", help="where the temporary database goes (a real disk)")
    parser.add_argument("--bot-child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bot_child:
        asyncio.run(bot_child(BotSpec(**json.loads(args.bot_child))))
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
