"""The digest tick over a real database: who gets what, when, and only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import ArticleRecord
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.ingest import DatabaseFeedStore, StoryAssigner
from bot.scheduling.digest_tick import run_digest_tick, run_instant_alerts
from bot.storage import Database, schema, users
from bot.storage import feeds as feeds_repo
from digests.region import load_region
from digests.understanding import get_analyzer

# Saturday 2026-11-21, 05:00 UTC = 08:00 in Moscow.
MOSCOW = load_region("moscow")
MORNING = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)

KURKINO = (
    "В районе Куркино завершили ремонт спортивной площадки у школы № 1. На площадке "
    "установили тренажёры, уличные столы для настольного тенниса и новое покрытие для "
    "футбола и баскетбола. Работы провели по заявкам жителей района Куркино."
)
SHCHUKINO = (
    "В районе Щукино открыли новую библиотеку с залом для лекций и выставок. В библиотеке "
    "будут проходить концерты, встречи с писателями и занятия для детей. Жители района "
    "Щукино могут записаться на занятия бесплатно."
)


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


async def add_story(
    db: Database, store: DatabaseFeedStore, feed_id: int, n: int, text: str, stored_at: datetime
) -> None:
    article = NormalizedArticle(
        identity=f"g{n}",
        url=f"https://paper.example/{n}",
        title=f"Новость {n}",
        text=text,
        published_at=stored_at - timedelta(minutes=30),
        image_url=None,
        categories=(),
        author=None,
        content_hash=f"h{n}",
    )
    understanding = get_analyzer("moscow").understand(article.title, article.text)
    await store.upsert_articles(feed_id, [ArticleRecord(article, understanding)], stored_at)


async def setup(db: Database) -> tuple[DatabaseFeedStore, int]:
    async with db.transaction() as conn:
        feed = await feeds_repo.add_feed(
            conn,
            FeedSource("https://szao.example/rss", Binding(BindingKind.OKRUG, "szao")),
            MORNING,
        )
    return DatabaseFeedStore(db, StoryAssigner()), feed.id


async def subscribe(
    db: Database, uid: int, district: str, now: datetime, **settings: object
) -> None:
    async with db.transaction() as conn:
        await users.ensure_user(conn, uid, uid, now)
        await users.add_subscription(conn, uid, "district", district, now)
        if settings:
            await users.update_settings(conn, uid, now, **settings)


async def outbox_texts(db: Database) -> dict[int, list[str]]:
    async with db.transaction() as conn:
        rows = await conn.execute(
            select(schema.outbox.c.chat_id, schema.outbox.c.payload).order_by(schema.outbox.c.id)
        )
        result: dict[int, list[str]] = {}
        for chat_id, payload in rows:
            result.setdefault(chat_id, []).append(payload["text"])
        return result


async def test_each_user_gets_their_districts_at_their_local_time(db: Database) -> None:
    store, feed = await setup(db)
    evening = MORNING - timedelta(hours=12)
    await subscribe(db, 1, "kurkino", evening)
    await subscribe(db, 2, "shchukino", evening)
    await subscribe(db, 3, "kurkino", evening, timezone="Asia/Vladivostok")  # 08:00 = 22:00 UTC
    await add_story(db, store, feed, 1, KURKINO, MORNING - timedelta(hours=3))
    await add_story(db, store, feed, 2, SHCHUKINO, MORNING - timedelta(hours=2))

    # Vladivostok's 08:00 came first (22:00 UTC the day before), before any story existed.
    early = await run_digest_tick(db, MORNING - timedelta(hours=6), region=MOSCOW)
    assert early.due == 1 and early.messages_queued == 0 and early.users_skipped_empty == 1

    report = await run_digest_tick(db, MORNING, region=MOSCOW)
    assert report.due == 2 and report.messages_queued == 2
    texts = await outbox_texts(db)
    assert set(texts) == {1, 2}
    assert "https://paper.example/1" in texts[1][0] and "paper.example/2" not in texts[1][0]
    assert "https://paper.example/2" in texts[2][0] and "paper.example/1" not in texts[2][0]

    async with db.transaction() as conn:
        moscow = await users.get_user(conn, 1)
        vlad = await users.get_user(conn, 3)
    assert moscow is not None and vlad is not None
    assert moscow.next_delivery_at == MORNING + timedelta(days=1)
    assert vlad.next_delivery_at == datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
    # Running the same tick again queues nothing more.
    assert (await run_digest_tick(db, MORNING, region=MOSCOW)).due == 0


async def test_users_with_equal_settings_share_one_digest(db: Database) -> None:
    store, feed = await setup(db)
    for uid in range(1, 21):
        await subscribe(db, uid, "kurkino", MORNING - timedelta(hours=12))
    await add_story(db, store, feed, 1, KURKINO, MORNING - timedelta(hours=3))
    report = await run_digest_tick(db, MORNING, region=MOSCOW)
    assert report.due == 20 and report.digests_built == 1 and report.messages_queued == 20


async def test_after_downtime_one_catch_up_digest_covers_the_gap(db: Database) -> None:
    store, feed = await setup(db)
    await subscribe(db, 1, "kurkino", MORNING - timedelta(hours=12))
    await add_story(db, store, feed, 1, KURKINO, MORNING - timedelta(hours=3))
    assert (await run_digest_tick(db, MORNING, region=MOSCOW)).messages_queued == 1
    # The bot is down for three days; a story arrives during the outage.
    await add_story(
        db, store, feed, 2, KURKINO.replace("№ 1", "№ 7"), MORNING + timedelta(days=1, hours=2)
    )
    back = MORNING + timedelta(days=3, hours=4)
    report = await run_digest_tick(db, back, region=MOSCOW)
    assert report.due == 1 and report.messages_queued == 1
    assert (await run_digest_tick(db, back + timedelta(minutes=1), region=MOSCOW)).due == 0
    texts = await outbox_texts(db)
    assert "https://paper.example/2" in texts[1][1]
    async with db.transaction() as conn:
        user = await users.get_user(conn, 1)
    assert user is not None and user.next_delivery_at == MORNING + timedelta(days=4)


async def test_a_story_fetched_after_the_digest_goes_into_the_next_one(db: Database) -> None:
    store, feed = await setup(db)
    await subscribe(db, 1, "kurkino", MORNING - timedelta(hours=12))
    await run_digest_tick(db, MORNING, region=MOSCOW)
    # Published before 08:00 but only fetched at 08:10: tomorrow's digest must carry it.
    await add_story(db, store, feed, 1, KURKINO, MORNING + timedelta(minutes=10))
    report = await run_digest_tick(db, MORNING + timedelta(days=1), region=MOSCOW)
    assert report.messages_queued == 1


async def test_empty_digest_only_for_users_who_want_the_note(db: Database) -> None:
    await setup(db)
    await subscribe(db, 1, "kurkino", MORNING - timedelta(hours=12))
    await subscribe(
        db, 2, "kurkino", MORNING - timedelta(hours=12), notify_empty=True, language="en"
    )
    report = await run_digest_tick(db, MORNING, region=MOSCOW)
    assert report.users_skipped_empty == 1
    texts = await outbox_texts(db)
    assert list(texts) == [2] and "Nothing new" in texts[2][0]


async def test_weekly_users_get_the_whole_week_on_their_day(db: Database) -> None:
    store, feed = await setup(db)
    await subscribe(db, 1, "kurkino", MORNING, mode="weekly", weekday=0)  # Monday
    await add_story(db, store, feed, 1, KURKINO, MORNING)
    assert (
        await run_digest_tick(db, MORNING + timedelta(days=1), region=MOSCOW)
    ).due == 0  # Sunday
    report = await run_digest_tick(db, MORNING + timedelta(days=2), region=MOSCOW)  # Monday 08:00
    assert report.due == 1 and report.messages_queued == 1


async def test_instant_alerts_batch_new_stories_into_one_message(db: Database) -> None:
    store, feed = await setup(db)
    await subscribe(db, 1, "kurkino", MORNING, mode="instant")
    await subscribe(db, 2, "kurkino", MORNING)  # daily: not alerted
    await run_instant_alerts(db, MORNING, region=MOSCOW)
    await add_story(db, store, feed, 1, KURKINO, MORNING + timedelta(minutes=5))
    await add_story(
        db,
        store,
        feed,
        2,
        KURKINO.replace("№ 1", "№ 9").replace("тенниса", "шахмат"),
        MORNING + timedelta(minutes=6),
    )
    report = await run_instant_alerts(db, MORNING + timedelta(minutes=15), region=MOSCOW)
    assert report.messages_queued == 1
    texts = await outbox_texts(db)
    assert list(texts) == [1]
    assert "paper.example/1" in texts[1][0] and "paper.example/2" in texts[1][0]
    # Nothing new in the next cycle: no message.
    assert (
        await run_instant_alerts(db, MORNING + timedelta(minutes=30), region=MOSCOW)
    ).messages_queued == 0
    async with db.transaction() as conn:
        assert await conn.scalar(select(func.count()).select_from(schema.outbox)) == 1
