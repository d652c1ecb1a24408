"""Next delivery time from a user's local time of day, time zone and mode (pure).

zoneinfo handles daylight-saving changes: a local time that does not exist on a spring-forward
day is delivered at the first valid instant after it, and an ambiguous one at its first
occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["Mode", "next_delivery"]

Mode = Literal["daily", "weekly", "instant"]


def _local_instant(day: datetime, minute: int, tz: ZoneInfo) -> datetime:
    naive = day.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
    aware = naive.replace(tzinfo=tz, fold=0)
    # A wall time skipped by DST comes back shifted after a round trip through UTC.
    roundtrip = aware.astimezone(UTC).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:
        return aware.astimezone(UTC).astimezone(tz)
    return aware


def next_delivery(
    after: datetime,
    *,
    timezone: str,
    minute: int,
    mode: Mode,
    weekday: int = 0,
) -> datetime | None:
    """The first delivery instant strictly after ``after`` (aware), in UTC.

    Instant mode has no fixed time (alerts follow each poll), so it returns None.
    ``weekday`` is 0 for Monday, as in :meth:`datetime.weekday`.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if mode == "instant":
        return None
    if not 0 <= minute < 24 * 60:
        raise ValueError(f"minute of day out of range: {minute}")
    tz = ZoneInfo(timezone)
    local = after.astimezone(tz).replace(tzinfo=None)
    for days in range(0, 9):
        day = local + timedelta(days=days)
        if mode == "weekly" and day.weekday() != weekday:
            continue
        candidate = _local_instant(day, minute, tz).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a matching day exists within 8 days")
