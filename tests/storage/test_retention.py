from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from bot.storage import Database, schema
from bot.storage.retention import purge

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def test_purge_keeps_recent_data_and_queued_messages(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        await conn.execute(insert(schema.feeds).values(id=1, url="https://p.example/rss"))
        await conn.execute(
            insert(schema.users).values(id=1, chat_id=1, created_at=NOW, updated_at=NOW)
        )
        for n, age in ((1, 90), (2, 10), (3, 1)):
            when = NOW - timedelta(days=age)
            await conn.execute(
                insert(schema.stories).values(
                    id=n,
                    representative_article_id=n,
                    first_published_at=when,
                    last_article_at=when,
                    created_at=when,
                )
            )
            await conn.execute(
                insert(schema.articles).values(
                    id=n,
                    feed_id=1,
                    identity=f"g{n}",
                    url="u",
                    canonical_url="u",
                    title="t",
                    content_hash="h",
                    published_at=when,
                    fetched_at=when,
                    story_id=n,
                    signature=b"sig",
                )
            )
        old = NOW - timedelta(days=90)
        for n, state in ((1, "sent"), (2, "queued")):
            await conn.execute(
                insert(schema.outbox).values(
                    id=n,
                    idempotency_key=f"k{n}",
                    chat_id=1,
                    user_id=1,
                    kind="digest",
                    payload={},
                    state=state,
                    not_before=old,
                    created_at=old,
                )
            )
        report = await purge(conn, NOW, keep_days=60)
        assert (report.articles, report.stories, report.outbox) == (1, 1, 1)
        remaining = (
            await conn.execute(
                select(schema.articles.c.id, schema.articles.c.signature).order_by(
                    schema.articles.c.id
                )
            )
        ).all()
        # Signatures outlive the 72 h clustering window only briefly.
        assert [(r[0], r[1]) for r in remaining] == [(2, None), (3, b"sig")]
        assert await conn.scalar(select(func.count()).select_from(schema.outbox)) == 1  # queued
