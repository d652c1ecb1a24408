"""Test doubles for the bot: a fake Telegram Bot API server driven by the real aiogram Bot.

async with FakeTelegram() as fake:
    bot = fake.make_bot()
    user = fake.user(1001, "Анна")
    async with run_polling(dp, bot):
        await user.send("/start")
        [reply] = await user.wait_for_messages()
"""

from bot.testing._html import EntityParseError, parse_html, utf16_len
from bot.testing._models import (
    ButtonNotFoundError,
    Call,
    CallbackQueryRecord,
    FakeApiError,
    InlineButton,
    StoredMessage,
    WaitTimeoutError,
)
from bot.testing._polling import PollingError, PollingHandle, run_polling
from bot.testing._server import DEFAULT_TOKEN, FakeTelegram, MethodHandler
from bot.testing._users import FakeChat, FakeUser

__all__ = [
    "DEFAULT_TOKEN",
    "ButtonNotFoundError",
    "Call",
    "CallbackQueryRecord",
    "EntityParseError",
    "FakeApiError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "InlineButton",
    "MethodHandler",
    "PollingError",
    "PollingHandle",
    "StoredMessage",
    "WaitTimeoutError",
    "parse_html",
    "run_polling",
    "utf16_len",
]
