"""The admin filter, set on the admin router's message and callback_query observers: no
admin handler runs for anyone else (commands, forged buttons and deep links alike)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.accounts import User
from bot.services.admins import AdminService

__all__ = ["AdminFilter"]


class AdminFilter(Filter):
    """A private chat with a stored user who is an admin (ADMIN_IDS or added at run time)."""

    async def __call__(
        self, event: TelegramObject, admins: AdminService, user: User | None = None
    ) -> bool:
        if user is None:  # groups, channels, bots
            return False
        return await admins.is_admin(user.id)
