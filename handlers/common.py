"""Helpers shared by the feature routers: edits that tolerate Telegram's quirks, filters,
and display names of places."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.services.accounts import User
from digests.region import Region
from digests.understanding import Place

__all__ = [
    "has_user",
    "place_name",
    "render",
    "send",
    "stale",
]

log = logging.getLogger(__name__)


async def has_user(_event: TelegramObject, user: User | None = None) -> bool:
    """Router filter: a private chat with a stored user (groups get ``user=None``)."""
    return user is not None


def place_name(region: Region, place: Place, lang: str) -> str | None:
    """Display name of a district or okrug; None for an unknown slug."""
    try:
        if place.kind == "okrug":
            return region.okrug(place.slug).name(lang)
        return region.district(place.slug).name(lang)
    except KeyError:
        return None


async def send(message: Message, view: tuple[str, InlineKeyboardMarkup]) -> None:
    """Send a screen as a new message."""
    await message.answer(view[0], reply_markup=view[1])


async def render(
    callback: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Show a screen in place of the callback's message.

    "message is not modified" (a double tap) is not an error. A message that cannot be
    edited any more (too old, deleted, inaccessible) is replaced by a new one.
    """
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
            log.info("cannot edit message %s: %s", message.message_id, exc.message)
    if callback.bot is None:
        return
    chat_id = message.chat.id if message is not None else callback.from_user.id
    await callback.bot.send_message(chat_id, text, reply_markup=markup)


async def stale(callback: CallbackQuery, **kwargs: Any) -> None:
    """Answer a button that no longer applies (old message, forged or malformed data)."""
    with suppress(TelegramAPIError):
        await callback.answer(
            _("This button is out of date. Send /start or /help to continue."), **kwargs
        )
