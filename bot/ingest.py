"""Feeds → articles → stories, on the database side.

:class:`DatabaseFeedStore` is the :class:`bot.feeds.poller.FeedStore` the poller writes to:
articles, their understanding and their story are stored in one transaction per feed poll.
:class:`StoryAssigner` keeps the in-memory story index (rebuilt from stored signatures at
start-up). :func:`tag_pending` is the follow-up for articles stored without understanding.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

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
from bot.storage import feeds as feeds_repo
from digests.stories import StoryFeatures, StoryIndex
from digests.understanding import Analyzer, Understanding, get_analyzer

__all__ = [
    "DatabaseFeedStore",
    "NewArticle",
    "StoryAssigner",
    "fetch_policy",
    "ingest_file",
    "tag_pending",
    "understand_article",
    "understand_default",
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


class _Pause:
    """Yields to the event loop when a synchronous stretch has run for ``budget`` seconds.

    Story matching costs up to a millisecond per article against a full index; a batch of
    100 must not hold the loop for longer than one budget at a time. The index must not change
    under a paused batch: :class:`DatabaseFeedStore` holds its lock around it, and
    :func:`tag_pending` runs between poll cycles.
    """

    def __init__(self, budget: float = 0.005) -> None:
        self.budget = budget
        self.since = time.perf_counter()

    async def maybe(self) -> None:
        if time.perf_counter() - self.since >= self.budget:
            await asyncio.sleep(0)
            self.since = time.perf_counter()


class StoryAssigner:
    """Groups articles into stories with a :class:`StoryIndex` kept in step with the DB."""

    def __init__(self, index: StoryIndex | None = None) -> None:
        self.index = index or StoryIndex()
        self._uncommitted: list[int] = []
        self._exclusive = asyncio.Lock()  # one transaction at a time touches the index

    @asynccontextmanager
    async def transaction(self, db: Database) -> AsyncIterator[AsyncConnection]:
        """A database transaction whose story assignments leave the index if it rolls back
        (its article ids may later be given to other articles)."""
        async with self._exclusive:
            self._uncommitted = []
            try:
                async with db.transaction() as conn:
                    yield conn
            except BaseException:
                for article_id in self._uncommitted:
                    self.index.remove(article_id)
                raise
            finally:
                self._uncommitted = []

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
        """Assign each article to a story (new or existing) and save its tags.

        Run it inside :meth:`transaction`, so that the index follows the database if the
        transaction rolls back.
        """
        self._uncommitted.extend(item.article_id for item in items)
        provisional: dict[int, list[NewArticle]] = {}
        chosen: dict[int, int] = {}  # article id -> story id (negative: not created yet)
        pause = _Pause()
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
            await pause.maybe()
        real_ids = await repo.create_stories(
            conn,
            [(members[0].article_id, members[0].published_at) for members in provisional.values()],
            now,
        )
        renamed = dict(zip(provisional, real_ids, strict=True))
        for temp_id, real_id in renamed.items():
            self.index.rename_story(temp_id, real_id)
        touched: dict[int, datetime] = {}
        for item in items:
            story_id = renamed.get(chosen[item.article_id], chosen[item.article_id])
            chosen[item.article_id] = story_id
            touched[story_id] = max(touched.get(story_id, item.published_at), item.published_at)
        await repo.update_stories(
            conn,
            [
                (story_id, representative, max(1, len(self.index.sources(story_id))), latest)
                for story_id, latest in touched.items()
                if (representative := self.index.representative(story_id)) is not None
            ],
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
    async with assigner.transaction(db) as conn:
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


def understand_default(article: NormalizedArticle) -> Understanding:
    """The poller's ``understand`` for worker processes: picklable (module-level), and the
    analyzer is the worker's own, created on first use (:func:`get_analyzer`)."""
    return get_analyzer().understand(article.title, article.text)
