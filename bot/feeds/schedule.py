"""Pure scheduling rules: when to poll next, error backoff, and the broken/recovered state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "FeedHealth",
    "HealthEvent",
    "after_error",
    "after_success",
    "backoff_delay",
    "success_interval",
]


class HealthEvent(StrEnum):
    """A state transition admins should hear about once."""

    BROKEN = "broken"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """Health record of one feed (articles per day is the store's business)."""

    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    consecutive_errors: int = 0
    failing_since: datetime | None = None  # first error of the current streak
    broken: bool = False


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))


def success_interval(
    base: timedelta,
    *,
    min_interval: timedelta,
    max_interval: timedelta,
    max_age: float | None = None,
    ttl_minutes: int | None = None,
) -> timedelta:
    """Interval until the next poll after a good answer.

    Cache-Control max-age and the feed's <ttl> can only lengthen the configured interval
    (they say "nothing new before then"); the operator's bounds win over both.
    """
    interval = base
    if max_age is not None and max_age > 0:
        interval = max(interval, timedelta(seconds=max_age))
    if ttl_minutes is not None and ttl_minutes > 0:
        interval = max(interval, timedelta(minutes=ttl_minutes))
    return _clamp(interval, min_interval, max_interval)


def backoff_delay(
    consecutive_errors: int,
    base: timedelta,
    *,
    min_interval: timedelta,
    max_backoff: timedelta,
    retry_after: float | None = None,
) -> timedelta:
    """Exponential backoff from the feed's own interval, capped; Retry-After is a floor."""
    n = max(1, consecutive_errors)
    # The exponent is capped so a long streak cannot overflow timedelta.
    delay = min(base * (2 ** min(n - 1, 20)), max_backoff)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, timedelta(seconds=min(retry_after, max_backoff.total_seconds())))
    return _clamp(delay, min_interval, max_backoff)


def after_success(health: FeedHealth, now: datetime) -> tuple[FeedHealth, HealthEvent | None]:
    """Health after a good poll (including 304); RECOVERED if the feed was broken."""
    event = HealthEvent.RECOVERED if health.broken else None
    new = replace(
        health, last_success_at=now, consecutive_errors=0, failing_since=None, broken=False
    )
    return new, event


def after_error(
    health: FeedHealth, now: datetime, error: str, *, broken_after: timedelta
) -> tuple[FeedHealth, HealthEvent | None]:
    """Health after a failed poll; BROKEN once the streak has lasted ``broken_after``."""
    since = health.failing_since or now
    broken = now - since >= broken_after
    event = HealthEvent.BROKEN if broken and not health.broken else None
    new = replace(
        health,
        last_error_at=now,
        last_error=error[:500],
        consecutive_errors=health.consecutive_errors + 1,
        failing_since=since,
        broken=broken,
    )
    return new, event
