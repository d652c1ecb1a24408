"""Test doubles for the bot: a fake Telegram Bot API server driven by the real aiogram Bot.

async with FakeTelegram() as fake:
    bot = fake.make_bot()
    user = fake.user(1001, "Анна")
    async with run_polling(dp, bot):
        await user.send("/start")
        [reply] = await user.wait_for_messages()
"""

from bot.testing.actors import FakeChat, FakeUser
from bot.testing.errors import ButtonNotFoundError, FakeApiError, WaitTimeoutError
from bot.testing.flood import RateLimits
from bot.testing.html import EntityParseError, parse_html, utf16_len
from bot.testing.polling import PollingError, PollingHandle, run_polling
from bot.testing.records import Call, CallbackQueryRecord, InlineButton, StoredMessage
from bot.testing.server import FakeTelegram
from bot.testing.state import DEFAULT_TOKEN, MethodHandler
from bot.testing.timing import Latency
from bot.testing.webhook import SECRET_HEADER, WebhookRetry

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ButtonNotFoundError",
    "Call",
    "CallbackQueryRecord",
    "EntityParseError",
    "FakeApiError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "InlineButton",
    "Latency",
    "MethodHandler",
    "PollingError",
    "PollingHandle",
    "RateLimits",
    "StoredMessage",
    "WaitTimeoutError",
    "WebhookRetry",
    "parse_html",
    "run_polling",
    "utf16_len",
]
