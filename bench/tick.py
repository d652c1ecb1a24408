"""The digest tick on a real database: 100,000 users due at 08:00, 5,000 stored stories.

Prints the time to queue every digest, the number of SQL statements executed (to show it
does not grow with the number of users) and how many messages were queued.

    python -m bench.tick [--users N] [--stories N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select

from bot.scheduling.digest_tick import run_digest_tick
from bot.storage import Database, schema
from digests.region import load_region
from digests.understanding import TOPICS

MORNING = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # 08:00 in Moscow


async def seed(db: Database, users: int, stories: int, rng: random.Random) -> None:
    region = load_region("moscow")
    districts = [d.slug for d in region.districts]
    popular = districts[:30]
    stored = MORNING - timedelta(hours=12)
    async with db.transaction() as conn:
        await conn.execute(insert(schema.feeds).values(id=1, url="https://mos.example/rss"))
        await conn.execute(
            insert(schema.stories),
            [
                {
                    "id": n,
                    "representative_article_id": n,
                    "first_published_at": stored,
                    "last_article_at": stored,
                    "created_at": stored + timedelta(seconds=n),
                }
                for n in range(1, stories + 1)
            ],
        )
        await conn.execute(
            insert(schema.articles),
            [
                {
                    "id": n,
                    "feed_id": 1,
                    "identity": f"g{n}",
                    "url": f"https://mos.example/{n}",
                    "canonical_url": f"https://mos.example/{n}",
                    "title": f"Новость {n}",
                    "summary": "Короткий лид новости.",
                    "content_hash": "h",
                    "published_at": stored,
                    "fetched_at": stored,
                    "story_id": n,
                    "tagged_at": stored,
                }
                for n in range(1, stories + 1)
            ],
        )
        await conn.execute(
            insert(schema.article_districts),
            [{"article_id": n, "district": rng.choice(districts)} for n in range(1, stories + 1)],
        )
        await conn.execute(
            insert(schema.article_topics),
            [{"article_id": n, "topic": rng.choice(TOPICS)} for n in range(1, stories + 1)],
        )
        await conn.execute(
            insert(schema.users),
            [
                {
                    "id": uid,
                    "chat_id": uid,
                    "language": "ru" if uid % 5 else "en",
                    "next_delivery_at": MORNING,
                    "created_at": stored,
                    "updated_at": stored,
                }
                for uid in range(1, users + 1)
            ],
        )
        subscriptions = []
        topics = []
        for uid in range(1, users + 1):
            pool = popular if rng.random() < 0.8 else districts
            for slug in set(rng.choices(pool, k=rng.choice((1, 1, 2, 3)))):
                subscriptions.append(
                    {"user_id": uid, "kind": "district", "slug": slug, "created_at": stored}
                )
            if rng.random() < 0.3:
                topics += [{"user_id": uid, "topic": t} for t in rng.sample(TOPICS, 3)]
        await conn.execute(insert(schema.subscriptions), subscriptions)
        await conn.execute(insert(schema.topic_subscriptions), topics)


async def main(users: int, stories: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(url or f"sqlite+aiosqlite:///{Path(folder) / 'tick.sqlite3'}")
        await db.upgrade()
        t = time.perf_counter()
        await seed(db, users, stories, random.Random(7))
        print(f"seeded {users:,} users and {stories:,} stories in {time.perf_counter() - t:.1f} s")

        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        t = time.perf_counter()
        ticks = due = built = queued = 0
        now = MORNING
        while True:
            report = await run_digest_tick(db, now, region=load_region("moscow"))
            if not report.due:
                break
            ticks += 1
            due += report.due
            built += report.digests_built
            queued += report.messages_queued
            now += timedelta(minutes=1)
        elapsed = time.perf_counter() - t
        async with db.transaction() as conn:
            rows = await conn.scalar(select(func.count()).select_from(schema.outbox))
        await db.close()
    print(f"ticks: {ticks} (at most 20,000 due users each); users due: {due:,}")
    print(
        f"digests built (distinct requests): {built:,}; messages queued: {queued:,} "
        f"(outbox rows: {rows:,})"
    )
    print(f"time to queue everything: {elapsed:.1f} s = {due / elapsed:,.0f} users/s")
    print(
        f"SQL statements executed: {statements:,} = {statements / max(due, 1):.4f} per user "
        f"(one per user would be {due:,})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=5_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.stories, args.database_url))
