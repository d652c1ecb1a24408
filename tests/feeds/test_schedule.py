from __future__ import annotations

import functools
from datetime import timedelta

from bot.feeds.schedule import (
    FeedHealth,
    HealthEvent,
    after_error,
    after_success,
    backoff_delay,
    success_interval,
)

from .conftest import T0

M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_success_interval_bounds() -> None:
    interval = functools.partial(success_interval, min_interval=5 * M, max_interval=6 * H)
    assert interval(30 * M) == 30 * M
    assert interval(30 * M, max_age=60) == 30 * M  # never shortens
    assert interval(30 * M, max_age=3600) == H
    assert interval(30 * M, ttl_minutes=90) == 90 * M
    assert interval(30 * M, ttl_minutes=100000) == 6 * H
    assert interval(M) == 5 * M


def test_backoff() -> None:
    backoff = functools.partial(backoff_delay, min_interval=5 * M, max_backoff=6 * H)
    assert [backoff(n, 30 * M) for n in range(1, 7)] == [
        30 * M,
        H,
        2 * H,
        4 * H,
        6 * H,
        6 * H,
    ]
    assert backoff(10**6, 30 * M) == 6 * H
    assert backoff(1, 30 * M, retry_after=7200) == 2 * H
    assert backoff(1, 30 * M, retry_after=10) == 30 * M
    assert backoff(1, 30 * M, retry_after=1e12) == 6 * H
    assert backoff(1, M) == 5 * M


def test_broken_and_recovered_are_reported_once() -> None:
    h = FeedHealth()
    h, ev = after_error(h, T0, "HTTP 500", broken_after=24 * H)
    assert ev is None and h.failing_since == T0 and h.consecutive_errors == 1
    h, ev = after_error(h, T0 + 23 * H, "HTTP 500", broken_after=24 * H)
    assert ev is None and not h.broken
    h, ev = after_error(h, T0 + 24 * H, "timeout", broken_after=24 * H)
    assert ev is HealthEvent.BROKEN and h.broken and h.last_error == "timeout"
    h, ev = after_error(h, T0 + 30 * H, "timeout", broken_after=24 * H)
    assert ev is None and h.broken and h.consecutive_errors == 4
    h, ev = after_success(h, T0 + 31 * H)
    assert ev is HealthEvent.RECOVERED
    assert h == FeedHealth(
        last_success_at=T0 + 31 * H, last_error_at=T0 + 30 * H, last_error="timeout"
    )
    h, ev = after_success(h, T0 + 32 * H)
    assert ev is None
