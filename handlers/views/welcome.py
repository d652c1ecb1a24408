"""The welcome message and the end of the guided set-up (done or skipped)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from bot.services.subscriptions import Subscriptions
from digests.region import Region
from handlers.callbacks import SetCb, Setting, SetupAction, SetupCb
from handlers.views.text import View, places_text, schedule_text, topics_text

__all__ = ["setup_done_view", "skipped_view", "welcome_markup", "welcome_text"]


def welcome_text(lang: str) -> str:
    language = (
        _("I will talk to you in English. You can switch with the button below.")
        if lang == "en"
        else _("I will talk to you in Russian. You can switch with the button below.")
    )
    return "\n\n".join(
        (
            _(
                "👋 <b>Hello!</b> I send news from your Moscow district: a short digest "
                "from district and okrug newspapers and mos.ru, at the time you choose."
            ),
            language,
            _("Let's set things up: your districts, topics and delivery time."),
        )
    )


def welcome_markup(lang: str) -> InlineKeyboardMarkup:
    other = "ru" if lang == "en" else "en"
    label = "🇷🇺 Русский" if other == "ru" else "🇬🇧 English"
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=SetupCb(action=SetupAction.LANGUAGE, value=other))
    return kb.as_markup()


def skipped_view(user: User, region: Region, subs: Subscriptions, lang: str) -> View:
    text = "\n\n".join(
        (
            _("Set-up skipped. For now you get:"),
            _summary_lines(user, region, subs, lang),
            _(
                "Choose your district any time with /districts or /subscribe <i>name</i>, "
                "topics with /topics, time and language with /settings."
            ),
        )
    )
    return text, _settings_button()


def setup_done_view(user: User, region: Region, subs: Subscriptions, lang: str) -> View:
    text = "\n\n".join(
        (
            _("🎉 <b>All set!</b>"),
            _summary_lines(user, region, subs, lang),
            _("Change anything later: /districts, /topics, /settings. All commands: /help."),
        )
    )
    return text, _settings_button()


def _summary_lines(user: User, region: Region, subs: Subscriptions, lang: str) -> str:
    lines = [
        _("📍 Districts: {places}").format(places=places_text(region, subs, lang)),
        _("🗂 Topics: {topics}").format(topics=topics_text(subs)),
        _("🕗 Delivery: {schedule} ({timezone})").format(
            schedule=schedule_text(user, lang), timezone=user.timezone
        ),
    ]
    return "\n".join(lines)


def _settings_button() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⚙️ Settings"), callback_data=SetCb(setting=Setting.MENU, value="main"))
    return kb.as_markup()
