"""Last resort: unknown commands, free text, stale or forged buttons, and errors."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from digests.region import Region
from digests.understanding import resolve
from handlers.callbacks import PlaceKind, SubAction, SubCb
from handlers.common import has_user, place_name, stale

__all__ = ["router"]

log = logging.getLogger(__name__)


router = Router(name="fallback")


@router.message(has_user, F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know this command. /help lists what I can do."))


@router.message(has_user, F.text)
async def free_text(message: Message, user: User, region: Region) -> None:
    text = message.text or ""
    markup: InlineKeyboardMarkup | None = None
    if len(text) <= 60:
        result = resolve(text, region)
        if result.exact is not None:
            name = place_name(region, result.exact, user.language)
            kb = InlineKeyboardBuilder()
            kb.button(
                text=_("➕ Subscribe to {place}").format(place=name),
                callback_data=SubCb(
                    action=SubAction.ADD,
                    kind=PlaceKind.of(result.exact),
                    slug=result.exact.slug,
                ),
            )
            markup = kb.as_markup()
    await message.answer(
        _(
            "I understand commands. To follow a district, send /subscribe <i>name</i>, "
            "for example /subscribe Khamovniki. All commands: /help."
        ),
        reply_markup=markup,
    )


@router.message(has_user)
async def other_message(message: Message) -> None:
    await message.answer(_("I understand text commands only. All commands: /help."))


@router.callback_query()
async def unknown_button(callback: CallbackQuery) -> None:
    await stale(callback)


@router.errors()
async def on_error(event: ErrorEvent, i18n: I18n | None = None, user: User | None = None) -> bool:
    update = event.update
    log.error("error while handling update %s", update.update_id, exc_info=event.exception)
    text = "Sorry, something went wrong. Please try again."
    if i18n is not None:
        # Errors surface outside the i18n middleware's context: enter it again.
        with i18n.context(), i18n.use_locale(user.language if user else i18n.default_locale):
            text = _("Sorry, something went wrong. Please try again.")
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)
    return True
