"""The Bot API on the wire: JSON objects, error answers, uploaded files, the record of a call.

Every other module of the emulator builds on these; this one imports none of them, so the
emulator's modules import one another in one direction only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

JSON = dict[str, Any]

MAX_UPLOAD: Final = 50 * 1024 * 1024  # what a bot may upload
MAX_DOWNLOAD: Final = 20 * 1024 * 1024  # what a bot may fetch with getFile
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional parameters."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSON:
        """The body Telegram sends with this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 answer with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class ApiCall:
    """One request the bot made: method, decoded parameters, emulator time, HTTP status.

    Status 0 means the connection was dropped without an answer (fault injection).
    """

    method: str
    params: JSON
    time: float
    status: int
    description: str | None = None
