"""/settings and its text shortcuts: /time, /timezone, /language, /pause, /resume, /stop."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.scheduling.times import Mode
from bot.services.accounts import User
from bot.services.preferences import Change, PreferenceService
from bot.services.subscriptions import SubscriptionService
from digests.region import Region
from handlers.callbacks import Flow, SetCb, Setting
from handlers.common import has_user, render, send, stale
from handlers.parsing import find_timezone, is_timezone, parse_time
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

__all__ = ["router"]

router = Router(name="settings")
router.message.filter(has_user)
router.callback_query.filter(has_user)


def _next_line(user: User, lang: str) -> str:
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
    kb.button(text="🇷🇺 Русский", callback_data=SetCb(setting=Setting.LANGUAGE, value="ru"))
    kb.button(text="🇬🇧 English", callback_data=SetCb(setting=Setting.LANGUAGE, value="en"))
    return kb.as_markup()


@router.message(Command("settings"))
async def show_settings(
    message: Message, user: User, preferences: PreferenceService, region: Region
) -> None:
    profile = await preferences.profile(user.id)
    await send(message, settings_view(profile.user, region, profile.subscriptions, user.language))


@router.message(Command("time"))
async def set_time(
    message: Message, command: CommandObject, user: User, preferences: PreferenceService
) -> None:
    if not command.args:
        await send(message, time_view(user, Flow.MENU))
        return
    minute = parse_time(command.args)
    if minute is None:
        await message.answer(_("Send the time as HH:MM, for example /time 07:30."))
        return
    user = (await preferences.change(user.id, Change(delivery_minute=minute))).user
    lines = [
        _("🕗 Delivery time is now {time} ({timezone}).").format(
            time=format_minute(minute), timezone=user.timezone
        ),
        _next_line(user, user.language),
    ]
    await message.answer("\n".join(line for line in lines if line))


@router.message(Command("timezone"))
async def set_timezone(
    message: Message,
    command: CommandObject,
    user: User,
    preferences: PreferenceService,
    clock: Clock,
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
    user = (await preferences.change(user.id, Change(timezone=zone))).user
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
    user: User,
    preferences: PreferenceService,
    i18n: I18n,
) -> None:
    wanted = (command.args or "").strip().lower()[:2]
    if wanted not in ("ru", "en"):
        await message.answer(_("Choose the interface language:"), reply_markup=_language_keyboard())
        return
    await preferences.change(user.id, Change(language=wanted))
    with i18n.use_locale(wanted):
        await message.answer(
            _("Done: I will talk to you in English.")
            if wanted == "en"
            else _("Done: I will talk to you in Russian.")
        )


@router.message(Command("pause"))
async def pause(message: Message, user: User, preferences: PreferenceService) -> None:
    if user.paused:
        await message.answer(_("Deliveries are already paused. Send /resume to restart them."))
        return
    await preferences.change(user.id, Change(paused=True))
    await message.answer(
        _(
            "⏸ Deliveries are paused. Your districts and settings are kept; "
            "send /resume to get news again."
        )
    )


@router.message(Command("resume"))
async def resume(message: Message, user: User, preferences: PreferenceService) -> None:
    was_paused = user.paused
    user = (await preferences.change(user.id, Change(paused=False))).user
    head = (
        _("▶️ Deliveries are on again: {schedule}.")
        if was_paused
        else _("Deliveries are already on: {schedule}.")
    ).format(schedule=schedule_text(user, user.language))
    await message.answer("\n".join(x for x in (head, _next_line(user, user.language)) if x))


@router.message(Command("stop"))
async def stop(message: Message, user: User, subscriptions: SubscriptionService) -> None:
    await subscriptions.stop(user.id)
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
    user: User,
    preferences: PreferenceService,
    region: Region,
    clock: Clock,
    i18n: I18n,
) -> None:
    setting, value, lang = callback_data.setting, callback_data.value, user.language
    if setting is Setting.MENU:
        view: View
        if value == "main":
            profile = await preferences.profile(user.id)
            view = settings_view(profile.user, region, profile.subscriptions, lang)
        elif value == "time":
            view = time_view(user, callback_data.flow)
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
    change = _button_change(setting, value)
    if change is None:
        await stale(callback)
        return
    profile = await preferences.change(user.id, change)
    user, subs, lang = profile.user, profile.subscriptions, profile.user.language
    with i18n.use_locale(lang):
        await callback.answer(_("Saved"))
        if setting is Setting.TIME and callback_data.flow is Flow.SETUP:
            await render(callback, *setup_done_view(user, region, subs, lang))
        else:
            await render(callback, *settings_view(user, region, subs, lang))


def _button_change(setting: Setting, value: str) -> Change | None:
    """The change a settings button asks for; None for a value no button of ours carries."""
    if setting is Setting.TIME:
        if not value.isdigit() or not 0 <= int(value) < 24 * 60:
            return None
        return Change(delivery_minute=int(value))
    if setting is Setting.TIMEZONE:
        return Change(timezone=value) if is_timezone(value) else None
    if setting is Setting.MODE:
        modes: dict[str, Mode] = {"daily": "daily", "instant": "instant"}
        return Change(mode=modes[value]) if value in modes else None
    if setting is Setting.WEEKDAY:
        if not value.isdigit() or not 0 <= int(value) <= 6:
            return None
        return Change(mode="weekly", weekday=int(value))
    if setting is Setting.LANGUAGE:
        return Change(language=value) if value in ("ru", "en") else None
    if setting in (Setting.NOTIFY_EMPTY, Setting.PAUSE):
        if value not in ("0", "1"):
            return None
        on = value == "1"
        return Change(notify_empty=on) if setting is Setting.NOTIFY_EMPTY else Change(paused=on)
    return None
