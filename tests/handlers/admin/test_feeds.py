"""/feeds and /addfeed end to end: a feed is fetched for real from a local HTTP server
(127.0.0.0/8 is allowed by the test settings) and parsed before it is added."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.feeds.sources import Binding, BindingKind
from bot.storage import admin as admin_repo
from bot.storage import feeds as repo
from bot.storage import schema as s
from tests.handlers.admin.conftest import AdminHarness
from tests.seed import add_feeds
from tests.sites import serve_site


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async with serve_site() as base:
        yield base


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
    return await add_feeds(h.db, h.clock.now(), n)


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
