"""Dispatcher middlewares: every private-chat update arrives with its stored user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from bot.services.accounts import AccountService

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
            accounts: AccountService = data["accounts"]
            data["user"], data["user_created"] = await accounts.ensure(
                tg_user.id, chat.id, tg_user.language_code
            )
        return await handler(event, data)
