"""The command line: ``claimbot run`` and ``claimbot demo`` (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
import sys
from pathlib import Path

from bot.config import TOKEN_ENV, Config, ConfigError, load_config
from bot.logs import configure_logging

log = logging.getLogger("claimbot")

DEFAULT_CONFIG = Path("config.yaml")


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
    if not config.coordinators:
        problems.append("coordinators: no user ids; nobody could post needs")
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def database_problem(config: Config) -> str | None:
    """Why the configured database file cannot be used, or None (checked before starting)."""
    path = config.database.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            # Reading the schema is what fails for a file that is not a database.
            conn.execute("PRAGMA schema_version").fetchone()
    except (sqlite3.Error, OSError) as exc:
        return f"{path}: cannot use it as the bot's database ({exc})"
    return None


def run(path: Path | None) -> int:
    """Run the bot with long polling until interrupted."""
    from telegram.error import InvalidToken

    from bot.app import ALLOWED_UPDATES, build_application

    try:
        config = load_run_config(path)
    except ConfigError as exc:
        print(f"claimbot: config error:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(config.logging.level, secrets=[config.token or ""])
    problem = database_problem(config)
    if problem:
        print(f"claimbot: config error:\ndatabase.path: {problem}", file=sys.stderr)
        return 2
    app = build_application(config)
    server = config.telegram.base_url or "Telegram"
    log.info("starting; database %s; connecting to %s", config.database.path, server)
    try:
        app.run_polling(
            allowed_updates=ALLOWED_UPDATES,
            timeout=config.telegram.poll_timeout,
            drop_pending_updates=False,
            # An unreachable server at start is waited out, as any network fault is.
            bootstrap_retries=-1,
        )
    except InvalidToken:
        print(
            "claimbot: telegram.token: the Bot API refused the token (wrong or revoked);"
            " check it with @BotFather",
            file=sys.stderr,
        )
        return 2
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
