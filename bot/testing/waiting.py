"""Waiting for the fake's state to change, without sleeping in loops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from bot.testing.errors import WaitTimeoutError

__all__ = ["Notifier"]

_T = TypeVar("_T")


class Notifier:
    """Wakes everybody waiting for *some* state change; waiters re-check their predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return at the next change (or after ``timeout`` seconds)."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait_for(
        self,
        predicate: Callable[[], _T | None],
        timeout: float,  # noqa: ASYNC109 - a plain deadline is the clearest test API
        what: str | Callable[[], str],
    ) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                description = what() if callable(what) else what
                raise WaitTimeoutError(f"timed out after {timeout:g}s waiting for {description}")
            await self.changed(remaining)
