"""What residents and admins type: times of day, time zones, send times.

Pure functions; ``None`` means "not understood" and the handler explains what it expects.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

__all__ = ["find_timezone", "is_timezone", "parse_send_time", "parse_time"]

_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:.hч ]\s*(\d{2})\s*$|^\s*(\d{1,2})\s*$")
_TOMORROW = re.compile(r"^\s*(tomorrow|завтра)\s+(.+)$", re.IGNORECASE)


def parse_time(text: str) -> int | None:
    """Minute of the day from «7:30», «07.30», «19 00», «8»; None if not a valid time."""
    match = _TIME_RE.match(text.lower())
    if not match:
        return None
    hours = int(match.group(1) or match.group(3))
    minutes = int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


@cache
def _zones() -> dict[str, str]:
    zones = {z.lower(): z for z in zoneinfo.available_timezones()}
    by_city: dict[str, list[str]] = {}
    for zone in zones.values():
        if "/" in zone:
            by_city.setdefault(zone.rsplit("/", 1)[-1].lower(), []).append(zone)
    for city, found in by_city.items():
        if len(found) == 1 and city not in zones:
            zones[city] = found[0]
    return zones


def find_timezone(text: str) -> str | None:
    """An IANA zone name, case-insensitive; a unique city part alone works too
    («yekaterinburg», «new york»)."""
    key = "_".join(text.strip().split()).lower()
    return _zones().get(key)


def is_timezone(name: str) -> bool:
    """Exactly an IANA zone name (as our buttons carry them)."""
    return _zones().get(name.lower()) == name


def parse_send_time(text: str, now: datetime, timezone: str) -> datetime | None:
    """«HH:MM» (today, or tomorrow if that time has passed) or «tomorrow HH:MM», in
    ``timezone``; None if not a time."""
    tomorrow = False
    match = _TOMORROW.match(text)
    if match:
        tomorrow, text = True, match.group(2)
    minute = parse_time(text)
    if minute is None:
        return None
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    day = local_now.date() + timedelta(days=1 if tomorrow else 0)
    when = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    if when <= local_now:
        if tomorrow:
            return None
        day += timedelta(days=1)
        when = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return when.astimezone(now.tzinfo)
