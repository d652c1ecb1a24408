"""Assembling the bot: Bot, Dispatcher, middlewares and routers.

Dependencies reach handlers through the dispatcher's workflow data: the services of
:class:`bot.services.ServiceSet` by name (``subscriptions``, ``preferences``...), ``settings``,
``clock``, ``region`` (and ``user``, set per update by :class:`UserMiddleware`). Handlers
never see the database: the services open its transactions.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

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
from bot.errors import ServiceUnavailableError
from bot.feeds.workers import CpuRunner
from bot.i18n import UserLocaleMiddleware, create_i18n
from bot.middlewares import UserMiddleware
from bot.services import ServiceSet
from bot.storage import Database
from digests.region import load_region

__all__ = [
    "BOT_DEFAULTS",
    "build_dispatcher",
    "connect_fsm_storage",
    "create_bot",
    "create_fsm_storage",
]

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


async def connect_fsm_storage(settings: Settings, within: float = 10.0) -> BaseStorage:
    """:func:`create_fsm_storage`, with Redis checked now: a dead REDIS_URL refuses to start
    (otherwise the bot would start and then fail every update)."""
    storage = create_fsm_storage(settings)
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage
        from redis.exceptions import RedisError

        assert isinstance(storage, RedisStorage)
        try:
            async with asyncio.timeout(within):
                await storage.redis.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            await storage.close()
            parts = urlsplit(settings.redis_url)
            shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
            reason = str(exc) or f"no answer within {within:g} s"
            raise ServiceUnavailableError(
                f"REDIS_URL: cannot use Redis at {shown}: {reason}"
            ) from None
    return storage


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
    region = load_region(settings.region)
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
