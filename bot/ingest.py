"""Feeds → articles → stories, on the database side.

:class:`DatabaseFeedStore` is the :class:`bot.feeds.poller.FeedStore` the poller writes to:
articles, their understanding and their story are stored in one transaction per feed poll.
:class:`StoryAssigner` keeps the in-memory story index (rebuilt from stored signatures at
start-up). :func:`tag_pending` is the follow-up for articles stored without understanding.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import __version__
from bot.config import Settings
from bot.feeds.errors import FeedError
from bot.feeds.fetch import FetchPolicy
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import (
    ArticleRecord,
    FeedState,
    FetchOutcome,
    PollReport,
    PollStatus,
    UpsertResult,
    ingest_body,
)
from bot.feeds.schedule import FeedHealth
from bot.storage import Database
from bot.storage import articles as repo
from bot.storage import schema as s
from digests.stories import StoryFeatures, StoryIndex
from digests.understanding import Analyzer, Understanding

__all__ = [
    "DatabaseFeedStore",
    "NewArticle",
    "StoryAssigner",
    "fetch_policy",
    "ingest_file",
    "tag_pending",
    "understand_article",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A stored article whose understanding is ready, waiting for its story."""

    article_id: int
    feed_id: int
    url: str
    published_at: datetime
    understanding: Understanding


class StoryAssigner:
    """Groups articles into stories with a :class:`StoryIndex` kept in step with the DB."""

    def __init__(self, index: StoryIndex | None = None) -> None:
        self.index = index or StoryIndex()

    async def warm(self, conn: AsyncConnection, now: datetime) -> int:
        """Load the recent window of stored signatures; how many articles were loaded."""
        rows = await repo.recent_signatures(conn, now - self.index.window)
        for row in rows:
            self.index.add(
                row.article_id,
                row.story_id,
                StoryFeatures.from_bytes(row.signature),
                row.published_at,
                url=row.canonical_url or None,
                source=str(row.feed_id),
            )
        return len(rows)

    async def store(
        self, conn: AsyncConnection, items: Sequence[NewArticle], now: datetime, *, replace: bool
    ) -> None:
        """Assign each article to a story (new or existing) and save its tags."""
        provisional: dict[int, list[NewArticle]] = {}
        chosen: dict[int, int] = {}  # article id -> story id (negative: not created yet)
        for n, item in enumerate(items, start=1):
            features = item.understanding.story
            match = self.index.assign(features, item.published_at, item.url or None)
            story_id = match.story_id if match.story_id is not None else -n
            if story_id < 0:
                provisional[story_id] = []
            if story_id in provisional:
                provisional[story_id].append(item)
            self.index.add(
                item.article_id,
                story_id,
                features,
                item.published_at,
                url=item.url or None,
                source=str(item.feed_id),
            )
            chosen[item.article_id] = story_id
        real_ids = await repo.create_stories(
            conn,
            [(members[0].article_id, members[0].published_at) for members in provisional.values()],
            now,
        )
        renamed = dict(zip(provisional, real_ids, strict=True))
        for temp_id, members in provisional.items():
            for item in members:  # re-key the index entries under the real story id
                self.index.add(
                    item.article_id,
                    renamed[temp_id],
                    item.understanding.story,
                    item.published_at,
                    url=item.url or None,
                    source=str(item.feed_id),
                )
        touched: dict[int, datetime] = {}
        for item in items:
            story_id = renamed.get(chosen[item.article_id], chosen[item.article_id])
            chosen[item.article_id] = story_id
            touched[story_id] = max(touched.get(story_id, item.published_at), item.published_at)
        for story_id, latest in touched.items():
            representative = self.index.representative(story_id)
            if representative is not None:
                await repo.update_story(
                    conn,
                    story_id,
                    representative_article_id=representative,
                    source_count=max(1, len(self.index.sources(story_id))),
                    published_at=latest,
                )
        await repo.save_taggings(
            conn,
            [repo.Tagging(i.article_id, i.understanding, chosen[i.article_id]) for i in items],
            now,
            replace=replace,
        )


class DatabaseFeedStore:
    """The poller's storage, over the database (implements ``FeedStore``)."""

    def __init__(self, db: Database, assigner: StoryAssigner) -> None:
        self.db = db
        self.assigner = assigner
        # Story assignment must see one batch at a time: the index is shared state.
        self._lock = asyncio.Lock()

    async def due_feeds(self, now: datetime, limit: int | None = None) -> Sequence[FeedState]:
        query = (
            select(s.feeds)
            .where(
                s.feeds.c.enabled.is_(True),
                (s.feeds.c.next_poll_at.is_(None)) | (s.feeds.c.next_poll_at <= now),
            )
            .order_by(s.feeds.c.next_poll_at)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self.db.transaction() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            FeedState(
                feed_id=r["id"],
                url=r["url"],
                poll_interval=timedelta(seconds=r["poll_interval"]),
                etag=r["etag"],
                last_modified=r["last_modified"],
                body_hash=r["body_hash"],
                ttl_minutes=r["ttl_minutes"],
                health=FeedHealth(
                    last_success_at=r["last_success_at"],
                    last_error_at=r["last_error_at"],
                    last_error=r["last_error"],
                    consecutive_errors=r["consecutive_errors"],
                    failing_since=r["failing_since"],
                    broken=r["broken"],
                ),
            )
            for r in rows
        ]

    async def article_hashes(self, feed_id: int, identities: Sequence[str]) -> Mapping[str, str]:
        async with self.db.transaction() as conn:
            found = await repo.existing_articles(conn, feed_id, list(identities))
        return {identity: stored.content_hash for identity, stored in found.items()}

    async def upsert_articles(
        self, feed_id: int, articles: Sequence[ArticleRecord], seen_at: datetime
    ) -> UpsertResult:
        async with self._lock, self.db.transaction() as conn:
            return await self._upsert(conn, feed_id, articles, seen_at)

    async def _upsert(
        self,
        conn: AsyncConnection,
        feed_id: int,
        records: Sequence[ArticleRecord],
        now: datetime,
    ) -> UpsertResult:
        stored = await repo.existing_articles(conn, feed_id, [r.article.identity for r in records])
        fresh: list[ArticleRecord] = []
        edited: list[tuple[int, ArticleRecord]] = []
        unchanged = 0
        for record in records:
            known = stored.get(record.article.identity)
            if known is None:
                fresh.append(record)
            elif known.content_hash != record.article.content_hash:
                edited.append((known.id, record))
            else:
                unchanged += 1
        ids = await repo.insert_articles(conn, feed_id, [r.article for r in fresh], now)
        for article_id, record in edited:
            await repo.update_article(conn, article_id, record.article, now)
        await self._tag(conn, feed_id, list(zip(ids, fresh, strict=True)), now, replace=False)
        await self._tag(conn, feed_id, edited, now, replace=True)
        return UpsertResult(new=len(fresh), updated=len(edited), unchanged=unchanged)

    async def _tag(
        self,
        conn: AsyncConnection,
        feed_id: int,
        pairs: Sequence[tuple[int, ArticleRecord]],
        now: datetime,
        *,
        replace: bool,
    ) -> None:
        items = [
            NewArticle(aid, feed_id, r.article.url or "", r.article.published_at, r.understanding)
            for aid, r in pairs
            if isinstance(r.understanding, Understanding)
        ]  # without understanding they stay untagged for tag_pending
        if replace:
            for item in items:
                self.assigner.index.remove(item.article_id)
        await self.assigner.store(conn, items, now, replace=replace)

    async def save_outcome(self, outcome: FetchOutcome) -> None:
        health = outcome.health
        values: dict[str, object] = {
            "last_polled_at": outcome.polled_at,
            "next_poll_at": outcome.next_poll_at,
            "etag": outcome.etag,
            "last_modified": outcome.last_modified,
            "body_hash": outcome.body_hash,
            "ttl_minutes": outcome.ttl_minutes,
            "last_success_at": health.last_success_at,
            "last_error_at": health.last_error_at,
            "last_error": health.last_error,
            "consecutive_errors": health.consecutive_errors,
            "failing_since": health.failing_since,
            "broken": health.broken,
        }
        if outcome.feed_title:
            values["title"] = outcome.feed_title
        async with self.db.transaction() as conn:
            if outcome.feed_title:
                # Keep a title the operator gave; fill it in only when empty.
                current = await conn.scalar(
                    select(s.feeds.c.title).where(s.feeds.c.id == outcome.feed_id)
                )
                if current:
                    values.pop("title")
            await conn.execute(
                update(s.feeds).where(s.feeds.c.id == outcome.feed_id).values(**values)
            )
        if outcome.event is not None:
            log.warning("feed %s: %s (%s)", outcome.feed_id, outcome.event, health.last_error)


async def tag_pending(
    db: Database, analyzer: Analyzer, assigner: StoryAssigner, now: datetime, limit: int = 500
) -> int:
    """Tag articles stored without understanding (a failure, an edit, an older version)."""
    async with db.transaction() as conn:
        pending = await repo.pending_articles(conn, limit)
    if not pending:
        return 0
    understood = await asyncio.to_thread(
        lambda: [analyzer.understand(a.title, a.text) for a in pending]
    )
    items = [
        NewArticle(a.id, a.feed_id, a.canonical_url, a.published_at, u)
        for a, u in zip(pending, understood, strict=True)
    ]
    async with db.transaction() as conn:
        for a in pending:
            assigner.index.remove(a.id)
        await assigner.store(conn, items, now, replace=True)
    return len(items)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The operator's fetch limits from settings."""
    return FetchPolicy(
        user_agent=f"DistrictNewsBot/{__version__}",
        contact_url=settings.contact_url,
        broken_after=timedelta(hours=settings.feed_broken_after_hours),
        allowed_networks=tuple(ip_network(n, strict=False) for n in settings.feed_allowed_networks),
    )


async def ingest_file(
    store: DatabaseFeedStore, analyzer: Analyzer, feed_id: int, path: Path, now: datetime
) -> PollReport:
    """Store the articles of a feed saved on disk, as if just fetched (``newsbot ingest FILE``)."""
    body = await asyncio.to_thread(path.read_bytes)
    try:
        ingested = await asyncio.to_thread(ingest_body, body, None, path.as_uri(), now)
    except FeedError as exc:
        return PollReport(feed_id, path.as_uri(), PollStatus.ERROR, error=str(exc))
    known = await store.article_hashes(feed_id, [a.identity for a in ingested.articles])
    records = await asyncio.to_thread(
        lambda: [
            ArticleRecord(
                a,
                None
                if known.get(a.identity) == a.content_hash
                else understand_article(analyzer, a),
            )
            for a in ingested.articles
        ]
    )
    counts = await store.upsert_articles(feed_id, records, now)
    return PollReport(
        feed_id,
        path.as_uri(),
        PollStatus.OK,
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        skipped=ingested.skipped,
        warning=ingested.warning,
    )


def understand_article(analyzer: Analyzer, article: NormalizedArticle) -> Understanding:
    """The poller's ``understand`` callable (runs in a worker thread)."""
    return analyzer.understand(article.title, article.text)
