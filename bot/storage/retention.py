"""Forgetting old data: articles, finished outbox rows, digest records and audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import schema as s

__all__ = ["PurgeReport", "purge"]

FINISHED = ("sent", "failed", "dropped")
SIGNATURE_DAYS = timedelta(days=4)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    articles: int
    stories: int
    outbox: int
    digests: int


async def purge(conn: AsyncConnection, now: datetime, keep_days: int) -> PurgeReport:
    """Delete what is older than ``keep_days``; queued messages are never deleted."""
    cutoff = now - timedelta(days=keep_days)
    # Story signatures only matter inside the clustering window (72 h); drop them after.
    await conn.execute(
        update(s.articles)
        .where(
            s.articles.c.published_at < now - SIGNATURE_DAYS, s.articles.c.signature.is_not(None)
        )
        .values(signature=None)
    )
    articles = await conn.execute(delete(s.articles).where(s.articles.c.published_at < cutoff))
    orphans = await conn.execute(
        delete(s.stories).where(
            s.stories.c.last_article_at < cutoff,
            ~s.stories.c.id.in_(
                select(s.articles.c.story_id).where(s.articles.c.story_id.is_not(None))
            ),
        )
    )
    outbox = await conn.execute(
        delete(s.outbox).where(s.outbox.c.state.in_(FINISHED), s.outbox.c.created_at < cutoff)
    )
    digests = await conn.execute(delete(s.digests).where(s.digests.c.created_at < cutoff))
    await conn.execute(
        delete(s.audit_log).where(s.audit_log.c.created_at < cutoff - timedelta(days=keep_days))
    )  # the audit trail is kept twice as long
    return PurgeReport(articles.rowcount, orphans.rowcount, outbox.rowcount, digests.rowcount)
