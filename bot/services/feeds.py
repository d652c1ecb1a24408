"""Feeds as operators and admins manage them: the list with each feed's health and
articles per day, adding (checked first: fetched once with the poller's own fetcher and
parser), pausing, resuming, polling now, removing, and the feeds file for the command line.

Admin actions are audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from bot import __version__
from bot.clock import Clock
from bot.config import Settings
from bot.feeds.errors import BlockedAddressError, FeedError, HTTPStatusError, ParseError
from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.poller import IngestedFeed, ingest_body
from bot.feeds.sources import Binding, FeedSource, load_sources
from bot.feeds.workers import BudgetExceededError, CpuRunner, ExecutorRunner
from bot.storage import Database
from bot.storage import admin as admin_repo
from bot.storage import feeds as repo
from bot.storage.feeds import Feed, Origin, SyncReport
from digests.region import Region

__all__ = [
    "AddedFeed",
    "Feed",
    "FeedAction",
    "FeedCheck",
    "FeedProblem",
    "FeedService",
    "FeedStatus",
    "SyncReport",
    "check_feed",
    "fetch_policy",
]

log = logging.getLogger(__name__)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The operator's fetch limits from settings."""
    return FetchPolicy(
        user_agent=f"DistrictNewsBot/{__version__}",
        contact_url=settings.contact_url,
        broken_after=timedelta(hours=settings.feed_broken_after_hours),
        allowed_networks=settings.allowed_networks,
    )


class FeedProblem(StrEnum):
    """Why a candidate feed is refused."""

    NOT_HTTP = "not_http"  # not an http(s) address
    BLOCKED = "blocked"  # a private or otherwise forbidden address
    HTTP_STATUS = "http_status"  # the server answered with an error status
    UNREACHABLE = "unreachable"  # could not be downloaded
    EMPTY = "empty"  # no content
    NOT_A_FEED = "not_a_feed"  # not RSS or Atom (a web page?)
    NO_ITEMS = "no_items"  # a feed without news items
    STOPPED = "stopped"  # parsing went over its time or memory budget
    UNREADABLE = "unreadable"  # parsing failed in a way nobody foresaw (a bug)


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """The parsed feed, or the problem (with the error's own words in ``detail``)."""

    ingested: IngestedFeed | None
    problem: FeedProblem | None = None
    detail: str = ""


async def check_feed(
    url: str, settings: Settings, now: datetime, workers: CpuRunner | None = None
) -> FeedCheck:
    """Fetch and parse ``url`` (real network, within the operator's fetch policy); parsing
    runs in ``workers`` (the bot's worker pool, with its time and memory budget)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return FeedCheck(None, FeedProblem.NOT_HTTP)
    try:
        async with Fetcher(fetch_policy(settings)) as fetcher:
            result = await fetcher.fetch(url)
    except BlockedAddressError as exc:
        return FeedCheck(None, FeedProblem.BLOCKED, str(exc))
    except HTTPStatusError as exc:
        return FeedCheck(None, FeedProblem.HTTP_STATUS, str(exc))
    except FeedError as exc:
        return FeedCheck(None, FeedProblem.UNREACHABLE, str(exc))
    if result.body is None:
        return FeedCheck(None, FeedProblem.EMPTY)
    runner = workers or ExecutorRunner()
    try:
        ingested = await runner.run(
            ingest_body, result.body, result.charset, result.url, now, what="parsing"
        )
    except BudgetExceededError as exc:
        return FeedCheck(None, FeedProblem.STOPPED, str(exc))
    except ParseError as exc:
        return FeedCheck(None, FeedProblem.NOT_A_FEED, str(exc))
    except Exception as exc:  # a bug: the admin still gets the reason, not a generic error
        log.exception("checking feed %s failed", url)
        return FeedCheck(None, FeedProblem.UNREADABLE, f"{type(exc).__name__}: {exc}")
    if not ingested.articles:
        return FeedCheck(None, FeedProblem.NO_ITEMS)
    return FeedCheck(ingested)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    feed: Feed
    articles_per_day: float  # fetched per day over the last week


class FeedAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    POLL = "poll"  # due at the next poll cycle
    REMOVE = "remove"  # with all its articles


@dataclass(frozen=True, slots=True)
class AddedFeed:
    """The feed added, or why not; ``titles`` are the first items found."""

    feed: Feed | None
    check: FeedCheck
    titles: tuple[str, ...] = ()
    items: int = 0


class FeedService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        region: Region,
        parse_workers: CpuRunner | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.region = region  # feed bindings name its okrugs and districts
        self.parse_workers = parse_workers  # None: a thread, without the budget

    async def statuses(self) -> list[FeedStatus]:
        """Every feed, in the order they were added."""
        async with self.db.transaction() as conn:
            feeds = await repo.list_feeds(conn)
            per_day = await repo.articles_per_day(conn, self.clock.now())
        return [FeedStatus(f, per_day.get(f.id, 0.0)) for f in feeds]

    async def status(self, feed_id: int) -> FeedStatus | None:
        async with self.db.transaction() as conn:
            feed = await repo.get_feed(conn, feed_id)
            per_day = await repo.articles_per_day(conn, self.clock.now())
        return FeedStatus(feed, per_day.get(feed.id, 0.0)) if feed is not None else None

    async def listed(self, url: str) -> Feed | None:
        """The enabled feed with this address, if any."""
        async with self.db.transaction() as conn:
            feed = await repo.get_feed_by_url(conn, url)
        return feed if feed is not None and feed.enabled else None

    async def add(self, url: str, binding: Binding, admin_id: int, samples: int = 5) -> AddedFeed:
        """Check ``url`` by fetching it, then add it (audited either way)."""
        now = self.clock.now()
        check = await check_feed(url, self.settings, now, self.parse_workers)
        if check.ingested is None:
            reason = check.problem.value if check.problem else ""
            async with self.db.transaction() as conn:
                await admin_repo.audit(
                    conn, admin_id, "feed.add_refused", now, url=url, reason=reason
                )
            return AddedFeed(None, check)
        articles = check.ingested.articles
        source = FeedSource(url=url, binding=binding, name=check.ingested.title or url)
        async with self.db.transaction() as conn:
            feed = await repo.add_feed(conn, source, now, origin="admin")
            await admin_repo.audit(
                conn, admin_id, "feed.add", now, feed_id=feed.id, url=url, binding=str(binding)
            )
        return AddedFeed(feed, check, tuple(a.title for a in articles[:samples]), len(articles))

    async def change(self, feed_id: int, action: FeedAction, admin_id: int) -> Feed | None:
        """Apply an admin's action (audited); the feed as it was, or None if there is none."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            feed = await repo.get_feed(conn, feed_id)
            if feed is None:
                return None
            if action is FeedAction.PAUSE:
                await repo.set_enabled(conn, feed_id, False, now)
            elif action is FeedAction.RESUME:
                await repo.set_enabled(conn, feed_id, True, now)
            elif action is FeedAction.POLL:
                await repo.poll_now(conn, feed_id, now)
            else:
                await repo.remove_feed(conn, feed_id)
            await admin_repo.audit(
                conn, admin_id, f"feed.{action.value}", now, feed_id=feed_id, url=feed.url
            )
        return feed

    async def sync_file(self) -> SyncReport:
        """Make the feeds from the feeds file (``FEEDS_FILE``) match it."""
        sources = load_sources(self.settings.feeds_file, self.region)
        async with self.db.transaction() as conn:
            return await repo.sync_sources(conn, sources, self.clock.now())

    async def register(self, source: FeedSource, origin: Origin) -> Feed:
        """Add a feed as it is (no check), or re-enable and update the one with its URL."""
        async with self.db.transaction() as conn:
            return await repo.add_feed(conn, source, self.clock.now(), origin=origin)

    async def import_sources(self, sources: Sequence[FeedSource], origin: Origin) -> int:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            for source in sources:
                await repo.add_feed(conn, source, now, origin=origin)
        return len(sources)

    async def enabled_sources(self) -> list[FeedSource]:
        async with self.db.transaction() as conn:
            return [f.source() for f in await repo.list_feeds(conn, enabled_only=True)]
