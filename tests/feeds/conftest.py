"""Shared fixtures: an in-memory FeedStore test double and a local feed server."""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import ipaddress
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.feeds.fetch import Fetcher, FetchPolicy
from bot.feeds.normalize import NormalizedArticle
from bot.feeds.poller import (
    ArticleRecord,
    FeedState,
    FetchOutcome,
    Poller,
    UpsertResult,
)
from bot.feeds.schedule import HealthEvent

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- in-memory store (test double for the lead's database store) ---------------------------


@dataclass
class StoredArticle:
    article: NormalizedArticle
    understanding: object | None
    first_seen: datetime
    updated_at: datetime
    versions: int = 1


@dataclass
class MemoryStore:
    """FeedStore over dicts. Mirrors the intended database semantics, nothing more."""

    feeds: dict[int, FeedState] = field(default_factory=dict)
    next_poll: dict[int, datetime | None] = field(default_factory=dict)
    articles: dict[tuple[int, str], StoredArticle] = field(default_factory=dict)
    outcomes: list[FetchOutcome] = field(default_factory=list)
    events: list[tuple[int, HealthEvent]] = field(default_factory=list)

    def add_feed(self, url: str, poll_interval: timedelta = timedelta(minutes=30)) -> FeedState:
        feed_id = len(self.feeds) + 1
        state = FeedState(feed_id=feed_id, url=url, poll_interval=poll_interval)
        self.feeds[feed_id] = state
        self.next_poll[feed_id] = None
        return state

    def stored(self, feed_id: int) -> list[StoredArticle]:
        return [a for (fid, _), a in self.articles.items() if fid == feed_id]

    def last_outcome(self, feed_id: int) -> FetchOutcome:
        return [o for o in self.outcomes if o.feed_id == feed_id][-1]

    async def due_feeds(self, now: datetime, limit: int | None = None) -> Sequence[FeedState]:
        due = [
            f for fid, f in self.feeds.items() if (np := self.next_poll[fid]) is None or np <= now
        ]
        return due[:limit] if limit is not None else due

    async def article_hashes(self, feed_id: int, identities: Sequence[str]) -> Mapping[str, str]:
        out = {}
        for ident in identities:
            stored = self.articles.get((feed_id, ident))
            if stored is not None:
                out[ident] = stored.article.content_hash
        return out

    async def upsert_articles(
        self, feed_id: int, articles: Sequence[ArticleRecord], seen_at: datetime
    ) -> UpsertResult:
        new = updated = unchanged = 0
        for rec in articles:
            key = (feed_id, rec.article.identity)
            old = self.articles.get(key)
            if old is None:
                self.articles[key] = StoredArticle(rec.article, rec.understanding, seen_at, seen_at)
                new += 1
            elif old.article.content_hash != rec.article.content_hash:
                old.article = rec.article
                old.understanding = rec.understanding
                old.updated_at = seen_at
                old.versions += 1
                updated += 1
            else:
                unchanged += 1
        return UpsertResult(new, updated, unchanged)

    async def save_outcome(self, outcome: FetchOutcome) -> None:
        self.outcomes.append(outcome)
        feed = self.feeds[outcome.feed_id]
        self.feeds[outcome.feed_id] = replace(
            feed,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            body_hash=outcome.body_hash,
            ttl_minutes=outcome.ttl_minutes,
            health=outcome.health,
        )
        self.next_poll[outcome.feed_id] = outcome.next_poll_at
        if outcome.event is not None:
            self.events.append((outcome.feed_id, outcome.event))


# --- local feed server ---------------------------------------------------------------------

BOMB_SIZE = 25 * 1024 * 1024  # decompressed (> the 20 MB cap); compresses to ~25 KB


@dataclass
class FeedServer:
    base: str = ""
    # path -> (body, content type); mutable so tests can edit feeds between polls
    feeds: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    request_headers: list[Mapping[str, str]] = field(default_factory=list)
    huge_bytes_sent: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    extra_headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def set_feed(self, name: str, body: bytes, content_type: str = "application/rss+xml") -> str:
        self.feeds[name] = (body, content_type)
        return self.url(f"/feed/{name}")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


LAST_MODIFIED = "Mon, 06 Jan 2025 09:00:00 GMT"


@functools.cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


def make_app(srv: FeedServer) -> web.Application:

    async def record(request: web.Request) -> None:
        srv.hits[request.path] += 1
        srv.request_headers.append(dict(request.headers))

    async def feed(request: web.Request) -> web.StreamResponse:
        """Feed with ETag (and, with ?lm=1, only Last-Modified)."""
        await record(request)
        name = request.match_info["name"]
        if name not in srv.feeds:
            raise web.HTTPNotFound()
        body, ctype = srv.feeds[name]
        headers = dict(srv.extra_headers.get(name, {}))
        if request.query.get("lm"):
            headers["Last-Modified"] = LAST_MODIFIED
            if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return web.Response(status=304, headers=headers)
        elif not request.query.get("plain"):
            etag = _etag(body)
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        encoding = request.query.get("enc")
        if encoding == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        elif encoding == "deflate":
            body = zlib.compress(body)
            headers["Content-Encoding"] = "deflate"
        headers["Content-Type"] = ctype
        return web.Response(body=body, headers=headers)

    async def status(request: web.Request) -> web.Response:
        await record(request)
        code = int(request.match_info["code"])
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        return web.Response(status=code, text="error", headers=headers)

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await asyncio.sleep(5)
        return web.Response(body=fixture_bytes("rss091.xml"))

    async def huge(request: web.Request) -> web.StreamResponse:
        """Streams ~1 GB without Content-Length, counting what the client accepted."""
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if request.query.get("cl"):
            resp.content_length = 1_000_000_000
        await resp.prepare(request)
        chunk = b"<rss>" + b"x" * (64 * 1024 - 5)
        try:
            for _ in range(16_000):
                await resp.write(chunk)
                srv.huge_bytes_sent += len(chunk)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        return resp

    async def bomb_handler(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(
            body=gzip_bomb(),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    async def redirect(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound(request.query["to"])

    async def loop_a(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("/loop/b")

    async def loop_b(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPMovedPermanently(srv.url("/loop/a"))

    async def chain(request: web.Request) -> web.Response:
        await record(request)
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(
                body=fixture_bytes("rss091.xml"), content_type="application/rss+xml"
            )
        raise web.HTTPFound(f"/chain/{n - 1}")

    async def concurrent(request: web.Request) -> web.Response:
        await record(request)
        srv.in_flight += 1
        srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            await asyncio.sleep(0.15)
        finally:
            srv.in_flight -= 1
        return web.Response(body=fixture_bytes("rss091.xml"), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed/{name}", feed)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/huge", huge)
    app.router.add_get("/bomb", bomb_handler)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop/a", loop_a)
    app.router.add_get("/loop/b", loop_b)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/concurrent/{i}", concurrent)
    return app


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    runner = web.AppRunner(make_app(srv), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    srv.base = f"http://127.0.0.1:{port}"
    yield srv
    await runner.cleanup()


LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


def make_policy(**overrides: Any) -> FetchPolicy:
    params: dict[str, Any] = {
        "user_agent": "MoscowDistrictNewsBot/test",
        "contact_url": "https://bot.example/contact",
        "connect_timeout": 1.0,
        "total_timeout": 2.0,
        "allowed_networks": LOCAL,
        "min_interval": timedelta(minutes=5),
        "max_interval": timedelta(hours=6),
    }
    params.update(overrides)
    return FetchPolicy(**params)


@dataclass
class Env:
    store: MemoryStore
    fetcher: Fetcher
    poller: Poller
    server: FeedServer
    understood: list[str]


def make_env(server: FeedServer, fetcher: Fetcher, **poller_kw: Any) -> Env:
    store = MemoryStore()
    understood: list[str] = []

    def understand(article: NormalizedArticle) -> object:
        understood.append(article.identity)
        return {"words": len(article.text.split())}

    poller_kw.setdefault("understand", understand)
    poller = Poller(store, fetcher, **poller_kw)
    return Env(store, fetcher, poller, server, understood)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(make_policy())
    yield f
    await f.close()


@pytest.fixture
async def env(server: FeedServer, fetcher: Fetcher) -> Env:
    return make_env(server, fetcher)
