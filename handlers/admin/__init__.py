"""Admin tools: broadcasts, feed management and health, statistics, admins.

:data:`router` is one router whose message and callback_query observers carry
:class:`AdminFilter`: when it fails, aiogram does not descend into the sub-routers, so no
admin handler is reachable by anyone else and their updates fall through to the resident
routers (unknown command, out-of-date button). It comes before the fallback router.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Bot, Router
from aiogram.types import BotCommand, BotCommandScopeChat

from bot.i18n import LANGUAGES, translator
from digests.i18n import N_
from handlers.admin import admins, broadcast, broadcast_stop, feeds, stats
from handlers.admin.filters import AdminFilter
from handlers.commands import bot_commands

__all__ = [
    "ADMIN_COMMANDS",
    "AdminFilter",
    "admin_commands",
    "router",
    "set_admin_commands",
]

ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("broadcast", N_("Admin: send an announcement")),
    ("feeds", N_("Admin: feeds and their health")),
    ("addfeed", N_("Admin: add a feed")),
    ("stats", N_("Admin: statistics")),
    ("admins", N_("Admin: list, add or remove admins")),
)


router = Router(name="admin")
router.message.filter(AdminFilter())
router.callback_query.filter(AdminFilter())
router.include_routers(
    broadcast.router, broadcast_stop.router, feeds.router, stats.router, admins.router
)


def admin_commands(language: str) -> list[BotCommand]:
    """The residents' menu plus the admin commands, in ``language``."""
    gettext = translator(language).gettext
    return bot_commands(language) + [
        BotCommand(command=name, description=gettext(description))
        for name, description in ADMIN_COMMANDS
    ]


async def set_admin_commands(
    bot: Bot, admin_ids: Iterable[int], default_language: str = "ru"
) -> None:
    """Show the admin commands in the menu of each admin's private chat only."""
    for admin_id in sorted(set(admin_ids)):
        scope = BotCommandScopeChat(chat_id=admin_id)
        for language in LANGUAGES:
            await bot.set_my_commands(admin_commands(language), scope=scope, language_code=language)
        await bot.set_my_commands(admin_commands(default_language), scope=scope)
