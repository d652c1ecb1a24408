"""Articles, their tags (districts, okrugs, topics) and the stories that group them.

Writes are batched per feed poll: a poll of 100 new articles costs a handful of round trips,
not hundreds (each awaited call costs ~90 µs of event-loop time on aiosqlite).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.feeds.normalize import NormalizedArticle
from bot.storage import schema as s
from digests.understanding import Understanding

__all__ = [
    "ArticleToTag",
    "ExportedArticle",
    "StoredArticle",
    "StoredSignature",
    "Tagging",
    "create_stories",
    "existing_articles",
    "exported_articles",
    "insert_articles",
    "pending_articles",
    "recent_signatures",
    "save_taggings",
    "update_article",
    "update_stories",
]


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    content_hash: str
    story_id: int | None


@dataclass(frozen=True, slots=True)
class ArticleToTag:
    id: int
    feed_id: int
    title: str
    text: str
    canonical_url: str
    published_at: datetime
    story_id: int | None


@dataclass(frozen=True, slots=True)
class StoredSignature:
    article_id: int
    feed_id: int
    story_id: int
    canonical_url: str
    published_at: datetime
    signature: bytes


@dataclass(frozen=True, slots=True)
class Tagging:
    """The understanding of one article and the story it belongs to."""

    article_id: int
    understanding: Understanding
    story_id: int


def _article_values(article: NormalizedArticle) -> dict[str, object]:
    url = article.url or ""
    return {
        "url": url,
        "canonical_url": url,
        "title": article.title,
        "text": article.text,
        "image_url": article.image_url,
        "content_hash": article.content_hash,
    }


async def existing_articles(
    conn: AsyncConnection, feed_id: int, identities: Sequence[str]
) -> dict[str, StoredArticle]:
    """identity -> stored article, for those of ``identities`` this feed already has."""
    found: dict[str, StoredArticle] = {}
    for start in range(0, len(identities), 500):
        rows = await conn.execute(
            select(
                s.articles.c.identity,
                s.articles.c.id,
                s.articles.c.content_hash,
                s.articles.c.story_id,
            ).where(
                s.articles.c.feed_id == feed_id,
                s.articles.c.identity.in_(identities[start : start + 500]),
            )
        )
        for identity, article_id, content_hash, story_id in rows:
            found[identity] = StoredArticle(article_id, content_hash, story_id)
    return found


async def insert_articles(
    conn: AsyncConnection, feed_id: int, articles: Sequence[NormalizedArticle], now: datetime
) -> list[int]:
    """Insert new articles (untagged); their ids, in the same order."""
    if not articles:
        return []
    rows = [
        _article_values(a)
        | {
            "feed_id": feed_id,
            "identity": a.identity,
            "published_at": a.published_at,
            "fetched_at": now,
        }
        for a in articles
    ]
    result = await conn.execute(
        insert(s.articles).returning(s.articles.c.id, sort_by_parameter_order=True), rows
    )
    return [int(row[0]) for row in result]


async def update_article(
    conn: AsyncConnection, article_id: int, article: NormalizedArticle, now: datetime
) -> None:
    """The publisher edited the article: store the new text and mark it for re-tagging."""
    await conn.execute(
        update(s.articles)
        .where(s.articles.c.id == article_id)
        .values(**_article_values(article), updated_at=now, tagged_at=None)
    )


async def create_stories(
    conn: AsyncConnection, firsts: Sequence[tuple[int, datetime]], now: datetime
) -> list[int]:
    """One new story per (first article id, published time); their ids, in order."""
    if not firsts:
        return []
    result = await conn.execute(
        insert(s.stories).returning(s.stories.c.id, sort_by_parameter_order=True),
        [
            {
                "representative_article_id": aid,
                "source_count": 1,
                "first_published_at": when,
                "last_article_at": when,
                "created_at": now,
            }
            for aid, when in firsts
        ],
    )
    return [int(row[0]) for row in result]


async def update_stories(
    conn: AsyncConnection, changes: Sequence[tuple[int, int, int, datetime]]
) -> None:
    """Copies joined stories: for each (story id, representative, source count, latest
    published) set the new representative and count and widen the time span. One SELECT and
    one executemany UPDATE, however many stories."""
    if not changes:
        return
    spans: dict[int, tuple[datetime, datetime]] = {}
    ids = [c[0] for c in changes]
    for start in range(0, len(ids), 500):
        rows = await conn.execute(
            select(
                s.stories.c.id, s.stories.c.first_published_at, s.stories.c.last_article_at
            ).where(s.stories.c.id.in_(ids[start : start + 500]))
        )
        spans.update((sid, (first, last)) for sid, first, last in rows)
    params = [
        {
            "b_id": sid,
            "b_rep": representative,
            "b_count": count,
            "b_first": min(spans[sid][0], published),
            "b_last": max(spans[sid][1], published),
        }
        for sid, representative, count, published in changes
        if sid in spans  # a story deleted meanwhile: nothing to update
    ]
    if params:
        await conn.execute(
            update(s.stories)
            .where(s.stories.c.id == bindparam("b_id"))
            .values(
                representative_article_id=bindparam("b_rep"),
                source_count=bindparam("b_count"),
                first_published_at=bindparam("b_first"),
                last_article_at=bindparam("b_last"),
            ),
            params,
        )


async def save_taggings(
    conn: AsyncConnection, taggings: Sequence[Tagging], now: datetime, *, replace: bool
) -> None:
    """Write tags, lead, search lemmas, signature and story of many articles at once.

    ``replace`` first deletes old tags (re-tagging edited articles); new articles have none.
    """
    if not taggings:
        return
    ids = [t.article_id for t in taggings]
    if replace:
        for table in (s.article_districts, s.article_okrugs, s.article_topics):
            await conn.execute(delete(table).where(table.c.article_id.in_(ids)))
    districts: list[Mapping[str, object]] = []
    okrugs: list[Mapping[str, object]] = []
    topics: list[Mapping[str, object]] = []
    for t in taggings:
        u = t.understanding
        districts += [
            {"article_id": t.article_id, "district": d, "score": 1.0} for d in u.districts
        ]
        districts += [
            {"article_id": t.article_id, "district": d, "score": 0.5}
            for d in u.uncertain_districts
            if d not in u.districts
        ]
        mentioned = dict.fromkeys(u.okrugs_from_districts, False) | dict.fromkeys(
            u.okrugs_mentioned, True
        )
        okrugs += [
            {"article_id": t.article_id, "okrug": o, "mentioned": m} for o, m in mentioned.items()
        ]
        topics += [
            {"article_id": t.article_id, "topic": topic, "score": float(len(u.topics) - i)}
            for i, topic in enumerate(u.topics)
        ]
    for table, rows in (
        (s.article_districts, districts),
        (s.article_okrugs, okrugs),
        (s.article_topics, topics),
    ):
        if rows:
            await conn.execute(insert(table), rows)
    await conn.execute(
        update(s.articles)
        .where(s.articles.c.id == bindparam("aid"))
        .values(
            summary=bindparam("summary"),
            search_lemmas=bindparam("lemmas"),
            signature=bindparam("signature"),
            story_id=bindparam("sid"),
            tagged_at=bindparam("tagged"),
        ),
        [
            {
                "aid": t.article_id,
                "summary": t.understanding.summary,
                "lemmas": t.understanding.search_lemmas,
                "signature": t.understanding.story.to_bytes(),
                "sid": t.story_id,
                "tagged": now,
            }
            for t in taggings
        ],
    )


async def pending_articles(conn: AsyncConnection, limit: int = 500) -> list[ArticleToTag]:
    """Articles stored but not yet (re)tagged, oldest first (the crash-safe follow-up)."""
    rows = await conn.execute(
        select(
            s.articles.c.id,
            s.articles.c.feed_id,
            s.articles.c.title,
            s.articles.c.text,
            s.articles.c.canonical_url,
            s.articles.c.published_at,
            s.articles.c.story_id,
        )
        .where(s.articles.c.tagged_at.is_(None))
        .order_by(s.articles.c.published_at, s.articles.c.id)
        .limit(limit)
    )
    return [ArticleToTag(*row) for row in rows]


async def recent_signatures(conn: AsyncConnection, since: datetime) -> list[StoredSignature]:
    """Tagged articles published since ``since``, to rebuild the story index at start-up."""
    rows = await conn.execute(
        select(
            s.articles.c.id,
            s.articles.c.feed_id,
            s.articles.c.story_id,
            s.articles.c.canonical_url,
            s.articles.c.published_at,
            s.articles.c.signature,
        )
        .where(
            s.articles.c.published_at >= since,
            s.articles.c.tagged_at.is_not(None),
            s.articles.c.story_id.is_not(None),
            s.articles.c.signature.is_not(None),
        )
        .order_by(s.articles.c.published_at, s.articles.c.id)
    )
    return [StoredSignature(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class ExportedArticle:
    id: int
    url: str
    title: str
    published_at: datetime
    feed_url: str
    summary: str
    districts: tuple[str, ...]
    okrugs: tuple[str, ...]
    topics: tuple[str, ...]
    story_id: int | None


async def exported_articles(
    conn: AsyncConnection, since: datetime | None, batch: int = 1000
) -> AsyncIterator[ExportedArticle]:
    """Every stored article with its tags, oldest first, fetched in batches."""
    a = s.articles
    last_id = 0
    while True:
        query = (
            select(
                a.c.id,
                a.c.url,
                a.c.title,
                a.c.published_at,
                s.feeds.c.url,
                a.c.summary,
                a.c.story_id,
            )
            .join(s.feeds, s.feeds.c.id == a.c.feed_id)
            .where(a.c.id > last_id)
            .order_by(a.c.id)
            .limit(batch)
        )
        if since is not None:
            query = query.where(a.c.published_at >= since)
        rows = (await conn.execute(query)).all()
        if not rows:
            return
        ids = [r[0] for r in rows]
        tags: dict[str, dict[int, list[str]]] = {"d": {}, "o": {}, "t": {}}
        for key, table, column, order in (
            ("d", s.article_districts, s.article_districts.c.district, s.article_districts.c.score),
            ("o", s.article_okrugs, s.article_okrugs.c.okrug, s.article_okrugs.c.okrug),
            ("t", s.article_topics, s.article_topics.c.topic, s.article_topics.c.score),
        ):
            for aid, value in await conn.execute(
                select(table.c.article_id, column)
                .where(table.c.article_id.in_(ids))
                .order_by(table.c.article_id, order.desc() if key != "o" else order, column)
            ):
                tags[key].setdefault(aid, []).append(value)
        for aid, url, title, published, feed_url, summary, story_id in rows:
            yield ExportedArticle(
                aid,
                url,
                title,
                published,
                feed_url,
                summary,
                tuple(tags["d"].get(aid, ())),
                tuple(tags["o"].get(aid, ())),
                tuple(tags["t"].get(aid, ())),
                story_id,
            )
        last_id = ids[-1]
