"""Logging set-up that keeps secrets and households' details out of the log.

The token is masked wherever it appears. Libraries that log request URLs (httpx: the token is
in the path) or request parameters (python-telegram-bot at DEBUG: message texts, which can hold
private details) are held at levels where they do not.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

# Library loggers and the most verbose level each may log at.
_LIBRARY_FLOORS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    # Its one message is an unreadable answer with a traceback (a base_url that is no Bot
    # API); the caller reports the error itself.
    "telegram.request": logging.CRITICAL,
    "apscheduler": logging.INFO,
    "aiosqlite": logging.INFO,
    "aiohttp.access": logging.WARNING,
}


class RedactingFilter(logging.Filter):
    """Replaces each secret in a record's final message with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        exc_text = None
        if record.exc_info:
            exc_text = logging.Formatter().formatException(record.exc_info)
        changed = False
        for secret in self.secrets:
            if secret in message:
                message, changed = message.replace(secret, "[redacted]"), True
            if exc_text and secret in exc_text:
                exc_text, changed = exc_text.replace(secret, "[redacted]"), True
        if changed:
            record.msg, record.args = message, None
            if exc_text is not None:
                record.exc_info, record.exc_text = None, exc_text
        return True


def library_level(name: str, level: int) -> int:
    """The level a library logger gets when the bot logs at ``level``."""
    return max(level, _LIBRARY_FLOORS[name])


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> logging.Handler:
    """Log to stderr at ``level``, masking ``secrets``; returns the handler installed."""
    numeric = logging.getLevelName(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_claimbot", False)]:
        root.removeHandler(old)
    handler._claimbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _LIBRARY_FLOORS:
        logging.getLogger(name).setLevel(library_level(name, numeric))
    return handler
