"""/stats: users, subscriptions, deliveries of the last day, queue and feed health."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.admin import format_stats
from bot.clock import Clock
from bot.i18n import translator
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage.users import User

__all__ = ["router"]


router = Router(name="admin-stats")


@router.message(Command("stats"))
async def show_stats(message: Message, db: Database, clock: Clock, user: User) -> None:
    now = clock.now()
    async with db.transaction() as conn:
        stats = await repo.collect_stats(conn, now)
        await repo.audit(conn, user.id, "stats.view", now)
    text = format_stats(stats, translator(user.language), user.language)
    await message.answer(html.escape(text, quote=False))
