"""Stored stories for tests: articles understood by the real analyzer, stored through the
poller's store (so they get their story, tags and search text like in production)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import ArticleRecord
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.ingest import DatabaseFeedStore, StoryAssigner
from bot.storage import Database
from bot.storage import feeds as feeds_repo
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
        records.append(ArticleRecord(article, get_analyzer().understand(title, text)))
    await store.upsert_articles(feed.id, records, now - timedelta(hours=1))
