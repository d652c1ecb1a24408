"""The ``newsbot run`` process: bot polling, feed poller, digest scheduler and sender together.

:class:`Services` owns the long-lived parts. Its APScheduler is created inside the running
event loop (in the dispatcher's start-up), with ``coalesce`` and ``max_instances=1`` on every
job, so a slow cycle is never run twice at once and a missed one runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import UTC
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_dispatcher, connect_fsm_storage, create_bot
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery.sender import Sender, SenderConfig
from bot.feeds.fetch import Fetcher
from bot.feeds.poller import Poller, warm_worker
from bot.feeds.workers import MIB, Budget, WorkerPool
from bot.ingest import (
    DatabaseFeedStore,
    StoryAssigner,
    tag_pending,
    understand_in_worker,
)
from bot.scheduling.digest_tick import run_digest_tick, run_instant_alerts
from bot.services.admins import AdminService
from bot.services.broadcast_progress import progress_hook, update_broadcast_progress
from bot.services.feed_health import notify_feed_health
from bot.services.feeds import FeedService, fetch_policy
from bot.storage import Database
from bot.storage.database import open_database
from bot.storage.retention import purge
from digests.region import load_region
from digests.understanding import get_analyzer

__all__ = ["Services", "prepare_database", "run_bot"]

log = logging.getLogger(__name__)


async def prepare_database(settings: Settings, clock: Clock) -> Database:
    """Migrate, then make the feeds table match the feeds file."""
    db = await open_database(settings.database_url)
    report = await FeedService(db, settings, clock, load_region(settings.region)).sync_file()
    log.info(
        "feeds file %s: %d feeds (%d added, %d updated, %d disabled)",
        settings.feeds_file,
        report.total,
        report.added,
        report.updated,
        report.disabled,
    )
    return db


class Services:
    """Poller, sender and scheduled jobs of one bot process."""

    def __init__(self, settings: Settings, db: Database, bot: Bot, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.bot = bot
        self.clock = clock
        self.region = load_region(settings.region)
        self.analyzer = get_analyzer(settings.region)
        self.store = DatabaseFeedStore(db, StoryAssigner())
        self.fetcher = Fetcher(fetch_policy(settings))
        # Parsing and understanding in worker processes keep feedparser's and the analyzer's
        # CPU work (and the GIL) off the event loop; this process only stores. Each feed's work
        # has a time and memory budget: a worker over it is killed and replaced.
        self.workers = WorkerPool(
            settings.parse_workers,
            Budget(settings.feed_parse_timeout, settings.feed_parse_memory_mb * MIB),
            initializer=partial(warm_worker, partial(understand_in_worker, settings.region)),
        )
        self.poller = Poller(
            self.store,
            self.fetcher,
            understand=partial(understand_in_worker, settings.region),
            executor=self.workers,
            parse_concurrency=settings.parse_workers,  # one stuck feed holds up one worker only
            clock=clock.now,
            understand_in_executor=True,
            local_tz=ZoneInfo(self.region.timezone),
        )
        self.sender = Sender(
            db,
            bot,
            SenderConfig.from_settings(settings),
            now=clock.now,
            on_outcome=progress_hook(bot, db, clock),
        )
        self.scheduler: AsyncIOScheduler | None = None
        self._sender_task: asyncio.Task[None] | None = None
        self._workers_start: asyncio.Task[None] | None = None
        self._stopping = False
        self.sender_restart_delay = 5.0

    async def start(self) -> None:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            loaded = await self.store.assigner.warm(conn, now)
        log.info("story index: %d recent articles", loaded)
        await tag_pending(self.db, self.analyzer, self.store.assigner, now)
        # Each worker warms up (feedparser, the analyzer) before its first feed; the bot need
        # not wait for that: the first poll cycle does.
        self._workers_start = asyncio.create_task(self.workers.start(), name="workers-start")
        self._workers_start.add_done_callback(_log_failure)
        # Everything loaded so far (dictionaries, the warmed story index, aiogram) lives as
        # long as the process: keep it out of full collections, which stall the event loop.
        gc.collect()
        gc.freeze()
        await self.sender.prepare()
        self._sender_task = asyncio.create_task(self._supervise_sender(), name="sender")
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        scheduler.add_job(
            self.poll_cycle,
            "interval",
            seconds=self.settings.poll_interval,
            next_run_time=now,
            id="poll",
            **jobs,
        )
        scheduler.add_job(self.digest_tick, "cron", second=0, id="digests", **jobs)
        scheduler.add_job(self.clean_up, "interval", hours=6, id="retention", **jobs)
        scheduler.add_job(self.broadcast_progress, "interval", seconds=3, id="progress", **jobs)
        scheduler.start()
        self.scheduler = scheduler

    async def _supervise_sender(self) -> None:
        """Keep the sender running: a database outage stops its loop, it must not stop
        deliveries for good."""
        while not self._stopping:
            try:
                await self.sender.run()
            except Exception:
                delay = self.sender_restart_delay
                log.exception("sender stopped by an error; restarting in %.0f s", delay)
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self._stopping = True
        self.sender.stop()
        if self._sender_task is not None:
            if not self.sender.running:
                self._sender_task.cancel()  # waiting to restart: nothing in flight
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
        await self.fetcher.close()
        if self._workers_start is not None and not self._workers_start.done():
            self._workers_start.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._workers_start
        await self.workers.close()

    async def poll_cycle(self) -> None:
        reports = await self.poller.poll_due(self.clock.now())
        now = self.clock.now()
        await tag_pending(self.db, self.analyzer, self.store.assigner, now)
        self.store.assigner.index.prune(now)
        alerts = await run_instant_alerts(
            self.db, now, region=self.region, cap=self.settings.digest_cap
        )
        if alerts.messages_queued:
            self.sender.wake()
        new = sum(r.new for r in reports)
        log.info("poll cycle: %d feeds, %d new articles", len(reports), new)
        await notify_feed_health(self.bot, self.db, self.clock, self.settings.admin_ids)

    async def digest_tick(self) -> None:
        report = await run_digest_tick(
            self.db, self.clock.now(), region=self.region, cap=self.settings.digest_cap
        )
        if report.messages_queued:
            self.sender.wake()

    async def broadcast_progress(self) -> None:
        """Move due broadcasts on, refresh progress messages and send final reports."""
        await update_broadcast_progress(self.bot, self.db, self.clock)
        self.sender.wake()

    async def clean_up(self) -> None:
        async with self.db.transaction() as conn:
            report = await purge(conn, self.clock.now(), self.settings.retention_days)
        log.info("retention: %s", report)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("%s failed: %s (the next poll cycle tries again)", task.get_name(), exc)


async def run_bot(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    storage = await connect_fsm_storage(settings)  # a dead REDIS_URL stops us here
    try:
        db = await prepare_database(settings, clock)
    except BaseException:
        await storage.close()
        raise
    bot = create_bot(settings)
    services = Services(settings, db, bot, clock)
    # /addfeed parses a candidate feed in the same worker pool, under the same budget.
    dp = build_dispatcher(
        settings,
        db,
        clock=clock,
        storage=storage,
        parse_workers=services.workers,
    )

    async def on_startup(bot: Bot, dispatcher: Dispatcher) -> None:
        from handlers.admin import set_admin_commands
        from handlers.commands import set_bot_commands

        await set_bot_commands(bot)
        await set_admin_commands(bot, await AdminService(db, settings, clock).all_ids())
        await services.start()
        me = await bot.get_me()
        log.info("bot @%s started", me.username)

    async def on_shutdown() -> None:
        await services.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot)
    finally:
        await bot.session.close()  # the dispatcher closes the FSM storage itself
        await db.close()
