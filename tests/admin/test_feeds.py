"""/feeds and /addfeed end to end: a feed is fetched for real from a local HTTP server
(127.0.0.0/8 is allowed by the test settings) and parsed before it is added."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import insert, update

from bot.admin import notify_feed_health
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.storage import admin as admin_repo
from bot.storage import feeds as repo
from bot.storage import schema as s
from tests.admin.conftest import ADMIN, AdminHarness

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Вести Хамовников</title><link>http://127.0.0.1/</link>
<description>news</description>
<item><title>Открыт новый сквер на Плющихе</title><link>http://127.0.0.1/a/1</link>
<description>Сквер открыли в субботу.</description>
<pubDate>Fri, 20 Nov 2026 09:00:00 +0300</pubDate></item>
<item><title>Ремонт дороги на Комсомольском проспекте</title><link>http://127.0.0.1/a/2</link>
<description>Работы продлятся неделю.</description>
<pubDate>Fri, 20 Nov 2026 10:00:00 +0300</pubDate></item>
</channel></rss>"""

PAGE = """<!doctype html><html><head><title>Новости района</title></head>
<body><h1>Новости</h1><p>Это обычная веб-страница, а не лента.</p></body></html>"""


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def rss(_request: web.Request) -> web.Response:
        return web.Response(text=RSS, content_type="application/rss+xml")

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/rss.xml", rss)
    app.router.add_get("/news.html", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def audit_actions(h: AdminHarness) -> list[str]:
    async with h.db.transaction() as conn:
        return [e.action for e in reversed(await admin_repo.list_audit(conn))]


async def test_add_feed_validates_by_fetching(h: AdminHarness, site: str) -> None:
    [checking, refused] = await h.send(h.admin, f"/addfeed {site}/news.html")
    assert "Checking" in checking.body
    assert "Feed not added" in refused.body and "not an RSS or Atom feed" in refused.body

    [_checking, refused] = await h.send(h.admin, f"/addfeed {site}/missing.xml")
    assert "Feed not added" in refused.body and "404" in refused.body

    [_checking, refused] = await h.send(h.admin, "/addfeed ftp://example.com/feed")
    assert "http(s)" in refused.body

    [bad] = await h.send(h.admin, f"/addfeed {site}/rss.xml Атлантида")
    assert "Unknown binding" in bad.body

    [_checking, added] = await h.send(h.admin, f"/addfeed {site}/rss.xml Хамовники")
    assert "added" in added.body
    assert "Открыт новый сквер на Плющихе" in added.body
    async with h.db.transaction() as conn:
        [feed] = await repo.list_feeds(conn)
    assert feed.url == f"{site}/rss.xml" and feed.origin == "admin"
    assert feed.binding == Binding(BindingKind.DISTRICT, "khamovniki")
    assert feed.title == "Вести Хамовников"

    [again] = await h.send(h.admin, f"/addfeed {site}/rss.xml")
    assert "already" in again.body
    assert await audit_actions(h) == [
        "feed.add_refused",
        "feed.add_refused",
        "feed.add_refused",
        "feed.add",
    ]


async def test_refused_when_private_addresses_are_not_allowed(h: AdminHarness, site: str) -> None:
    object.__setattr__(h.settings, "feed_allowed_networks", ())  # production default
    [_checking, refused] = await h.send(h.admin, f"/addfeed {site}/rss.xml")
    assert "not allowed" in refused.body


async def test_add_feed_with_the_button(h: AdminHarness, site: str) -> None:
    [listing] = await h.send(h.admin, "/feeds")
    assert "No feeds yet" in listing.body
    await h.press(h.admin, listing, text="➕ Add a feed")
    [_checking, refused, again] = await h.send(h.admin, f"{site}/news.html")
    assert "not an RSS" in refused.body and "another address" in again.body
    [_checking, added] = await h.send(h.admin, f"{site}/rss.xml ЦАО")
    assert "added" in added.body
    [reply] = await h.send(h.admin, "just text")  # the flow is over
    assert "added" not in reply.body


async def make_feeds(h: AdminHarness, n: int) -> list[int]:
    now = h.clock.now()
    ids = []
    async with h.db.transaction() as conn:
        for i in range(n):
            source = FeedSource(
                url=f"https://example{i}.ru/rss", binding=Binding(BindingKind.CITY), name=f"F{i}"
            )
            ids.append((await repo.add_feed(conn, source, now, origin="file")).id)
    return ids


async def test_feed_list_pages_and_actions(h: AdminHarness) -> None:
    ids = await make_feeds(h, 10)
    async with h.db.transaction() as conn:
        await conn.execute(
            update(s.feeds)
            .where(s.feeds.c.id == ids[1])
            .values(broken=True, consecutive_errors=7, last_error="HTTP 500")
        )
    [listing] = await h.send(h.admin, "/feeds")
    assert "Feeds: 10, broken 1. Page 1 of 2." in listing.body
    assert "🔴 #2 F1" in listing.body and "errors in a row 7" in listing.body
    assert "#9" not in listing.body
    await h.press(h.admin, listing, text="»")
    assert "Page 2 of 2" in listing.body and "#9 F8" in listing.body
    await h.press(h.admin, listing, text="«")
    await h.press(h.admin, listing, text="#2")
    assert "Feed #2: F1" in listing.body and "HTTP 500" in listing.body

    assert (await h.press(h.admin, listing, text="⏸ Pause"))["text"] == "Paused"
    async with h.db.transaction() as conn:
        feed = await repo.get_feed(conn, ids[1])
    assert feed is not None and not feed.enabled
    await h.press(h.admin, listing, text="▶️ Resume")
    h.clock.advance(timedelta(minutes=1))
    await h.press(h.admin, listing, text="🔄 Poll now")
    async with h.db.transaction() as conn:
        feed = await repo.get_feed(conn, ids[1])
    assert feed is not None and feed.enabled and feed.next_poll_at == h.clock.now()

    await h.press(h.admin, listing, text="🗑 Remove")
    assert "cannot be undone" in listing.body
    await h.press(h.admin, listing, text="Keep it")
    await h.press(h.admin, listing, text="🗑 Remove")
    assert (await h.press(h.admin, listing, text="🗑 Yes, remove"))["text"] == "Removed"
    async with h.db.transaction() as conn:
        assert await repo.get_feed(conn, ids[1]) is None
    assert "Feeds: 9" in listing.body
    assert await audit_actions(h) == ["feed.pause", "feed.resume", "feed.poll", "feed.remove"]


async def test_feed_health_notifications_once_per_transition(h: AdminHarness) -> None:
    [feed_id, quiet_id] = await make_feeds(h, 2)
    bot = h.bot
    assert bot is not None
    await h.add_user(ADMIN, language="en")
    await h.add_user(600)
    async with h.db.transaction() as conn:
        await admin_repo.add_admin(conn, 600, ADMIN, h.clock.now())

    def notices(uid: int) -> list[str]:
        return [m.body for m in h.fake.sent_messages(uid)]

    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == []

    async with h.db.transaction() as conn:
        await conn.execute(
            update(s.feeds)
            .where(s.feeds.c.id == feed_id)
            .values(broken=True, last_error="HTTP 503 Service Unavailable")
        )
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == [(feed_id, "broken")]
    assert notices(ADMIN) == [f"🔴 Feed #{feed_id} «F0» is broken: HTTP 503 Service Unavailable"]
    assert len(notices(600)) == 1  # run-time admins too, in their language
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == []
    assert len(notices(ADMIN)) == 1

    async with h.db.transaction() as conn:
        await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_id).values(broken=False))
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == [(feed_id, "recovered")]
    assert notices(ADMIN)[-1] == f"🟢 Feed #{feed_id} «F0» works again."
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == []

    # A feed that published daily and then nothing for five days went quiet.
    now = h.clock.now()
    async with h.db.transaction() as conn:
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
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == [(quiet_id, "quiet")]
    assert "has published nothing for 5.0 days" in notices(ADMIN)[-1]
    assert await notify_feed_health(bot, h.db, h.clock, {ADMIN}) == []
    assert len(notices(ADMIN)) == 3
