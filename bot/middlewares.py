"""Dispatcher middlewares: every private-chat update arrives with its stored user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import language_for
from bot.storage import Database, users

__all__ = ["UserMiddleware"]

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserMiddleware(BaseMiddleware):
    """Loads (creating on first contact) the user of a private chat into ``data["user"]``.

    A user who had blocked the bot and writes again is reactivated here, so they start
    cleanly. Group chats get ``data["user"] = None``.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        data["user"] = None
        data["user_created"] = False
        if (
            tg_user is not None
            and not tg_user.is_bot
            and chat is not None
            and chat.type == "private"
        ):
            db: Database = data["db"]
            settings: Settings = data["settings"]
            clock: Clock = data["clock"]
            defaults = users.UserDefaults(
                language=language_for(tg_user.language_code, settings.default_language),
                timezone=settings.default_timezone,
                delivery_minute=settings.default_digest_time.hour * 60
                + settings.default_digest_time.minute,
            )
            async with db.transaction() as conn:
                user, created = await users.ensure_user(
                    conn, tg_user.id, chat.id, clock.now(), defaults
                )
            data["user"] = user
            data["user_created"] = created
        return await handler(event, data)
