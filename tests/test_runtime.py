"""The assembled process: feeds in, digests out through the sender, and `newsbot run` itself."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import BOT_DEFAULTS
from bot.clock import FixedClock
from bot.config import Settings
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.runtime import Services, prepare_database
from bot.storage import feeds as feeds_repo
from bot.storage import users
from bot.testing import FakeTelegram

# 07:30 in Moscow.
START = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)

ITEM = (
    "<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
    "<description>{text}</description><pubDate>{date}</pubDate></item>"
)


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    items = ITEM.format(
        title="В Куркино открыли каток &amp; прокат",
        link="https://szao.example/katok",
        text="В районе Куркино открыли каток с прокатом коньков. Каток работает ежедневно.",
        date=format_datetime(START - timedelta(hours=1)),
    )
    body = (
        '<?xml version="1.0"?><rss version="2.0">'
        f"<channel><title>СЗАО</title>{items}</channel></rss>"
    )

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/rss", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/rss"
    await runner.cleanup()


async def test_feed_to_telegram_through_every_step(
    tmp_path: Path, sqlite_url: str, feed_url: str
) -> None:
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=sqlite_url,
        feeds_file=empty,
        feed_allowed_networks=("127.0.0.0/8",),
    )
    clock = FixedClock(START)
    db = await prepare_database(settings, clock)
    async with db.transaction() as conn:
        await feeds_repo.add_feed(
            conn, FeedSource(feed_url, Binding(BindingKind.OKRUG, "szao")), clock.now()
        )
        await users.ensure_user(conn, 77, 77, clock.now())
        await users.add_subscription(conn, 77, "district", "kurkino", clock.now())
    async with FakeTelegram() as fake:
        bot = fake.make_bot(
            parse_mode=BOT_DEFAULTS.parse_mode, link_preview=BOT_DEFAULTS.link_preview
        )
        services = Services(settings, db, bot, clock)
        await services.start()
        try:
            await services.poll_cycle()
            clock.set(START + timedelta(minutes=30))  # 08:00 in Moscow
            await services.digest_tick()
            [digest] = await fake.user(77).wait_for_messages(count=1, timeout=10)
        finally:
            await services.stop()
            await bot.session.close()
    await db.close()
    assert "Куркино" in digest.text and "каток & прокат" in digest.text
    assert [url for _, url in digest.links] == ["https://szao.example/katok"]
    assert digest.params["link_preview_options"] == {"is_disabled": True}


@pytest.mark.slow
async def test_newsbot_run_answers_and_stops_cleanly(tmp_path: Path, sqlite_url: str) -> None:
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    async with FakeTelegram() as fake:
        env = os.environ | {
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE": fake.base_url,
            "DATABASE_URL": sqlite_url,
            "FEEDS_FILE": str(empty),
            "LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            user = fake.user(4242, language_code="en")
            # Start-up imports take most of a minute on a loaded two-core machine.
            await fake.wait_for(lambda: fake.polling, timeout=90, what="the bot polling")
            await user.send("/start")
            [welcome, *_] = await user.wait_for_messages(count=1, timeout=15)
            assert fake.calls("setMyCommands")
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert welcome.text.startswith("👋 Hello! I send news from your Moscow district")
    assert process.returncode == 0, stderr.decode()[-2000:]


async def test_sender_is_restarted_after_a_failure_and_stops_on_request(
    tmp_path: Path, sqlite_url: str
) -> None:
    empty = tmp_path / "feeds.toml"
    empty.write_text("")
    settings = Settings(_env_file=None, database_url=sqlite_url, feeds_file=empty)  # type: ignore[call-arg]
    clock = FixedClock(START)
    db = await prepare_database(settings, clock)
    async with FakeTelegram() as fake:
        bot = fake.make_bot()
        services = Services(settings, db, bot, clock)
        runs = 0
        real_run = services.sender.run

        async def flaky_run() -> None:
            nonlocal runs
            runs += 1
            if runs == 1:
                raise ConnectionError("database went away")
            await real_run()

        services.sender.run = flaky_run  # type: ignore[method-assign]
        services.sender_restart_delay = 0.01
        await services.start()
        try:
            await fake.wait_for(lambda: services.sender.running, timeout=5, what="restart")
        finally:
            await asyncio.wait_for(services.stop(), timeout=10)
            await bot.session.close()
    await db.close()
    assert runs == 2
