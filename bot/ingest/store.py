"""Feeds → articles: :class:`DatabaseFeedStore` is the :class:`bot.feeds.poller.FeedStore`
the poller writes to. Articles, their understanding and their story are stored in one
transaction per feed poll; poll outcomes are batched. :func:`ingest_file` stores a feed saved
on disk the same way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.feeds.errors import FeedError
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
from bot.ingest.stories import NewArticle, StoryAssigner
from bot.ingest.understanding import understand_article
from bot.storage import Database
from bot.storage import articles as repo
from bot.storage import feeds as feeds_repo
from digests.understanding import Analyzer, Understanding

__all__ = ["DatabaseFeedStore", "ingest_file"]

log = logging.getLogger(__name__)


class DatabaseFeedStore:
    """The poller's storage, over the database (implements ``FeedStore``)."""

    def __init__(self, db: Database, assigner: StoryAssigner) -> None:
        self.db = db
        self.assigner = assigner
        # Story assignment must see one batch at a time: the index is shared state. Every
        # write transaction of the store takes it too.
        self._lock = asyncio.Lock()
        self._outcomes: list[tuple[FetchOutcome, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def due_feeds(self, now: datetime, limit: int | None = None) -> Sequence[FeedState]:
        async with self.db.transaction() as conn:
            feeds = await feeds_repo.due_feeds(conn, now, limit)
        return [
            FeedState(
                feed_id=f.id,
                url=f.url,
                poll_interval=f.poll_interval,
                etag=f.etag,
                last_modified=f.last_modified,
                body_hash=f.body_hash,
                ttl_minutes=f.ttl_minutes,
                health=FeedHealth(
                    last_success_at=f.last_success_at,
                    last_error_at=f.last_error_at,
                    last_error=f.last_error,
                    consecutive_errors=f.consecutive_errors,
                    failing_since=f.failing_since,
                    broken=f.broken,
                ),
            )
            for f in feeds
        ]

    async def article_hashes(self, feed_id: int, identities: Sequence[str]) -> Mapping[str, str]:
        async with self.db.transaction() as conn:
            found = await repo.existing_articles(conn, feed_id, list(identities))
        return {identity: stored.content_hash for identity, stored in found.items()}

    async def upsert_articles(
        self, feed_id: int, articles: Sequence[ArticleRecord], seen_at: datetime
    ) -> UpsertResult:
        async with self._lock, self.assigner.transaction(self.db) as conn:
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
        """Persist one poll's outcome; returns once it is committed.

        Outcomes that arrive while a write is in progress are committed together by one
        executemany UPDATE (a steady-state cycle is ~200 of them, nearly all 304s).
        """
        done = asyncio.get_running_loop().create_future()
        self._outcomes.append((outcome, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_outcomes())
        await done
        if outcome.event is not None:
            health = outcome.health
            log.warning("feed %s: %s (%s)", outcome.feed_id, outcome.event, health.last_error)

    async def _flush_outcomes(self) -> None:
        while self._outcomes:
            # Writes go one at a time through the store's lock: concurrent SQLite writers only
            # wait on each other's file lock (unfairly: one could starve past busy_timeout).
            async with self._lock:
                batch, self._outcomes = self._outcomes, []
                try:
                    async with self.db.transaction() as conn:
                        await feeds_repo.save_outcomes(conn, [outcome for outcome, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)


async def ingest_file(
    store: DatabaseFeedStore, analyzer: Analyzer, feed_id: int, path: Path, now: datetime
) -> PollReport:
    """Store the articles of a feed saved on disk, as if just fetched (``newsbot ingest FILE``)."""
    body = await asyncio.to_thread(path.read_bytes)
    try:
        local_tz = ZoneInfo(analyzer.region.timezone)
        ingested = await asyncio.to_thread(ingest_body, body, None, path.as_uri(), now, local_tz)
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
