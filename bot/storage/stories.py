"""Stories as digest candidates: one query per kind of fact, never one per story.

A digest period selects stories by when we stored them (``created_at``), so a story fetched
after its publication time is not lost between two digests; stories published long before
the period (a new feed's backlog) are left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import schema as s
from digests.composition import StoryCandidate

__all__ = ["load_candidates"]


STALE_AFTER = timedelta(days=3)


def _in_period(since: datetime, until: datetime) -> ColumnElement[bool]:
    st = s.stories
    return and_(
        st.c.created_at >= since,
        st.c.created_at < until,
        st.c.first_published_at >= since - STALE_AFTER,
    )


async def load_candidates(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[StoryCandidate]:
    """Stories stored in [since, until), with the facts the digest builder needs.

    A story's places and feed bindings are the union over all its copies; its title, link and
    lead are the representative article's; its topics are summed over copies by weight.
    """
    a, st, f = s.articles, s.stories, s.feeds
    story_rows = (
        await conn.execute(
            select(st.c.id, st.c.source_count, st.c.created_at, a.c.title, a.c.url, a.c.summary)
            .join(a, a.c.id == st.c.representative_article_id)
            .where(_in_period(since, until))
        )
    ).all()
    if not story_rows:
        return []
    member_rows = (
        await conn.execute(
            select(a.c.id, a.c.story_id, f.c.binding_kind, f.c.binding_slug)
            .join(f, f.c.id == a.c.feed_id)
            .join(st, st.c.id == a.c.story_id)
            .where(_in_period(since, until))
        )
    ).all()
    story_of = {aid: sid for aid, sid, _, _ in member_rows}
    feed_districts: dict[int, set[str]] = defaultdict(set)
    feed_okrugs: dict[int, set[str]] = defaultdict(set)
    city_feed: set[int] = set()
    for _, sid, kind, slug in member_rows:
        if kind == "district" and slug:
            feed_districts[sid].add(slug)
        elif kind == "okrug" and slug:
            feed_okrugs[sid].add(slug)
        else:
            city_feed.add(sid)

    districts: dict[int, set[str]] = defaultdict(set)
    okrugs: dict[int, set[str]] = defaultdict(set)
    topic_weight: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    in_window = a.c.story_id.in_(select(st.c.id).where(_in_period(since, until)))
    ad, ao, at = s.article_districts, s.article_okrugs, s.article_topics
    for aid, district in await conn.execute(
        select(ad.c.article_id, ad.c.district).join(a, a.c.id == ad.c.article_id).where(in_window)
    ):
        districts[story_of[aid]].add(district)
    # Only okrugs named as a whole: the builder derives the okrugs of districts itself.
    for aid, okrug in await conn.execute(
        select(ao.c.article_id, ao.c.okrug)
        .join(a, a.c.id == ao.c.article_id)
        .where(in_window, ao.c.mentioned.is_(True))
    ):
        okrugs[story_of[aid]].add(okrug)
    for aid, topic, score in await conn.execute(
        select(at.c.article_id, at.c.topic, at.c.score)
        .join(a, a.c.id == at.c.article_id)
        .where(in_window)
    ):
        topic_weight[story_of[aid]][topic] += score

    candidates = []
    for sid, source_count, stored_at, title, url, summary in story_rows:
        weights = topic_weight.get(sid, {})
        candidates.append(
            StoryCandidate(
                story_id=sid,
                title=title,
                url=url,
                lead=summary,
                available_at=stored_at,
                source_count=source_count,
                district_slugs=frozenset(districts.get(sid, ())),
                okrug_slugs=frozenset(okrugs.get(sid, ())),
                feed_districts=frozenset(feed_districts.get(sid, ())),
                feed_okrugs=frozenset(feed_okrugs.get(sid, ())),
                from_city_feed=sid in city_feed,
                topics=tuple(sorted(weights, key=lambda t: (-weights[t], t))[:3]),
            )
        )
    return candidates
