"""The poller: fetch due feeds, parse off the event loop, and hand articles to a store.

Storage is behind the small :class:`FeedStore` protocol so the poller does not know about the
database. Per poll the poller calls, in order: ``article_hashes`` (to learn which articles are
new or changed, so only those go through the expensive ``understand`` step),
``upsert_articles``, then ``save_outcome`` (fetch state, health, next poll time).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Protocol

from bot.feeds.clean import clean_title
from bot.feeds.errors import FeedError, HTTPStatusError, ParseError
from bot.feeds.fetch import Fetcher, FetchPolicy, FetchResult
from bot.feeds.normalize import NormalizedArticle, normalize_entry
from bot.feeds.parse import parse_feed_bytes
from bot.feeds.schedule import (
    FeedHealth,
    HealthEvent,
    after_error,
    after_success,
    backoff_delay,
    success_interval,
)
from bot.feeds.workers import BudgetExceededError, CpuRunner, ExecutorRunner

__all__ = [
    "ArticleRecord",
    "FeedState",
    "FeedStore",
    "FetchOutcome",
    "IngestedFeed",
    "PollReport",
    "PollStatus",
    "Poller",
    "Understand",
    "UpsertResult",
    "ingest_body",
    "warm_worker",
]

log = logging.getLogger(__name__)

Understand = Callable[[NormalizedArticle], object]
MAX_FEED_TITLE_CHARS = 200
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class PollStatus(StrEnum):
    OK = "ok"  # body parsed and articles stored
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # 200 with the same body as last time: not parsed
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed due for polling, with what the store remembers about its last fetch."""

    feed_id: int
    url: str
    poll_interval: timedelta
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 of the last parsed body
    ttl_minutes: int | None = None  # the feed's <ttl> as last seen
    health: FeedHealth = field(default_factory=FeedHealth)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What to save after one poll. On errors the fetch-state fields keep their old values."""

    feed_id: int
    polled_at: datetime
    status: PollStatus
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    ttl_minutes: int | None
    health: FeedHealth
    event: HealthEvent | None  # BROKEN / RECOVERED transition: notify admins once
    http_status: int | None = None
    final_url: str | None = None  # after redirects (the store may log permanent moves)
    feed_title: str | None = None
    warning: str | None = None  # recoverable parse problem (bozo) that still yielded entries


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An article to upsert. ``understanding`` is set for articles the poller found new or
    changed (by content hash); it is None for articles whose hash the store already has."""

    article: NormalizedArticle
    understanding: object | None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class FeedStore(Protocol):
    """Storage the poller needs; the database layer implements it."""

    async def due_feeds(self, now: datetime, limit: int | None = None) -> Sequence[FeedState]:
        """Enabled feeds whose next poll time is at or before ``now`` (never polled: due)."""
        ...

    async def article_hashes(self, feed_id: int, identities: Sequence[str]) -> Mapping[str, str]:
        """identity -> stored content_hash, for those of ``identities`` already stored."""
        ...

    async def upsert_articles(
        self, feed_id: int, articles: Sequence[ArticleRecord], seen_at: datetime
    ) -> UpsertResult:
        """Insert new identities, update those whose content_hash changed (title, text,
        understanding, ...), leave the rest; identities are unique per feed."""
        ...

    async def save_outcome(self, outcome: FetchOutcome) -> None:
        """Persist fetch state, health and next poll time; record ``event`` for admins."""
        ...


@dataclass(frozen=True, slots=True)
class PollReport:
    feed_id: int
    url: str
    status: PollStatus
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # entries with nothing usable, or whose understanding failed
    error: str | None = None
    event: HealthEvent | None = None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class IngestedFeed:
    title: str
    ttl_minutes: int | None
    warning: str | None
    articles: tuple[NormalizedArticle, ...]
    skipped: int


def ingest_body(
    body: bytes,
    charset: str | None,
    base_url: str,
    fetched_at: datetime,
    local_tz: tzinfo = UTC,
) -> IngestedFeed:
    """Parse and normalize one feed body; dates without a zone are in ``local_tz`` (the
    region's). CPU-bound and picklable: runs in a worker thread or process. Raises ParseError
    only."""
    parsed = parse_feed_bytes(body, charset)
    articles: list[NormalizedArticle] = []
    seen: set[str] = set()
    skipped = 0
    for entry in parsed.entries:
        try:
            article = normalize_entry(
                entry, fetched_at=fetched_at, base_url=base_url, local_tz=local_tz
            )
        except Exception:  # one odd entry must not lose the rest
            log.debug("cannot normalize an entry of %s", base_url, exc_info=True)
            article = None
        if article is None or article.identity in seen:
            skipped += 1
            continue
        seen.add(article.identity)
        articles.append(article)
    title = clean_title(parsed.title)[:MAX_FEED_TITLE_CHARS]
    return IngestedFeed(title, parsed.ttl_minutes, parsed.warning, tuple(articles), skipped)


def _understand_all(
    understand: Understand, articles: Sequence[NormalizedArticle]
) -> list[tuple[object, bool]]:
    """(understanding, ok) per article, in order. Picklable: may run in a worker process, so
    it returns no copy of the articles."""
    out: list[tuple[object, bool]] = []
    for a in articles:
        try:
            out.append((understand(a), True))
        except Exception:
            log.exception("understand() failed for %s", a.url or a.identity)
            out.append((None, False))
    return out


_WARM_UP_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>w</title>'
    b"<item><title>w</title><link>https://warm.up/1</link><description>&lt;p&gt;w&lt;/p&gt;"
    b"</description><pubDate>Mon, 06 Jan 2025 10:00:00 +0300</pubDate></item></channel></rss>"
)


def _no_understanding(_article: NormalizedArticle) -> object:
    return None


def warm_worker(understand: Understand | None = None) -> None:
    """A worker's initializer: parse a tiny feed (feedparser's lazy imports) and, with
    ``understand``, understand its article (loads the analyzer)."""
    ingested = ingest_body(_WARM_UP_FEED, None, "https://warm.up/", datetime.now(UTC))
    if understand is not None:
        _understand_all(understand, ingested.articles)


class Poller:
    """Polls feeds through a :class:`Fetcher` and stores results in a :class:`FeedStore`.

    ``executor`` runs parsing: a :class:`~bot.feeds.workers.WorkerPool` (worker processes with
    a time and memory budget per call: the bot's wiring), any ``concurrent.futures`` executor,
    or None for the loop's default thread pool (no budget). ``parse_concurrency`` bounds parses
    in flight - threads share the GIL, so more than the number of CPU-bound workers only adds
    latency to the event loop.

    ``understand`` runs in a worker thread of this process by default. With
    ``understand_in_executor`` it runs in ``executor`` too: with a ``ProcessPoolExecutor``
    that keeps its CPU work (and the GIL) out of the event loop's process entirely, but then
    ``understand`` and its results must be picklable (a module-level function, or a
    ``functools.partial`` of one, that builds its heavy state lazily once per worker).

    ``local_tz``: the zone of feed dates written without one (the region's time zone).
    """

    def __init__(
        self,
        store: FeedStore,
        fetcher: Fetcher,
        *,
        understand: Understand | None = None,
        policy: FetchPolicy | None = None,
        executor: Executor | CpuRunner | None = None,
        parse_concurrency: int = 1,
        clock: Callable[[], datetime] | None = None,
        understand_in_executor: bool = False,
        local_tz: tzinfo = UTC,
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._understand = understand or _no_understanding
        self._policy = policy or fetcher.policy
        self._runner: CpuRunner = (
            ExecutorRunner(executor)
            if executor is None or isinstance(executor, Executor)
            else executor
        )
        self._parse_slots = asyncio.Semaphore(parse_concurrency)
        self._understand_in_executor = understand_in_executor
        # In threads understanding competes for the GIL: one batch at a time. In worker
        # processes as many batches as parses.
        self._understand_slots = asyncio.Semaphore(
            parse_concurrency if understand_in_executor else 1
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self._local_tz = local_tz

    async def warm_up(self) -> None:
        """Parse a tiny feed in the executor once: starts worker processes and triggers
        feedparser's lazy imports there, instead of during the first real (busy) cycle. With
        ``understand_in_executor`` its one article is understood there too (loads the model)."""
        ingested = await self._runner.run(
            ingest_body, _WARM_UP_FEED, None, "https://warm.up/", self._clock(), what="warm-up"
        )
        if self._understand_in_executor:  # load the analyzer there too
            await self._runner.run(
                _understand_all, self._understand, ingested.articles, what="warm-up"
            )

    async def poll_due(
        self, now: datetime | None = None, limit: int | None = None
    ) -> list[PollReport]:
        """Poll every due feed concurrently (bounded by the fetcher's limits)."""
        now = now or self._clock()
        feeds = await self._store.due_feeds(now, limit)
        return list(await asyncio.gather(*(self.poll_one(f, now) for f in feeds)))

    async def poll_one(self, feed: FeedState, now: datetime | None = None) -> PollReport:
        """Poll one feed. Never raises (except cancellation): failures go to its health."""
        now = now or self._clock()
        try:
            return await self._poll(feed, now)
        except FeedError as exc:
            return await self._fail(feed, now, exc)
        except Exception as exc:  # a bug or a store failure: record it, keep the loop alive
            log.exception("polling feed %s (%s) failed", feed.feed_id, feed.url)
            return await self._fail(feed, now, exc, internal=True)

    async def _poll(self, feed: FeedState, now: datetime) -> PollReport:
        result = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        if result.body is None or result.body_hash == feed.body_hash:
            status = PollStatus.NOT_MODIFIED if result.body is None else PollStatus.UNCHANGED
            event = await self._succeed(feed, now, result, status, feed.ttl_minutes, feed.body_hash)
            return PollReport(feed.feed_id, feed.url, status, event=event)

        async with self._parse_slots:
            ingested = await self._runner.run(
                ingest_body,
                result.body,
                result.charset,
                result.url,
                now,
                self._local_tz,
                what="parsing",
            )
        articles = ingested.articles
        known = await self._store.article_hashes(feed.feed_id, [a.identity for a in articles])
        changed = [a for a in articles if known.get(a.identity) != a.content_hash]
        understood: list[tuple[object, bool]] = []
        if changed:
            async with self._understand_slots:
                if self._understand_in_executor:
                    understood = await self._runner.run(
                        _understand_all, self._understand, changed, what="understanding"
                    )
                else:
                    understood = await asyncio.to_thread(_understand_all, self._understand, changed)
        results = list(zip(changed, understood, strict=True))
        failed = {a.identity for a, (_, ok) in results if not ok}
        by_id = {a.identity: u for a, (u, ok) in results if ok}
        records = [
            ArticleRecord(a, by_id.get(a.identity)) for a in articles if a.identity not in failed
        ]
        counts = await self._store.upsert_articles(feed.feed_id, records, now)
        # If understanding failed for some articles, forget the body hash so they are retried.
        body_hash = result.body_hash if not failed else None
        event = await self._succeed(
            feed,
            now,
            result,
            PollStatus.OK,
            ingested.ttl_minutes,
            body_hash,
            feed_title=ingested.title,
            warning=ingested.warning,
        )
        return PollReport(
            feed.feed_id,
            feed.url,
            PollStatus.OK,
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
            skipped=ingested.skipped + len(failed),
            event=event,
            warning=ingested.warning,
        )

    async def _succeed(
        self,
        feed: FeedState,
        now: datetime,
        result: FetchResult,
        status: PollStatus,
        ttl_minutes: int | None,
        body_hash: str | None,
        *,
        feed_title: str | None = None,
        warning: str | None = None,
    ) -> HealthEvent | None:
        p = self._policy
        health, event = after_success(feed.health, now)
        interval = success_interval(
            feed.poll_interval,
            min_interval=p.min_interval,
            max_interval=p.max_interval,
            max_age=result.max_age,
            ttl_minutes=ttl_minutes,
        )
        await self._store.save_outcome(
            FetchOutcome(
                feed_id=feed.feed_id,
                polled_at=now,
                status=status,
                next_poll_at=now + interval,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=body_hash,
                ttl_minutes=ttl_minutes,
                health=health,
                event=event,
                http_status=result.status,
                final_url=result.url,
                feed_title=feed_title,
                warning=warning,
            )
        )
        if event is not None:
            log.warning("feed %s (%s) recovered", feed.feed_id, feed.url)
        return event

    async def _fail(
        self, feed: FeedState, now: datetime, exc: Exception, *, internal: bool = False
    ) -> PollReport:
        p = self._policy
        # Error texts may quote the feed: no control characters in what admins read (and
        # PostgreSQL refuses NUL).
        text = _CONTROL_CHARS.sub(" ", str(exc)) or type(exc).__name__
        if internal:
            text = f"internal error: {type(exc).__name__}: {text}"
        elif isinstance(exc, BudgetExceededError):
            text = f"{text}; stopped, the worker was replaced"
        elif isinstance(exc, ParseError):
            text = f"parse error: {text}"
        health, event = after_error(feed.health, now, text, broken_after=p.broken_after)
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        delay = backoff_delay(
            health.consecutive_errors,
            feed.poll_interval,
            min_interval=p.min_interval,
            max_backoff=p.max_backoff,
            retry_after=retry_after,
        )
        outcome = FetchOutcome(
            feed_id=feed.feed_id,
            polled_at=now,
            status=PollStatus.ERROR,
            next_poll_at=now + delay,
            etag=feed.etag,
            last_modified=feed.last_modified,
            body_hash=feed.body_hash,
            ttl_minutes=feed.ttl_minutes,
            health=health,
            event=event,
            http_status=exc.status if isinstance(exc, HTTPStatusError) else None,
        )
        try:
            await self._store.save_outcome(outcome)
        except Exception:
            log.exception("cannot save the outcome of feed %s", feed.feed_id)
        if event is HealthEvent.BROKEN:
            log.warning("feed %s (%s) is broken: %s", feed.feed_id, feed.url, text)
        else:
            log.info("feed %s (%s) failed: %s", feed.feed_id, feed.url, text)
        return PollReport(feed.feed_id, feed.url, PollStatus.ERROR, error=text, event=event)
