"""/settings and its menus: time, time zone, delivery mode, weekday."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from bot.services.subscriptions import Subscriptions
from digests.region import Region
from handlers.callbacks import Flow, SetCb, Setting
from handlers.views.text import (
    ON,
    View,
    format_minute,
    next_delivery_text,
    places_text,
    schedule_text,
    topics_text,
    weekday_name,
)

__all__ = [
    "COMMON_ZONES",
    "TIME_PRESETS",
    "mode_view",
    "settings_view",
    "time_view",
    "tz_view",
    "weekday_view",
]

TIME_PRESETS = (6 * 60, 7 * 60, 8 * 60, 9 * 60, 12 * 60, 18 * 60, 20 * 60, 21 * 60, 22 * 60)
COMMON_ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Vladivostok",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Dubai",
)


def settings_view(user: User, region: Region, subs: Subscriptions, lang: str) -> View:
    lines = [
        _("⚙️ <b>Settings</b>"),
        "",
        _("🕗 Delivery: {schedule}").format(schedule=schedule_text(user, lang)),
        _("🌍 Time zone: {timezone}").format(timezone=user.timezone),
        _("🗣 Language: {language}").format(language="English" if lang == "en" else "Русский"),
        _("🔔 «Nothing new» note: {state}").format(
            state=_("on") if user.notify_empty else _("off")
        ),
        _("📍 Districts: {places}").format(places=places_text(region, subs, lang)),
        _("🗂 Topics: {topics}").format(topics=topics_text(subs)),
    ]
    upcoming = next_delivery_text(user, lang)
    if upcoming:
        lines.append(_("📬 Next digest: {when}").format(when=upcoming))
    lines += ["", _("Also by text: /time 07:30, /timezone Asia/Yekaterinburg.")]
    kb = InlineKeyboardBuilder()
    kb.row(
        InlineKeyboardButton(
            text=_("🕗 Time"), callback_data=SetCb(setting=Setting.MENU, value="time").pack()
        ),
        InlineKeyboardButton(
            text=_("🌍 Time zone"), callback_data=SetCb(setting=Setting.MENU, value="tz").pack()
        ),
    )
    kb.row(
        InlineKeyboardButton(
            text=_("📬 Delivery mode"),
            callback_data=SetCb(setting=Setting.MENU, value="mode").pack(),
        ),
        InlineKeyboardButton(
            text="🇬🇧 English" if lang == "ru" else "🇷🇺 Русский",
            callback_data=SetCb(
                setting=Setting.LANGUAGE, value="en" if lang == "ru" else "ru"
            ).pack(),
        ),
    )
    kb.row(
        InlineKeyboardButton(
            text=(
                _("🔕 Turn off «nothing new» note")
                if user.notify_empty
                else _("🔔 Turn on «nothing new» note")
            ),
            callback_data=SetCb(
                setting=Setting.NOTIFY_EMPTY, value="0" if user.notify_empty else "1"
            ).pack(),
        )
    )
    kb.row(
        InlineKeyboardButton(
            text=_("▶️ Resume deliveries") if user.paused else _("⏸ Pause deliveries"),
            callback_data=SetCb(setting=Setting.PAUSE, value="0" if user.paused else "1").pack(),
        )
    )
    return "\n".join(lines), kb.as_markup()


def _back_row(kb: InlineKeyboardBuilder) -> None:
    kb.row(
        InlineKeyboardButton(
            text="« " + _("Back"), callback_data=SetCb(setting=Setting.MENU, value="main").pack()
        )
    )


def time_view(user: User, flow: Flow) -> View:
    current = format_minute(user.delivery_minute)
    text = "\n\n".join(
        (
            _("🕗 <b>Delivery time</b>: {time} ({timezone})").format(
                time=current, timezone=user.timezone
            ),
            _("Choose a time below or send any time as /time HH:MM, for example /time 07:30."),
        )
    )
    kb = InlineKeyboardBuilder()
    for minute in TIME_PRESETS:
        mark = f"{ON} " if minute == user.delivery_minute else ""
        kb.button(
            text=mark + format_minute(minute),
            callback_data=SetCb(setting=Setting.TIME, value=str(minute), flow=flow),
        )
    kb.adjust(3)
    if flow is Flow.SETUP:
        kb.row(
            InlineKeyboardButton(
                text=_("Keep {time}").format(time=current),
                callback_data=SetCb(
                    setting=Setting.TIME, value=str(user.delivery_minute), flow=Flow.SETUP
                ).pack(),
            )
        )
    else:
        _back_row(kb)
    return text, kb.as_markup()


def _utc_offset(zone: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    minutes = abs(minutes)
    text = f"UTC{sign}{minutes // 60}"
    return text + (f":{minutes % 60:02d}" if minutes % 60 else "")


def tz_view(user: User, now: datetime) -> View:
    text = "\n\n".join(
        (
            _("🌍 <b>Time zone</b>: {timezone} ({offset})").format(
                timezone=user.timezone, offset=_utc_offset(user.timezone, now)
            ),
            _(
                "Choose one below or send any IANA time zone, "
                "for example /timezone Asia/Yekaterinburg."
            ),
        )
    )
    kb = InlineKeyboardBuilder()
    for zone in COMMON_ZONES:
        mark = f"{ON} " if zone == user.timezone else ""
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        kb.button(
            text=f"{mark}{city} ({_utc_offset(zone, now)})",
            callback_data=SetCb(setting=Setting.TIMEZONE, value=zone),
        )
    kb.adjust(2)
    _back_row(kb)
    return text, kb.as_markup()


def mode_view(user: User, lang: str) -> View:
    text = "\n\n".join(
        (
            _("📬 <b>Delivery mode</b>: {schedule}").format(schedule=schedule_text(user, lang)),
            _(
                "Daily: one digest a day. Weekly: one digest on the day you choose. "
                "Instant: a short alert for each new story."
            ),
        )
    )
    kb = InlineKeyboardBuilder()
    options = (
        ("daily", _("Daily digest")),
        ("weekly", _("Weekly digest…")),
        ("instant", _("Instant alerts")),
    )
    for mode, label in options:
        mark = f"{ON} " if mode == user.mode else ""
        if mode == "weekly":
            kb.button(text=mark + label, callback_data=SetCb(setting=Setting.MENU, value="wd"))
        else:
            kb.button(text=mark + label, callback_data=SetCb(setting=Setting.MODE, value=mode))
    kb.adjust(1)
    kb.row(
        InlineKeyboardButton(
            text=_("▶️ Resume deliveries") if user.paused else _("⏸ Pause deliveries"),
            callback_data=SetCb(setting=Setting.PAUSE, value="0" if user.paused else "1").pack(),
        )
    )
    _back_row(kb)
    return text, kb.as_markup()


def weekday_view(user: User, lang: str) -> View:
    text = _("📅 On which day should the weekly digest come?")
    kb = InlineKeyboardBuilder()
    for day in range(7):
        mark = f"{ON} " if user.mode == "weekly" and user.weekday == day else ""
        kb.button(
            text=mark + weekday_name(day, lang),
            callback_data=SetCb(setting=Setting.WEEKDAY, value=str(day)),
        )
    kb.adjust(2)
    kb.row(
        InlineKeyboardButton(
            text="« " + _("Back"), callback_data=SetCb(setting=Setting.MENU, value="mode").pack()
        )
    )
    return text, kb.as_markup()
