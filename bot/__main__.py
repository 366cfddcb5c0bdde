"""The command line: ``claimbot run`` and ``claimbot demo`` (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.config import EXAMPLE_TOKEN, TOKEN_ENV, Config, ConfigError, load_config
from bot.logs import configure_logging
from storage.db import Database

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger("claimbot")

DEFAULT_CONFIG = Path("config.yaml")
# While the Bot API cannot be reached at start, a line says so this often.
RETRY_SECONDS = 5.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimbot",
        description="Telegram bot for volunteer groups: post needs, first tap claims.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot on Telegram (long polling)")
    run.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file (default: ./config.yaml if it exists)",
    )
    demo = commands.add_parser("demo", help="the whole story on a local Bot API emulator")
    demo.add_argument("--lang", choices=["zh", "en"], default="en")
    return parser


def load_run_config(path: Path | None) -> Config:
    """The config for ``run``: validated, with a token and at least one coordinator."""
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    config = load_config(path)
    problems = []
    if not config.token:
        problems.append(f"telegram.token: missing; set it in the file or in {TOKEN_ENV}")
    elif config.token == EXAMPLE_TOKEN:
        problems.append(
            "telegram.token: still the placeholder from config.example.yaml; put the token"
            f" @BotFather gave you in {TOKEN_ENV} or in telegram.token"
        )
    if not config.coordinators:
        problems.append("coordinators: no user ids; nobody could post needs")
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def database_problem(config: Config) -> str | None:
    """Why the configured database file cannot be used, or None (checked before starting)."""
    path = config.database.path

    async def open_and_close() -> None:
        # As the bot will open it: migrated, and checked that it can be written.
        async with Database(path, config.database.synchronous):
            pass

    try:
        asyncio.run(open_and_close())
    except (sqlite3.Error, OSError) as exc:
        return f"{path}: cannot use it as the bot's database ({exc})"
    return None


def bot_api_host(base_url: str | None) -> str:
    """Where the Bot API is, for people to read: scheme, host and port, never a path."""
    if base_url is None:
        return "https://api.telegram.org"
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def refuse(problems: str, kind: str = "") -> int:
    """Say why the bot will not start, one line a problem; the exit status for that."""
    for line in problems.splitlines():
        print(f"claimbot: {kind}{line}", file=sys.stderr)
    return 2


async def connect(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> str | None:
    """Initialize the bot (getMe), retrying while the Bot API is unreachable; why not, or None.

    A refused token is final at once. An unreachable server is retried, with a line in the
    log each time, until ``telegram.connect_timeout`` seconds have passed.
    """
    from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

    host = bot_api_host(config.telegram.base_url)
    timeout = config.telegram.connect_timeout
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                await app.initialize()
            return None
        except InvalidToken:  # 401 or 404 from getMe; its message holds the token
            problem = "telegram.token: the Bot API refused the token; check it with @BotFather"
            if config.telegram.base_url:
                problem += f", and that telegram.base_url ({host}) leads to a Bot API"
            return problem
        except (NetworkError, RetryAfter) as exc:  # TimedOut is a NetworkError
            reason = exc.message
        except TimeoutError:
            reason = "no answer"
        except TelegramError as exc:
            return (
                f"telegram.base_url: {host} answered, but not as a Bot API does"
                f" ({exc.__class__.__name__})"
            )
        left = deadline - loop.time()
        if left <= 0:
            return (
                f"telegram.connect_timeout: no Bot API answered at {host} within {timeout:g} s;"
                " check telegram.base_url, that the server is running, and the network"
            )
        # Logged, so the redacting filter sees it: PTB's messages may quote the request.
        log.warning("Bot API at %s not reachable (%s), retrying...", host, reason)
        await asyncio.sleep(min(RETRY_SECONDS, left))


def start(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> int | None:
    """Reach the Bot API on a fresh event loop, left for run_polling; an exit status if not."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(connect(app, config))
    try:
        problem = loop.run_until_complete(task)
    except KeyboardInterrupt:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)
        problem = "interrupted while reaching the Bot API"
    if problem is None:
        return None
    loop.run_until_complete(app.bot.shutdown())
    loop.close()
    return refuse(problem)


def run(path: Path | None) -> int:
    """Run the bot with long polling until interrupted."""
    from telegram.error import InvalidToken

    from bot.app import ALLOWED_UPDATES, build_application

    try:
        config = load_run_config(path)
    except ConfigError as exc:
        return refuse(str(exc), "config error: ")
    configure_logging(config.logging.level, secrets=[config.token or ""])
    problem = database_problem(config)
    if problem:
        return refuse(f"database.path: {problem}", "config error: ")
    app = build_application(config)
    host = bot_api_host(config.telegram.base_url)
    log.info("starting; database %s; connecting to %s", config.database.path, host)
    status = start(app, config)
    if status is not None:
        return status
    try:
        app.run_polling(  # on the loop start() left, already initialized
            allowed_updates=ALLOWED_UPDATES,
            timeout=config.telegram.poll_timeout,
            drop_pending_updates=False,
            # Once running, a network fault is waited out however long it lasts.
            bootstrap_retries=-1,
        )
    except InvalidToken:  # revoked between getMe and polling
        return refuse("telegram.token: the Bot API refused the token; check it with @BotFather")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``claimbot`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args.config)
    from bot.demo import main as demo_main

    return demo_main(lang=args.lang)


if __name__ == "__main__":
    sys.exit(main())
