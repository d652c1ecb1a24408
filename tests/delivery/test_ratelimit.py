"""The rate limiter against a fake clock."""

from __future__ import annotations

import pytest

from bot.delivery.ratelimit import PAID_LANE, RateLimiter
from tests.delivery.conftest import FakeClock


def make(clock: FakeClock, rate: float = 25.0, **kw: float) -> RateLimiter:
    return RateLimiter(rate, clock=clock.monotonic, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


async def test_sustained_rate_never_exceeds_rate_plus_burst_in_any_second(clock: FakeClock) -> None:
    limiter = make(clock, 25.0)
    times: list[float] = []
    for i in range(500):
        await limiter.acquire(chat_id=i)  # distinct chats: only the global limit applies
        times.append(clock.monotonic())
    duration = times[-1] - times[0]
    assert 499 / duration == pytest.approx(25.0, rel=0.02)
    # Sliding one-second windows: at most rate + burst (2.5) messages.
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        assert i - j + 1 <= 27


async def test_burst_one_spaces_messages_evenly(clock: FakeClock) -> None:
    limiter = make(clock, 10.0, burst=1.0)
    limiter.take(1)
    assert limiter.delay(2) == pytest.approx(0.1)
    clock.advance(0.05)
    assert limiter.delay(2) == pytest.approx(0.05)
    clock.advance(0.05)
    assert limiter.delay(2) == 0.0


async def test_per_chat_interval(clock: FakeClock) -> None:
    limiter = make(clock, 1000.0)
    limiter.take(7)
    assert limiter.chat_delay(7) == pytest.approx(1.0)
    assert limiter.delay(7) == pytest.approx(1.0)
    assert limiter.delay(8) == 0.0
    clock.advance(0.4)
    assert limiter.chat_delay(7) == pytest.approx(0.6)
    start = clock.monotonic()
    await limiter.acquire(7)
    assert clock.monotonic() - start == pytest.approx(0.6)


def test_busy_chats(clock: FakeClock) -> None:
    limiter = make(clock, 1000.0)
    limiter.take(1)
    clock.advance(0.5)
    limiter.take(2)
    assert limiter.busy_chats() == {1, 2}
    assert limiter.busy_chats(beyond=0.7) == {2}  # chat 1 is free 0.5 s from now
    clock.advance(0.6)
    assert limiter.busy_chats() == {2}


async def test_pause_stops_every_chat_and_only_extends(clock: FakeClock) -> None:
    limiter = make(clock, 1000.0)
    limiter.pause(3.0)
    assert limiter.delay(1) == pytest.approx(3.0)
    assert limiter.delay(2) == pytest.approx(3.0)
    limiter.pause(1.0)  # a shorter pause does not shorten the current one
    assert limiter.pause_delay() == pytest.approx(3.0)
    start = clock.monotonic()
    await limiter.acquire(1)
    assert clock.monotonic() - start == pytest.approx(3.0)
    assert limiter.pause_delay() == 0.0


async def test_paid_lane_has_its_own_rate(clock: FakeClock) -> None:
    limiter = make(clock, 10.0, burst=1.0, lanes={PAID_LANE: 1000.0})  # type: ignore[arg-type]
    limiter.take(1)
    assert limiter.delay(2) == pytest.approx(0.1)
    assert limiter.delay(2, PAID_LANE) == 0.0
    assert limiter.rate(PAID_LANE) == 1000.0
    with pytest.raises(KeyError):
        limiter.delay(2, "nope")


def test_chat_entries_are_pruned(clock: FakeClock) -> None:
    limiter = make(clock, 1e6)
    for chat in range(10_000):
        limiter.take(chat)
        clock.advance(0.01)
    assert len(limiter._chat_last) < 1_500


def test_rejects_non_positive_rate(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        make(clock, 0.0)
