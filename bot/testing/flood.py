"""Telegram's flood limits on sending: 429 Too Many Requests with ``retry_after``.

Telegram documents about 30 messages per second per bot, about one per second in a chat
(short bursts are tolerated) and 20 per minute in a group. Each limit here is a sliding
window: ``count`` sends in any ``window`` seconds. Limits are counted per bot token, like
Telegram's. Only sends count (sendMessage, sendPhoto, copyMessage, forwardMessage), not edits.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from bot.testing.errors import FakeApiError

__all__ = ["FloodControl", "RateLimits"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Flood limits; ``None`` is unlimited (the default of every field)."""

    global_per_second: float | None = None
    per_chat_per_second: float | None = None
    # Sends to one chat allowed back to back; on average still per_chat_per_second.
    # None: the rate rounded up (one per second for the usual rate of 1).
    per_chat_burst: int | None = None
    per_group_per_minute: int | None = None
    # A fixed retry_after in 429 answers; None: the time until the window frees a slot.
    retry_after: int | None = None

    def __post_init__(self) -> None:
        for name in ("global_per_second", "per_chat_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name in ("per_chat_burst", "per_group_per_minute", "retry_after"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")

    @classmethod
    def telegram(cls) -> RateLimits:
        """Telegram's documented limits: 30/s per bot, 1/s per chat (bursts of 3), 20/min
        per group."""
        return cls(
            global_per_second=30,
            per_chat_per_second=1,
            per_chat_burst=3,
            per_group_per_minute=20,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Window:
    count: int
    seconds: float

    @classmethod
    def per_second(cls, rate: float, burst: int | None = None) -> _Window:
        count = burst or max(1, math.ceil(rate))
        return cls(count, count / rate)

    def wait(self, history: deque[float], now: float) -> float:
        """Seconds until one more send fits in the window (0 if it fits now)."""
        recent = [t for t in history if now - t < self.seconds]
        if len(recent) < self.count:
            return 0.0
        # A slot frees when the oldest of the last `count` sends leaves the window.
        return recent[-self.count] + self.seconds - now


class FloodControl:
    """Counts sends per token (and per chat) and refuses those over the limits."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self._global: dict[str, deque[float]] = {}
        self._per_chat: dict[tuple[str, int], deque[float]] = {}
        self.limits = limits or RateLimits()

    @property
    def limits(self) -> RateLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self._limits = limits
        self._global_window = (
            _Window.per_second(limits.global_per_second) if limits.global_per_second else None
        )
        self._chat_window = (
            _Window.per_second(limits.per_chat_per_second, limits.per_chat_burst)
            if limits.per_chat_per_second
            else None
        )
        self._group_window = (
            _Window(limits.per_group_per_minute, 60.0) if limits.per_group_per_minute else None
        )
        # Sends are counted even while unlimited, so that limits set later see them.
        self._keep_global = max(1.0, self._global_window.seconds if self._global_window else 0)
        windows = [w.seconds for w in (self._chat_window, self._group_window) if w]
        self._keep_chat = max([60.0, *windows])

    def check(self, token: str, chat_id: int, private: bool, now: float) -> None:
        """Raise a 429 FakeApiError if one more send to ``chat_id`` is over a limit."""
        waits: list[float] = []
        if self._global_window is not None:
            waits.append(self._global_window.wait(self._global.get(token, deque()), now))
        history = self._per_chat.get((token, chat_id), deque())
        if self._chat_window is not None:
            waits.append(self._chat_window.wait(history, now))
        if self._group_window is not None and not private:
            waits.append(self._group_window.wait(history, now))
        wait = max(waits, default=0.0)
        if wait > 0:
            retry_after = self.limits.retry_after or max(1, math.ceil(wait))
            raise FakeApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    def note(self, token: str, chat_id: int, now: float) -> None:
        """Count a send that was accepted."""
        history = self._global.setdefault(token, deque())
        history.append(now)
        while history and now - history[0] >= self._keep_global:
            history.popleft()
        chat = self._per_chat.setdefault((token, chat_id), deque())
        chat.append(now)
        while chat and now - chat[0] >= self._keep_chat:
            chat.popleft()

    def reset(self) -> None:
        self._global.clear()
        self._per_chat.clear()
