"""/addfeed with hostile feeds: the admin gets the per-feed reason, never a generic error, and
a feed that costs too much to parse is stopped by the bot's worker pool budget."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import tests.handlers.conftest as harness_module
from bot.feeds.parse import MAX_MARKUP
from bot.feeds.workers import Budget, WorkerPool
from tests.handlers.admin.conftest import AdminHarness

ODD = (
    '<?xml version="1.0" encoding="hex"?><rss version="2.0"><channel><title>Вести</title>'
    "<ttl>9999999999999999999999</ttl><item><title>Открыт новый сквер на Плющихе</title>"
    "<link>http://127.0.0.1/a/1</link><description>Сквер открыли в субботу.</description>"
    "<pubDate>0001-01-01T00:00:00</pubDate></item></channel></rss>"
).encode("cp1251")


def titled(tags: int) -> bytes:
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>'
        + b"<b>" * tags
        + b"</title><item><title>x</title><link>http://127.0.0.1/x</link></item></channel></rss>"
    )


BODIES = {"/odd.xml": ODD, "/bomb.xml": titled(6_333_333), "/slow.xml": titled(MAX_MARKUP - 1_000)}


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(BODIES[request.path]),
            headers={
                "Content-Encoding": "gzip",
                "Content-Type": "application/rss+xml; charset=zlib",
            },
        )

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def workers(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WorkerPool]:
    """The bot's worker pool, given to the dispatcher's services as bot/runtime.py does."""
    pool = WorkerPool(1, Budget(seconds=1.0))
    original = harness_module.build_dispatcher

    def build(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs, parse_workers=pool)

    monkeypatch.setattr(harness_module, "build_dispatcher", build)
    yield pool
    await pool.close()


async def test_addfeed_answers_hostile_feeds_with_their_reason(
    workers: WorkerPool, h: AdminHarness, site: str
) -> None:
    [_checking, added] = await h.send(h.admin, f"/addfeed {site}/odd.xml")
    assert "added" in added.body and "Открыт новый сквер на Плющихе" in added.body

    [_checking, refused] = await h.send(h.admin, f"/addfeed {site}/bomb.xml")
    assert "Feed not added" in refused.body and "too much markup" in refused.body

    [_checking, refused] = await h.send(h.admin, f"/addfeed {site}/slow.xml")
    assert "Feed not added" in refused.body
    assert "parsing took longer than 1 s (time budget)" in refused.body
    assert workers.replaced == 1
