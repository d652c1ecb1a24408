"""The buttons of a broadcast's progress message: «Stop», then «Yes, stop it» or «Keep
sending». The message itself is kept up to date by :mod:`bot.services.broadcast_progress`."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from bot.services.broadcast_progress import BroadcastCb, StopButton
from bot.services.broadcasts import BroadcastService
from handlers.common import render

__all__ = ["router"]

router = Router(name="admin-broadcast-stop")


@router.callback_query(BroadcastCb.filter(F.action == StopButton.ASK))
async def ask_stop(
    callback: CallbackQuery, callback_data: BroadcastCb, broadcasts: BroadcastService
) -> None:
    broadcast = await broadcasts.active(callback_data.broadcast_id)
    if broadcast is None:
        await callback.answer(_("This broadcast has already finished."), show_alert=True)
        return
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("⏹ Yes, stop it"),
        callback_data=BroadcastCb(action=StopButton.CONFIRM, broadcast_id=broadcast.id),
    )
    kb.button(
        text=_("Keep sending"),
        callback_data=BroadcastCb(action=StopButton.KEEP, broadcast_id=broadcast.id),
    )
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=kb.as_markup())


@router.callback_query(BroadcastCb.filter(F.action == StopButton.KEEP))
async def keep(
    callback: CallbackQuery, callback_data: BroadcastCb, bot: Bot, broadcasts: BroadcastService
) -> None:
    await callback.answer()
    await broadcasts.show_progress(bot, callback_data.broadcast_id, redraw=True)


@router.callback_query(BroadcastCb.filter(F.action == StopButton.CONFIRM))
async def halt(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    broadcasts: BroadcastService,
    user: User,
) -> None:
    report = await broadcasts.stop(callback_data.broadcast_id, user.id, user.language)
    if report is None:
        await callback.answer(_("This broadcast has already finished."), show_alert=True)
        return
    await callback.answer(_("Stopped"))
    await render(callback, report)
