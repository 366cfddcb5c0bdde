"""A recording fake of the Bot API for handler tests: no network, plausible answers."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.request import BaseRequest, RequestData

BOT_ID = 123456
BOT_USERNAME = "claimbot_test_bot"
TOKEN = f"{BOT_ID}:TEST-token_abcdefghijklmnopqrstuvwxyz"


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    result: Any = None  # what the fake answered (a sent message carries its message_id)


@dataclass
class FakeBotApi(BaseRequest):
    """Answers Bot API calls like Telegram would, and records each one.

    ``unreachable`` holds user ids that never started the bot (403 for private messages);
    ``fail`` maps a method to an error answer given once per call until removed.
    """

    calls: list[Call] = field(default_factory=list)
    unreachable: set[int] = field(default_factory=set)
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)  # old chat id -> supergroup's
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> what getFile serves
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

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
        if "/file/bot" in url:  # a download of a file getFile named
            file_id = url.rsplit("/", 1)[-1]
            self.calls.append(Call("download", {"file_id": file_id}))
            return (200, self.files[file_id]) if file_id in self.files else (404, b"")
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(endpoint, params))
        if endpoint in self.fail:
            code, description = self.fail[endpoint]
            return code, _error(code, description)
        if "chat_id" in params and int(params["chat_id"]) in self.migrated:
            new = self.migrated[int(params["chat_id"])]
            body = json.loads(_error(400, "Bad Request: group chat was upgraded to a supergroup"))
            return 400, json.dumps({**body, "parameters": {"migrate_to_chat_id": new}}).encode()
        if endpoint in ("sendMessage", "sendDocument"):
            chat_id = int(params["chat_id"])
            if chat_id in self.unreachable:
                return 403, _error(403, "Forbidden: bot can't initiate conversation with a user")
            message = self._message(chat_id, next(self._ids), params)
            self.calls[-1].result = message
            return 200, _ok(message)
        if endpoint in ("editMessageText", "editMessageReplyMarkup"):
            return 200, _ok(self._message(int(params["chat_id"]), params["message_id"], params))
        if endpoint == "getMe":
            return 200, _ok(
                {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "Claimbot",
                    "username": BOT_USERNAME,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if endpoint == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                return 400, _error(400, "Bad Request: invalid file_id")
            return 200, _ok(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files[file_id]),
                    "file_path": f"documents/{file_id}",
                }
            )
        if endpoint == "getUpdates":
            return 200, _ok([])
        return 200, _ok(True)

    def _message(self, chat_id: int, message_id: int, params: dict[str, Any]) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Someone"}
        if chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "Volunteers"}
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Claimbot"},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    def of(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def texts_to(self, chat_id: int) -> list[str]:
        """Texts sent or edited into one chat, in order."""
        return [
            str(call.params.get("text", ""))
            for call in self.calls
            if call.method in ("sendMessage", "editMessageText")
            and int(call.params.get("chat_id", 0)) == chat_id
        ]

    def everything_sent(self) -> str:
        """All parameters of all calls, as one string, for leak checks."""
        return json.dumps([c.params for c in self.calls], ensure_ascii=False, default=str)


def _ok(result: Any) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


def _error(code: int, description: str) -> bytes:
    return json.dumps({"ok": False, "error_code": code, "description": description}).encode()
