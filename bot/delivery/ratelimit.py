"""Sending limits: a global token bucket per lane, spacing per chat, and a global pause.

Telegram allows about 30 messages per second in bulk and about one per second per chat;
beyond that it answers 429 with ``retry_after``, and the whole bot should then stay quiet
for that long. The limiter is synchronous bookkeeping over an injectable monotonic clock:
:meth:`RateLimiter.delay` says how long to wait, :meth:`RateLimiter.take` records a send.
The caller does the waiting, so it can be interrupted (stop, wake) and faked in tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_LANE", "PAID_LANE", "RateLimiter", "TokenBucket"]

DEFAULT_LANE = "default"
# Delays below this count as zero: float rounding must not leave a waiter sleeping 1e-17 s
# forever on a clock that cannot advance by so little.
EPSILON = 1e-6
PAID_LANE = "paid"  # paid broadcasts (allow_paid_broadcast) have their own, higher limit


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity`` (the allowed burst)."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def delay(self, now: float) -> float:
        self.refill(now)
        return 0.0 if self.tokens >= 1.0 - EPSILON else (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Global rate per lane + minimum interval per chat + global pause after a 429.

    ``burst`` is the bucket capacity: a small burst lets the sender catch up after a slow
    request without exceeding the server's window (rate + burst must stay under it).
    """

    def __init__(
        self,
        rate: float = 25.0,
        *,
        per_chat_interval: float = 1.0,
        burst: float | None = None,
        lanes: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._clock = clock
        self._sleep = sleep
        self.per_chat_interval = per_chat_interval
        self._burst = burst
        now = clock()
        self._buckets: dict[str, TokenBucket] = {}
        for lane, lane_rate in {DEFAULT_LANE: rate, **(lanes or {})}.items():
            self.set_rate(lane, lane_rate, now=now)
        self._chat_last: dict[int, float] = {}
        self._prune_at = now
        self.paused_until = float("-inf")

    def set_rate(self, lane: str, rate: float, *, now: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        capacity = self._burst if self._burst is not None else max(1.0, rate / 10)
        t = self._clock() if now is None else now
        self._buckets[lane] = TokenBucket(rate, capacity, capacity, t)

    def rate(self, lane: str = DEFAULT_LANE) -> float:
        return self._bucket(lane).rate

    def _bucket(self, lane: str) -> TokenBucket:
        try:
            return self._buckets[lane]
        except KeyError:
            raise KeyError(f"unknown rate-limit lane {lane!r}") from None

    def pause(self, seconds: float) -> None:
        """Stop all sending for ``seconds`` from now (extends, never shortens a pause)."""
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    def pause_delay(self) -> float:
        delay = self.paused_until - self._clock()
        return delay if delay > EPSILON else 0.0

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the chat may receive its next message."""
        last = self._chat_last.get(chat_id)
        if last is None:
            return 0.0
        delay = last + self.per_chat_interval - self._clock()
        return delay if delay > EPSILON else 0.0

    def busy_chats(self, beyond: float = 0.0) -> set[int]:
        """Chats that must wait more than ``beyond`` seconds for their next message."""
        horizon = self._clock() + beyond - self.per_chat_interval + EPSILON
        return {chat for chat, t in self._chat_last.items() if t > horizon}

    def next_chat_free_in(self) -> float:
        """Seconds until the first busy chat may receive again (0 if none is busy)."""
        now = self._clock()
        waits = [t + self.per_chat_interval - now for t in self._chat_last.values()]
        return min((w for w in waits if w > EPSILON), default=0.0)

    def delay(self, chat_id: int, lane: str = DEFAULT_LANE) -> float:
        """Seconds to wait before a message to ``chat_id`` may go (0: now)."""
        now = self._clock()
        delay = max(
            self.paused_until - now, self.chat_delay(chat_id), self._bucket(lane).delay(now)
        )
        return delay if delay > EPSILON else 0.0

    def take(self, chat_id: int, lane: str = DEFAULT_LANE) -> None:
        """Record a send now: spend a token and start the chat's interval."""
        now = self._clock()
        bucket = self._bucket(lane)
        bucket.refill(now)
        bucket.tokens -= 1.0
        self._chat_last[chat_id] = now
        if now >= self._prune_at:
            self._prune(now)

    async def acquire(self, chat_id: int, lane: str = DEFAULT_LANE) -> None:
        """Wait until a message to ``chat_id`` may go, then record it."""
        while (wait := self.delay(chat_id, lane)) > 0:
            await self._sleep(wait)
        self.take(chat_id, lane)

    def _prune(self, now: float) -> None:
        # Chats whose interval has passed need no entry; keeps memory flat over a long run.
        horizon = now - self.per_chat_interval
        self._chat_last = {c: t for c, t in self._chat_last.items() if t > horizon}
        self._prune_at = now + max(10.0, self.per_chat_interval)
