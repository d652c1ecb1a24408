from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digests.composition.build import build_digest, build_many
from digests.composition.digest import (
    Digest,
    DigestRequest,
    Section,
    StoryCandidate,
    should_send,
)
from digests.region import Region, load_region

START = datetime(2024, 11, 20, 6, 0, tzinfo=UTC)
END = START + timedelta(days=1)
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region("moscow")


def story(
    *,
    hours: float = 1,
    story_id: int | None = None,
    **fields: Any,
) -> StoryCandidate:
    sid = next(_ids) if story_id is None else story_id
    fields.setdefault("title", f"Story {sid}")
    fields.setdefault("url", f"https://example.com/{sid}")
    fields.setdefault("lead", f"Lead {sid}")
    fields.setdefault("topics", ("transport",))
    for key in ("district_slugs", "okrug_slugs", "feed_districts", "feed_okrugs"):
        if key in fields:
            fields[key] = frozenset(fields[key])
    return StoryCandidate(story_id=sid, available_at=START + timedelta(hours=hours), **fields)


def request(
    districts: tuple[str, ...] = ("khamovniki",),
    okrugs: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    **fields: Any,
) -> DigestRequest:
    fields.setdefault("language", "ru")
    fields.setdefault("period_start", START)
    fields.setdefault("period_end", END)
    return DigestRequest(
        districts=frozenset(districts), okrugs=frozenset(okrugs), topics=frozenset(topics), **fields
    )


def ids(digest: Digest) -> list[int]:
    return [item.story.story_id for item in digest.items]


def test_sections_in_order_district_okrug_city(region: Region) -> None:
    city = story(from_city_feed=True, source_count=9)
    okrug = story(feed_okrugs={"tsao"}, source_count=5)
    district = story(district_slugs={"khamovniki"}, from_city_feed=True)
    digest = build_digest(request(), [city, okrug, district], region)
    assert ids(digest) == [district.story_id, okrug.story_id, city.story_id]
    assert [i.section for i in digest.items] == [Section.DISTRICT, Section.OKRUG, Section.CITY]
    assert digest.items[0].districts == ("khamovniki",)
    assert digest.items[1].okrugs == ("tsao",)
    assert digest.omitted == 0


def test_foreign_places_are_left_out(region: Region) -> None:
    stories = [
        story(district_slugs={"mitino"}, from_city_feed=True),  # city paper, other district
        story(feed_okrugs={"szao"}),  # another okrug's paper
        story(feed_districts={"strogino"}),  # another district's paper
        story(okrug_slugs={"zao"}, from_city_feed=True),  # about another okrug as a whole
    ]
    assert build_digest(request(), stories, region).is_empty


def test_district_matches_text_paper_and_whole_okrug(region: Region) -> None:
    by_paper = story(feed_districts={"khamovniki"}, district_slugs={"arbat"})
    via_okrug = story(district_slugs={"mitino"}, source_count=10)
    own = story(district_slugs={"khamovniki"})
    digest = build_digest(request(okrugs=("szao",)), [via_okrug, by_paper, own], region)
    assert all(i.section is Section.DISTRICT for i in digest.items)
    # Own districts before those reached through a whole-okrug subscription, however important.
    assert ids(digest)[-1] == via_okrug.story_id
    assert digest.items[-1].districts == ("mitino",)
    # A story about one place is more specific than one about two.
    assert ids(digest)[:2] == [own.story_id, by_paper.story_id]


def test_okrug_section_takes_okrug_paper_and_okrug_mentions(region: Region) -> None:
    paper = story(feed_okrugs={"tsao"})  # okrug-wide: names no particular district
    mention = story(okrug_slugs={"tsao"}, from_city_feed=True, source_count=3)
    digest = build_digest(request(), [mention, paper], region)
    # The okrug's own paper first, then the more important mention.
    assert ids(digest) == [paper.story_id, mention.story_id]
    assert all(i.section is Section.OKRUG for i in digest.items)


def test_okrug_paper_story_about_a_neighbouring_district_is_left_out(region: Region) -> None:
    # A Khamovniki reader does not get the ЦАО paper's story about Arbat...
    neighbour = story(feed_okrugs={"tsao"}, district_slugs={"arbat"})
    # ...unless the text also speaks of the okrug as a whole.
    okrug_wide = story(feed_okrugs={"tsao"}, district_slugs={"arbat"}, okrug_slugs={"tsao"})
    digest = build_digest(request(), [neighbour, okrug_wide], region)
    assert ids(digest) == [okrug_wide.story_id]
    assert digest.items[0].section is Section.OKRUG


def test_rank_by_importance_then_recency(region: Region) -> None:
    old_big = story(district_slugs={"khamovniki"}, hours=1, source_count=4)
    new_small = story(district_slugs={"khamovniki"}, hours=5)
    old_small = story(district_slugs={"khamovniki"}, hours=2)
    boosted = story(district_slugs={"khamovniki"}, hours=0, priority=10)
    digest = build_digest(request(), [old_small, new_small, old_big, boosted], region)
    assert ids(digest) == [
        boosted.story_id,
        old_big.story_id,
        new_small.story_id,
        old_small.story_id,
    ]


def test_topic_filter_applies_to_every_section(region: Region) -> None:
    wanted = [
        story(district_slugs={"khamovniki"}, topics=("housing", "transport")),
        story(feed_okrugs={"tsao"}, topics=("transport",)),
        story(from_city_feed=True, topics=("transport",)),
    ]
    unwanted = [
        story(district_slugs={"khamovniki"}, topics=("housing",)),
        story(feed_okrugs={"tsao"}, topics=("culture",)),
        story(from_city_feed=True, topics=("sport",)),
        story(district_slugs={"khamovniki"}, topics=()),
    ]
    digest = build_digest(request(topics=("transport",)), unwanted + wanted, region)
    assert sorted(ids(digest)) == sorted(s.story_id for s in wanted)
    # Only the topics that passed the filter are kept for markers.
    assert digest.items[0].topics == ("transport",)

    everything = build_digest(request(), unwanted + wanted, region)
    assert len(everything.items) == len(unwanted + wanted)  # incl. the story with no topics
    assert everything.items[0].topics in (("housing", "transport"), ("housing",), ())


def test_period_is_half_open(region: Region) -> None:
    at_start = story(district_slugs={"khamovniki"}, hours=0)
    at_end = story(district_slugs={"khamovniki"}, hours=24)
    before = story(district_slugs={"khamovniki"}, hours=-0.001)
    digest = build_digest(request(), [at_start, at_end, before], region)
    assert ids(digest) == [at_start.story_id]


def test_cap_and_omitted_count(region: Region) -> None:
    local = [story(district_slugs={"khamovniki"}, hours=h / 10) for h in range(15)]
    city = [story(from_city_feed=True) for _ in range(5)]
    digest = build_digest(request(), local + city, region)
    assert len(digest.items) == 12
    assert digest.omitted == 3
    assert all(i.section is Section.DISTRICT for i in digest.items)
    # Most recent first among equals, so the three oldest were left out.
    assert set(ids(digest)) == {s.story_id for s in local[3:]}


def test_city_section_is_top_few_and_not_counted_as_omitted(region: Region) -> None:
    local = [story(district_slugs={"khamovniki"}) for _ in range(2)]
    city = [story(from_city_feed=True, source_count=n) for n in range(1, 8)]
    digest = build_digest(request(), local + city, region)
    city_items = digest.section(Section.CITY)
    assert [i.story.source_count for i in city_items] == [7, 6, 5]
    assert digest.omitted == 0
    # Fill the remaining room only.
    small = build_digest(request(cap=4), local + city, region)
    assert [i.story.source_count for i in small.section(Section.CITY)] == [7, 6]
    off = build_digest(request(include_city_wide=False), local + city, region)
    assert off.section(Section.CITY) == ()


def test_story_appears_once(region: Region) -> None:
    s = story(district_slugs={"khamovniki"}, feed_okrugs={"tsao"}, from_city_feed=True)
    digest = build_digest(request(), [s, s], region)
    assert ids(digest) == [s.story_id]


def test_should_send() -> None:
    empty = Digest(request=request(), items=(), omitted=0)
    assert not should_send(empty, notify_empty=False)
    assert should_send(empty, notify_empty=True)


def test_validation() -> None:
    with pytest.raises(ValueError):
        request(period_start=datetime(2024, 11, 20))
    with pytest.raises(ValueError):
        request(period_start=END, period_end=START)
    with pytest.raises(ValueError):
        StoryCandidate(1, "t", "u", "l", datetime(2024, 11, 20))


def test_equal_requests_share_a_digest(region: Region) -> None:
    stories = [story(district_slugs={"khamovniki"}), story(from_city_feed=True)]
    a, b = request(districts=("khamovniki", "arbat")), request(districts=("arbat", "khamovniki"))
    result = build_many([a, b, request(districts=("mitino",))], stories, region)
    assert len(result) == 2
    assert result[a] is result[b]


# --- build_many == build_digest on random data ---------------------------------------------

DISTRICTS = ("khamovniki", "arbat", "mitino", "strogino", "kurkino")
OKRUGS = ("tsao", "szao", "zao")
TOPICS = ("transport", "housing", "sport")
PERIODS = ((START, END), (START - timedelta(hours=12), END), (END - timedelta(hours=6), END))


def slugs(pool: tuple[str, ...], max_size: int = 2) -> st.SearchStrategy[frozenset[str]]:
    # Empty half of the time, so that city-wide stories (no places at all) are common.
    return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(pool), max_size=max_size))


stories_strategy = st.builds(
    StoryCandidate,
    story_id=st.integers(1, 40),
    title=st.just("t"),
    url=st.just("https://example.com"),
    lead=st.just(""),
    available_at=st.integers(-20, 26).map(lambda h: START + timedelta(hours=h)),
    source_count=st.integers(1, 3),
    district_slugs=slugs(DISTRICTS),
    okrug_slugs=slugs(OKRUGS, 1),
    feed_districts=slugs(DISTRICTS, 1),
    feed_okrugs=slugs(OKRUGS, 1),
    from_city_feed=st.booleans(),
    topics=st.lists(st.sampled_from(TOPICS), max_size=2, unique=True).map(tuple),
    priority=st.sampled_from((0.0, 0.5)),
)

requests_strategy = st.builds(
    lambda d, o, t, p, cap, city, city_cap: DigestRequest(
        districts=d,
        okrugs=o,
        topics=t,
        language="ru",
        period_start=p[0],
        period_end=p[1],
        cap=cap,
        include_city_wide=city,
        city_cap=city_cap,
    ),
    slugs(DISTRICTS),
    slugs(OKRUGS, 1),
    slugs(TOPICS),
    st.sampled_from(PERIODS),
    st.integers(0, 5),
    st.booleans(),
    st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(
    stories=st.lists(stories_strategy, max_size=40),
    requests=st.lists(requests_strategy, min_size=1, max_size=8),
)
def test_build_many_matches_build_digest(
    stories: list[StoryCandidate], requests: list[DigestRequest]
) -> None:
    region = load_region("moscow")
    many = build_many(requests, stories, region)
    assert set(many) == set(requests)
    for r in requests:
        assert many[r] == build_digest(r, stories, region)
