"""The command line: ``claimbot run``, ``demo``, ``import``, ``export``, ``check``,
``purge`` (or ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.config import EXAMPLE_TOKEN, TOKEN_ENV, Config, ConfigError, load_config
from bot.domain import Group, Purged
from bot.export import FORMATS, ExportFile, export_file
from bot.i18n import t
from bot.importing import ImportService
from bot.logs import configure_logging
from bot.spreadsheet import SheetCheck, check_file, describe_all
from storage import imports, people
from storage.db import Database
from storage.imports import ImportSource
from storage.migrations import MIGRATIONS

if TYPE_CHECKING:
    from telegram import Bot, ChatMember, ChatPermissions
    from telegram.ext import Application

log = logging.getLogger("claimbot")

DEFAULT_CONFIG = Path("config.yaml")
# While the Bot API cannot be reached at start, a line says so this often.
RETRY_SECONDS = 5.0


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file (default: ./config.yaml if it exists)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimbot",
        description="Telegram bot for volunteer groups: post needs, first tap claims.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the bot on Telegram (long polling, or a webhook if configured)"
    )
    _config_option(run)
    demo = commands.add_parser("demo", help="the whole story on a local Bot API emulator")
    demo.add_argument("--lang", choices=["zh", "en"], default="en")
    export = commands.add_parser(
        "export", help="write the record (needs, claims, visits, teams) to a file"
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="xlsx: an Excel workbook; csv: a zip of CSV files (default: from --out's suffix)",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--lang", choices=["zh", "en"], default=None, help="default: the config's language"
    )
    _config_option(export)
    check = commands.add_parser(
        "check", help="check the config, the token, the known groups and the database"
    )
    _config_option(check)
    purge = commands.add_parser(
        "purge",
        help="purge private details of needs closed longer than privacy.retention_days ago",
    )
    _config_option(purge)
    load = commands.add_parser(
        "import", help="check a spreadsheet of needs (CSV or .xlsx) and queue it for a group"
    )
    load.add_argument("file", type=Path, help="the spreadsheet (.csv or .xlsx)")
    load.add_argument(
        "--group", type=int, required=True, help="the group's chat id (claimbot check lists them)"
    )
    load.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    load.add_argument(
        "--lang", choices=["zh", "en"], default=None, help="default: the config's language"
    )
    _config_option(load)
    return parser


def config_path(path: Path | None) -> Path | None:
    """The config file to read: the one given, else ./config.yaml if there is one."""
    if path is None and DEFAULT_CONFIG.exists():
        return DEFAULT_CONFIG
    return path


def load_run_config(path: Path | None) -> Config:
    """The config for ``run``: validated, with a token and at least one coordinator."""
    config = load_config(config_path(path))
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
    problems += config.telegram.webhook_problems()
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
        return unusable(path, exc)
    return None


def offline_config(path: Path | None) -> Config | int:
    """The config of a command that needs neither the token nor the Bot API (export,
    purge, import), with logging set up; or, said why, the exit status 2."""
    try:
        config = load_config(config_path(path))
    except ConfigError as exc:
        return refuse(str(exc), "config error: ")
    configure_logging(config.logging.level, secrets=[config.token or ""])
    return config


def no_database(config: Config) -> int | None:
    """The exit status 2, said why, if the configured database file is not there (these
    commands never create one); else None."""
    database = config.database.path
    if database.is_file():
        return None
    return refuse(f"database.path: {database}: no such database file", "config error: ")


def unusable(path: Path, exc: Exception) -> str:
    """Why a database file cannot be used, for people to read."""
    return f"{path}: cannot use it as the bot's database ({exc})"


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


async def connect(
    app: Application[Any, Any, Any, Any, Any, Any] | Bot, config: Config
) -> str | None:
    """Initialize the bot (getMe), retrying while the Bot API is unreachable; why not, or None.

    ``app`` is the application ``run`` starts, or a bare Bot for ``check``.

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


def listen_problem(config: Config) -> str | None:
    """Why webhook mode could not listen where configured, or None (checked before starting,
    so nothing is told to Telegram for a bot that cannot hear it)."""
    webhook = config.telegram.webhook
    if webhook is None:
        return None
    host = "127.0.0.1" if webhook.listen == "localhost" else webhook.listen
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, webhook.port))
        except OSError as exc:
            return (
                f"telegram.webhook.port: cannot listen on {webhook.listen}:{webhook.port}"
                f" ({exc.strerror or exc})"
            )
    return None


def run(path: Path | None) -> int:
    """Run the bot with long polling (or, configured, a webhook) until interrupted."""
    try:
        config = load_run_config(path)
    except ConfigError as exc:
        return refuse(str(exc), "config error: ")
    webhook = config.telegram.webhook
    secrets = [config.token or "", webhook.secret if webhook else ""]
    configure_logging(config.logging.level, secrets=secrets)
    problem = database_problem(config)
    if problem:
        return refuse(f"database.path: {problem}", "config error: ")
    problem = listen_problem(config)
    if problem:
        return refuse(problem, "config error: ")
    from bot.app import build_application

    app = build_application(config)
    host = bot_api_host(config.telegram.base_url)
    log.info("starting; database %s; connecting to %s", config.database.path, host)
    status = start(app, config)
    if status is not None:
        return status
    return receive_updates(app, config)


def receive_updates(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> int:
    """Poll for updates, or take them at the webhook, until interrupted; the exit status."""
    from telegram.error import InvalidToken

    from bot.app import ALLOWED_UPDATES, webhook_options

    webhook = config.telegram.webhook
    try:
        # On the loop start() left, already initialized. Once running, a network fault is
        # waited out however long it lasts (bootstrap_retries=-1), setWebhook's included.
        if webhook is None:
            app.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                timeout=config.telegram.poll_timeout,
                drop_pending_updates=False,
                bootstrap_retries=-1,
            )
        else:
            log.info(
                "webhook mode: Telegram posts updates to %s; listening on %s:%d",
                webhook.url,
                webhook.listen,
                webhook.port,
            )
            app.run_webhook(**webhook_options(webhook), bootstrap_retries=-1)
    except InvalidToken:  # revoked between getMe and polling
        return refuse("telegram.token: the Bot API refused the token; check it with @BotFather")
    except OSError as exc:  # the webhook's port, taken since it was checked
        return refuse(f"telegram.webhook.port: cannot listen ({exc.strerror or exc})")
    return 0


# -- claimbot export ------------------------------------------------------------------------


def format_for(out: Path) -> str:
    """The export format a file name asks for: a zip or CSV name gets CSV, others Excel."""
    return "csv" if out.suffix.lower() in (".zip", ".csv") else "xlsx"


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read: an export holds households' private details."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


async def read_export(config: Config, lang: str, fmt: str) -> ExportFile:
    """The record in the configured database, as an export file in memory."""
    async with Database(config.database.path, config.database.synchronous) as db:
        return await export_file(db, config, lang, fmt, datetime.now(UTC))


def export(args: argparse.Namespace) -> int:
    """Write the record to ``--out``; no token is needed, nor the Bot API."""
    config = offline_config(args.config)
    if isinstance(config, int):
        return config
    if (status := no_database(config)) is not None:
        return status
    database = config.database.path
    fmt = args.format or format_for(args.out)
    try:
        record = asyncio.run(read_export(config, args.lang or config.language, fmt))
    except (sqlite3.Error, OSError) as exc:
        return refuse(f"database.path: {unusable(database, exc)}", "config error: ")
    try:
        write_private(args.out, record.data)
    except OSError as exc:
        print(f"claimbot: cannot write {args.out} ({exc.strerror or exc})", file=sys.stderr)
        return 1
    print(f"{args.out}: {record.needs} needs, {record.claims} claims, {record.visits} visits")
    return 0


# -- claimbot purge -------------------------------------------------------------------------


async def run_purge(config: Config) -> Purged | None:
    """The retention purge on the configured database, as the running bot does it daily."""
    from bot.service import PairingService

    async with Database(config.database.path, config.database.synchronous) as db:
        return await PairingService(db, config).purge_expired()


def purge(path: Path | None) -> int:
    """Purge expired private details now: 0 if done (or nothing to do), 2 if it cannot run.

    No token is needed, nor the Bot API; safe while the bot runs (one writer at a time,
    SQLite's lock), and a second run purges nothing more.
    """
    config = offline_config(path)
    if isinstance(config, int):
        return config
    if config.privacy.retention_days is None:
        print("privacy.retention_days is null: private details are kept; nothing purged")
        return 0
    if (status := no_database(config)) is not None:
        return status
    database = config.database.path
    try:
        purged = asyncio.run(run_purge(config))
    except (sqlite3.Error, OSError) as exc:
        return refuse(f"database.path: {unusable(database, exc)}", "config error: ")
    assert purged is not None
    days = config.privacy.retention_days
    print(
        f"purged the private details of {purged.needs} needs closed more than {days} days"
        f" ago ({purged.visits} visits' notes and photos)"
    )
    return 0


# -- claimbot import ------------------------------------------------------------------------


class ProgressBar:
    """A text bar on stderr: redrawn in place on a terminal; elsewhere (a pipe, a log) only
    its last state is written, once a phase is done."""

    WIDTH = 30

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stderr.isatty()
        self.shown = -1
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        step = done * 100 // total if total else 100
        if self.live and step != self.shown:
            self.shown = step
            print(f"\r{self.text()}", end="", file=sys.stderr, flush=True)

    def text(self) -> str:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        return f"{self.label:<10} [{bar}] {self.done}/{self.total}"

    def finish(self) -> None:
        print(f"\r{self.text()}" if self.live else self.text(), file=sys.stderr, flush=True)


def print_sheet(sheet: SheetCheck, name: str, lang: str) -> None:
    """What a check found: the counts, every problem and warning with its line."""
    counts = {"needs": len(sheet.needs), "problems": len(sheet.problems)}
    print(t(lang, "import_cli_checked", file=name, warnings=len(sheet.warnings), **counts))
    for title, issues in (("problems", sheet.problems), ("warnings", sheet.warnings)):
        if issues:
            print(t(lang, f"import_cli_{title}"))
            for line in describe_all(issues, lang):
                print(f"  {line}")


async def import_into(
    config: Config, args: argparse.Namespace, lang: str, sheet: SheetCheck | None
) -> int:
    """The group, then (with a checked file) the plan or the import; the exit status."""
    async with Database(config.database.path, config.database.synchronous) as db:
        service = ImportService(db, config)
        group = await service.group(args.group)
        if group is None:
            known = ", ".join(f'{g.chat_id} "{g.title}"' for g in await service_groups(db))
            known = known or t(lang, "import_cli_no_groups")
            print(t(lang, "import_cli_unknown_group", group=args.group, groups=known))
            return 2
        if sheet is None:
            return 0
        same = t(lang, "import_same_rule")
        if args.dry_run:
            plan = await service.plan(group.chat_id, sheet)
            counts = {"new": len(plan.new), "skipped": len(plan.skipped), "boards": plan.boards}
            print(t(lang, "import_cli_dry_run", group=group.title, same=same, **counts))
            return 0
        bar = ProgressBar(t(lang, "import_cli_writing"))
        source = ImportSource(args.file.name)
        per_board = config.posting.needs_per_board
        result = await imports.write(
            db, group.chat_id, sheet.needs, source, per_board, datetime.now(UTC), bar
        )
        bar.finish()
    assert result is not None
    counts = {"added": len(result.added), "skipped": len(result.skipped)}
    print(
        t(
            lang,
            "import_cli_done",
            group=group.title,
            boards=len(result.boards),
            same=same,
            **counts,
        )
    )
    return 0


async def service_groups(db: Database) -> list[Group]:
    """The groups the bot knows."""
    return await people.active_groups(db)


def import_command(args: argparse.Namespace) -> int:
    """Check a spreadsheet whole, then queue its needs for a group (``--dry-run``: only
    check): 0 done, 1 the file has problems (nothing written), 2 it cannot start."""
    config = offline_config(args.config)
    if isinstance(config, int):
        return config
    lang = args.lang or config.language
    if (status := no_database(config)) is not None:
        return status
    database = config.database.path
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return refuse(f"{args.file}: cannot read it ({exc.strerror or exc})")
    try:
        status = asyncio.run(import_into(config, args, lang, None))
        if status:
            return status
        bar = ProgressBar(t(lang, "import_cli_checking"))
        sheet = check_file(data, args.file.name, config.limits, bar)
        bar.finish()
        print_sheet(sheet, args.file.name, lang)
        if not sheet.clean:
            print(t(lang, "import_cli_not_written"))
            return 1
        return asyncio.run(import_into(config, args, lang, sheet))
    except (sqlite3.Error, OSError) as exc:
        return refuse(f"database.path: {unusable(database, exc)}", "config error: ")


# -- claimbot check -------------------------------------------------------------------------


@dataclass
class CheckReport:
    """What ``check`` found, a line a fact, printed as found; never the token."""

    secret: str
    problems: int = 0

    def line(self, mark: str, text: str) -> None:
        if self.secret:
            text = text.replace(self.secret, "[redacted]")
        print(f"{mark:<4}  {text}", flush=True)

    def ok(self, text: str) -> None:
        self.line("ok", text)

    def note(self, text: str) -> None:
        self.line("note", text)

    def problem(self, text: str) -> None:
        self.problems += 1
        self.line("FAIL", text)


def file_size(path: Path) -> str:
    """A file's size for people to read, with its write-ahead log if it has one."""

    def readable(size: int) -> str:
        if size < 1024:
            return f"{size} bytes"
        return f"{size / 1024:.0f} KiB" if size < 1024**2 else f"{size / 1024**2:.1f} MiB"

    text = readable(path.stat().st_size)
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        text += f" (and {readable(wal.stat().st_size)} of write-ahead log)"
    return text


async def check_database(config: Config, report: CheckReport) -> list[Group]:
    """The database as ``run`` opens it: its schema version, size, and the known groups."""
    path = config.database.path
    if not path.exists():
        report.note(f"database: {path} does not exist yet; claimbot run creates it")
        return []
    try:
        async with Database(path, config.database.synchronous) as db:
            version = await db.schema_version()
            groups = await people.active_groups(db)
    except (sqlite3.Error, OSError) as exc:
        report.problem(f"database.path: {unusable(path, exc)}")
        return []
    if version > len(MIGRATIONS):
        report.problem(
            f"database: {path}: schema version {version}, newer than this claimbot knows"
            f" ({len(MIGRATIONS)}); run the claimbot that wrote it"
        )
    else:
        report.ok(f"database: {path}: schema version {version}, {file_size(path)}")
    if not groups:
        report.note("groups: none known yet; add the bot to your group and it is remembered")
    return groups


@dataclass(frozen=True, slots=True)
class BotRights:
    """What the bot may do in a group, as getChatMember and getChat tell."""

    status: str
    post: bool
    pin: bool
    delete: bool


def bot_rights(member: ChatMember, permissions: ChatPermissions | None) -> BotRights:
    """The bot's rights from its membership; a plain member has the group's default ones."""
    from telegram import (
        ChatMemberAdministrator,
        ChatMemberMember,
        ChatMemberOwner,
        ChatMemberRestricted,
    )

    status = str(member.status)
    if isinstance(member, ChatMemberOwner):
        return BotRights(status, True, True, True)
    if isinstance(member, ChatMemberAdministrator):
        return BotRights(status, True, bool(member.can_pin_messages), member.can_delete_messages)
    if isinstance(member, ChatMemberRestricted):
        return BotRights(status, member.can_send_messages, member.can_pin_messages, False)
    if isinstance(member, ChatMemberMember):
        post = permissions is None or permissions.can_send_messages is not False
        pin = permissions is not None and bool(permissions.can_pin_messages)
        return BotRights(status, post, pin, False)
    return BotRights(status, False, False, False)  # left, or kicked


async def check_group(bot: Bot, group: Group, report: CheckReport) -> None:
    """Whether the bot is in a known group and may post, pin and delete there."""
    from telegram.error import TelegramError

    label = f'group {group.chat_id} "{group.title}"'
    try:
        chat = await bot.get_chat(group.chat_id)
        rights = bot_rights(await bot.get_chat_member(group.chat_id, bot.id), chat.permissions)
    except TelegramError as exc:
        report.problem(f"{label}: not reachable ({exc.message}); add the bot to it again")
        return
    if rights.status in ("left", "kicked"):
        report.problem(f"{label}: the bot is not in it ({rights.status}); add it again")
    elif not rights.post:
        report.problem(f"{label}: {rights.status}; may not post, so needs cannot go there")
    elif rights.pin and rights.delete:
        report.ok(f"{label}: {rights.status}; may post, pin and delete")
    else:
        missing = " or ".join(
            what for what, can in (("pin", rights.pin), ("delete", rights.delete)) if not can
        )
        tidy = "" if rights.delete else "; without delete, coordinators' /post commands stay"
        report.note(
            f"{label}: {rights.status}; may post, may not {missing}"
            f" (make the bot an admin with those rights{tidy})"
        )


def check_privacy(bot: Bot, report: CheckReport) -> None:
    """Privacy mode, as getMe tells: not a problem, but it decides what the bot hears."""
    if bot.bot.can_read_all_group_messages:
        report.ok("privacy mode: off; the bot sees every message in its groups")
        return
    report.note(
        f"privacy mode: on; in a group the bot sees commands addressed to it"
        f" (/post@{bot.username}), replies to it and service messages, and everything where"
        " it is an admin (BotFather /setprivacy turns privacy off)"
    )


async def check_webhook(bot: Bot, config: Config, report: CheckReport) -> None:
    """How updates reach the bot: polling, or the webhook Telegram has and its last error."""
    from telegram.error import TelegramError

    wanted = config.telegram.webhook
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        report.problem(f"webhook: getWebhookInfo failed ({exc.message})")
        return
    if wanted is None:
        if info.url:
            report.note(f"updates: a webhook is set ({info.url}); claimbot run (polling) drops it")
        else:
            report.ok("updates: long polling")
        return
    if info.url != wanted.url:
        report.note(f"webhook: not set at Telegram yet; claimbot run sets {wanted.url}")
        return
    line = f"webhook: set at {wanted.url}, {info.pending_update_count} update(s) waiting"
    if info.last_error_message and info.last_error_date is not None:
        when = info.last_error_date.astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
        report.note(f"{line}; Telegram's last delivery error ({when}): {info.last_error_message}")
    else:
        report.ok(line)


async def check_bot_api(config: Config, groups: list[Group], report: CheckReport) -> None:
    """The token against the Bot API (getMe), then each known group."""
    from telegram import Bot

    assert config.token is not None
    bot = Bot(
        config.token,
        base_url=config.telegram.base_url or "https://api.telegram.org/bot",
        base_file_url=config.telegram.file_url or "https://api.telegram.org/file/bot",
    )
    try:
        problem = await connect(bot, config)
        if problem is not None:
            report.problem(problem)
            if groups:
                report.note(f"groups: {len(groups)} known, not checked without the Bot API")
            return
        host = bot_api_host(config.telegram.base_url)
        report.ok(f"token: accepted by the Bot API at {host}; the bot is @{bot.username}")
        check_privacy(bot, report)
        await check_webhook(bot, config, report)
        for group in groups:
            await check_group(bot, group, report)
    finally:
        await bot.shutdown()


def check(path: Path | None) -> int:
    """Check the config, the database, the token and the known groups: 0 if all is well,
    1 if something is wrong, 2 for a config ``run`` would refuse."""
    path = config_path(path)
    try:
        config = load_run_config(path)
    except ConfigError as exc:
        return refuse(str(exc), "config error: ")
    # Warnings only (a retry while the Bot API is unreachable): the report is on stdout.
    configure_logging("WARNING", secrets=[config.token or ""])
    report = CheckReport(config.token or "")
    source = path if path is not None else f"no file; defaults and {TOKEN_ENV}"
    report.ok(f"config: valid ({source})")

    async def check_all() -> None:
        groups = await check_database(config, report)
        await check_bot_api(config, groups, report)

    asyncio.run(check_all())
    if report.problems:
        print(f"claimbot check: {report.problems} problem(s), marked FAIL")
        return 1
    print("claimbot check: all is well")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``claimbot`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args.config)
    if args.command == "export":
        return export(args)
    if args.command == "check":
        return check(args.config)
    if args.command == "purge":
        return purge(args.config)
    if args.command == "import":
        return import_command(args)
    from bot.demo import main as demo_main

    return demo_main(lang=args.lang)


if __name__ == "__main__":
    sys.exit(main())
