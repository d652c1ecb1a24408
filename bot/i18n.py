"""Interface language: gettext catalogs in ``locales/`` for handlers and for pure code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.support import Translations

from digests.i18n import Translator

__all__ = [
    "LANGUAGES",
    "LOCALES_DIR",
    "UserLocaleMiddleware",
    "create_i18n",
    "language_for",
    "translator",
]

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("ru", "en")
DOMAIN = "messages"


def language_for(telegram_code: str | None, default: str) -> str:
    """Our interface language for a Telegram ``language_code`` (ru for Russian speakers)."""
    if not telegram_code:
        return default
    code = telegram_code.split("-")[0].lower()
    if code in ("ru", "uk", "be", "kk"):
        return "ru"
    return "en"


def create_i18n(default_language: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


@cache
def translator(language: str) -> Translator:
    """Catalog for code outside handlers (scheduled digests, CLI output)."""
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


class UserLocaleMiddleware(I18nMiddleware):
    """The stored user's language, else the one Telegram reports for them."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        stored = data.get("user")
        if stored is not None:
            return str(stored.language)
        tg_user: User | None = data.get("event_from_user")
        return language_for(tg_user.language_code if tg_user else None, self.i18n.default_locale)
