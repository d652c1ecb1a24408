"""Choosing which stories go into a digest (pure: no I/O, no clock, no translations).

A digest is built for a :class:`DigestRequest` — everything that influences its content:
subscribed districts and okrugs, topics, language and the period. Users whose requests are
equal share one :class:`Digest`: the caller builds once per distinct request with
:func:`build_many`, renders once and queues the result for every user of that request (the
types are in :mod:`.digest`).

Sections, in this order:

1. ``district`` — the story is about one of the user's districts: its text mentions a
   covered district (a subscribed district, or any district of a subscribed okrug) or it was
   published by the paper of a covered district.
2. ``okrug`` — not a district match, but its text is about one of the user's okrugs (the
   okrugs of their districts plus subscribed okrugs) as a whole, or it comes from such an
   okrug's paper and names no particular district (news about a neighbouring district is not
   okrug-wide news).
3. ``city`` — not about any particular place (no districts, no okrugs in the text) and carried
   by a city-wide feed; only the ``city_cap`` most important ones are shown.

The topic filter applies to every section; a story without topics passes only for users who
take all topics. At most ``cap`` items are shown in total, local sections first; ``omitted``
counts the district and okrug stories that did not fit. The rest of the city news is not
counted: the city section is a "top few" by design, not something the user asked for in full.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

from digests.composition.digest import (
    Digest,
    DigestItem,
    DigestRequest,
    Section,
    StoryCandidate,
)
from digests.region import Region

__all__ = ["build_digest", "build_many"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime) -> int:
    # Exact integer instants: float timestamps could blur neighbouring microseconds.
    return (value - _EPOCH) // _MICROSECOND


# --- geography -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Geo:
    okrug_of: dict[str, str]
    districts_of: dict[str, frozenset[str]]
    order: dict[str, int]  # region order of districts and okrugs, for stable markers


@cache
def _geo(region: Region) -> _Geo:
    # Region compares by identity, so this caches once per loaded region.
    districts_of: dict[str, set[str]] = {o.slug: set() for o in region.okrugs}
    for d in region.districts:
        districts_of.setdefault(d.okrug, set()).add(d.slug)
    order = {d.slug: i for i, d in enumerate(region.districts)}
    order.update({o.slug: i for i, o in enumerate(region.okrugs)})
    return _Geo(
        okrug_of={d.slug: d.okrug for d in region.districts},
        districts_of={k: frozenset(v) for k, v in districts_of.items()},
        order=order,
    )


@dataclass(frozen=True, slots=True)
class _Scope:
    own: frozenset[str]  # directly subscribed districts
    covered: frozenset[str]  # own + every district of a subscribed okrug
    okrugs: frozenset[str]  # subscribed okrugs + okrugs of own districts


def _scope(districts: frozenset[str], okrugs: frozenset[str], geo: _Geo) -> _Scope:
    covered = set(districts)
    for o in okrugs:
        covered |= geo.districts_of.get(o, frozenset())
    user_okrugs = set(okrugs)
    user_okrugs.update(geo.okrug_of[d] for d in districts if d in geo.okrug_of)
    return _Scope(own=districts, covered=frozenset(covered), okrugs=frozenset(user_okrugs))


# --- classification shared by build_digest and build_many ----------------------------------

# (section rank, specificity tier, breadth, -importance, -published, story_id): ascending
# order is display order; story_id makes it total so both builders agree exactly.
_SortKey = tuple[int, int, int, float, int, int]


class _Facts(NamedTuple):
    """What placement needs from a story, computed once per story."""

    places: frozenset[str]  # districts: text mentions + district papers
    okrug_places: frozenset[str]  # okrugs: text mentions + okrug papers
    feed_okrugs: frozenset[str]
    city_wide: bool
    # Every sort key the story can get, prebuilt: placement runs millions of times.
    keys: tuple[_SortKey, _SortKey, _SortKey, _SortKey, _SortKey]


_NONE: frozenset[str] = frozenset()
_DISTRICT_OWN, _DISTRICT_VIA_OKRUG, _OKRUG_PAPER, _OKRUG_MENTION, _CITY = range(5)


def _facts(story: StoryCandidate) -> _Facts:
    places = story.district_slugs | story.feed_districts
    # An okrug paper's story is okrug-wide only when its text names no particular district:
    # a story about a neighbouring district is not news for the rest of the okrug.
    okrug_places = story.okrug_slugs | (story.feed_okrugs if not story.district_slugs else _NONE)
    tail = (-story.importance, -_micros(story.available_at), story.story_id)
    n, m = len(places), len(okrug_places)
    keys = (
        (0, 0, n, *tail),
        (0, 1, n, *tail),
        (1, 0, m, *tail),
        (1, 1, m, *tail),
        (2, 0, 0, *tail),
    )
    return _Facts(places, okrug_places, story.feed_okrugs, story.is_city_wide, keys)


# (sort key, index of the story in the deduplicated candidate list, the user's districts
# (district section) or okrugs (okrug section) it matched). Plain tuples: millions are made.
_Entry = tuple[_SortKey, int, frozenset[str]]
_SECTIONS = (Section.DISTRICT, Section.OKRUG, Section.CITY)  # by the key's first element
_NOTHING: frozenset[str] = frozenset()


def _place(facts: _Facts, i: int, scope: _Scope) -> _Entry | None:
    """Where story ``i`` stands for the user's places, before topics and the period."""
    matched = facts.places & scope.covered
    if matched:
        # Stories about a district the user picked beat those reached through a whole-okrug
        # subscription; among them, a story about fewer places is more specific.
        own = not scope.own.isdisjoint(matched)
        return facts.keys[_DISTRICT_OWN if own else _DISTRICT_VIA_OKRUG], i, matched
    matched = facts.okrug_places & scope.okrugs
    if matched:
        # The okrug's own paper first: that is what the user expects in this section.
        paper = not facts.feed_okrugs.isdisjoint(scope.okrugs)
        return facts.keys[_OKRUG_PAPER if paper else _OKRUG_MENTION], i, matched
    if facts.city_wide:
        return facts.keys[_CITY], i, _NOTHING
    return None


def _section(entry: _Entry) -> Section:
    return _SECTIONS[entry[0][0]]


def _wanted(story: StoryCandidate, request: DigestRequest) -> bool:
    return not request.topics or not request.topics.isdisjoint(story.topics)


def _item(story: StoryCandidate, entry: _Entry, request: DigestRequest, geo: _Geo) -> DigestItem:
    topics = story.topics
    if request.topics:
        topics = tuple(t for t in topics if t in request.topics)
    section = _section(entry)
    matched = tuple(sorted(entry[2], key=lambda s: (geo.order.get(s, len(geo.order)), s)))
    if section is Section.DISTRICT:
        return DigestItem(story, section, matched, (), topics)
    return DigestItem(story, section, (), matched, topics)


def _assemble(
    request: DigestRequest,
    local: Sequence[_Entry],
    city: Iterable[_Entry],
    item: Callable[[_Entry], DigestItem],
) -> Digest:
    """``local``: sorted district/okrug entries; ``city``: city entries in rank order (lazy)."""
    shown = [item(e) for e in local[: request.cap]]
    omitted = len(local) - len(shown)
    room = min(request.city_cap, request.cap - len(shown)) if request.include_city_wide else 0
    if room > 0:
        shown.extend(item(e) for e in itertools.islice(city, room))
    return Digest(request=request, items=tuple(shown), omitted=omitted)


def _unique(candidates: Iterable[StoryCandidate]) -> list[StoryCandidate]:
    # A story appears once even if the caller passed it twice; the first copy wins.
    seen: set[int] = set()
    out: list[StoryCandidate] = []
    for story in candidates:
        if story.story_id not in seen:
            seen.add(story.story_id)
            out.append(story)
    return out


def build_digest(
    request: DigestRequest, candidates: Iterable[StoryCandidate], region: Region
) -> Digest:
    """Build one digest by scanning every candidate: O(N log N) for N candidates.

    The reference implementation; use :func:`build_many` for more than a handful of users.
    """
    stories = _unique(candidates)
    geo = _geo(region)
    scope = _scope(request.districts, request.okrugs, geo)
    entries: list[_Entry] = []
    for i, story in enumerate(stories):
        if not request.period_start <= story.available_at < request.period_end:
            continue
        if not _wanted(story, request):
            continue
        entry = _place(_facts(story), i, scope)
        if entry is not None:
            entries.append(entry)
    entries.sort()
    local = [e for e in entries if _section(e) is not Section.CITY]
    city = (e for e in entries if _section(e) is Section.CITY)
    return _assemble(request, local, city, lambda e: _item(stories[e[1]], e, request, geo))


# --- many requests at once -----------------------------------------------------------------


class _Postings:
    """Story indexes sorted by publication time, so a period is two binary searches."""

    __slots__ = ("ids", "times")

    def __init__(self, entries: list[tuple[int, int]]) -> None:
        entries.sort()
        self.times = [t for t, _ in entries]
        self.ids = [i for _, i in entries]

    def window(self, start: int, end: int) -> list[int]:
        return self.ids[bisect_left(self.times, start) : bisect_left(self.times, end)]


_ALL_TOPICS = "*"  # key of the unfiltered city list; cannot clash with a topic slug


class _Index:
    def __init__(self, stories: Sequence[StoryCandidate]) -> None:
        self.stories = stories
        self.facts = [_facts(s) for s in stories]
        self.topics = [frozenset(s.topics) for s in stories]
        by_district: dict[str, list[tuple[int, int]]] = {}
        by_okrug: dict[str, list[tuple[int, int]]] = {}
        city: list[tuple[int, int]] = []
        for i, facts in enumerate(self.facts):
            entry = (-facts.keys[_CITY][4], i)  # publication time in µs
            for d in facts.places:
                by_district.setdefault(d, []).append(entry)
            for o in facts.okrug_places:
                by_okrug.setdefault(o, []).append(entry)
            if facts.city_wide:
                city.append(entry)
        self.by_district = {k: _Postings(v) for k, v in by_district.items()}
        self.by_okrug = {k: _Postings(v) for k, v in by_okrug.items()}
        self.city = _Postings(city)
        self._city_by_period: dict[tuple[int, int], dict[str, list[_Entry]]] = {}

    def local_ids(self, scope: _Scope, start: int, end: int) -> set[int]:
        """Stories of the period tied to the scope's districts or okrugs."""
        found: set[int] = set()
        for d in scope.covered:
            if (p := self.by_district.get(d)) is not None:
                found.update(p.window(start, end))
        for o in scope.okrugs:
            if (p := self.by_okrug.get(o)) is not None:
                found.update(p.window(start, end))
        return found

    def city_ranked(self, start: int, end: int) -> dict[str, list[_Entry]]:
        """City-wide stories of a period in rank order, per topic and for all topics.

        Built once per distinct period: delivery times cluster, so there are few.
        """
        cached = self._city_by_period.get((start, end))
        if cached is not None:
            return cached
        lists: dict[str, list[_Entry]] = {_ALL_TOPICS: []}
        for i in self.city.window(start, end):
            entry: _Entry = (self.facts[i].keys[_CITY], i, _NOTHING)
            lists[_ALL_TOPICS].append(entry)
            for t in self.topics[i]:
                lists.setdefault(t, []).append(entry)
        for entries in lists.values():
            entries.sort()
        self._city_by_period[(start, end)] = lists
        return lists

    def city_stream(
        self, request: DigestRequest, local: set[int], start: int, end: int
    ) -> Iterator[_Entry]:
        """City entries for the request in rank order, skipping the user's local stories."""
        ranked = self.city_ranked(start, end)
        merged: Iterable[_Entry]
        if request.topics:
            merged = heapq.merge(*(ranked[t] for t in request.topics if t in ranked))
        else:
            merged = ranked[_ALL_TOPICS]
        seen: set[int] = set()
        for entry in merged:
            i = entry[1]
            # Tied to the user's places (so shown above, or filtered out by topic) or listed
            # under two of the user's topics.
            if i not in local and i not in seen:
                seen.add(i)
                yield entry


def _shared_items(
    cache: dict[tuple[int, int, frozenset[str], frozenset[str]], DigestItem],
    stories: Sequence[StoryCandidate],
    request: DigestRequest,
    geo: _Geo,
) -> Callable[[_Entry], DigestItem]:
    def item(entry: _Entry) -> DigestItem:
        # An item depends on the story, its section, what it matched and the topic filter.
        key = (entry[1], entry[0][0], entry[2], request.topics)
        found = cache.get(key)
        if found is None:
            found = cache[key] = _item(stories[entry[1]], entry, request, geo)
        return found

    return item


def build_many(
    requests: Iterable[DigestRequest], candidates: Iterable[StoryCandidate], region: Region
) -> dict[DigestRequest, Digest]:
    """Build one digest per distinct request; the result equals :func:`build_digest` per request.

    Pass every user's request (duplicates welcome): equal requests are built once, and requests
    that differ only in topics, language or caps share the work on their places and period.
    Costs, for N candidates, K distinct requests, G distinct (places, period) groups and P
    distinct periods:

    * indexing: O(N·(p + log N)), p = places per story (text districts/okrugs + feed bindings);
    * per distinct period: O(c·t + c log c), c = city-wide stories in it, t = topics per story;
    * per group: O(s·log N + m log m), s = districts/okrugs in scope, m = stories of the period
      tied to them;
    * per distinct request: O(m) for a topic filter (O(1) without one) + O(cap) items + the
      city stories skipped before ``city_cap`` are found — never proportional to N.

    Memory: the index holds O(N·p) integers; only one group's matches are alive at a time; the
    result holds K digests of at most ``cap`` items each, items being shared between digests.
    """
    stories = _unique(candidates)
    geo = _geo(region)
    index = _Index(stories)
    groups: dict[tuple[frozenset[str], frozenset[str], datetime, datetime], list[DigestRequest]]
    groups = {}
    for request in dict.fromkeys(requests):
        key = (request.districts, request.okrugs, request.period_start, request.period_end)
        groups.setdefault(key, []).append(request)

    digests: dict[DigestRequest, Digest] = {}
    # Items are only made for shown stories and the result keeps them alive anyway, so sharing
    # them across all digests costs one dict entry each and saves most allocations.
    items: dict[tuple[int, int, frozenset[str], frozenset[str]], DigestItem] = {}
    facts = index.facts
    for (districts, okrugs, period_start, period_end), members in groups.items():
        scope = _scope(districts, okrugs, geo)
        start, end = _micros(period_start), _micros(period_end)
        local_ids = index.local_ids(scope, start, end)
        # Every story found is tied to the scope, so it lands in the district or okrug section.
        entries = [e for i in local_ids if (e := _place(facts[i], i, scope)) is not None]
        entries.sort()
        for request in members:
            local = entries
            if request.topics:
                topics, story_topics = request.topics, index.topics
                local = [e for e in entries if not topics.isdisjoint(story_topics[e[1]])]
            city: Iterable[_Entry] = ()
            if request.include_city_wide and request.city_cap > 0:
                city = index.city_stream(request, local_ids, start, end)
            item = _shared_items(items, stories, request, geo)
            digests[request] = _assemble(request, local, city, item)
    return digests
