"""The command list: /help text and Telegram's command menu (``setMyCommands``) per language.

To add a command, add a row to :data:`COMMANDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.i18n import LANGUAGES, translator
from digests.i18n import N_

__all__ = ["COMMANDS", "Command", "bot_commands", "set_bot_commands"]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str  # English msgid, translated when shown
    usage: str = ""  # argument hint shown in /help, e.g. "<name>"
    menu: bool = True  # also in Telegram's command menu


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Welcome and guided set-up")),
    Command("districts", N_("Your districts; remove or add more")),
    Command("subscribe", N_("Follow a district or okrug by name"), N_("<name>")),
    Command("unsubscribe", N_("Stop following a district or okrug"), N_("<name>")),
    Command("topics", N_("Choose topics")),
    Command("digest", N_("Your digest now, since the last one")),
    Command("search", N_("Search the last 7 days of news"), N_("<words>")),
    Command("settings", N_("Time, time zone, mode, language")),
    Command("time", N_("Set the delivery time"), "HH:MM", menu=False),
    Command("timezone", N_("Set the time zone"), "Area/City", menu=False),
    Command("language", N_("Switch language (ru/en)"), menu=False),
    Command("pause", N_("Pause deliveries")),
    Command("resume", N_("Resume deliveries")),
    Command("stop", N_("Unsubscribe from everything"), menu=False),
    Command("help", N_("This list of commands")),
    Command("privacy", N_("What I store about you")),
    Command("mydata", N_("Show your stored data"), menu=False),
    Command("deletemydata", N_("Delete your data"), menu=False),
)


def bot_commands(language: str) -> list[BotCommand]:
    """The menu commands with descriptions in ``language``."""
    gettext = translator(language).gettext
    return [
        BotCommand(command=c.name, description=gettext(c.description)) for c in COMMANDS if c.menu
    ]


async def set_bot_commands(bot: Bot, default_language: str = "ru") -> None:
    """Register the command menu for private chats: ru, en, and a default for other
    languages (``default_language``)."""
    scope = BotCommandScopeAllPrivateChats()
    for language in LANGUAGES:
        await bot.set_my_commands(bot_commands(language), scope=scope, language_code=language)
    await bot.set_my_commands(bot_commands(default_language), scope=scope)
