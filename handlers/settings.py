"""/settings and its text shortcuts: /time, /timezone, /language, /pause, /resume, /stop."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.storage import Database
from bot.storage import users as repo
from digests.region import Region
from handlers.callbacks import SetCb
from handlers.common import has_user, render, send, stale
from handlers.views import (
    View,
    escape_user_text,
    format_minute,
    mode_view,
    next_delivery_text,
    schedule_text,
    settings_view,
    setup_done_view,
    time_view,
    tz_view,
    weekday_view,
)

__all__ = ["find_timezone", "parse_time", "router"]

_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:.hч ]\s*(\d{2})\s*$|^\s*(\d{1,2})\s*$")


def parse_time(text: str) -> int | None:
    """Minute of the day from «7:30», «07.30», «19 00», «8»; None if not a valid time."""
    match = _TIME_RE.match(text.lower())
    if not match:
        return None
    hours = int(match.group(1) or match.group(3))
    minutes = int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


@cache
def _zones() -> dict[str, str]:
    zones = {z.lower(): z for z in zoneinfo.available_timezones()}
    by_city: dict[str, list[str]] = {}
    for zone in zones.values():
        if "/" in zone:
            by_city.setdefault(zone.rsplit("/", 1)[-1].lower(), []).append(zone)
    for city, found in by_city.items():
        if len(found) == 1 and city not in zones:
            zones[city] = found[0]
    return zones


def find_timezone(text: str) -> str | None:
    """An IANA zone name, case-insensitive; a unique city part alone works too
    («yekaterinburg», «new york»)."""
    key = "_".join(text.strip().split()).lower()
    return _zones().get(key)


def _next_line(user: repo.User, lang: str) -> str:
    upcoming = next_delivery_text(user, lang)
    if upcoming is None:
        return (
            _("Instant alerts are on: the time applies to daily and weekly digests.")
            if (user.mode == "instant" and not user.paused)
            else ""
        )
    return _("📬 Next digest: {when}").format(when=upcoming)


def _language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="🇷🇺 Русский", callback_data=SetCb(k="lang", v="ru"))
    kb.button(text="🇬🇧 English", callback_data=SetCb(k="lang", v="en"))
    return kb.as_markup()


router = Router(name="settings")
router.message.filter(has_user)
router.callback_query.filter(has_user)


async def main_view(db: Database, user: repo.User, region: Region, lang: str) -> View:
    async with db.transaction() as conn:
        subs = await repo.get_subscriptions(conn, user.id)
    return settings_view(user, region, subs, lang)


async def update(db: Database, user: repo.User, clock: Clock, **changes: Any) -> repo.User:
    async with db.transaction() as conn:
        return await repo.update_settings(conn, user.id, clock.now(), **changes)


@router.message(Command("settings"))
async def show_settings(message: Message, user: repo.User, db: Database, region: Region) -> None:
    await send(message, await main_view(db, user, region, user.language))


@router.message(Command("time"))
async def set_time(
    message: Message, command: CommandObject, user: repo.User, db: Database, clock: Clock
) -> None:
    if not command.args:
        await send(message, time_view(user, "m"))
        return
    minute = parse_time(command.args)
    if minute is None:
        await message.answer(_("Send the time as HH:MM, for example /time 07:30."))
        return
    user = await update(db, user, clock, delivery_minute=minute)
    lines = [
        _("🕗 Delivery time is now {time} ({timezone}).").format(
            time=format_minute(minute), timezone=user.timezone
        ),
        _next_line(user, user.language),
    ]
    await message.answer("\n".join(line for line in lines if line))


@router.message(Command("timezone"))
async def set_timezone(
    message: Message, command: CommandObject, user: repo.User, db: Database, clock: Clock
) -> None:
    if not command.args:
        await send(message, tz_view(user, clock.now()))
        return
    zone = find_timezone(command.args)
    if zone is None:
        await message.answer(
            _(
                "I don't know the time zone «{zone}». Send an IANA name such as "
                "Europe/Moscow or Asia/Yekaterinburg."
            ).format(zone=escape_user_text(command.args))
        )
        return
    user = await update(db, user, clock, timezone=zone)
    lines = [
        _("🌍 Time zone is now {timezone}: digests come at {time} local time.").format(
            timezone=zone, time=format_minute(user.delivery_minute)
        ),
        _next_line(user, user.language),
    ]
    await message.answer("\n".join(line for line in lines if line))


@router.message(Command("language"))
async def set_language(
    message: Message,
    command: CommandObject,
    user: repo.User,
    db: Database,
    clock: Clock,
    i18n: I18n,
) -> None:
    wanted = (command.args or "").strip().lower()[:2]
    if wanted not in ("ru", "en"):
        await message.answer(_("Choose the interface language:"), reply_markup=_language_keyboard())
        return
    await update(db, user, clock, language=wanted)
    with i18n.use_locale(wanted):
        await message.answer(
            _("Done: I will talk to you in English.")
            if wanted == "en"
            else _("Done: I will talk to you in Russian.")
        )


@router.message(Command("pause"))
async def pause(message: Message, user: repo.User, db: Database, clock: Clock) -> None:
    if user.paused:
        await message.answer(_("Deliveries are already paused. Send /resume to restart them."))
        return
    await update(db, user, clock, paused=True)
    await message.answer(
        _(
            "⏸ Deliveries are paused. Your districts and settings are kept; "
            "send /resume to get news again."
        )
    )


@router.message(Command("resume"))
async def resume(message: Message, user: repo.User, db: Database, clock: Clock) -> None:
    was_paused = user.paused
    user = await update(db, user, clock, paused=False)
    head = (
        _("▶️ Deliveries are on again: {schedule}.")
        if was_paused
        else _("Deliveries are already on: {schedule}.")
    ).format(schedule=schedule_text(user, user.language))
    await message.answer("\n".join(x for x in (head, _next_line(user, user.language)) if x))


@router.message(Command("stop"))
async def stop(message: Message, user: repo.User, db: Database, clock: Clock) -> None:
    async with db.transaction() as conn:
        await repo.clear_subscriptions(conn, user.id)
        await repo.update_settings(conn, user.id, clock.now(), paused=True)
    await message.answer(
        _(
            "🛑 You are unsubscribed from all districts and I will not send you news. "
            "Your language and time settings are kept.\n\n"
            "To come back, send /start. To delete everything I store about you: "
            "/deletemydata."
        )
    )


@router.callback_query(SetCb.filter())
async def change_setting(
    callback: CallbackQuery,
    callback_data: SetCb,
    user: repo.User,
    db: Database,
    region: Region,
    clock: Clock,
    i18n: I18n,
) -> None:
    key, value, lang = callback_data.k, callback_data.v, user.language
    if key == "menu":
        view: View
        if value == "main":
            view = await main_view(db, user, region, lang)
        elif value == "time":
            view = time_view(user, callback_data.f)
        elif value == "tz":
            view = tz_view(user, clock.now())
        elif value == "mode":
            view = mode_view(user, lang)
        elif value == "wd":
            view = weekday_view(user, lang)
        else:
            await stale(callback)
            return
        await callback.answer()
        await render(callback, *view)
        return
    changes = _changes(key, value)
    if changes is None:
        await stale(callback)
        return
    user = await update(db, user, clock, **changes)
    lang = user.language
    with i18n.use_locale(lang):
        await callback.answer(_("Saved"))
        if key == "time" and callback_data.f == "s":
            async with db.transaction() as conn:
                subs = await repo.get_subscriptions(conn, user.id)
            await render(callback, *setup_done_view(user, region, subs, lang))
            return
        await render(callback, *await main_view(db, user, region, lang))


def _changes(key: str, value: str) -> dict[str, Any] | None:
    """Settings changes for a button; None for a value no button of ours carries."""
    if key == "time":
        if not value.isdigit() or not 0 <= int(value) < 24 * 60:
            return None
        return {"delivery_minute": int(value)}
    if key == "tz":
        zone = _zones().get(value.lower())
        return {"timezone": zone} if zone == value else None
    if key == "mode":
        return {"mode": value} if value in ("daily", "instant") else None
    if key == "wd":
        if not value.isdigit() or not 0 <= int(value) <= 6:
            return None
        return {"mode": "weekly", "weekday": int(value)}
    if key == "lang":
        return {"language": value} if value in ("ru", "en") else None
    if key in ("empty", "pause"):
        if value not in ("0", "1"):
            return None
        return {"notify_empty" if key == "empty" else "paused": value == "1"}
    return None
