"""The application factory: the real python-telegram-bot Application, wired to our services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

import handlers
from bot import runtime
from bot.config import Config, WebhookConfig
from bot.delivery import CardKeeper
from bot.i18n import LANGUAGES
from bot.pacing import PacedRateLimiter
from bot.reminders import ReminderService
from bot.service import PairingService, utc_now
from bot.teams import TeamService
from bot.visits import VisitService
from storage.db import Database

log = logging.getLogger(__name__)

COMMANDS = {
    "en": [
        ("mine", "Your pairings"),
        ("visit", "Log a visit"),
        ("status", "Open and claimed needs"),
        ("release", "Give up a pairing"),
        ("team", "Pick the team you claim for"),
        ("lang", "中文 / English"),
        ("help", "What I can do"),
    ],
    "zh": [
        ("mine", "我的结对"),
        ("visit", "记录走访"),
        ("status", "待认领与已认领"),
        ("release", "放弃结对"),
        ("team", "选择我代表的支部或队伍"),
        ("lang", "中文 / English"),
        ("help", "使用说明"),
    ],
}
# Coordinators also see these, in their private chat with the bot.
COORDINATOR_COMMANDS = {
    "en": [
        ("post", "Post a need"),
        ("edit", "Edit a need"),
        ("close", "Close a need as done"),
        ("cancel_need", "Cancel a need"),
        ("reopen", "Open a closed need again"),
        ("show", "A need's details and history"),
        ("reminders", "Scheduled reminders"),
        ("remind", "Remind every claimer"),
        ("export", "The record as a file"),
        ("board", "Progress board (in the group)"),
        ("slots", "Places of a need"),
        ("cancel", "Drop what is being written"),
    ],
    "zh": [
        ("post", "发布需求"),
        ("edit", "修改需求"),
        ("close", "关闭已完成的需求"),
        ("cancel_need", "取消需求"),
        ("reopen", "重新开放需求"),
        ("show", "需求详情与记录"),
        ("reminders", "已安排的提醒"),
        ("remind", "提醒所有认领人"),
        ("export", "导出记录"),
        ("board", "群进度看板"),
        ("slots", "设置需求名额"),
        ("cancel", "放弃正在填写的内容"),
    ],
}

# The updates the handlers use; Telegram sends no others.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def build_application(
    config: Config,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utc_now,
    rate_limiter: bool = True,
) -> Application:  # type: ignore[type-arg]
    """The bot: handlers registered; database opened in post_init, closed in post_shutdown."""
    builder = application_builder(config, request, get_updates_request, rate_limiter)

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        db = Database(config.database.path, config.database.synchronous)
        await db.open()
        service = PairingService(db, config, clock)
        keeper = CardKeeper(app.bot, service)
        await keeper.progress.load()
        service.on_needs_changed(keeper.needs_changed)
        app.bot_data[runtime.SERVICE] = service
        app.bot_data[runtime.VISITS] = VisitService(db, config, clock)
        app.bot_data[runtime.REMINDERS] = ReminderService(db, config, clock)
        app.bot_data[runtime.CARDS] = keeper
        app.bot_data[runtime.TEAMS] = await TeamService.start(db, config, clock)
        log.info("started as @%s", app.bot.username)
        await set_commands(app)
        # In the background: at 20 cards a minute per group, waiting here would hold back
        # every tap that queued while the bot was down.
        keeper.track(asyncio.get_running_loop().create_task(keeper.catch_up()))

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        keeper = app.bot_data.get(runtime.CARDS)
        if isinstance(keeper, CardKeeper):
            await keeper.drain()

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        service = app.bot_data.get(runtime.SERVICE)
        if isinstance(service, PairingService):
            await service.db.close()

    builder = (
        builder.concurrent_updates(config.telegram.concurrent_updates)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    handlers.register_all(app)
    return app


def application_builder(
    config: Config,
    request: BaseRequest | None,
    get_updates_request: BaseRequest | None,
    rate_limiter: bool,
) -> Any:
    """python-telegram-bot's builder with the token, the Bot API's address, the requests and
    the pacing set (see build_application)."""
    token = config.token
    if not token:
        raise ValueError("no bot token")
    builder = ApplicationBuilder().context_types(ContextTypes(context=runtime.Context))
    builder = builder.token(token)
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if config.telegram.file_url:
        builder = builder.base_file_url(config.telegram.file_url)
    if request is not None:
        builder = builder.request(request)
        builder = builder.get_updates_request(get_updates_request or request)
    if rate_limiter:
        builder = builder.rate_limiter(paced_rate_limiter(config))  # type: ignore[arg-type]
    return builder


def paced_rate_limiter(config: Config) -> PacedRateLimiter:
    """Outgoing calls paced within Telegram's flood limits, as the config sets them."""
    limits = config.telegram.rate_limit
    return PacedRateLimiter(
        overall_per_second=limits.overall_per_second,
        group_per_minute=limits.group_per_minute,
        max_retries=limits.max_retries,
        share=limits.share,
    )


async def set_commands(app: Application) -> None:  # type: ignore[type-arg]
    """Publish the command menus (per language; coordinators' own in their private chat).

    A failure here is cosmetic, never fatal: a coordinator who has not started the bot yet
    gets their menu at the next start.
    """
    config = app.bot_data[runtime.SERVICE].config
    menus: list[tuple[list[tuple[str, str]], dict[str, Any]]] = []
    for language in LANGUAGES:
        codes = (language, None) if language == config.language else (language,)
        menus += [(COMMANDS[language], {"language_code": code}) for code in codes]
    everything = COORDINATOR_COMMANDS[config.language] + COMMANDS[config.language]
    for coordinator in sorted(config.coordinators):
        menus.append((everything, {"scope": BotCommandScopeChat(coordinator)}))
    for commands, where in menus:
        try:
            await app.bot.set_my_commands([BotCommand(*pair) for pair in commands], **where)
        except TelegramError as exc:
            log.warning("a command menu was not set: %s", exc.__class__.__name__)


def webhook_options(webhook: WebhookConfig) -> dict[str, Any]:
    """How python-telegram-bot runs webhook mode (Application.run_webhook and
    Updater.start_webhook take these): plain HTTP on listen:port at the URL's path, the URL
    and secret token given to Telegram with setWebhook, pending updates kept."""
    return {
        "listen": webhook.listen,
        "port": webhook.port,
        "url_path": webhook.path,
        "webhook_url": webhook.url,
        "secret_token": webhook.secret,
        "max_connections": webhook.max_connections,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
    }


@contextlib.asynccontextmanager
async def running(
    app: Application,  # type: ignore[type-arg]
    *,
    polling: bool = True,
    poll_timeout: int = 10,
    webhook: WebhookConfig | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run the application inside an already running event loop, as run_polling (or, given
    ``webhook``, run_webhook) would.

    For the demo and tests, which share their loop with the emulator. Without ``polling``,
    updates are fed through ``app.update_queue`` by the caller.
    """
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    try:
        if webhook is not None and app.updater is not None:
            await app.updater.start_webhook(**webhook_options(webhook))
        elif polling and app.updater is not None:
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=poll_timeout, poll_interval=0
            )
        await app.start()
        try:
            yield app
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
