"""Group chats: the bot works in private chats only.

Commands addressed to the bot get one short answer; all other group messages are ignored.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

__all__ = ["router"]


def _command_for_us(text: str, username: str | None) -> bool:
    """«/start», «/start@our_bot»; not «/start@other_bot»."""
    command = text.split(maxsplit=1)[0]
    _name, at, mention = command.partition("@")
    return not at or (username is not None and mention.lower() == username.lower())


router = Router(name="group")
router.message.filter(F.chat.type != ChatType.PRIVATE)


@router.message(F.text.startswith("/"))
async def group_command(message: Message, bot: Bot) -> None:
    me = await bot.me()
    if not _command_for_us(message.text or "", me.username):
        return
    link = f"https://t.me/{me.username}" if me.username else ""
    await message.reply(
        _("I work in private chats only. Write to me directly: {link}").format(link=link)
    )


@router.message()
async def ignore(_message: Message) -> None:
    """Other group messages are none of the bot's business."""
