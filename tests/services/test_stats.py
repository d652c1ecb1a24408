"""Statistics against seeded data, on both backends, and the plain-text formatter."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update

from bot.clock import FixedClock
from bot.i18n import translator
from bot.services import ServiceSet
from bot.services.stats import StatsService, format_stats
from bot.storage import Database, outbox
from bot.storage import admin as admin_repo
from bot.storage import schema as s
from digests.region import load_region
from tests.seed import add_feeds, add_user
from tests.services.conftest import NOW


async def seed(db: Database, now: datetime) -> None:
    """Five residents, digests, deliveries and failures of the last day, three feeds."""
    await add_user(db, now, 1, [("district", "khamovniki"), ("okrug", "tsao")])
    await add_user(db, now, 2, [("district", "khamovniki")], created_days_ago=10)
    await add_user(db, now, 3, [("district", "arbat"), ("okrug", "szao")], created_days_ago=30)
    await add_user(db, now, 4, [("okrug", "tsao")], paused=True)
    await add_user(db, now, 5, [], active=False, created_days_ago=8)
    async with db.transaction() as conn:
        await conn.execute(
            insert(s.digests),
            [
                {
                    "user_id": uid,
                    "kind": "daily",
                    "period_start": now - timedelta(days=1),
                    "period_end": now - timedelta(hours=hours),
                    "story_count": 3,
                    "part_count": 1,
                    "created_at": now - timedelta(hours=hours),
                }
                for uid, hours in ((1, 1), (2, 2), (3, 30))  # the last one is older than a day
            ],
        )
        await outbox.enqueue(
            conn,
            [
                outbox.OutboxMessage(f"d{i}", i, {"method": "sendMessage", "text": "x"}, user_id=i)
                for i in (1, 2, 3, 5)
            ]
            + [
                outbox.OutboxMessage(
                    "b1", 1, {"method": "sendMessage", "text": "x"}, kind="broadcast"
                ),
                outbox.OutboxMessage(
                    "q1",
                    2,
                    {"method": "sendMessage", "text": "x"},
                    not_before=now + timedelta(hours=1),
                ),
            ],
            now,
        )
        rows = {r.idempotency_key: r.id for r in await outbox.claim_ready(conn, now)}
        await outbox.mark_sent(conn, rows["d1"], 1, now)
        await outbox.mark_sent(conn, rows["d2"], 2, now)
        await outbox.mark_sent(conn, rows["b1"], 3, now)
        await outbox.mark_failed(conn, rows["d3"], "TelegramBadRequest: can't parse entities: x")
        await outbox.mark_dropped(conn, rows["d5"], "blocked: TelegramForbiddenError: blocked")
    feed_ids = await add_feeds(db, now, 3)
    async with db.transaction() as conn:
        await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_ids[0]).values(broken=True))
        await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_ids[1]).values(enabled=False))
        await conn.execute(
            insert(s.broadcasts).values(
                admin_id=500, payload={}, audience={"kind": "all"}, state="done", created_at=now
            )
        )


async def test_collect_stats_matches_seeded_data(any_db: Database, clock: FixedClock) -> None:
    await seed(any_db, clock.now())
    stats = await StatsService(any_db, clock).collect()
    assert (stats.users_total, stats.users_active, stats.users_paused, stats.users_blocked) == (
        5,
        3,
        1,
        1,
    )
    assert stats.users_new_week == 2
    assert stats.subscribed_users == 4
    assert stats.per_okrug == {"tsao": 2, "szao": 1}
    assert stats.top_districts == [("khamovniki", 2), ("arbat", 1)]
    assert stats.digests_day == 2
    assert stats.sent("digest") == 2 and stats.sent("broadcast") == 1
    assert stats.failures_day == {"bad_html": 1, "blocked": 1}
    assert stats.broadcasts_day == 1
    assert stats.queue_length == 1
    assert (stats.feeds_total, stats.feeds_enabled, stats.feeds_broken, stats.feeds_paused) == (
        3,
        2,
        1,
        1,
    )

    text = format_stats(stats, translator("en"), "en", region=load_region("moscow"))
    assert "Users: 5 (active 3, paused 1, blocked 1)" in text
    assert "New this week: 2" in text
    assert "  CAO: 2" in text and "  Khamovniki: 2" in text
    assert "digests built: 2, messages sent: 2" in text
    assert "not delivered: bad_html 1, blocked 1" in text
    assert "Queue: 1" in text
    assert "Feeds: 3 (enabled 2, broken 1, paused 1)" in text
    ru = format_stats(stats, translator("ru"), "ru", region=load_region("moscow"))
    assert "ЦАО: 2" in ru and "Users" not in ru


async def test_viewing_stats_is_audited(services: ServiceSet, db: Database) -> None:
    await seed(db, NOW)
    stats = await services.stats.view(500)
    assert stats.users_total == 5
    async with db.transaction() as conn:
        [entry] = await admin_repo.list_audit(conn)
    assert (entry.admin_id, entry.action) == (500, "stats.view")
