from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.scheduling.times import next_delivery


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_is_today_if_the_time_is_still_ahead_else_tomorrow() -> None:
    moscow_8am = {"timezone": "Europe/Moscow", "minute": 8 * 60}
    assert next_delivery(utc(2026, 11, 21, 4, 59), mode="daily", **moscow_8am) == utc(
        2026, 11, 21, 5, 0
    )
    # Exactly at the delivery instant: the next one is tomorrow (strictly after).
    assert next_delivery(utc(2026, 11, 21, 5, 0), mode="daily", **moscow_8am) == utc(
        2026, 11, 22, 5, 0
    )


def test_weekly_picks_the_chosen_weekday() -> None:
    # 2026-11-21 is a Saturday; weekday 0 is Monday the 23rd.
    got = next_delivery(
        utc(2026, 11, 21, 6, 0), timezone="Europe/Moscow", minute=480, mode="weekly", weekday=0
    )
    assert got == utc(2026, 11, 23, 5, 0)


def test_spring_forward_gap_delivers_at_first_valid_instant() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29; 02:30 local does not exist.
    got = next_delivery(utc(2026, 3, 29, 0, 0), timezone="Europe/Berlin", minute=150, mode="daily")
    assert got == utc(2026, 3, 29, 1, 30)  # 03:30 CEST


def test_fall_back_ambiguous_time_delivers_once_at_first_occurrence() -> None:
    # Berlin repeats 02:00-03:00 on 2026-10-25.
    first = next_delivery(
        utc(2026, 10, 25, 0, 0), timezone="Europe/Berlin", minute=150, mode="daily"
    )
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = next_delivery(first, timezone="Europe/Berlin", minute=150, mode="daily")
    assert second == utc(2026, 10, 26, 1, 30)  # next day, 02:30 CET, not the repeat hour


def test_local_time_is_kept_across_a_dst_change() -> None:
    # 08:00 in Berlin is 06:00 UTC in summer time and 07:00 UTC after the change on Oct 25.
    before = next_delivery(
        utc(2026, 10, 23, 12, 0), timezone="Europe/Berlin", minute=480, mode="daily"
    )
    after = next_delivery(before, timezone="Europe/Berlin", minute=480, mode="daily")
    assert (before, after) == (utc(2026, 10, 24, 6, 0), utc(2026, 10, 25, 7, 0))


def test_instant_mode_has_no_scheduled_time_and_naive_input_is_refused() -> None:
    assert next_delivery(utc(2026, 1, 1), timezone="UTC", minute=0, mode="instant") is None
    with pytest.raises(ValueError):
        next_delivery(datetime(2026, 1, 1), timezone="UTC", minute=0, mode="daily")
