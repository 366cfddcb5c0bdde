"""HTTP for the bot: an aiohttp server on loopback that routes each request to its method.

It checks the token, decodes the parameters, applies injected faults, serves getFile
downloads, and reports every answered call to whoever keeps the call log.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import json
import socket
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Final

from aiohttp import web

from bot.emulator.methods import Method
from bot.emulator.model import SimDocument
from bot.emulator.params import read_params
from bot.emulator.timing import FaultPlan
from bot.emulator.wire import JSON, MAX_UPLOAD, ApiError

# Called for every call answered (status 0: dropped): method, parameters, status, description.
Recorder = Callable[[str, JSON, int, str | None], None]

_JSON_HEADERS: Final = {"Content-Type": "application/json"}
_NOT_FOUND: Final[JSON] = {"ok": False, "error_code": 404, "description": "Not Found"}
_UNAUTHORIZED: Final[JSON] = {"ok": False, "error_code": 401, "description": "Unauthorized"}


class HttpFront:
    """The bot-facing side of the emulator: listens on loopback and answers Bot API calls."""

    def __init__(
        self,
        token: str,
        methods: Mapping[str, Method],
        file_paths: Mapping[str, SimDocument],
        record: Recorder,
        fault_plan: FaultPlan | None = None,
    ) -> None:
        self.fault_plan = fault_plan
        self._token = token
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, method) for name, method in methods.items()}
        self._file_paths = file_paths
        self._record = record
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>/bot while listening."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not started")
        return self._base_url

    async def start(self, host: str, port: int) -> str:
        """Listen on a loopback address (port 0: any free port); returns base_url."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        if not _is_loopback(host):
            raise ValueError(f"the emulator listens on loopback addresses only, not {host!r}")
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # A short shutdown: a waiting getUpdates is released when the emulator stops anyway.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}/bot"
        return self._base_url

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._download(path)
        if not path.startswith("/bot"):
            return web.Response(status=404, body=_encode(_NOT_FOUND), headers=_JSON_HEADERS)
        token, _, name = path[4:].partition("/")
        if token != self._token:
            return self._answer(name, {}, 401, _UNAUTHORIZED)
        entry = self._methods.get(name.lower())
        if entry is None:
            return self._answer(name, {}, 404, _NOT_FOUND)
        name, method = entry
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._answer(name, {}, error.code, error.to_json())
        return await self._call(request, name, method, params)

    async def _call(
        self, request: web.Request, name: str, method: Method, params: JSON
    ) -> web.Response:
        """Run one method, unless an injected fault answers (or drops the connection) instead."""
        fault = None
        plan = self.fault_plan
        if plan is not None and plan.applies(name):
            if plan.faults.delay:
                await asyncio.sleep(plan.faults.delay)
            fault = plan.decide()
            if fault == "error":
                status = plan.faults.status
                body = {
                    "ok": False,
                    "error_code": status,
                    "description": HTTPStatus(status).phrase,
                }
                return self._answer(name, params, status, body)
            if fault == "drop" and not plan.faults.drop_after_action:
                return self._drop(request, name, params)
        try:
            result = method(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            status, body = error.code, error.to_json()
        else:
            status, body = 200, {"ok": True, "result": result}
        if fault == "drop":
            return self._drop(request, name, params)
        return self._answer(name, params, status, body)

    def _answer(self, method: str, params: JSON, status: int, body: JSON) -> web.Response:
        self._record(method, params, status, None if status == 200 else body.get("description"))
        return web.Response(status=status, body=_encode(body), headers=_JSON_HEADERS)

    def _drop(self, request: web.Request, method: str, params: JSON) -> web.Response:
        """Close the connection without an answer: the client sees a network error."""
        self._record(method, params, 0, "connection dropped")
        transport = request.transport
        if transport is not None:
            transport.abort()
        # aiohttp discards this answer: the transport is gone.
        return web.Response(status=500)

    def _download(self, path: str) -> web.Response:
        prefix = f"/file/bot{self._token}/"
        document = self._file_paths.get(path.removeprefix(prefix))
        if not path.startswith(prefix) or document is None or document.data is None:
            return web.Response(status=404, body=_encode(_NOT_FOUND), headers=_JSON_HEADERS)
        return web.Response(body=document.data, content_type="application/octet-stream")


def _encode(body: JSON) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
