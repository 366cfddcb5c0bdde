"""Outbound fan-out against the emulator's flood limits: 10,000 private messages, 200 cards.

The product's own sending path: ``bot.delivery.send_private`` for each private message and
``CardKeeper.post`` for each need card, through the real ``ExtBot`` that ``build_application``
makes, with its ``PacedRateLimiter`` built from ``config.telegram.rate_limit``. The emulator
enforces Telegram-like flood limits (a sliding one-second window overall, one minute per
group, one second per private chat) and answers 429 with ``retry_after`` when they are
exceeded. The limits are scaled up so the run could take well under a minute, and the bot's
rate limit is set to match them: by default 300 messages/s overall and 600/min per group.

The emulator runs here, the sending bot in its own process (one event loop could not serve
both at this rate on a small machine). Every message is started at once (as a reminder round
or a broadcast would), the cards spread among them. Reported: the achieved rate as a share of
the allowed rate, messages lost (must be 0) and duplicated, 429s seen, and 429s never
followed by a delivery to that chat; when the cards went out, and how long one more private
message (as a claim winner's) started ``--probe-after`` seconds in had to wait.

    python -m bench.outbound                    # about 36 s
    python -m bench.outbound --timeline --trace # sends per second; where 429s and stalls come from
    python -m bench.outbound --private 3000 --posts 60           # about 20 s
    python -m bench.outbound --paced 0.95       # the first sketch of pacing (PacedLimiter below)
    python -m bench.outbound --bot-overall 270  # the product's limiter told 10% under the limit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import itertools
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.request import HTTPXRequest

from bench.timing import machine, median, table
from bot import runtime
from bot.app import build_application, running
from bot.delivery import Delivery, send_private
from bot.domain import PrivateDetails
from bot.emulator import BotApiEmulator, Limits
from bot.pacing import PacedRateLimiter
from tests.factories import COORDINATOR_ID, GROUP_ID, actor, make_config
from tests.fakes import BOT_USERNAME, TOKEN

FIRST_USER_ID = 800_000_000
REMINDER = (
    "Reminder: you are paired with need <b>#{n}</b>. "
    "Please visit this week and note how it went with /mine."
)


@dataclass
class FanOut:
    """One fan-out run."""

    private: int
    posts: int
    elapsed: float
    cpu: float  # the sending process
    emulator_cpu: float
    delivered_private: int
    delivered_posts: int
    lost: int
    duplicated: int
    too_many: int
    too_many_unanswered: int
    failures: Counter[str]
    allowed_rate: float
    ideal: float
    timeline: list[tuple[int, int]]  # per second from the first send: delivered, 429s
    cards: tuple[float, float, float]  # first, median, last card delivered (s after start)
    probe: float  # seconds a private message started 5 s into the fan-out took
    diagnosis: list[str]  # --trace: where the 429s and the stalls came from

    @property
    def total(self) -> int:
        return self.private + self.posts

    @property
    def rate(self) -> float:
        return (self.delivered_private + self.delivered_posts) / self.elapsed

    @property
    def share(self) -> float:
        """The achieved rate as a share of the allowed one (the fastest the limits permit)."""
        return self.ideal / self.elapsed


def ideal_seconds(private: int, posts: int, groups: int, overall: int, group: int) -> float:
    """The least time the emulator's sliding windows allow for this fan-out.

    A window's worth may go at once, then the rest at the window's rate: overall per second,
    and each group per minute (the cards are spread evenly over the groups).
    """
    overall_time = max(0.0, (private + posts - overall) / overall)
    per_group = -(-posts // groups)
    group_time = max(0.0, (per_group - group) / (group / 60))
    return max(overall_time, group_time)


@dataclass(frozen=True)
class SenderSpec:
    """What the sending process is started with."""

    directory: str
    base_url: str
    private: int
    posts: int
    groups: list[int]
    overall: float
    group: float
    in_flight: int | None = None
    short_windows: bool = False
    paced: float | None = None  # the share of the limits to pace at
    probe_after: float = 5.0
    trace: bool = False  # record each request's times for --trace


class BoundedRequest(HTTPXRequest):
    """PTB's HTTPXRequest with at most ``size`` requests handed to httpx at a time.

    httpcore's pool re-examines every connection and every queued request each time one is
    added or finishes, so its cost grows with what is inside it; this keeps it small.
    """

    def __init__(self, size: int) -> None:
        super().__init__(connection_pool_size=size, pool_timeout=None)
        self._slots = asyncio.Semaphore(size)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        async with self._slots:
            return await super().do_request(*args, **kwargs)


def short_window_limiter(overall: float, group: float, retries: int) -> AIORateLimiter:
    """The same rates as the product's limiter, in short windows: bursts of a tenth of a second.

    ``AIORateLimiter(R, 1)`` is a leaky bucket that holds R: after a quiet spell it lets R
    through at once and R more within the second, twice what a one-second sliding window
    allows. A bucket of R/10 per 0.1 s (and a group's per 3 s) overshoots by a tenth at
    most; pacing at 90% of the limit then never exceeds it.
    """
    return AIORateLimiter(
        overall_max_rate=overall * 0.9 / 10,
        overall_time_period=0.1,
        group_max_rate=group * 0.9 / 20,
        group_time_period=3,
        max_retries=retries,
    )


class PacedLimiter(BaseRateLimiter[int]):
    """A sketch of the suggested pacing: slots taken next to the wire, a 429 pauses everyone.

    Three things AIORateLimiter does that cost throughput against a sliding-window limit:
    its bucket holds a whole second's worth, so after a quiet spell it lets through twice
    the limit within the first second; it admits a request long before the request reaches
    the wire (behind connection set-up, a busy pool, a RetryAfter pause), so admissions
    spread in time arrive together; and a 429 pauses everyone while requests admitted during
    the pause pile up and go at once when it ends, earning the next 429.

    Here a request first waits for its group's slot, then for one of ``in_flight`` sending
    slots, and only then takes its overall slot and goes out at once; a slot taken during a
    pause is void (the request waits and takes a new one); the buckets hold a fiftieth of a
    second's worth (three seconds' for a group), so that even right after a pause a second
    holds no more than the limit; and the rate is ``share`` of the limits.
    """

    def __init__(
        self,
        overall: float,
        group_per_minute: float,
        retries: int,
        share: float,
        in_flight: int = 16,
    ) -> None:
        self._overall = AsyncLimiter(overall * share / 50, 0.02)
        self._group_rate = group_per_minute * share / 20
        self._groups: dict[int, AsyncLimiter] = {}
        self._slots = asyncio.Semaphore(in_flight)
        self._retries = retries
        self._open = asyncio.Event()
        self._open.set()

    async def initialize(self) -> None:
        self._open.set()

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        if chat_id is None:  # answers to taps, commands, getMe: not paced
            return await callback(*args, **kwargs)
        retries = rate_limit_args or self._retries
        for attempt in range(retries + 1):
            await self._open.wait()
            if isinstance(chat_id, int) and chat_id < 0:
                group = self._groups.get(chat_id)
                if group is None:
                    group = self._groups[chat_id] = AsyncLimiter(self._group_rate, 3)
                await group.acquire()
            wait = 0.0
            async with self._slots:
                while True:
                    await self._open.wait()
                    await self._overall.acquire()
                    if self._open.is_set():
                        break
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    if attempt == retries:
                        raise
                    wait = exc.retry_after.total_seconds()  # type: ignore[union-attr]
            if self._open.is_set():
                self._open.clear()
                await asyncio.sleep(wait + 0.1)
                self._open.set()
        raise AssertionError("unreachable")


_SLOT_TAKEN: contextvars.ContextVar[float] = contextvars.ContextVar("slot_taken", default=0.0)


@contextlib.contextmanager
def tracing(into: list[tuple[Any, float, float, float]]) -> Iterator[None]:
    """Record, for each request: its chat, when the limiter took its slot, and when httpx
    was handed the request and returned the answer (``time.time()``, as the emulator's clock).

    Diagnostics only (``--trace``): wraps ``PacedRateLimiter._take_slot`` and
    ``HTTPXRequest.do_request`` for the length of the block. The slot's time travels to the
    request in a context variable: the same task takes the slot and makes the request.
    """
    take_slot = PacedRateLimiter._take_slot
    do_request = HTTPXRequest.do_request

    async def timed_take_slot(self: PacedRateLimiter, group: Any) -> None:
        await take_slot(self, group)
        _SLOT_TAKEN.set(time.time())

    async def timed_do_request(
        self: HTTPXRequest, url: str, method: str, request_data: Any = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        started = time.time()
        try:
            return await do_request(self, url, method, request_data, **kwargs)
        finally:
            if url.endswith("/sendMessage") and request_data is not None:
                chat = request_data.parameters.get("chat_id")
                into.append((chat, _SLOT_TAKEN.get(), started, time.time()))

    setattr(PacedRateLimiter, "_take_slot", timed_take_slot)  # noqa: B010
    setattr(HTTPXRequest, "do_request", timed_do_request)  # noqa: B010
    try:
        yield
    finally:
        setattr(PacedRateLimiter, "_take_slot", take_slot)  # noqa: B010
        setattr(HTTPXRequest, "do_request", do_request)  # noqa: B010


@contextlib.contextmanager
def gc_pauses(into: list[tuple[int, float, float]]) -> Iterator[None]:
    """Record this process's garbage collections: generation, start (``time.time()``), length.

    Diagnostics only (``--trace``): a collection stops the event loop while it runs.
    """
    started: list[float] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.time())
        elif started:
            begun = started.pop()
            into.append((info["generation"], begun, time.time() - begun))

    gc.callbacks.append(watch)
    try:
        yield
    finally:
        gc.callbacks.remove(watch)


async def sender_child(spec: SenderSpec) -> dict[str, Any]:
    """The bot's side, in its own process: post_init, then every message at once."""
    config = make_config(
        Path(spec.directory),
        telegram={
            "base_url": spec.base_url,
            "rate_limit": {"overall_per_second": spec.overall, "group_per_minute": spec.group},
        },
    )
    # --in-flight: the same ExtBot and AIORateLimiter; at most this many requests in httpx.
    request = BoundedRequest(spec.in_flight) if spec.in_flight else None
    app = build_application(config, request=request)
    limits = config.telegram.rate_limit
    # Experiments only: swap the limiter build_application made (a private attribute).
    if spec.short_windows:
        app.bot._rate_limiter = short_window_limiter(  # type: ignore[attr-defined]
            limits.overall_per_second, limits.group_per_minute, limits.max_retries
        )
    if spec.paced:
        app.bot._rate_limiter = PacedLimiter(  # type: ignore[attr-defined]
            limits.overall_per_second, limits.group_per_minute, limits.max_retries, spec.paced
        )
    trace: list[tuple[Any, float, float, float]] = []
    collections: list[tuple[int, float, float]] = []
    with contextlib.ExitStack() as stack:
        if spec.trace:
            stack.enter_context(tracing(trace))
            stack.enter_context(gc_pauses(collections))
        report = await _fan_out_in_child(spec, app)
    if spec.trace:
        report["trace"] = trace
        report["gc"] = collections
    return report


async def _fan_out_in_child(spec: SenderSpec, app: Any) -> dict[str, Any]:
    """Post the needs, then start every message at once and wait for them all."""
    async with running(app, polling=False):
        service = app.bot_data[runtime.SERVICE]
        keeper = app.bot_data[runtime.CARDS]
        coordinator = actor(COORDINATOR_ID, "Coordinator")
        needs = []
        for n in range(spec.posts):
            need = await service.post_need(
                coordinator,
                spec.groups[n % len(spec.groups)],
                f"Household {n + 1} needs rice",
                PrivateDetails(name="Grandma Li"),
            )
            needs.append(need.id)
        every = max(1, spec.private // max(1, spec.posts))
        jobs: list[Awaitable[Any]] = []
        posts = iter(needs)
        for i in range(spec.private):
            if i % every == 0 and (need_id := next(posts, None)) is not None:
                jobs.append(keeper.post(need_id))
            jobs.append(send_private(app.bot, FIRST_USER_ID + i, REMINDER.format(n=i + 1)))
        jobs.extend(keeper.post(need_id) for need_id in posts)

        async def probe() -> float:
            """A claim winner's private message, sent a few seconds into the fan-out."""
            await asyncio.sleep(spec.probe_after)
            sent = time.perf_counter()
            await send_private(app.bot, FIRST_USER_ID + spec.private, "Need #1 is yours.")
            return time.perf_counter() - sent

        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        probing = asyncio.get_running_loop().create_task(probe())
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        elapsed = time.perf_counter() - start
        cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        probe_wait = await probing
    failures = Counter(
        type(o).__name__ if isinstance(o, BaseException) else o.value
        for o in outcomes
        if isinstance(o, BaseException)
        or (isinstance(o, Delivery) and o is not Delivery.DELIVERED)
    )
    cpu = (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu_start.ru_utime + cpu_start.ru_stime)
    return {"elapsed": elapsed, "cpu": cpu, "failures": dict(failures), "probe": probe_wait}


async def run_sender(spec: SenderSpec) -> dict[str, Any]:
    """Start the sending process and wait for its report."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.outbound",
        "--sender-child",
        json.dumps(asdict(spec)),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the sending process failed ({process.returncode})")
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


async def fan_out(args: argparse.Namespace, parent: Path | None) -> FanOut:
    """One run: emulator with flood limits here, the bot's sending path in its own process."""
    limits = Limits(
        overall_per_second=args.overall, group_per_minute=args.group, private_per_second=1
    )
    groups = [GROUP_ID - g for g in range(args.groups)]
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        emu = BotApiEmulator(TOKEN, BOT_USERNAME, limits)
        await emu.start()
        try:
            for chat_id in groups:
                emu.group(chat_id, f"Volunteers {chat_id}")
            people = [FIRST_USER_ID + i for i in range(args.private)]
            for user_id in [*people, FIRST_USER_ID + args.private]:  # the last one: the probe
                emu.user(user_id, f"V{user_id}", language_code="en").started = True
            spec = SenderSpec(
                tmp,
                emu.base_url,
                args.private,
                args.posts,
                groups,
                args.bot_overall or args.overall,
                args.bot_group or args.group,
                args.in_flight,
                args.short_windows,
                args.paced,
                args.probe_after,
                args.trace,
            )
            emulator_gc: list[tuple[int, float, float]] = []
            cpu_start = resource.getrusage(resource.RUSAGE_SELF)
            with gc_pauses(emulator_gc) if args.trace else contextlib.nullcontext():
                report = await run_sender(spec)
            cpu_end = resource.getrusage(resource.RUSAGE_SELF)
            calls = [call for call in emu.calls if call.method == "sendMessage"]
        finally:
            await emu.stop()
    received = Counter(int(call.params["chat_id"]) for call in calls if call.status == 200)
    rejected = [(int(call.params["chat_id"]), call.time) for call in calls if call.status == 429]
    delivered_at: dict[int, float] = {}
    for call in calls:
        if call.status == 200:
            delivered_at[int(call.params["chat_id"])] = call.time
    unanswered = sum(1 for chat, at in rejected if delivered_at.get(chat, -1.0) < at)
    first_send = min((call.time for call in calls), default=0.0)
    card_times = sorted(
        call.time - first_send
        for call in calls
        if call.status == 200 and int(call.params["chat_id"]) in groups
    )
    first = min((call.time for call in calls), default=0.0)
    seconds = int(max((call.time for call in calls), default=0.0) - first) + 1
    timeline = [[0, 0] for _ in range(seconds)]
    for call in calls:
        if call.status in (200, 429):
            timeline[int(call.time - first)][call.status == 429] += 1
    private_received = sum(min(1, received[u]) for u in people)
    posts_received = sum(received[g] for g in groups)
    emulator_cpu = (cpu_end.ru_utime + cpu_end.ru_stime) - (
        cpu_start.ru_utime + cpu_start.ru_stime
    )
    return FanOut(
        private=args.private,
        posts=args.posts,
        elapsed=report["elapsed"],
        cpu=report["cpu"],
        emulator_cpu=emulator_cpu,
        delivered_private=private_received,
        delivered_posts=posts_received,
        lost=(args.private - private_received) + max(0, args.posts - posts_received),
        duplicated=sum(max(0, received[u] - 1) for u in people)
        + max(0, posts_received - args.posts),
        too_many=len(rejected),
        too_many_unanswered=unanswered,
        failures=Counter(report["failures"]),
        allowed_rate=args.overall,
        ideal=ideal_seconds(args.private, args.posts, args.groups, args.overall, args.group),
        timeline=[(sent, refused) for sent, refused in timeline],
        cards=(card_times[0], median(card_times), card_times[-1]) if card_times else (0, 0, 0),
        probe=report["probe"],
        diagnosis=diagnose(
            report.get("trace", []), calls, {"bot": report.get("gc", []), "emulator": emulator_gc}
        )
        if args.trace
        else [],
    )


def diagnose(
    trace: list[list[Any]], calls: Sequence[Any], collections: dict[str, list[Any]]
) -> list[str]:
    """Explain a run from the sender's trace and the emulator's calls (``--trace``).

    Each sendMessage attempt is matched to the emulator's call for the same chat, in order.
    Reported: how long requests took from the limiter's slot to the emulator (a request
    delayed past its slot lands in a later window than the pace reckoned with), the longest
    gaps between slots, and for each 429 how the window it hit was filled: the emulator
    counts arrivals, and arrivals whose slots were taken before the window opened are
    requests that bunched.
    """
    if not trace:
        return ["no trace"]
    by_chat: dict[int, list[Any]] = {}
    for call in calls:
        by_chat.setdefault(int(call.params["chat_id"]), []).append(call)
    matched = []  # slot, handed to httpx, arrived, answered, status
    for chat, slot, started, ended in sorted(trace, key=lambda t: t[2]):
        queue = by_chat.get(int(chat))
        if queue:
            call = queue.pop(0)
            matched.append((slot, started, call.time, ended, call.status))
    if not matched:
        return ["no request matched"]
    start = min(m[0] for m in matched)

    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        pick = [ordered[int(q * (len(ordered) - 1))] * 1000 for q in (0.5, 0.9, 0.99, 1.0)]
        return "p50 {:.1f} / p90 {:.1f} / p99 {:.1f} / max {:.1f} ms".format(*pick)

    lines = [
        f"{len(matched)} of {len(trace)} traced requests matched",
        "slot to httpx: " + spread([m[1] - m[0] for m in matched]),
        "slot to emulator: " + spread([m[2] - m[0] for m in matched]),
        "emulator to answer: " + spread([m[3] - m[2] for m in matched]),
    ]
    slots = sorted(m[0] for m in matched)
    gaps = sorted(((b - a, a - start) for a, b in itertools.pairwise(slots)), reverse=True)[:5]
    lines.append(
        "longest gaps between slots: "
        + ", ".join(f"{gap * 1000:.0f} ms at {at:.2f} s" for gap, at in gaps)
    )
    for process, pauses in collections.items():
        long = [(at - start, length) for gen, at, length in pauses if length >= 0.01]
        lines.append(
            f"{process}: {len(pauses)} garbage collections,"
            f" {sum(p[2] for p in pauses) * 1000:.0f} ms in all; 10 ms or more: "
            + (", ".join(f"{length * 1000:.0f} ms at {at:.2f} s" for at, length in long) or "none")
        )
    accepted = sorted((m[2], m[0]) for m in matched if m[4] == 200)
    for slot, _, arrived, _, status in matched:
        if status != 429:
            continue
        window = [(a, s) for a, s in accepted if arrived - 1.0 < a <= arrived]
        early = [s for a, s in window if s <= arrived - 1.0]
        slotted = sum(1 for s in slots if arrived - 1.0 < s <= arrived)
        last_50ms = sum(1 for a, _ in window if a > arrived - 0.05)
        lines.append(
            f"429 at {arrived - start:.2f} s (its slot {(arrived - slot) * 1000:.1f} ms before):"
            f" {len(window)} arrivals in the second before it, {len(early)} of them with slots"
            f" taken before that second began (up to"
            f" {max((a - s for a, s in window), default=0) * 1000:.0f} ms late);"
            f" {slotted} slots taken in that second; {last_50ms} arrivals in its last 50 ms"
        )
    return lines


async def main_async(args: argparse.Namespace) -> int:
    parent = Path(args.dir) if args.dir else None
    runs = []
    for repeat in range(args.repeats):
        run = await fan_out(args, parent)
        runs.append(run)
        print(
            f"  [{repeat + 1}/{args.repeats}] {run.total} messages in {run.elapsed:.1f} s: "
            f"{run.rate:.0f}/s ({run.share:.0%} of allowed), lost {run.lost}, "
            f"duplicated {run.duplicated}, 429s {run.too_many} "
            f"(unanswered {run.too_many_unanswered}), CPU bot {run.cpu / run.elapsed:.0%} "
            f"emulator {run.emulator_cpu / run.elapsed:.0%}"
            f"{', failures ' + str(dict(run.failures)) if run.failures else ''}",
            flush=True,
        )
        print(
            f"    cards delivered {run.cards[0]:.1f} / {run.cards[1]:.1f} / {run.cards[2]:.1f} s"
            f" after the first message (first / median / last); a private message started"
            f" {args.probe_after:.0f} s in took {run.probe:.1f} s",
            flush=True,
        )
        if args.timeline:
            print(
                "    per second, delivered/429: " + " ".join(f"{a}/{b}" for a, b in run.timeline)
            )
        for line in run.diagnosis:
            print(f"    {line}")
    print(f"\nmachine: {machine()}")
    bot_overall = args.bot_overall or args.overall
    bot_group = args.bot_group or args.group
    print(
        f"fan-out: {args.private:,} private messages and {args.posts} cards in {args.groups} "
        f"group(s), all started at once; emulator limits {args.overall}/s overall, "
        f"{args.group}/min per group, 1/s per private chat; the bot's rate limit "
        f"{bot_overall}/s overall, {bot_group}/min per group"
        f"{f'; EXPERIMENT: {args.in_flight} requests in flight' if args.in_flight else ''}"
        f"{'; EXPERIMENT: short-window limiter at 90%' if args.short_windows else ''}"
        f"{f'; EXPERIMENT: PacedLimiter at {args.paced:.0%}' if args.paced else ''}; "
        f"median of {args.repeats}\n"
    )
    best = sorted(runs, key=lambda r: r.elapsed)[len(runs) // 2]
    print(
        table(
            [
                "messages",
                "elapsed s",
                "least possible s",
                "rate /s",
                "share of allowed",
                "lost",
                "duplicated",
                "429s",
                "429s never followed by delivery",
                "bot CPU",
            ],
            [
                [
                    best.total,
                    f"{median([r.elapsed for r in runs]):.1f}",
                    f"{best.ideal:.1f}",
                    f"{median([r.rate for r in runs]):.0f}",
                    f"{median([r.share for r in runs]):.0%}",
                    max(r.lost for r in runs),
                    max(r.duplicated for r in runs),
                    f"{median([r.too_many for r in runs]):.0f}",
                    max(r.too_many_unanswered for r in runs),
                    f"{median([r.cpu / r.elapsed for r in runs]):.0%}",
                ]
            ],
        )
    )
    share = median([r.share for r in runs])
    lost = max(r.lost for r in runs)
    print(
        f"\ngoal share >= 90%: {'met' if share >= 0.9 else 'MISSED'} ({share:.0%}); "
        f"goal lost = 0: {'met' if lost == 0 else 'MISSED'} ({lost})"
    )
    return 0 if share >= 0.9 and lost == 0 else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--private", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--groups", type=int, default=1, help="the cards are spread over these")
    parser.add_argument("--overall", type=int, default=300, help="emulator: messages/s")
    parser.add_argument("--group", type=int, default=600, help="emulator: messages/min/group")
    parser.add_argument("--bot-overall", type=float, help="bot's rate limit (default: --overall)")
    parser.add_argument("--bot-group", type=float, help="bot's per-group limit (default: --group)")
    parser.add_argument(
        "--in-flight",
        type=int,
        help="experiment: at most this many requests in httpx at once, on a pool of that size"
        " (PTB's default: a pool of 256, no bound before it)",
    )
    parser.add_argument(
        "--short-windows",
        action="store_true",
        help="experiment: the suggested limiter (same rates in 0.1 s / 3 s buckets, at 90%%)",
    )
    parser.add_argument(
        "--paced",
        type=float,
        metavar="SHARE",
        help="experiment: the suggested limiter at this share of the limits, e.g. 0.95"
        " (short buckets; a 429 pauses admission)",
    )
    parser.add_argument(
        "--probe-after",
        type=float,
        default=5.0,
        help="send one more private message (a claim winner's) this many seconds in",
    )
    parser.add_argument("--timeline", action="store_true", help="print sends per second")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="diagnostics: time each request from its slot to the emulator and back; explain"
        " each 429 and the longest stalls",
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--dir", help="where the temporary database goes")
    parser.add_argument("--sender-child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sender_child:
        report = asyncio.run(sender_child(SenderSpec(**json.loads(args.sender_child))))
        print(json.dumps(report), flush=True)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
