"""What a digest is: the request it answers, the candidate stories and the result (pure).

A :class:`DigestRequest` holds everything that influences a digest's content: subscribed
districts and okrugs, topics, language and the period. Users whose requests are equal share
one :class:`Digest`. How stories are chosen for it is :mod:`.build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_CITY_CAP",
    "Digest",
    "DigestItem",
    "DigestRequest",
    "Section",
    "StoryCandidate",
    "should_send",
]

DEFAULT_CAP = 12
DEFAULT_CITY_CAP = 3


class Section(StrEnum):
    DISTRICT = "district"
    OKRUG = "okrug"
    CITY = "city"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """A deduplicated story (not an article) as the digest builder sees it.

    ``district_slugs`` and ``okrug_slugs`` come from the text. ``okrug_slugs`` should hold
    okrugs the story is about *as a whole* (mentioned by name or abbreviation); the okrugs of
    the mentioned districts are derived here and need not be added — if they are, a story about
    one district also reaches the rest of its okrug's readers as okrug news.

    ``feed_districts``, ``feed_okrugs`` and ``from_city_feed`` are the bindings of all the
    feeds that carry a copy of the story; ``source_count`` is the number of distinct
    feeds/papers carrying it (>= 1).

    ``importance`` is ``source_count + priority``: without engagement data, how many papers
    picked a story up is the best signal of how much it matters; ``priority`` lets the caller
    add editorial weight (say, an official announcement).
    """

    story_id: int
    title: str
    url: str
    lead: str
    available_at: datetime  # when readers could first have it (we stored it): periods use this
    source_count: int = 1
    district_slugs: frozenset[str] = frozenset()
    okrug_slugs: frozenset[str] = frozenset()
    feed_districts: frozenset[str] = frozenset()
    feed_okrugs: frozenset[str] = frozenset()
    from_city_feed: bool = False
    topics: tuple[str, ...] = ()  # by weight, strongest first
    priority: float = 0.0

    def __post_init__(self) -> None:
        _require_aware(self.available_at, "available_at")
        if self.source_count < 1:
            raise ValueError("source_count must be at least 1")

    @property
    def importance(self) -> float:
        return self.source_count + self.priority

    @property
    def is_city_wide(self) -> bool:
        """Carried by a city feed and about no particular place."""
        return self.from_city_feed and not self.district_slugs and not self.okrug_slugs


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """Everything a digest's content depends on; equal requests share one digest.

    ``topics`` empty means all topics. The period is half-open: ``[period_start, period_end)``.
    Hashing is by value, so build it from frozensets, not lists.
    """

    districts: frozenset[str]
    okrugs: frozenset[str]
    topics: frozenset[str]
    language: str
    period_start: datetime
    period_end: datetime
    cap: int = DEFAULT_CAP
    include_city_wide: bool = True
    city_cap: int = DEFAULT_CITY_CAP

    def __post_init__(self) -> None:
        _require_aware(self.period_start, "period_start")
        _require_aware(self.period_end, "period_end")
        if self.period_start >= self.period_end:
            raise ValueError("period_start must be before period_end")
        if self.cap < 0 or self.city_cap < 0:
            raise ValueError("cap and city_cap must not be negative")


@dataclass(frozen=True, slots=True)
class DigestItem:
    story: StoryCandidate
    section: Section
    districts: tuple[str, ...]  # the user's (covered) districts the story matched
    okrugs: tuple[str, ...]  # the user's okrugs it matched (okrug section only)
    topics: tuple[str, ...]  # the story's topics that passed the filter, by weight


@dataclass(frozen=True, slots=True)
class Digest:
    request: DigestRequest
    items: tuple[DigestItem, ...]  # in display order: district, okrug, city sections
    omitted: int  # district and okrug stories that did not fit under the cap

    @property
    def is_empty(self) -> bool:
        return not self.items

    def section(self, section: Section) -> tuple[DigestItem, ...]:
        return tuple(item for item in self.items if item.section is section)


def should_send(digest: Digest, *, notify_empty: bool) -> bool:
    """An empty digest goes out only to users who asked for the «nothing new» note."""
    return notify_empty or not digest.is_empty
