"""In-process claim burst: the product's claim path against a minimal reference handler.

Both run inside the real python-telegram-bot ``Application`` on a recording fake Bot API (the
tests' ``FakeBotApi``, which timestamps each ``answerCallbackQuery`` here), each on its own
SQLite file in a temporary directory. The burst is the same for both: ``--taps`` taps from
distinct users spread over ``--needs`` needs in a seeded random order, fed as fast as possible.

* product: ``build_application`` (every handler registered, post_init opens the database). Each
  tap is identified by the TypeHandler (one read on the writer, a write for a new person),
  then decided by ``storage.needs.claim``: the writer lock taken in order, one read, a write
  only for the winner, who is sent the private details; the card edit follows the database's
  change hook (``CardKeeper``).
* reference: ``bench.reference``, a bare ``Application`` with one ``CallbackQueryHandler``
  doing one ``UPDATE needs ... WHERE id = ? AND holder IS NULL`` on its own aiosqlite
  connection, deciding by ``rowcount``, answering the query and, for the winner, editing the
  message.

Feeding is either ``direct`` (``await app.process_update(update)`` for one update after the
other) or ``queue`` (all updates put on ``app.update_queue`` at once, processed with
``concurrent_updates`` of 1, 4, 8, 16). Latency is from feeding an update to its
``answerCallbackQuery`` being issued; taps/s counts until all work (card edits included) is done.

    python -m bench.claim_burst                 # about a minute and a half
    python -m bench.claim_burst --repeats 5 --taps 2000 --needs 100
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from telegram.ext import ApplicationBuilder

from bench import reference
from bench.burst import (
    DETAILS,
    FIRST_CARD_MESSAGE_ID,
    Run,
    Tap,
    TimedBotApi,
    burst,
    feed,
    judged_run,
    tap_updates,
)
from bench.timing import machine, median, percentile, table
from bot import runtime
from bot.app import build_application, running
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, make_config
from tests.fakes import TOKEN


async def product_run(
    taps: Sequence[Tap],
    needs: int,
    synchronous: str,
    mode: str,
    concurrency: int,
    parent: Path,
) -> Run:
    """The burst through the product: build_application, its handlers, its storage."""
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        config = make_config(
            Path(tmp),
            database={"synchronous": synchronous},
            telegram={"concurrent_updates": concurrency},
        )
        api = TimedBotApi()
        app = build_application(config, request=api, rate_limiter=False)
        async with running(app, polling=False):
            service = app.bot_data[runtime.SERVICE]
            await service.group_seen(GROUP_ID, "Volunteers")
            coordinator = actor(COORDINATOR_ID, "Coordinator")
            keeper = app.bot_data[runtime.CARDS]
            cards = {}
            for number in range(1, needs + 1):
                need = await service.post_need(
                    coordinator, GROUP_ID, f"Household {number} needs rice", DETAILS
                )
                cards[need.id] = (await keeper.post(need.id)).message_id  # as /post does
            updates = tap_updates(app, taps, cards)
            api.tapper = {u.callback_query.id: u.effective_user.id for u in updates}  # type: ignore[union-attr]
            api.calls.clear()
            gc.collect()
            start = time.perf_counter()
            await feed(app, api, updates, mode)
            await keeper.drain()
            elapsed = time.perf_counter() - start
            rows = await service.db.fetch_all(
                "SELECT need_id, volunteer_id FROM claims WHERE released_at IS NULL"
            )
            holders = {row["need_id"]: row["volunteer_id"] for row in rows}
    return judged_run("product", mode, synchronous, concurrency, taps, elapsed, api, holders)


async def reference_run(
    taps: Sequence[Tap], needs: int, synchronous: str, mode: str, concurrency: int, parent: Path
) -> Run:
    """The burst through the reference bot (``bench.reference``), its needs inserted directly."""
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        conn = await reference.open_database(Path(tmp) / reference.DATABASE, synchronous)
        try:
            await conn.executemany(
                "INSERT INTO needs (id, chat_id, message_id, summary) VALUES (?, ?, ?, ?)",
                [
                    (n, GROUP_ID, FIRST_CARD_MESSAGE_ID + n, f"Household {n} needs rice")
                    for n in range(1, needs + 1)
                ],
            )
            api = TimedBotApi()
            builder = ApplicationBuilder().token(TOKEN).request(api).get_updates_request(api)
            app = reference.build_reference(builder, conn, concurrency)
            async with app:
                await app.start()
                updates = tap_updates(app, taps)
                api.tapper = {u.callback_query.id: u.effective_user.id for u in updates}  # type: ignore[union-attr]
                api.calls.clear()
                gc.collect()
                start = time.perf_counter()
                await feed(app, api, updates, mode)
                elapsed = time.perf_counter() - start
                await app.stop()
            holders = await reference.holders(conn)
        finally:
            await conn.close()
    return judged_run("reference", mode, synchronous, concurrency, taps, elapsed, api, holders)


IMPLEMENTATIONS: dict[str, Callable[..., Awaitable[Run]]] = {
    "product": product_run,
    "reference": reference_run,
}


@dataclass(frozen=True)
class Case:
    """One row of the report: a feeding mode, a synchronous setting, a concurrency."""

    mode: str
    synchronous: str
    concurrency: int


def cases(args: argparse.Namespace) -> list[Case]:
    """The direct runs for each synchronous setting, then the queue runs at each concurrency."""
    found = [Case("direct", sync, 1) for sync in args.sync]
    found += [Case("queue", args.queue_sync, n) for n in args.concurrency]
    return found


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def report(results: dict[Case, dict[str, list[Run]]], impls: Sequence[str]) -> str:
    """The table: median taps/s of the repeats, the ratio, median p50/p99 latencies."""
    rows = []
    for case, by_impl in results.items():
        rates = {impl: median([r.rate for r in by_impl[impl]]) for impl in impls}
        row: list[object] = [case.mode, case.synchronous, case.concurrency]
        for impl in impls:
            runs = by_impl[impl]
            row += [
                f"{rates[impl]:.0f}",
                ms(median([percentile(r.latencies, 0.5) for r in runs])),
                ms(median([percentile(r.latencies, 0.99) for r in runs])),
            ]
        if "reference" in impls:
            row += [
                f"{rates[impl] / rates['reference']:.0%}" for impl in impls if impl != "reference"
            ]
        row.append("yes" if all(r.correct for runs in by_impl.values() for r in runs) else "NO")
        rows.append(row)
    headers: list[str] = ["feed", "synchronous", "concurrency"]
    for impl in impls:
        headers += [f"{impl} taps/s", "p50 ms", "p99 ms"]
    if "reference" in impls:
        headers += [f"{impl}/reference" for impl in impls if impl != "reference"]
    headers.append("correct")
    return table(headers, rows)


async def main_async(args: argparse.Namespace) -> int:
    taps = burst(args.taps, args.needs, args.seed)
    impls = args.only or list(IMPLEMENTATIONS)
    results: dict[Case, dict[str, list[Run]]] = {
        case: {impl: [] for impl in impls} for case in cases(args)
    }
    parent = Path(args.dir) if args.dir else None
    failures = []
    for repeat in range(args.repeats):
        for case, by_impl in results.items():
            # Alternate which goes first, so drift on a noisy machine hurts both alike.
            order = impls if repeat % 2 == 0 else list(reversed(impls))
            for impl in order:
                run = await IMPLEMENTATIONS[impl](
                    taps, args.needs, case.synchronous, case.mode, case.concurrency, parent
                )
                by_impl[impl].append(run)
                if not run.correct:
                    failures.append(f"{impl} {case}: {run.problem}")
                print(
                    f"  [{repeat + 1}/{args.repeats}] {impl:11} {case.mode:6} "
                    f"{case.synchronous:6} c={case.concurrency:<2} {run.rate:7.0f} taps/s "
                    f"p50 {ms(percentile(run.latencies, 0.5))} ms "
                    f"p99 {ms(percentile(run.latencies, 0.99))} ms"
                    f"{'' if run.correct else '  WRONG: ' + run.problem}",
                    flush=True,
                )
    print()
    print(f"machine: {machine()}")
    print(
        f"burst: {args.taps} taps, {args.needs} needs, {args.taps // args.needs} taps per need, "
        f"distinct users; median of {args.repeats} runs"
    )
    print()
    print(report(results, impls))
    first = next(iter(results.values()))
    print(f"\nIn the first case ({next(iter(results))}):")
    for impl in impls:
        runs = first[impl]
        winners = median([percentile(r.winner_latencies, 0.5) for r in runs])
        calls = ", ".join(f"{n} {method}" for method, n in sorted(runs[0].calls.items()))
        print(f"  {impl}: winners' answers p50 {ms(winners)} ms; Bot API calls: {calls}")
    if args.json:
        dump = [
            {**asdict(case), "impl": impl, "rates": [r.rate for r in runs]}
            for case, by_impl in results.items()
            for impl, runs in by_impl.items()
        ]
        with open(args.json, "w") as out:  # noqa: ASYNC230 (after the measurements)
            json.dump(dump, out, indent=1)
    if failures:
        print("\nCORRECTNESS FAILURES:\n" + "\n".join(failures))
        return 1
    print("\nall runs correct: every tap answered, one winner per need, the first tapper")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--needs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sync",
        type=lambda s: s.split(","),
        default=["full", "normal"],
        help="synchronous settings for the direct runs (default full,normal)",
    )
    parser.add_argument("--queue-sync", default="full", choices=["full", "normal"])
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(n) for n in s.split(",") if n],
        default=[1, 4, 8, 16],
        help="concurrent_updates values for the queue runs (empty: none)",
    )
    parser.add_argument("--only", choices=list(IMPLEMENTATIONS), action="append")
    parser.add_argument("--dir", help="where the temporary database files go (a real disk)")
    parser.add_argument("--json", help="also write the raw rates here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
