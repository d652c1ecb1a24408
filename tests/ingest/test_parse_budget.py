"""Issue 15's parse-time denial of service, reproduced: a small gzip-encoded feed that costs
minutes to parse must fail within the budget, with its reason stored on the feed, while a good
feed polled in the same cycle is stored normally (real HTTP server, worker processes, SQLite).
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.parse import MAX_MARKUP
from bot.feeds.poller import Poller, PollReport, PollStatus, warm_worker
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.feeds.workers import MIB, Budget, WorkerPool
from bot.ingest import DatabaseFeedStore, StoryAssigner, understand_in_worker
from bot.storage import Database, schema
from bot.storage import feeds as feeds_repo

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
GOOD = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>СЗАО</title>'
    + "".join(
        f"<item><title>В Куркино открыли каток {n}</title><link>https://szao.example/{n}</link>"
        f"<description>В районе Куркино открыли каток с прокатом коньков, номер {n}."
        f"</description><pubDate>{format_datetime(NOW - timedelta(hours=1))}</pubDate></item>"
        for n in range(2)
    )
    + "</channel></rss>"
).encode()


def feed_with_title(title: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>'
        + title
        + b"</title><item><title>x</title><link>https://evil.example/1</link></item>"
        b"</channel></rss>"
    )


# The issue's reproduction: 19 MB of raw <b> in the title, ~19 KB on the wire.
BOMB = feed_with_title(b"<b>" * 6_333_333)
# Just under the markup guard, yet seconds of feedparser's time: only the budget stops it.
SLOW = feed_with_title(b"<b>" * (MAX_MARKUP - 1_000))


@pytest.fixture
async def site() -> AsyncIterator[str]:
    bodies = {"/good.xml": GOOD, "/bomb.xml": BOMB, "/slow.xml": SLOW}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(bodies[request.path], compresslevel=9),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def add_feeds(db: Database, *urls: str) -> list[int]:
    async with db.transaction() as conn:
        return [
            (await feeds_repo.add_feed(conn, FeedSource(u, Binding(BindingKind.CITY)), NOW)).id
            for u in urls
        ]


async def articles_of(db: Database, feed_id: int) -> int:
    async with db.transaction() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(schema.articles).where(
                schema.articles.c.feed_id == feed_id
            )
        )
    return int(count or 0)


async def last_error(db: Database, feed_id: int) -> str | None:
    async with db.transaction() as conn:
        [feed] = [f for f in await feeds_repo.list_feeds(conn) if f.id == feed_id]
    return feed.last_error


def poller(store: DatabaseFeedStore, fetcher: Fetcher, workers: WorkerPool) -> Poller:
    """Wired as the bot wires it (bot/runtime.py)."""
    return Poller(
        store,
        fetcher,
        understand=functools.partial(understand_in_worker, "moscow"),
        executor=workers,
        parse_concurrency=workers.size,
        understand_in_executor=True,
    )


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),)))
    yield f
    await f.close()


async def test_the_issue_reproduction_fails_fast_and_the_good_feed_is_stored(
    db: Database, site: str, fetcher: Fetcher
) -> None:
    wire = await fetcher.fetch(f"{site}/bomb.xml")
    assert wire.wire_bytes < 25_000 and wire.body is not None and len(wire.body) > 19_000_000
    good, bomb = await add_feeds(db, f"{site}/good.xml", f"{site}/bomb.xml")
    async with WorkerPool(
        2,
        Budget(seconds=10),
        initializer=functools.partial(
            warm_worker, functools.partial(understand_in_worker, "moscow")
        ),
    ) as workers:
        await workers.start()
        async with asyncio.timeout(60):  # was 146-149 s
            store = DatabaseFeedStore(db, StoryAssigner())
            reports = {r.feed_id: r for r in await poller(store, fetcher, workers).poll_due(NOW)}
    assert reports[good].status is PollStatus.OK and reports[good].new == 2
    assert reports[bomb].status is PollStatus.ERROR
    assert reports[bomb].error is not None and "too much markup" in reports[bomb].error
    assert await articles_of(db, good) == 2 and await articles_of(db, bomb) == 0
    assert "too much markup" in (await last_error(db, bomb) or "")


async def test_a_feed_over_the_time_budget_fails_and_does_not_hold_up_the_others(
    db: Database, site: str, fetcher: Fetcher
) -> None:
    good, slow = await add_feeds(db, f"{site}/good.xml", f"{site}/slow.xml")
    async with WorkerPool(
        2,
        Budget(seconds=1.0, memory_bytes=512 * MIB),
        initializer=functools.partial(
            warm_worker, functools.partial(understand_in_worker, "moscow")
        ),
    ) as workers:
        await workers.start()
        store = DatabaseFeedStore(db, StoryAssigner())
        p = poller(store, fetcher, workers)
        due = {f.feed_id: f for f in await store.due_feeds(NOW)}
        finished: list[PollReport] = []

        async def poll(feed_id: int) -> None:
            finished.append(await p.poll_one(due[feed_id], NOW))

        async with asyncio.timeout(60):
            await asyncio.gather(poll(slow), poll(good))
        assert workers.replaced == 1
        # The replacement worker serves the next cycle (the slow feed fails again).
        async with asyncio.timeout(60):
            again = {r.feed_id: r for r in await p.poll_due(NOW + timedelta(days=1))}
        assert workers.replaced == 2
    by_id = {r.feed_id: r for r in finished}
    assert [r.feed_id for r in finished] == [good, slow]  # the good one did not wait
    assert by_id[good].status is PollStatus.OK and by_id[good].new == 2
    assert by_id[slow].status is PollStatus.ERROR
    reason = "parsing took longer than 1 s (time budget); stopped, the worker was replaced"
    assert by_id[slow].error == reason
    assert await last_error(db, slow) == reason
    assert await articles_of(db, good) == 2 and await articles_of(db, slow) == 0
    assert again[good].status is PollStatus.UNCHANGED and again[slow].error == reason
