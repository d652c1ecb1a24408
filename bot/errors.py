"""Every exception the application raises on purpose, described in one place."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "NewsBotError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UsageError",
]


class NewsBotError(Exception):
    """Base class: an expected failure with a message fit for an operator."""


class ConfigError(NewsBotError):
    """A setting is missing or invalid; the message names the variable."""


class UsageError(NewsBotError):
    """A command-line argument is invalid (unknown district, bad duration...)."""


class NotFoundError(NewsBotError):
    """A requested row (feed, user, broadcast) does not exist."""


class ServiceUnavailableError(NewsBotError):
    """The database or Redis cannot be reached or used; the message says which and why."""
