"""Errors of the fake server: Bot API error answers and test-facing failures."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ButtonNotFoundError",
    "FakeApiError",
    "WaitTimeoutError",
    "bad_request",
    "default_description",
]


class FakeApiError(Exception):
    """An error answer of the Bot API; raise it from custom method handlers too."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class WaitTimeoutError(AssertionError):
    """A ``wait_for*`` helper gave up; an AssertionError so pytest shows it as a failure."""


class ButtonNotFoundError(LookupError):
    """``user.press`` could not find the requested button."""


def bad_request(reason: str) -> FakeApiError:
    return FakeApiError(400, f"Bad Request: {reason}")


def default_description(code: int, retry_after: int | None = None) -> str:
    """Telegram's wording for an error code, used when a test does not give one."""
    if code == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(code, "Error")
