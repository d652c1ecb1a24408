"""/help: every command with one line."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.commands import COMMANDS

__all__ = ["help_text", "router"]


def help_text() -> str:
    lines = [_("<b>What I can do</b>"), ""]
    for command in COMMANDS:
        usage = f" {html.quote(_(command.usage))}" if command.usage else ""
        lines.append(f"/{command.name}{usage} — {_(command.description)}")
    lines += [
        "",
        _("Example: /subscribe Khamovniki or /subscribe YuZAO."),
    ]
    return "\n".join(lines)


router = Router(name="help")


@router.message(Command("help"))
async def show_help(message: Message) -> None:
    await message.answer(help_text())
