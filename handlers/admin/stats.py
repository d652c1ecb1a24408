"""/stats: users, subscriptions, deliveries of the last day, queue and feed health."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import Message

from bot.i18n import translator
from bot.services.accounts import User
from bot.services.stats import StatsService, format_stats
from digests.region import Region

__all__ = ["router"]

router = Router(name="admin-stats")


@router.message(Command("stats"))
async def show_stats(message: Message, user: User, stats: StatsService, region: Region) -> None:
    numbers = await stats.view(user.id)
    text = format_stats(numbers, translator(user.language), user.language, region=region)
    await message.answer(html.quote(text))
