"""Understanding at ingest: the poller's ``understand`` callables, and :func:`tag_pending`
for articles stored without understanding (a failure, an edit, an older version)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.feeds.normalize import NormalizedArticle
from bot.ingest.stories import NewArticle, StoryAssigner
from bot.storage import Database
from bot.storage import articles as repo
from digests.understanding import Analyzer, Understanding, get_analyzer

__all__ = ["tag_pending", "understand_article", "understand_in_worker"]


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


def understand_article(analyzer: Analyzer, article: NormalizedArticle) -> Understanding:
    """The poller's ``understand`` callable (runs in a worker thread)."""
    return analyzer.understand(article.title, article.text)


def understand_in_worker(city: str, article: NormalizedArticle) -> Understanding:
    """The poller's ``understand`` for worker processes, as ``partial(understand_in_worker,
    city)``: picklable, and the analyzer of the region is the worker's own, created on first
    use (:func:`get_analyzer`)."""
    return get_analyzer(city).understand(article.title, article.text)
