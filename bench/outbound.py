"""Outbound fan-out against the emulator's flood limits: 10,000 reminders, 200 cards, probes.

The product's own sending path, through the real ``ExtBot`` that ``build_application`` makes,
with its ``PacedRateLimiter`` built from ``config.telegram.rate_limit``: each reminder sent as
the reminder job sends it (``send_message`` with ``rate_limit_args={"bulk": True}``), each
need card by ``CardKeeper.post``, and during the fan-out a claim winner's private details
(``bot.delivery.send_private``, urgent) one every ``--probe-every`` seconds, each to another
person. The emulator enforces Telegram-like flood limits (a sliding one-second window overall,
one minute per group, one second per private chat) and answers 429 with ``retry_after`` when
they are exceeded. The limits are scaled up so the run could take well under a minute, and the
bot's rate limit is set to match them: by default 300 messages/s overall and 600/min per group.

The emulator runs here, the sending bot in its own process (one event loop could not serve
both at this rate on a small machine). Every message is started at once (as a reminder round
or a broadcast would), the cards spread among them. Reported: the achieved rate as a share of
the allowed rate, messages lost (must be 0) and duplicated, 429s seen, and 429s never
followed by a delivery to that chat; when the cards went out, and how long the winners'
details took (p50, p99).

    python -m bench.outbound                    # about 40 s
    python -m bench.outbound --no-bulk          # the reminders urgent too, as before issue 8
    python -m bench.outbound --batch 50         # the reminders 50 at a time, as the job takes them
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
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.request import HTTPXRequest

from bench.timing import machine, median, percentile, table
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
# How the reminder job marks its sends (handlers/reminders.py): urgent ones go first.
BULK = {"bulk": True}
PROBE_GOAL = 1.0  # seconds, p99 of a winner's details sent during the fan-out (issue 8)


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
    probes: list[float]  # seconds each winner's details sent during the fan-out took
    diagnosis: list[str]  # --trace: where the 429s and the stalls came from

    @property
    def total(self) -> int:
        return self.private + self.posts + len(self.probes)

    @property
    def rate(self) -> float:
        return (self.delivered_private + self.delivered_posts + len(self.probes)) / self.elapsed

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
    probe_after: float = 1.0
    probe_every: float = 0.5
    probes: int = 0  # at most this many (one user each), while the fan-out runs
    bulk: bool = True  # the reminders marked bulk, as the reminder job sends them
    batch: int | None = None  # the reminders this many at a time, each batch awaited
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

    async def timed_take_slot(self: PacedRateLimiter, *args: Any) -> None:
        await take_slot(self, *args)
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


async def send_reminder(bot: Any, user_id: int, text: str, bulk: dict[str, bool] | None) -> Any:
    """A reminder as the reminder job sends one: HTML, bulk, a 403 reported, not raised.

    ``delivery.send_private`` cannot mark a send bulk, so this is its body with
    ``rate_limit_args`` (the job in ``handlers/reminders.py`` calls ``send_message`` so too).
    """
    try:
        await bot.send_message(user_id, text, parse_mode=ParseMode.HTML, rate_limit_args=bulk)
    except Forbidden:
        return Delivery.UNREACHABLE
    return Delivery.DELIVERED


async def _post_needs(spec: SenderSpec, app: Any) -> list[int]:
    """The needs whose cards go out among the reminders (not yet posted in the group)."""
    service = app.bot_data[runtime.SERVICE]
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
    return needs


def _jobs(spec: SenderSpec, app: Any, needs: list[int]) -> list[Awaitable[Any]]:
    """The reminders (bulk unless ``--no-bulk``) with the cards (urgent) spread among them."""
    keeper = app.bot_data[runtime.CARDS]
    # The experiments' limiters take only an int as rate_limit_args.
    bulk = BULK if spec.bulk and isinstance(app.bot.rate_limiter, PacedRateLimiter) else None
    every = max(1, spec.private // max(1, spec.posts))
    jobs: list[Awaitable[Any]] = []
    posts = iter(needs)
    for i in range(spec.private):
        if i % every == 0 and (need_id := next(posts, None)) is not None:
            jobs.append(keeper.post(need_id))
        jobs.append(send_reminder(app.bot, FIRST_USER_ID + i, REMINDER.format(n=i + 1), bulk))
    jobs.extend(keeper.post(need_id) for need_id in posts)
    return jobs


async def _in_batches(jobs: list[Awaitable[Any]], batch: int | None) -> list[Any]:
    """Every job at once, or ``batch`` at a time, each batch awaited before the next."""
    if not batch:
        return await asyncio.gather(*jobs, return_exceptions=True)
    outcomes: list[Any] = []
    for first in range(0, len(jobs), batch):
        outcomes += await asyncio.gather(*jobs[first : first + batch], return_exceptions=True)
    return outcomes


async def _probes(spec: SenderSpec, app: Any, done: asyncio.Event) -> list[float]:
    """Claim winners' details (urgent, ``send_private``), one every ``probe_every`` seconds
    from ``probe_after`` until the fan-out is done; how long each took, in order."""
    loop = asyncio.get_running_loop()

    async def one(user_id: int) -> float:
        sent = loop.time()
        await send_private(app.bot, user_id, "Need #1 is yours. Details: ...")
        return loop.time() - sent

    started = loop.time()
    running_probes = []
    for k in range(spec.probes):
        at = started + spec.probe_after + k * spec.probe_every
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=max(0.0, at - loop.time()))
        if done.is_set():
            break
        running_probes.append(loop.create_task(one(FIRST_USER_ID + spec.private + k)))
    return list(await asyncio.gather(*running_probes))


async def _fan_out_in_child(spec: SenderSpec, app: Any) -> dict[str, Any]:
    """Post the needs, then start every message at once (probes among them) and wait."""
    async with running(app, polling=False):
        jobs = _jobs(spec, app, await _post_needs(spec, app))
        done = asyncio.Event()
        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        probing = asyncio.get_running_loop().create_task(_probes(spec, app, done))
        outcomes = await _in_batches(jobs, spec.batch)
        elapsed = time.perf_counter() - start
        cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        done.set()
        probes = await probing
    failures = Counter(
        type(o).__name__ if isinstance(o, BaseException) else o.value
        for o in outcomes
        if isinstance(o, BaseException)
        or (isinstance(o, Delivery) and o is not Delivery.DELIVERED)
    )
    cpu = (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu_start.ru_utime + cpu_start.ru_stime)
    return {"elapsed": elapsed, "cpu": cpu, "failures": dict(failures), "probes": probes}


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


def sender_spec(args: argparse.Namespace, directory: str, base_url: str) -> SenderSpec:
    """What the sending process is told, from the command line."""
    return SenderSpec(
        directory,
        base_url,
        args.private,
        args.posts,
        [GROUP_ID - g for g in range(args.groups)],
        args.bot_overall or args.overall,
        args.bot_group or args.group,
        args.in_flight,
        args.short_windows,
        args.paced,
        args.probe_after,
        args.probe_every,
        # Enough probes for a run three times slower than the limits allow.
        probes=int(3 * ideal_of(args) / args.probe_every) + 1,
        bulk=not args.no_bulk,
        batch=args.batch,
        trace=args.trace,
    )


def ideal_of(args: argparse.Namespace, probes: int = 0) -> float:
    """The least time the emulator's limits allow for this run's messages."""
    return ideal_seconds(args.private + probes, args.posts, args.groups, args.overall, args.group)


async def fan_out(args: argparse.Namespace, parent: Path | None) -> FanOut:
    """One run: emulator with flood limits here, the bot's sending path in its own process."""
    limits = Limits(
        overall_per_second=args.overall, group_per_minute=args.group, private_per_second=1
    )
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        emu = BotApiEmulator(TOKEN, BOT_USERNAME, limits)
        await emu.start()
        try:
            spec = sender_spec(args, tmp, emu.base_url)
            for chat_id in spec.groups:
                emu.group(chat_id, f"Volunteers {chat_id}")
            # The reminders' people, then the probes' (a claim winner each).
            for user_id in range(FIRST_USER_ID, FIRST_USER_ID + args.private + spec.probes):
                emu.user(user_id, f"V{user_id}", language_code="en").started = True
            emulator_gc: list[tuple[int, float, float]] = []
            cpu_start = resource.getrusage(resource.RUSAGE_SELF)
            with gc_pauses(emulator_gc) if args.trace else contextlib.nullcontext():
                report = await run_sender(spec)
            cpu_end = resource.getrusage(resource.RUSAGE_SELF)
            calls = [call for call in emu.calls if call.method == "sendMessage"]
        finally:
            await emu.stop()
    report["emulator_cpu"] = (cpu_end.ru_utime + cpu_end.ru_stime) - (
        cpu_start.ru_utime + cpu_start.ru_stime
    )
    report["emulator_gc"] = emulator_gc
    return summarise(args, spec.groups, calls, report)


def summarise(
    args: argparse.Namespace, groups: list[int], calls: Sequence[Any], report: dict[str, Any]
) -> FanOut:
    """What the emulator saw of one run, with what the sending process reported."""
    received = Counter(int(call.params["chat_id"]) for call in calls if call.status == 200)
    rejected = [(int(call.params["chat_id"]), call.time) for call in calls if call.status == 429]
    delivered_at = {int(c.params["chat_id"]): c.time for c in calls if c.status == 200}
    unanswered = sum(1 for chat, at in rejected if delivered_at.get(chat, -1.0) < at)
    first = min((call.time for call in calls), default=0.0)
    card_times = sorted(
        call.time - first
        for call in calls
        if call.status == 200 and int(call.params["chat_id"]) in groups
    )
    timeline = [
        [0, 0] for _ in range(int(max((c.time for c in calls), default=first) - first) + 1)
    ]
    for call in calls:
        if call.status in (200, 429):
            timeline[int(call.time - first)][call.status == 429] += 1
    probes: list[float] = report["probes"]
    # Every reminder's person and every probe's should have exactly one message.
    people = range(FIRST_USER_ID, FIRST_USER_ID + args.private + len(probes))
    private_received = sum(min(1, received[u]) for u in people)
    posts_received = sum(received[g] for g in groups)
    return FanOut(
        private=args.private,
        posts=args.posts,
        elapsed=report["elapsed"],
        cpu=report["cpu"],
        emulator_cpu=report["emulator_cpu"],
        delivered_private=private_received - len(probes),
        delivered_posts=posts_received,
        lost=(len(people) - private_received) + max(0, args.posts - posts_received),
        duplicated=sum(max(0, received[u] - 1) for u in people)
        + max(0, posts_received - args.posts),
        too_many=len(rejected),
        too_many_unanswered=unanswered,
        failures=Counter(report["failures"]),
        allowed_rate=args.overall,
        ideal=ideal_of(args, len(probes)),
        timeline=[(sent, refused) for sent, refused in timeline],
        cards=(card_times[0], median(card_times), card_times[-1]) if card_times else (0, 0, 0),
        probes=probes,
        diagnosis=diagnose(
            report.get("trace", []),
            calls,
            {"bot": report.get("gc", []), "emulator": report["emulator_gc"]},
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


def print_run(args: argparse.Namespace, run: FanOut, label: str) -> None:
    """One run's lines, as it finishes."""
    print(
        f"  [{label}] {run.total} messages in {run.elapsed:.1f} s: "
        f"{run.rate:.0f}/s ({run.share:.1%} of allowed), lost {run.lost}, "
        f"duplicated {run.duplicated}, 429s {run.too_many} "
        f"(unanswered {run.too_many_unanswered}), CPU bot {run.cpu / run.elapsed:.0%} "
        f"emulator {run.emulator_cpu / run.elapsed:.0%}"
        f"{', failures ' + str(dict(run.failures)) if run.failures else ''}",
        flush=True,
    )
    print(
        f"    cards delivered {run.cards[0]:.1f} / {run.cards[1]:.1f} / {run.cards[2]:.1f} s"
        f" after the first message (first / median / last); {len(run.probes)} winners' details"
        f" sent during it (one every {args.probe_every:g} s from {args.probe_after:g} s) took"
        f" p50 {percentile(run.probes, 0.5):.2f} / p99 {percentile(run.probes, 0.99):.2f} /"
        f" max {max(run.probes, default=float('nan')):.2f} s",
        flush=True,
    )
    if args.timeline:
        print("    per second, delivered/429: " + " ".join(f"{a}/{b}" for a, b in run.timeline))
    for line in run.diagnosis:
        print(f"    {line}")


def describe(args: argparse.Namespace) -> str:
    """The run's set-up, in one paragraph."""
    bot_overall = args.bot_overall or args.overall
    bot_group = args.bot_group or args.group
    return (
        f"fan-out: {args.private:,} private messages"
        f" ({'urgent: --no-bulk' if args.no_bulk else 'bulk'}) and {args.posts} cards (urgent)"
        f" in {args.groups} group(s), "
        f"{f'{args.batch} at a time' if args.batch else 'all started at once'}; winners'"
        f" details (urgent) one every {args.probe_every:g} s from {args.probe_after:g} s;"
        f" emulator limits {args.overall}/s overall, {args.group}/min per group, 1/s per"
        f" private chat; the bot's rate limit {bot_overall}/s overall, {bot_group}/min per group"
        f"{f'; EXPERIMENT: {args.in_flight} requests in flight' if args.in_flight else ''}"
        f"{'; EXPERIMENT: short-window limiter at 90%' if args.short_windows else ''}"
        f"{f'; EXPERIMENT: PacedLimiter at {args.paced:.0%}' if args.paced else ''}; "
        f"median of {args.repeats}"
    )


def summary_table(runs: list[FanOut]) -> str:
    """The medians of the runs (worst of lost, duplicated, unanswered 429s; the winners'
    details of every run pooled)."""
    middle = sorted(runs, key=lambda r: r.elapsed)[len(runs) // 2]
    probes = [probe for run in runs for probe in run.probes]
    return table(
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
            "cards median s",
            "details p50 s",
            "details p99 s",
        ],
        [
            [
                middle.total,
                f"{median([r.elapsed for r in runs]):.1f}",
                f"{middle.ideal:.1f}",
                f"{median([r.rate for r in runs]):.0f}",
                f"{median([r.share for r in runs]):.1%}",
                max(r.lost for r in runs),
                max(r.duplicated for r in runs),
                f"{median([r.too_many for r in runs]):.0f}",
                max(r.too_many_unanswered for r in runs),
                f"{median([r.cpu / r.elapsed for r in runs]):.0%}",
                f"{median([r.cards[1] for r in runs]):.1f}",
                f"{percentile(probes, 0.5):.2f}",
                f"{percentile(probes, 0.99):.2f}",
            ]
        ],
    )


async def main_async(args: argparse.Namespace) -> int:
    parent = Path(args.dir) if args.dir else None
    runs = []
    for repeat in range(args.repeats):
        runs.append(await fan_out(args, parent))
        print_run(args, runs[-1], f"{repeat + 1}/{args.repeats}")
    print(f"\nmachine: {machine()}")
    print(describe(args) + "\n")
    print(summary_table(runs))
    share = median([r.share for r in runs])
    lost = max(r.lost for r in runs)
    duplicated = max(r.duplicated for r in runs)
    p99 = percentile([probe for run in runs for probe in run.probes], 0.99)
    goals = {
        "share >= 90%": (share >= 0.9, f"{share:.1%}"),
        "lost = 0": (lost == 0, str(lost)),
        "duplicated = 0": (duplicated == 0, str(duplicated)),
        f"details p99 < {PROBE_GOAL:g} s": (p99 < PROBE_GOAL, f"{p99:.2f} s"),
    }
    print(
        "\n"
        + "; ".join(
            f"goal {name}: {'met' if ok else 'MISSED'} ({value})"
            for name, (ok, value) in goals.items()
        )
    )
    return 0 if all(ok for ok, _ in goals.values()) else 1


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
        default=1.0,
        help="send the first winner's details (urgent, send_private) this many seconds in",
    )
    parser.add_argument(
        "--probe-every",
        type=float,
        default=0.5,
        help="then one more winner's details (to another person) every this many seconds",
    )
    parser.add_argument(
        "--no-bulk",
        action="store_true",
        help="send the reminders without rate_limit_args (urgent, as before issue 8)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        help="experiment: start the reminders this many at a time, each batch awaited before"
        " the next (as a job taking due reminders in batches does)",
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
