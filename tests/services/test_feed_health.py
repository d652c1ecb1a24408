"""Feed health notices to admins, once per transition, over the fake Telegram server."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot
from sqlalchemy import insert, update

from bot.clock import FixedClock
from bot.services.feed_health import notify_feed_health
from bot.storage import Database
from bot.storage import admin as admin_repo
from bot.storage import schema as s
from bot.testing import FakeTelegram
from tests.seed import add_feeds, add_user

ADMIN = 500


async def test_feed_health_notices_once_per_transition(
    db: Database, clock: FixedClock, fake: FakeTelegram, bot: Bot
) -> None:
    [feed_id, quiet_id] = await add_feeds(db, clock.now(), 2)
    await add_user(db, clock.now(), ADMIN, language="en")
    await add_user(db, clock.now(), 600)
    async with db.transaction() as conn:
        await admin_repo.add_admin(conn, 600, ADMIN, clock.now())

    def notices(uid: int) -> list[str]:
        return [m.body for m in fake.sent_messages(uid)]

    assert await notify_feed_health(bot, db, clock, {ADMIN}) == []

    async with db.transaction() as conn:
        await conn.execute(
            update(s.feeds)
            .where(s.feeds.c.id == feed_id)
            .values(broken=True, last_error="HTTP 503 <Service Unavailable>")
        )
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == [(feed_id, "broken")]
    # Sent as HTML: the error's own «<...>» arrives as text.
    assert notices(ADMIN) == [f"🔴 Feed #{feed_id} «F0» is broken: HTTP 503 <Service Unavailable>"]
    assert len(notices(600)) == 1  # run-time admins too, in their language
    assert "Лента" in notices(600)[0]
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == []
    assert len(notices(ADMIN)) == 1

    async with db.transaction() as conn:
        await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_id).values(broken=False))
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == [(feed_id, "recovered")]
    assert notices(ADMIN)[-1] == f"🟢 Feed #{feed_id} «F0» works again."
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == []

    # A feed that published daily and then nothing for five days went quiet.
    now = clock.now()
    async with db.transaction() as conn:
        await conn.execute(
            insert(s.articles),
            [
                {
                    "feed_id": quiet_id,
                    "identity": f"a{day}",
                    "url": f"https://example1.ru/{day}",
                    "canonical_url": f"https://example1.ru/{day}",
                    "title": f"News {day}",
                    "content_hash": f"h{day}",
                    "published_at": now - timedelta(days=day),
                    "fetched_at": now - timedelta(days=day),
                }
                for day in range(5, 25)
            ],
        )
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == [(quiet_id, "quiet")]
    assert "has published nothing for 5.0 days" in notices(ADMIN)[-1]
    assert await notify_feed_health(bot, db, clock, {ADMIN}) == []
    assert len(notices(ADMIN)) == 3
