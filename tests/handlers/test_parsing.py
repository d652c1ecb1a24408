"""What people type: times of day, time zones, broadcast send times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.parsing import find_timezone, is_timezone, parse_send_time, parse_time

# Friday 20 November 2026, 15:00 in Moscow.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minute"),
    [("7:30", 450), ("07:30", 450), ("19.05", 1145), ("8", 480), ("23:59", 1439), ("0:00", 0)],
)
def test_parse_time(text: str, minute: int) -> None:
    assert parse_time(text) == minute


@pytest.mark.parametrize("text", ["24:00", "7:60", "seven", "", "7:3", "-1:00"])
def test_parse_time_rejects(text: str) -> None:
    assert parse_time(text) is None


def test_find_timezone() -> None:
    assert find_timezone("Asia/Yekaterinburg") == "Asia/Yekaterinburg"
    assert find_timezone("asia/yekaterinburg") == "Asia/Yekaterinburg"
    assert find_timezone("Yekaterinburg") == "Asia/Yekaterinburg"
    assert find_timezone("America/New York") == "America/New_York"
    assert find_timezone("Mars/Olympus") is None
    assert find_timezone("../etc/passwd") is None


def test_is_timezone_wants_the_exact_name() -> None:
    assert is_timezone("Europe/Moscow")
    assert not is_timezone("europe/moscow")
    assert not is_timezone("Moscow")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:30", datetime(2026, 11, 20, 15, 30, tzinfo=UTC)),  # later today
        ("09:00", datetime(2026, 11, 21, 6, 0, tzinfo=UTC)),  # passed: tomorrow
        ("15:00", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),  # now is not in the future
        ("завтра 9:00", datetime(2026, 11, 21, 6, 0, tzinfo=UTC)),
        ("Tomorrow 18:30", datetime(2026, 11, 21, 15, 30, tzinfo=UTC)),
    ],
)
def test_parse_send_time_in_the_admins_zone(text: str, expected: datetime) -> None:
    assert parse_send_time(text, NOW, "Europe/Moscow") == expected


def test_parse_send_time_other_zone_and_rejects() -> None:
    # 21:00 in Yekaterinburg (UTC+5) is 16:00 UTC, still today there (17:00 now).
    assert parse_send_time("21:00", NOW, "Asia/Yekaterinburg") == datetime(
        2026, 11, 20, 16, 0, tzinfo=UTC
    )
    assert parse_send_time("later", NOW, "Europe/Moscow") is None
    assert parse_send_time("tomorrow", NOW, "Europe/Moscow") is None
    assert parse_send_time("25:00", NOW, "Europe/Moscow") is None
