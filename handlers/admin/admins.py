"""/admins: the list of admins; add by Telegram id, remove (ADMIN_IDS cannot be removed)."""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import BotCommandScopeChat, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage.users import User
from handlers.admin.callbacks import AdminCb
from handlers.common import render, stale

__all__ = ["router"]


async def _view(db: Database, settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    async with db.transaction() as conn:
        stored = await repo.list_admins(conn)
    lines = [_("👮 Admins")]
    for admin_id in sorted(settings.admin_ids):
        lines.append(_("• {id} (ADMIN_IDS, cannot be removed here)").format(id=admin_id))
    kb = InlineKeyboardBuilder()
    for admin_id, added_by, _since in stored:
        if admin_id in settings.admin_ids:
            continue
        lines.append(_("• {id} (added by {by})").format(id=admin_id, by=added_by or "?"))
        kb.button(
            text=_("✖ Remove {id}").format(id=admin_id), callback_data=AdminCb(a="rm", i=admin_id)
        )
    kb.adjust(1)
    lines += ["", _("Add one: /admins add <i>id</i>. Remove: /admins remove <i>id</i>.")]
    return "\n".join(lines), kb.as_markup()


router = Router(name="admin-admins")


async def remove(
    db: Database, settings: Settings, clock: Clock, user: User, bot: Bot, target: int
) -> str:
    if target in settings.admin_ids:
        return _("{id} is in ADMIN_IDS: change the configuration to remove them.").format(id=target)
    now = clock.now()
    async with db.transaction() as conn:
        removed = await repo.remove_admin(conn, target)
        if removed:
            await repo.audit(conn, user.id, "admin.remove", now, user_id=target)
    if not removed:
        return _("{id} is not an admin.").format(id=target)
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=target))
    return _("{id} is no longer an admin.").format(id=target)


@router.message(Command("admins"))
async def admins(
    message: Message,
    command: CommandObject,
    db: Database,
    settings: Settings,
    clock: Clock,
    user: User,
    bot: Bot,
) -> None:
    args = (command.args or "").split()
    if not args:
        text, markup = await _view(db, settings)
        await message.answer(text, reply_markup=markup)
        return
    if len(args) != 2 or args[0] not in ("add", "remove") or not args[1].lstrip("-").isdigit():
        await message.answer(_("Usage: /admins, /admins add <i>id</i>, /admins remove <i>id</i>."))
        return
    target = int(args[1])
    if args[0] == "remove":
        await message.answer(await remove(db, settings, clock, user, bot, target))
        return
    if target <= 0:
        await message.answer(_("A Telegram user id is a positive number."))
        return
    now = clock.now()
    async with db.transaction() as conn:
        added = target not in settings.admin_ids and await repo.add_admin(
            conn, target, user.id, now
        )
        if added:
            await repo.audit(conn, user.id, "admin.add", now, user_id=target)
    if not added:
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
    callback: CallbackQuery,
    callback_data: AdminCb,
    db: Database,
    settings: Settings,
    clock: Clock,
    user: User,
    bot: Bot,
) -> None:
    if callback_data.a != "rm":
        await stale(callback)
        return
    result = await remove(db, settings, clock, user, bot, callback_data.i)
    await callback.answer(result)
    await render(callback, *await _view(db, settings))
