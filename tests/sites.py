"""A local web site for tests that fetch feeds for real (only 127.0.0.1 is ever used)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

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


@contextlib.asynccontextmanager
async def serve_site() -> AsyncIterator[str]:
    """A news site on 127.0.0.1: a feed at /rss.xml and a plain web page at /news.html;
    yields its base URL (anything else is a 404)."""

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
