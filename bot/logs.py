"""Logging set-up for every entry point, and the filter that keeps the bot token out of it.

Libraries log the token without meaning to: when Telegram is unreachable, aiogram's "Failed to
fetch updates" quotes aiohttp's error, which carries the request URL ``.../bot<TOKEN>/...``.
:class:`SecretFilter` sits on every handler of the root logger, so every record of every
logger that reaches the log is cleaned - message, arguments, exception text and stack - before
any formatter sees it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Final, TextIO
from urllib.parse import quote

__all__ = ["REDACTED", "SecretFilter", "setup_logging"]

REDACTED: Final = "<redacted>"
# Anything shaped like a Telegram bot token (a rotated or another bot's token included).
_TOKEN_RE: Final = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_QUIET: Final = ("alembic", "pymorphy3")  # INFO chatter at every start


class SecretFilter(logging.Filter):
    """Replaces secrets (and token-shaped strings) in a record by :data:`REDACTED`.

    Attach it to handlers: a filter on a logger only sees records logged to that very logger,
    a handler's filter sees everything that reaches the handler.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Redact ``secret`` too; for a token also its secret half and URL-quoted forms."""
        forms = {secret, quote(secret, safe="")}
        if ":" in secret:
            forms.add(secret.split(":", 1)[1])
        self._secrets = sorted(
            {*self._secrets, *(f for f in forms if len(f) >= 8)}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _TOKEN_RE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = f"{record.msg} {record.args}"
        # Formatted once here, so the arguments' str() is cleaned too.
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # formatters would render the live exception again
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(
    level: str | int = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> SecretFilter:
    """Log to ``stream`` (standard error) at ``level``, every handler of the root logger
    filtered by a :class:`SecretFilter` of ``secrets``. Safe to call again (tests, reloads)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_newsbot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._newsbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings go through the handlers (and the filter) too
    secret_filter = SecretFilter(secrets)
    for h in root.handlers:
        for old in [f for f in h.filters if isinstance(f, SecretFilter)]:
            h.removeFilter(old)
        h.addFilter(secret_filter)
    return secret_filter
