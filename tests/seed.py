"""Stored data for tests: residents with their subscriptions, feeds, and stories (articles
understood by the real analyzer, stored through the poller's store so they get their story,
tags and search text like in production)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import ArticleRecord
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.ingest import DatabaseFeedStore, StoryAssigner
from bot.storage import Database
from bot.storage import feeds as feeds_repo
from bot.storage import users as users_repo
from bot.storage.users import SubscriptionKind
from digests.understanding import get_analyzer

CITY = Binding(BindingKind.CITY)


async def store_articles(
    db: Database,
    now: datetime,
    items: Sequence[tuple[str, str, str]],
    *,
    feed_url: str = "https://mos.example/rss",
    binding: Binding = CITY,
) -> None:
    """Store articles (url, title, text) of one feed: published two hours before ``now``
    (a minute apart), fetched an hour before."""
    async with db.transaction() as conn:
        feed = await feeds_repo.add_feed(conn, FeedSource(feed_url, binding), now)
    store = DatabaseFeedStore(db, StoryAssigner())
    records = []
    for n, (url, title, text) in enumerate(items):
        article = NormalizedArticle(
            identity=url,
            url=url,
            title=title,
            text=text,
            published_at=now - timedelta(hours=2, minutes=n),
            image_url=None,
            categories=(),
            author=None,
            content_hash=f"h{n}",
        )
        records.append(ArticleRecord(article, get_analyzer("moscow").understand(title, text)))
    await store.upsert_articles(feed.id, records, now - timedelta(hours=1))


async def add_user(
    db: Database,
    now: datetime,
    uid: int,
    subs: Iterable[tuple[SubscriptionKind, str]] = (),
    *,
    language: str = "ru",
    paused: bool = False,
    active: bool = True,
    topics: Iterable[str] = (),
    created_days_ago: float = 0,
) -> None:
    """A resident (chat id = user id) following ``subs`` ((kind, slug) pairs)."""
    async with db.transaction() as conn:
        await users_repo.ensure_user(
            conn,
            uid,
            uid,
            now - timedelta(days=created_days_ago),
            users_repo.UserDefaults(language=language),
        )
        for kind, slug in subs:
            await users_repo.add_subscription(conn, uid, kind, slug, now)
        if topics:
            await users_repo.set_topics(conn, uid, topics)
        if paused:
            await users_repo.update_settings(conn, uid, now, paused=True)
        if not active:
            await users_repo.mark_inactive(conn, uid, "blocked", now)


async def add_feeds(db: Database, now: datetime, n: int) -> list[int]:
    """``n`` city-wide feeds F0, F1... at https://example<i>.ru/rss; their ids."""
    ids = []
    async with db.transaction() as conn:
        for i in range(n):
            source = FeedSource(url=f"https://example{i}.ru/rss", binding=CITY, name=f"F{i}")
            ids.append((await feeds_repo.add_feed(conn, source, now, origin="file")).id)
    return ids
