"""Assembling the bot: Bot, Dispatcher, middlewares and routers.

Dependencies reach handlers through the dispatcher's workflow data: the services of
:class:`bot.services.ServiceSet` by name (``subscriptions``, ``preferences``...), ``settings``,
``clock``, ``region`` (and ``user``, set per update by :class:`UserMiddleware`). Handlers
never see the database: the services open its transactions.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import LinkPreviewOptions

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.feeds.workers import CpuRunner
from bot.i18n import UserLocaleMiddleware, create_i18n
from bot.middlewares import UserMiddleware
from bot.services import ServiceSet
from bot.storage import Database
from digests.region import load_region

__all__ = ["BOT_DEFAULTS", "build_dispatcher", "create_bot", "create_fsm_storage"]

# Every message is HTML (feed text is escaped where it is put in) and shows no link previews.
BOT_DEFAULTS = DefaultBotProperties(
    parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
)


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    """The aiogram Bot; HTML parse mode and no link previews by default."""
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(token or settings.token, session=session, default=BOT_DEFAULTS)


def create_fsm_storage(settings: Settings) -> BaseStorage:
    """Redis when configured (shared state for several processes), else memory."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return MemoryStorage()


def build_dispatcher(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    storage: BaseStorage | None = None,
    parse_workers: CpuRunner | None = None,
) -> Dispatcher:
    from handlers import root_router

    clock = clock or SystemClock()
    region = load_region()
    services = ServiceSet.create(db, settings, clock, region, parse_workers=parse_workers)
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        settings=settings,
        clock=clock,
        region=region,
        **services.workflow_data(),
    )
    dp.update.outer_middleware(UserMiddleware())
    UserLocaleMiddleware(create_i18n(settings.default_language)).setup(dp)
    dp.include_router(root_router())
    return dp
