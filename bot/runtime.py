"""The ``newsbot run`` process: bot polling, feed poller, digest scheduler and sender together."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher

from bot.app import build_dispatcher, create_bot, create_fsm_storage
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.feeds.sources import load_sources
from bot.storage import Database
from bot.storage import feeds as feeds_repo

__all__ = ["run_bot"]

log = logging.getLogger(__name__)


async def prepare_database(settings: Settings, clock: Clock) -> Database:
    """Migrate, then make the feeds table match the feeds file."""
    db = Database(settings.database_url)
    await db.upgrade()
    sources = load_sources(settings.feeds_file)
    async with db.transaction() as conn:
        report = await feeds_repo.sync_sources(conn, sources, clock.now())
    log.info(
        "feeds file %s: %d feeds (%d added, %d updated, %d disabled)",
        settings.feeds_file,
        len(sources),
        report.added,
        report.updated,
        report.disabled,
    )
    return db


async def on_startup(bot: Bot, dispatcher: Dispatcher) -> None:
    from handlers.commands import set_bot_commands

    await set_bot_commands(bot)
    me = await bot.get_me()
    log.info("bot @%s started", me.username)


async def run_bot(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    db = await prepare_database(settings, clock)
    bot = create_bot(settings)
    dp = build_dispatcher(settings, db, clock=clock, storage=create_fsm_storage(settings))
    dp.startup.register(on_startup)
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot)
    finally:
        await bot.session.close()
        await db.close()
