"""Feeds as admins and operators manage them: checked by fetching from a local site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.clock import FixedClock
from bot.config import Settings
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.services import ServiceSet
from bot.services.feeds import FeedAction, FeedProblem, check_feed
from bot.storage import Database
from bot.storage import admin as admin_repo
from bot.storage import schema as s
from tests.seed import add_feeds
from tests.services.conftest import services_for
from tests.sites import serve_site

KHAMOVNIKI = Binding(BindingKind.DISTRICT, "khamovniki")


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async with serve_site() as base:
        yield base


async def audit(db: Database) -> list[tuple[str, dict[str, object]]]:
    async with db.transaction() as conn:
        return [(e.action, e.details) for e in reversed(await admin_repo.list_audit(conn))]


async def test_check_says_why_a_feed_is_refused(
    site: str, settings: Settings, clock: FixedClock
) -> None:
    now = clock.now()
    ok = await check_feed(f"{site}/rss.xml", settings, now)
    assert ok.problem is None and ok.ingested is not None and len(ok.ingested.articles) == 2
    problems = {
        "ftp://example.com/feed": FeedProblem.NOT_HTTP,
        f"{site}/missing.xml": FeedProblem.HTTP_STATUS,
        f"{site}/news.html": FeedProblem.NOT_A_FEED,
    }
    for url, problem in problems.items():
        check = await check_feed(url, settings, now)
        assert (check.ingested, check.problem) == (None, problem), url
    assert "404" in (await check_feed(f"{site}/missing.xml", settings, now)).detail
    strict = settings.model_copy(update={"feed_allowed_networks": ()})  # the production default
    blocked = await check_feed(f"{site}/rss.xml", strict, now)
    assert blocked.problem is FeedProblem.BLOCKED


async def test_add_checks_first_and_audits_both_outcomes(
    services: ServiceSet, db: Database, site: str
) -> None:
    feeds = services.feeds
    refused = await feeds.add(f"{site}/news.html", KHAMOVNIKI, 500)
    assert refused.feed is None and refused.check.problem is FeedProblem.NOT_A_FEED
    assert await feeds.statuses() == []

    added = await feeds.add(f"{site}/rss.xml", KHAMOVNIKI, 500, samples=1)
    assert added.feed is not None
    assert (added.feed.title, added.feed.binding, added.feed.origin) == (
        "Вести Хамовников",
        KHAMOVNIKI,
        "admin",
    )
    assert added.titles == ("Открыт новый сквер на Плющихе",) and added.items == 2
    assert await feeds.listed(f"{site}/rss.xml") == added.feed
    assert await audit(db) == [
        ("feed.add_refused", {"url": f"{site}/news.html", "reason": "not_a_feed"}),
        (
            "feed.add",
            {"feed_id": added.feed.id, "url": f"{site}/rss.xml", "binding": str(KHAMOVNIKI)},
        ),
    ]


async def test_admin_actions_change_the_feed_and_are_audited(
    services: ServiceSet, db: Database, clock: FixedClock
) -> None:
    feeds = services.feeds
    [feed_id, other] = await add_feeds(db, clock.now(), 2)
    assert await feeds.change(feed_id, FeedAction.PAUSE, 500) is not None
    status = await feeds.status(feed_id)
    assert status is not None and not status.feed.enabled
    assert await feeds.listed("https://example0.ru/rss") is None  # paused: may be added again

    clock.advance(timedelta(hours=1))
    await feeds.change(feed_id, FeedAction.RESUME, 500)
    status = await feeds.status(feed_id)
    assert status is not None and status.feed.enabled and status.feed.next_poll_at == clock.now()
    clock.advance(timedelta(minutes=5))
    await feeds.change(other, FeedAction.POLL, 500)
    other_status = await feeds.status(other)
    assert other_status is not None and other_status.feed.next_poll_at == clock.now()

    removed = await feeds.change(feed_id, FeedAction.REMOVE, 500)
    assert removed is not None and removed.id == feed_id
    assert await feeds.status(feed_id) is None
    assert await feeds.change(feed_id, FeedAction.PAUSE, 500) is None
    assert [action for action, _details in await audit(db)] == [
        "feed.pause",
        "feed.resume",
        "feed.poll",
        "feed.remove",
    ]


async def test_statuses_count_articles_per_day(
    services: ServiceSet, db: Database, clock: FixedClock
) -> None:
    [busy, idle] = await add_feeds(db, clock.now(), 2)
    now = clock.now()
    async with db.transaction() as conn:
        await conn.execute(
            insert(s.articles),
            [
                {
                    "feed_id": busy,
                    "identity": f"a{n}",
                    "url": f"https://example0.ru/{n}",
                    "canonical_url": f"https://example0.ru/{n}",
                    "title": f"News {n}",
                    "content_hash": f"h{n}",
                    "published_at": now - timedelta(hours=n),
                    "fetched_at": now - timedelta(hours=n),
                }
                for n in range(14)  # 14 in the last week: 2 a day
            ],
        )
    statuses = await services.feeds.statuses()
    assert [(st.feed.id, st.articles_per_day) for st in statuses] == [(busy, 2.0), (idle, 0.0)]


async def test_feeds_file_import_and_export(
    db: Database, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(
        '[[feed]]\nurl = "https://szao.example/rss"\nname = "СЗАО"\nbinding = "szao"\n',
        encoding="utf-8",
    )
    feeds = services_for(db, settings.model_copy(update={"feeds_file": feeds_file}), clock).feeds
    report = await feeds.sync_file()
    assert (report.added, report.total) == (1, 1)
    imported = [
        FeedSource("https://mos.example/rss", Binding(BindingKind.CITY), name="mos.ru"),
        FeedSource("https://khamovniki.example/rss", KHAMOVNIKI, name="Хамовники"),
    ]
    assert await feeds.import_sources(imported, "cli") == 2
    registered = await feeds.register(FeedSource("file:///tmp/feed.xml", KHAMOVNIKI), "cli")
    assert registered.origin == "cli"
    await feeds.change(registered.id, FeedAction.PAUSE, 500)
    assert [source.url for source in await feeds.enabled_sources()] == [
        "https://szao.example/rss",
        "https://mos.example/rss",
        "https://khamovniki.example/rss",
    ]
