"""Feeds → articles → stories through the real poller, analyzer and database."""

from __future__ import annotations

import asyncio
import ipaddress
import multiprocessing
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import Poller
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.ingest import (
    DatabaseFeedStore,
    StoryAssigner,
    tag_pending,
    understand_article,
    understand_in_worker,
)
from bot.storage import Database, schema
from bot.storage import feeds as feeds_repo
from bot.storage.stories import load_candidates
from digests.understanding import get_analyzer

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

RELEASE = (
    "В районе Хорошёво-Мнёвники открылась новая поликлиника для взрослых и детей. "
    "Здание на улице Маршала Тухачевского построили по программе модернизации "
    "первичного звена здравоохранения. В поликлинике принимают терапевты, педиатры, "
    "кардиологи и неврологи, работает кабинет компьютерной томографии. "
    "Жители района Хорошёво-Мнёвники могут записаться к врачу через портал mos.ru. "
    "Поликлиника рассчитана на 750 посещений в смену."
)
RELEASE_COPY = (
    "Поликлиника рассчитана на 750 посещений в смену. "
    "В районе Хорошёво-Мнёвники открылась новая поликлиника для взрослых и детей. "
    "Здание на улице Маршала Тухачевского построили по программе модернизации "
    "первичного звена здравоохранения. В поликлинике принимают терапевты, педиатры, "
    "кардиологи и неврологи, работает кабинет компьютерной томографии. "
    "Жители района Хорошёво-Мнёвники могут записаться к врачу через портал mos.ru."
)
OTHER = (
    "В районе Куркино завершили ремонт спортивной площадки у школы. На площадке "
    "установили тренажёры и новое покрытие для футбола и баскетбола."
)


def rss(items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{d}</description>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=1))}</pubDate></item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
        f"<channel><title>P</title>{body}</channel></rss>"
    )


FEEDS = {
    "/szao.xml": rss(
        [
            ("Новая поликлиника открылась в Хорошёво-Мнёвниках", "https://szao.example/1", RELEASE),
            ("В Куркино отремонтировали площадку", "https://szao.example/2", OTHER),
        ]
    ),
    "/city.xml": rss(
        [
            (
                "Собянин: в СЗАО заработала поликлиника",
                "https://city.example/a?utm_source=x",
                RELEASE_COPY,
            ),
        ]
    ),
}


@pytest.fixture
async def feed_server() -> AsyncIterator[str]:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=FEEDS[request.path], content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def city_feed(db: Database) -> int:
    async with db.transaction() as conn:
        feed = await feeds_repo.add_feed(
            conn, FeedSource("https://paper.example/rss", Binding(BindingKind.CITY)), NOW
        )
    return feed.id


def kurkino_article(title: str) -> NormalizedArticle:
    return NormalizedArticle(
        identity="g1",
        url="https://paper.example/1",
        title=title,
        text=OTHER,
        published_at=NOW,
        image_url=None,
        categories=(),
        author=None,
        content_hash="h1",
    )


async def test_two_papers_with_one_release_make_one_story(db: Database, feed_server: str) -> None:
    async with db.transaction() as conn:
        await feeds_repo.add_feed(
            conn, FeedSource(f"{feed_server}/szao.xml", Binding(BindingKind.OKRUG, "szao")), NOW
        )
        await feeds_repo.add_feed(
            conn, FeedSource(f"{feed_server}/city.xml", Binding(BindingKind.CITY)), NOW
        )
    analyzer = get_analyzer("moscow")
    store = DatabaseFeedStore(db, StoryAssigner())
    fetcher = Fetcher(FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    poller = Poller(store, fetcher, understand=lambda a: understand_article(analyzer, a))
    try:
        reports = await poller.poll_due(NOW)
        assert sorted(r.new for r in reports) == [1, 2]
        again = await poller.poll_due(NOW + timedelta(hours=1))
        assert [r.new for r in again] == [0, 0]  # unchanged bodies are not stored twice
    finally:
        await fetcher.close()

    async with db.transaction() as conn:
        assert await conn.scalar(select(func.count()).select_from(schema.articles)) == 3
        assert (
            await conn.scalar(
                select(func.count())
                .select_from(schema.articles)
                .where(schema.articles.c.tagged_at.is_(None))
            )
            == 0
        )
        candidates = await load_candidates(conn, NOW - timedelta(days=1), NOW + timedelta(days=1))
    by_districts = {frozenset(c.district_slugs): c for c in candidates}
    assert len(candidates) == 2
    clinic = by_districts[frozenset({"khoroshyovo-mnyovniki"})]
    assert clinic.source_count == 2
    assert clinic.feed_okrugs == {"szao"} and clinic.from_city_feed
    assert "health" in clinic.topics
    assert clinic.lead and len(clinic.lead) <= 320
    sport = by_districts[frozenset({"kurkino"})]
    assert sport.source_count == 1 and "sport" in sport.topics

    # A restart rebuilds the story index from stored signatures: a late copy still joins.
    assigner = StoryAssigner()
    async with db.transaction() as conn:
        assert await assigner.warm(conn, NOW) == 3
    late_copy = analyzer.understand("Поликлиника открылась", RELEASE)
    match = assigner.index.assign(late_copy.story, NOW, "https://another.example/x")
    assert match.story_id == clinic.story_id


async def test_articles_left_untagged_are_tagged_by_the_follow_up(db: Database) -> None:
    from bot.feeds.poller import ArticleRecord

    feed_id = await city_feed(db)
    article = kurkino_article("Площадка в Куркино")
    store = DatabaseFeedStore(db, StoryAssigner())
    # Understanding failed (None): the article is stored, but untagged.
    await store.upsert_articles(feed_id, [ArticleRecord(article, None)], NOW)
    assert await tag_pending(db, get_analyzer("moscow"), store.assigner, NOW) == 1
    assert await tag_pending(db, get_analyzer("moscow"), store.assigner, NOW) == 0
    async with db.transaction() as conn:
        districts = (await conn.execute(select(schema.article_districts.c.district))).scalars()
        assert list(districts) == ["kurkino"]


def understand_unless_kurkino(article: NormalizedArticle) -> object:
    """Module-level (picklable) understand that fails for one article, in a worker process."""
    if "Куркино" in article.title:
        raise RuntimeError("analyzer crashed")
    return understand_in_worker("moscow", article)


@pytest.fixture
def process_pool() -> Iterator[ProcessPoolExecutor]:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    yield pool
    pool.shutdown(cancel_futures=True)


async def _count(db: Database, untagged: bool = False) -> int:
    query = select(func.count()).select_from(schema.articles)
    if untagged:
        query = query.where(schema.articles.c.tagged_at.is_(None))
    async with db.transaction() as conn:
        return int(await conn.scalar(query) or 0)


async def test_understanding_in_the_worker_process_stores_tags_and_stories(
    db: Database, feed_server: str, process_pool: ProcessPoolExecutor
) -> None:
    async with db.transaction() as conn:
        await feeds_repo.add_feed(
            conn, FeedSource(f"{feed_server}/szao.xml", Binding(BindingKind.OKRUG, "szao")), NOW
        )
        await feeds_repo.add_feed(
            conn, FeedSource(f"{feed_server}/city.xml", Binding(BindingKind.CITY)), NOW
        )
    store = DatabaseFeedStore(db, StoryAssigner())
    fetcher = Fetcher(FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    poller = Poller(
        store,
        fetcher,
        understand=partial(understand_in_worker, "moscow"),
        executor=process_pool,
        understand_in_executor=True,
    )
    try:
        await poller.warm_up()
        reports = await poller.poll_due(NOW)
    finally:
        await fetcher.close()
    assert sorted(r.new for r in reports) == [1, 2]
    assert (await _count(db), await _count(db, untagged=True)) == (3, 0)
    async with db.transaction() as conn:
        candidates = await load_candidates(conn, NOW - timedelta(days=1), NOW + timedelta(days=1))
    by_districts = {frozenset(c.district_slugs): c for c in candidates}
    assert len(candidates) == 2  # the release and its copy are one story
    assert by_districts[frozenset({"khoroshyovo-mnyovniki"})].source_count == 2
    assert "sport" in by_districts[frozenset({"kurkino"})].topics
    # The story index of this process learnt the stories the worker's features describe.
    assert len(store.assigner.index) == 3


async def test_failed_understanding_in_the_worker_is_retried(
    db: Database, feed_server: str, process_pool: ProcessPoolExecutor
) -> None:
    async with db.transaction() as conn:
        feed = await feeds_repo.add_feed(
            conn, FeedSource(f"{feed_server}/szao.xml", Binding(BindingKind.OKRUG, "szao")), NOW
        )
    store = DatabaseFeedStore(db, StoryAssigner())
    fetcher = Fetcher(FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    try:
        flaky = Poller(
            store,
            fetcher,
            understand=understand_unless_kurkino,
            executor=process_pool,
            understand_in_executor=True,
        )
        [first] = await flaky.poll_due(NOW)
        assert (first.new, first.skipped) == (1, 1)  # the failed one is not stored ...
        async with db.transaction() as conn:
            stored_feed = await feeds_repo.get_feed_by_url(conn, feed.url)
        assert stored_feed is not None and stored_feed.body_hash is None
        healthy = Poller(
            store,
            fetcher,
            understand=partial(understand_in_worker, "moscow"),
            executor=process_pool,
            understand_in_executor=True,
        )
        [second] = await healthy.poll_due(NOW + timedelta(hours=1))
    finally:
        await fetcher.close()
    assert (second.new, second.unchanged) == (1, 1)  # ... and is picked up next time
    assert (await _count(db), await _count(db, untagged=True)) == (2, 0)


async def test_outcomes_are_saved_together_and_keep_an_operator_title(db: Database) -> None:
    from bot.feeds.poller import FetchOutcome, PollStatus
    from bot.feeds.schedule import FeedHealth

    async with db.transaction() as conn:
        named = await feeds_repo.add_feed(
            conn, FeedSource("https://named.example/rss", Binding(BindingKind.CITY)), NOW
        )
        await conn.execute(
            schema.feeds.update()
            .where(schema.feeds.c.id == named.id)
            .values(title="Given by the operator")
        )
        unnamed = await feeds_repo.add_feed(
            conn, FeedSource("https://unnamed.example/rss", Binding(BindingKind.CITY)), NOW
        )
    store = DatabaseFeedStore(db, StoryAssigner())

    def outcome(feed_id: int, title: str | None, error: str | None = None) -> FetchOutcome:
        return FetchOutcome(
            feed_id=feed_id,
            polled_at=NOW,
            status=PollStatus.ERROR if error else PollStatus.OK,
            next_poll_at=NOW + timedelta(minutes=30),
            etag='"e"',
            last_modified=None,
            body_hash="h" if title else None,
            ttl_minutes=45,
            health=FeedHealth(
                last_success_at=None if error else NOW,
                last_error_at=NOW if error else None,
                last_error=error,
                consecutive_errors=1 if error else 0,
            ),
            event=None,
            feed_title=title,
        )

    await asyncio.gather(
        store.save_outcome(outcome(named.id, "From the feed")),
        store.save_outcome(outcome(unnamed.id, "From the feed")),
    )
    async with db.transaction() as conn:
        a = await feeds_repo.get_feed_by_url(conn, named.url)
        b = await feeds_repo.get_feed_by_url(conn, unnamed.url)
    assert a is not None and b is not None
    assert (a.title, b.title) == ("Given by the operator", "From the feed")
    assert b.next_poll_at == NOW + timedelta(minutes=30) and b.last_success_at == NOW
    assert (b.etag, b.body_hash) == ('"e"', "h")

    # An error keeps the title; its health is stored.
    await store.save_outcome(outcome(unnamed.id, None, error="HTTP 500"))
    async with db.transaction() as conn:
        b = await feeds_repo.get_feed_by_url(conn, unnamed.url)
    assert b is not None and b.title == "From the feed"
    assert (b.last_error, b.consecutive_errors, b.last_error_at) == ("HTTP 500", 1, NOW)


async def test_a_failed_write_leaves_the_story_index_as_it_was(db: Database) -> None:
    from bot.ingest import NewArticle
    from bot.storage.articles import insert_articles

    feed_id = await city_feed(db)
    article = kurkino_article("Каток в Куркино")
    assigner = StoryAssigner()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with assigner.transaction(db) as conn:
            [article_id] = await insert_articles(conn, feed_id, [article], NOW)
            understanding = get_analyzer("moscow").understand(article.title, article.text)
            item = NewArticle(article_id, feed_id, article.url or "", NOW, understanding)
            await assigner.store(conn, [item], NOW, replace=False)
            assert assigner.index.story_of(article_id) is not None
            raise Boom  # e.g. the commit fails: the transaction rolls back
    assert len(assigner.index) == 0
    async with db.transaction() as conn:
        assert await conn.scalar(select(func.count()).select_from(schema.articles)) == 0
