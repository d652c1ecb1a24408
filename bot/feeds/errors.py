"""Errors raised by the feed machinery.

Every failure the poller can meet while handling one feed is a :class:`FeedError`, so the poller
can record it in the feed's health record instead of letting it escape.
"""

from __future__ import annotations

from bot.errors import NewsBotError

__all__ = [
    "BlockedAddressError",
    "BodyTooLargeError",
    "FeedError",
    "FetchError",
    "FetchTimeoutError",
    "HTTPStatusError",
    "ParseError",
    "RedirectError",
    "SourcesError",
]


class FeedError(NewsBotError):
    """Base class; ``str(error)`` is a short human-readable reason for the health record."""


class SourcesError(FeedError, ValueError):
    """A feed list (TOML or OPML) is invalid; the message names file, entry and field."""


class FetchError(FeedError):
    """The feed could not be downloaded."""


class BlockedAddressError(FetchError):
    """The URL's scheme or resolved address is not allowed (SSRF guard)."""


class RedirectError(FetchError):
    """Too many redirects, a loop, or a redirect without a usable Location."""


class BodyTooLargeError(FetchError):
    """The body (compressed or decompressed) exceeds the configured limit."""


class FetchTimeoutError(FetchError):
    """Connecting or downloading took longer than allowed."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, reason: str = "", retry_after: float | None = None) -> None:
        text = f"HTTP {status}" + (f" {reason}" if reason else "")
        super().__init__(text)
        self.status = status
        self.retry_after = retry_after


class ParseError(FeedError):
    """The body is not a usable RSS/Atom document."""
