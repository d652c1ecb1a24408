"""Benchmark: digests for 100,000 users over 5,000 stored stories.

    .venv/bin/python -m bench.digests [--users N] [--stories N] [--sample N] [--seed N]

Prints the time and peak traced memory of :func:`digests.composition.build_many`, the number of
distinct requests, the time to render each distinct digest once, and an estimate of building
per user one by one (a sample timed with :func:`digests.composition.build_digest` over all
candidates, extrapolated linearly to every user; the sample's digests are also compared with
the shared ones). The peak memory comes from a second, traced run of ``build_many``.
"""

from __future__ import annotations

import argparse
import gettext
import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from digests.composition import (
    DigestRequest,
    StoryCandidate,
    build_digest,
    build_many,
    render_digest,
)
from digests.region import Region, load_region
from digests.understanding import TOPICS

NOW = datetime(2024, 11, 21, 6, 0, tzinfo=UTC)


def _district_weights(region: Region, rng: random.Random) -> list[float]:
    # Zipf-like popularity: a few big districts have most readers and most news.
    ranks = list(range(1, len(region.districts) + 1))
    rng.shuffle(ranks)
    return [1.0 / r**0.8 for r in ranks]


def make_stories(
    n: int, region: Region, weights: Sequence[float], rng: random.Random
) -> list[StoryCandidate]:
    districts = [d.slug for d in region.districts]
    okrug_of = {d.slug: d.okrug for d in region.districts}
    okrugs = [o.slug for o in region.okrugs]
    stories: list[StoryCandidate] = []
    for i in range(n):
        kind = rng.random()
        mentioned: set[str] = set()
        okrug_mentions: set[str] = set()
        feed_districts: set[str] = set()
        feed_okrugs: set[str] = set()
        from_city = False
        if kind < 0.30:  # a district paper's story, usually about its own district
            paper = rng.choices(districts, weights)[0]
            feed_districts.add(paper)
            if rng.random() < 0.8:
                mentioned.add(paper)
        elif kind < 0.55:  # an okrug paper: its districts or the okrug as a whole
            paper = rng.choice(okrugs)
            feed_okrugs.add(paper)
            inside = [d for d in districts if okrug_of[d] == paper]
            if rng.random() < 0.6:
                mentioned.update(rng.sample(inside, k=min(len(inside), rng.randint(1, 2))))
            else:
                okrug_mentions.add(paper)
        else:  # a city-wide outlet; a third of its stories are about some place
            from_city = True
            if rng.random() < 0.35:
                mentioned.update(rng.choices(districts, weights, k=rng.randint(1, 3)))
        sources = 1 + min(int(rng.expovariate(1.2)), 8)
        if sources > 1 and rng.random() < 0.5:  # reprinted elsewhere: extra bindings
            if rng.random() < 0.5:
                from_city = True
            else:
                feed_okrugs.add(rng.choice(okrugs))
        stories.append(
            StoryCandidate(
                story_id=i + 1,
                title=f"Story {i + 1}",
                url=f"https://example.com/news/{i + 1}",
                lead="A short lead of the story. " * 4,
                available_at=NOW - timedelta(seconds=rng.uniform(0, 7 * 86400)),
                source_count=sources,
                district_slugs=frozenset(mentioned),
                okrug_slugs=frozenset(okrug_mentions),
                feed_districts=frozenset(feed_districts),
                feed_okrugs=frozenset(feed_okrugs),
                from_city_feed=from_city,
                topics=tuple(rng.sample(TOPICS, k=rng.randint(1, 3))),
            )
        )
    return stories


def make_requests(
    n: int, region: Region, weights: Sequence[float], rng: random.Random
) -> list[DigestRequest]:
    districts = [d.slug for d in region.districts]
    okrugs = [o.slug for o in region.okrugs]
    periods = [
        (NOW - timedelta(hours=24), 0.90),  # the daily digest
        (NOW - timedelta(hours=48), 0.05),  # missed a day
        (NOW - timedelta(hours=12), 0.03),  # twice a day
        (NOW - timedelta(days=7), 0.02),  # first digest / came back after a week
    ]
    starts = [p for p, _ in periods]
    period_weights = [w for _, w in periods]
    requests: list[DigestRequest] = []
    for _ in range(n):
        mine: frozenset[str]
        whole: frozenset[str] = frozenset()
        roll = rng.random()
        if roll < 0.03:  # whole okrug only
            mine = frozenset()
            whole = frozenset({rng.choice(okrugs)})
        else:
            k = rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
            mine = frozenset(rng.choices(districts, weights, k=k))
            if roll < 0.08:
                whole = frozenset({rng.choice(okrugs)})
        topics = (
            frozenset() if rng.random() < 0.7 else frozenset(rng.sample(TOPICS, rng.randint(2, 5)))
        )
        requests.append(
            DigestRequest(
                districts=mine,
                okrugs=whole,
                topics=topics,
                language="ru" if rng.random() < 0.9 else "en",
                period_start=rng.choices(starts, period_weights)[0],
                period_end=NOW,
            )
        )
    return requests


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=5_000)
    parser.add_argument("--sample", type=int, default=2_000, help="users built one by one")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    region = load_region("moscow")
    weights = _district_weights(region, rng)
    stories = make_stories(args.stories, region, weights, rng)
    t0 = time.perf_counter()
    requests = make_requests(args.users, region, weights, rng)
    t_requests = time.perf_counter() - t0

    t0 = time.perf_counter()
    digests = build_many(requests, stories, region)
    t_many = time.perf_counter() - t0

    tracemalloc.start()
    build_many(requests, stories, region)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    translator = gettext.NullTranslations()
    t0 = time.perf_counter()
    rendered = [render_digest(d, translator, region, {}) for d in digests.values()]
    t_render = time.perf_counter() - t0

    sample = requests[: args.sample]
    t0 = time.perf_counter()
    one_by_one = [build_digest(request, stories, region) for request in sample]
    t_sample = time.perf_counter() - t0
    mismatches = sum(1 for r, d in zip(sample, one_by_one, strict=True) if digests[r] != d)
    t_one_by_one = t_sample / len(sample) * len(requests) if sample else float("nan")

    sizes = Counter(len(d.items) for d in digests.values())
    empty = sum(1 for r in requests if digests[r].is_empty)
    print(f"users {len(requests):,}, stories {len(stories):,}")
    print(f"distinct requests (digests built): {len(digests):,}")
    print(f"making the requests (caller's work, not counted): {t_requests:.2f} s")
    print(f"build_many: {t_many:.2f} s, peak traced memory {peak / 2**20:.1f} MiB")
    print(
        f"render each distinct digest once: {t_render:.2f} s, "
        f"{sum(len(p) for p in rendered):,} messages"
    )
    print(
        f"one by one (build_digest over all stories): {t_sample:.2f} s for {len(sample):,} "
        f"users, extrapolated to {len(requests):,}: {t_one_by_one:.1f} s "
        f"-> build_many is {t_one_by_one / t_many:.0f}x faster"
    )
    print(f"sampled users whose shared digest differs from their own: {mismatches}")
    print(f"users with an empty digest: {empty:,}; items per digest: {sorted(sizes.items())}")


if __name__ == "__main__":
    main()
