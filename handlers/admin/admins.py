"""/admins: the list of admins; add by Telegram id, remove (ADMIN_IDS cannot be removed)."""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import BotCommandScopeChat, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from bot.services.admins import AdminList, AdminService, Removal
from handlers.admin.callbacks import AdminAction, AdminCb
from handlers.common import render

__all__ = ["router"]

router = Router(name="admin-admins")


def admins_view(admins: AdminList) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("👮 Admins")]
    for admin_id in admins.configured:
        lines.append(_("• {id} (ADMIN_IDS, cannot be removed here)").format(id=admin_id))
    kb = InlineKeyboardBuilder()
    for added in admins.added:
        lines.append(_("• {id} (added by {by})").format(id=added.user_id, by=added.added_by or "?"))
        kb.button(
            text=_("✖ Remove {id}").format(id=added.user_id),
            callback_data=AdminCb(action=AdminAction.REMOVE, user_id=added.user_id),
        )
    kb.adjust(1)
    lines += ["", _("Add one: /admins add <i>id</i>. Remove: /admins remove <i>id</i>.")]
    return "\n".join(lines), kb.as_markup()


async def _remove(admins: AdminService, user: User, bot: Bot, target: int) -> str:
    removal = await admins.remove(target, by=user.id)
    if removal is Removal.CONFIGURED:
        return _("{id} is in ADMIN_IDS: change the configuration to remove them.").format(id=target)
    if removal is Removal.NOT_ADMIN:
        return _("{id} is not an admin.").format(id=target)
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=target))
    return _("{id} is no longer an admin.").format(id=target)


@router.message(Command("admins"))
async def admins_command(
    message: Message, command: CommandObject, admins: AdminService, user: User, bot: Bot
) -> None:
    args = (command.args or "").split()
    if not args:
        text, markup = admins_view(await admins.listing())
        await message.answer(text, reply_markup=markup)
        return
    if len(args) != 2 or args[0] not in ("add", "remove") or not args[1].lstrip("-").isdigit():
        await message.answer(_("Usage: /admins, /admins add <i>id</i>, /admins remove <i>id</i>."))
        return
    target = int(args[1])
    if args[0] == "remove":
        await message.answer(await _remove(admins, user, bot, target))
        return
    if target <= 0:
        await message.answer(_("A Telegram user id is a positive number."))
        return
    if not await admins.add(target, by=user.id):
        await message.answer(_("{id} is already an admin.").format(id=target))
        return
    from handlers.admin import set_admin_commands

    # If they have not started the bot yet, the menu comes at the next start-up.
    with contextlib.suppress(TelegramAPIError):
        await set_admin_commands(bot, [target])
    await message.answer(
        _("✅ {id} is now an admin. They should send /start to the bot first.").format(id=target)
    )


@router.callback_query(AdminCb.filter())
async def admin_button(
    callback: CallbackQuery, callback_data: AdminCb, admins: AdminService, user: User, bot: Bot
) -> None:
    await callback.answer(await _remove(admins, user, bot, callback_data.user_id))
    await render(callback, *admins_view(await admins.listing()))
