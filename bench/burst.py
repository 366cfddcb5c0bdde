"""The claim burst's shared machinery: the taps, a timestamping fake Bot API, feeding, checks."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.ext import Application
from telegram.request import RequestData

from bot.domain import PrivateDetails
from tests.factories import tap_update, user
from tests.fakes import FakeBotApi

FIRST_USER_ID = 700_000_000
FIRST_CARD_MESSAGE_ID = 5000
DETAILS = PrivateDetails(
    name="Grandma Li", address="3 Willow Lane", phone="13900000000", health="frail"
)


@dataclass
class TimedBotApi(FakeBotApi):
    """The tests' fake Bot API, noting when each tap was fed and when it was answered."""

    fed: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    tapper: dict[str, int] = field(default_factory=dict)

    async def do_request(  # type: ignore[override]
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and url.endswith("/answerCallbackQuery"):
            query_id = str(request_data.parameters["callback_query_id"])
            self.answered.setdefault(query_id, time.perf_counter())
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


@dataclass(frozen=True)
class Tap:
    """One tap of the burst: who taps which need."""

    need_id: int
    user_id: int


def burst(taps: int, needs: int, seed: int) -> list[Tap]:
    """``taps`` taps over ``needs`` needs (the same number each), distinct users, seeded order."""
    if taps % needs:
        raise SystemExit("--taps must be a multiple of --needs")
    need_ids = [need_id for need_id in range(1, needs + 1) for _ in range(taps // needs)]
    random.Random(seed).shuffle(need_ids)
    return [Tap(need_id, FIRST_USER_ID + i) for i, need_id in enumerate(need_ids)]


def first_tappers(taps: Sequence[Tap]) -> dict[int, int]:
    """The user who tapped each need first: who must win it."""
    first: dict[int, int] = {}
    for tap in taps:
        first.setdefault(tap.need_id, tap.user_id)
    return first


@dataclass
class Run:
    """One burst through one implementation."""

    impl: str
    mode: str
    synchronous: str
    concurrency: int
    taps: int
    elapsed: float
    latencies: list[float]
    winner_latencies: list[float]
    correct: bool
    problem: str = ""
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.taps / self.elapsed


def tap_updates(
    app: Application,  # type: ignore[type-arg]
    taps: Sequence[Tap],
    cards: dict[int, int] | None = None,
) -> list[Update]:
    """The burst as updates bound to this application's bot (built before the clock starts).

    ``cards`` maps need ids to the message ids of their cards (default: a made-up number).
    """
    cards = cards or {}
    return [
        tap_update(
            app.bot,
            user(tap.user_id, f"V{tap.user_id}"),
            f"c:{tap.need_id}",
            message_id=cards.get(tap.need_id, FIRST_CARD_MESSAGE_ID + tap.need_id),
        )
        for tap in taps
    ]


async def feed(
    app: Application,  # type: ignore[type-arg]
    api: TimedBotApi,
    updates: Sequence[Update],
    mode: str,
) -> None:
    """Hand the burst to the application, as fast as it takes it, and wait for the handlers."""
    fed = api.fed
    clock = time.perf_counter
    if mode == "direct":
        for update in updates:
            fed[update.callback_query.id] = clock()  # type: ignore[union-attr]
            await app.process_update(update)
        return
    for update in updates:
        fed[update.callback_query.id] = clock()  # type: ignore[union-attr]
        app.update_queue.put_nowait(update)
    await app.update_queue.join()


def verdict(
    taps: Sequence[Tap], api: TimedBotApi, holders: dict[int, int]
) -> tuple[bool, str, list[float], list[float]]:
    """Every tap answered, one winner per need and it is the first tapper; plus latencies."""
    expected = first_tappers(taps)
    problems = []
    if len(api.answered) != len(taps):
        problems.append(f"{len(taps) - len(api.answered)} taps unanswered")
    if holders != expected:
        wrong = sum(1 for need, who in expected.items() if holders.get(need) != who)
        problems.append(f"{len(holders)} winners, {wrong} needs not won by their first tapper")
    latencies = [api.answered[q] - t for q, t in api.fed.items() if q in api.answered]
    winners = set(expected.values())
    winner_latencies = [
        api.answered[q] - api.fed[q]
        for q, uid in api.tapper.items()
        if uid in winners and q in api.answered
    ]
    return not problems, "; ".join(problems), latencies, winner_latencies


def judged_run(
    impl: str,
    mode: str,
    synchronous: str,
    concurrency: int,
    taps: Sequence[Tap],
    elapsed: float,
    api: TimedBotApi,
    holders: dict[int, int],
) -> Run:
    """One implementation's run, with its verdict, latencies and the API calls it made."""
    correct, problem, latencies, winner_latencies = verdict(taps, api, holders)
    calls = dict(Counter(call.method for call in api.calls))
    return Run(
        impl,
        mode,
        synchronous,
        concurrency,
        len(taps),
        elapsed,
        latencies,
        winner_latencies,
        correct,
        problem,
        calls,
    )
