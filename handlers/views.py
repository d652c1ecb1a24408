"""Screens: the text and inline keyboard of every message the bot shows and edits.

Pure functions of the stored state (user, subscriptions, region), called inside a handler
so that gettext uses the user's locale. Handlers decide which screen comes next.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel import Locale
from babel.dates import format_datetime

from bot.services.accounts import User
from bot.services.subscriptions import Subscriptions
from digests.region import Region, fold
from digests.topics import TOPIC_NAMES, TOPICS
from handlers.callbacks import (
    Flow,
    PickAction,
    PickCb,
    PlaceKind,
    SetCb,
    Setting,
    SetupAction,
    SetupCb,
    SubAction,
    SubCb,
    SubReply,
    TopicAction,
    TopicCb,
)

__all__ = [
    "COMMON_ZONES",
    "PAGE_SIZE",
    "TIME_PRESETS",
    "View",
    "escape_user_text",
    "format_minute",
    "mode_view",
    "next_delivery_text",
    "okrug_page_view",
    "okrugs_view",
    "places_text",
    "schedule_text",
    "settings_view",
    "setup_done_view",
    "skipped_view",
    "subscriptions_view",
    "time_view",
    "topics_text",
    "topics_view",
    "tz_view",
    "weekday_name",
    "weekday_view",
    "welcome_markup",
    "welcome_text",
]

View = tuple[str, InlineKeyboardMarkup]

PAGE_SIZE = 10
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
ON = "✅"
OFF = "▫️"


# --- small formatting helpers ---------------------------------------------------------------


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def weekday_name(weekday: int, lang: str, *, title: bool = True) -> str:
    """«Monday» / «Понедельник» for buttons; ``title=False`` gives «понедельник» for use
    inside a Russian sentence."""
    name = str(Locale.parse(lang).days["stand-alone"]["wide"][weekday])
    return name[:1].upper() + name[1:] if title else name


def schedule_text(user: User, lang: str) -> str:
    """«every day at 08:00», «paused»..."""
    if user.paused:
        return _("paused")
    time = format_minute(user.delivery_minute)
    if user.mode == "instant":
        return _("instant alerts as soon as news appears")
    if user.mode == "weekly":
        return _("weekly on {weekday} at {time}").format(
            weekday=weekday_name(user.weekday, lang, title=False), time=time
        )
    return _("every day at {time}").format(time=time)


def next_delivery_text(user: User, lang: str) -> str | None:
    if user.next_delivery_at is None:
        return None
    return format_datetime(
        user.next_delivery_at, "EEE d MMMM, HH:mm", tzinfo=ZoneInfo(user.timezone), locale=lang
    )


def _sorted_districts(region: Region, slugs: frozenset[str], lang: str) -> list[str]:
    names = []
    for slug in slugs:
        try:
            names.append(region.district(slug).name(lang))
        except KeyError:
            continue
    return sorted(names, key=fold)


def places_text(region: Region, subs: Subscriptions, lang: str) -> str:
    """«Хамовники, ЮЗАО (whole okrug)»; the whole city when nothing is chosen."""
    parts = _sorted_districts(region, subs.districts, lang)
    for okrug in region.okrugs:
        if okrug.slug in subs.okrugs:
            parts.append(_("{okrug} (whole okrug)").format(okrug=okrug.short(lang)))
    if not parts:
        return _("none yet, so city-wide news")
    return ", ".join(parts)


def topics_text(subs: Subscriptions) -> str:
    chosen = [t for t in TOPICS if t in subs.topics]
    if not chosen or len(chosen) == len(TOPICS):
        return _("all topics")
    return ", ".join(_(TOPIC_NAMES[t]) for t in chosen)


def _flow_done(flow: Flow) -> str:
    return _("Next »") if flow is Flow.SETUP else _("✔️ Done")


# --- welcome and set-up ---------------------------------------------------------------------


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


# --- district picker ------------------------------------------------------------------------


def okrugs_view(region: Region, subs: Subscriptions, lang: str, flow: Flow) -> View:
    legend = "\n".join(
        f"<b>{okrug.short(lang)}</b> — {okrug.name(lang)}" for okrug in region.okrugs
    )
    text = "\n\n".join(
        (
            _("📍 <b>Your districts</b>\nChoose an okrug, then tick your districts."),
            legend,
            _("Selected: {places}").format(places=places_text(region, subs, lang)),
        )
    )
    kb = InlineKeyboardBuilder()
    for okrug in region.okrugs:
        label = okrug.short(lang)
        count = sum(1 for d in region.districts_of(okrug.slug) if d.slug in subs.districts)
        if okrug.slug in subs.okrugs:
            label = f"{ON} {label}"
        elif count:
            label = f"{label} · {count}"
        kb.button(
            text=label, callback_data=PickCb(action=PickAction.OKRUG, slug=okrug.slug, flow=flow)
        )
    kb.adjust(3)
    kb.row(
        InlineKeyboardButton(
            text=_flow_done(flow), callback_data=PickCb(action=PickAction.DONE, flow=flow).pack()
        )
    )
    if flow is Flow.SETUP:
        kb.row(
            InlineKeyboardButton(
                text=_("Skip set-up"), callback_data=SetupCb(action=SetupAction.SKIP).pack()
            )
        )
    return text, kb.as_markup()


def okrug_page_view(
    region: Region, subs: Subscriptions, lang: str, flow: Flow, okrug_slug: str, page: int
) -> View:
    okrug = region.okrug(okrug_slug)
    districts = sorted(region.districts_of(okrug_slug), key=lambda d: fold(d.name(lang)))
    pages = max(1, math.ceil(len(districts) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = districts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    whole = okrug_slug in subs.okrugs
    lines = [f"📍 <b>{okrug.name(lang)}</b>", _("Tick your districts.")]
    if whole:
        lines.append(_("You follow the whole okrug: news from all its districts."))
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    kb = InlineKeyboardBuilder()
    kb.row(
        InlineKeyboardButton(
            text=f"{ON if whole else OFF} " + _("Whole okrug"),
            callback_data=PickCb(
                action=PickAction.WHOLE_OKRUG, slug=okrug_slug, page=page, flow=flow
            ).pack(),
        )
    )
    row: list[InlineKeyboardButton] = []
    for district in shown:
        mark = ON if district.slug in subs.districts else OFF
        row.append(
            InlineKeyboardButton(
                text=f"{mark} {district.name(lang)}",
                callback_data=PickCb(
                    action=PickAction.DISTRICT, slug=district.slug, page=page, flow=flow
                ).pack(),
            )
        )
        if len(row) == 2:
            kb.row(*row)
            row = []
    if row:
        kb.row(*row)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(
                    text="‹ " + _("Back"),
                    callback_data=PickCb(
                        action=PickAction.OKRUG, slug=okrug_slug, page=page - 1, flow=flow
                    ).pack(),
                )
            )
        if page < pages - 1:
            nav.append(
                InlineKeyboardButton(
                    text=_("More") + " ›",
                    callback_data=PickCb(
                        action=PickAction.OKRUG, slug=okrug_slug, page=page + 1, flow=flow
                    ).pack(),
                )
            )
        kb.row(*nav)
    kb.row(
        InlineKeyboardButton(
            text="« " + _("Okrugs"),
            callback_data=PickCb(action=PickAction.OKRUGS, flow=flow).pack(),
        ),
        InlineKeyboardButton(
            text=_flow_done(flow), callback_data=PickCb(action=PickAction.DONE, flow=flow).pack()
        ),
    )
    return "\n".join(lines), kb.as_markup()


def subscriptions_view(region: Region, subs: Subscriptions, lang: str) -> View:
    kb = InlineKeyboardBuilder()
    places: list[tuple[PlaceKind, str, str]] = []  # (kind, slug, name)
    for okrug in region.okrugs:
        if okrug.slug in subs.okrugs:
            places.append((PlaceKind.OKRUG, okrug.slug, okrug.name(lang)))
    districts = [d for d in region.districts if d.slug in subs.districts]
    for district in sorted(districts, key=lambda d: fold(d.name(lang))):
        places.append((PlaceKind.DISTRICT, district.slug, district.name(lang)))
    if not places:
        text = _(
            "📍 You have not chosen any districts yet, so you get city-wide news.\n\n"
            "Add one with the button below or type /subscribe <i>name</i>, "
            "for example /subscribe Khamovniki."
        )
    else:
        count = len(places)
        header = ngettext("📍 You follow {n} place:", "📍 You follow {n} places:", count).format(
            n=count
        )
        bullets = [f"• {name}" for _kind, _slug, name in places]
        text = "\n".join([header, *bullets, "", _("Tap a name below to unsubscribe from it.")])
        for kind, slug, name in places:
            kb.row(
                InlineKeyboardButton(
                    text=f"❌ {name}",
                    callback_data=SubCb(
                        action=SubAction.REMOVE,
                        kind=kind,
                        slug=slug,
                        reply=SubReply.LIST,
                    ).pack(),
                )
            )
    kb.row(
        InlineKeyboardButton(
            text=_("➕ Add districts"), callback_data=PickCb(action=PickAction.OKRUGS).pack()
        )
    )
    return text, kb.as_markup()


# --- topics ---------------------------------------------------------------------------------


def topics_view(subs: Subscriptions, flow: Flow) -> View:
    chosen = set(subs.topics) or set(TOPICS)
    everything = chosen >= set(TOPICS)
    text = _(
        "🗂 <b>Topics</b>\nTick the topics you want in your digest. All topics are on by default."
    )
    kb = InlineKeyboardBuilder()
    for slug in TOPICS:
        mark = ON if slug in chosen else OFF
        kb.button(
            text=f"{mark} {_(TOPIC_NAMES[slug])}",
            callback_data=TopicCb(action=TopicAction.TOGGLE, slug=slug, flow=flow),
        )
    kb.adjust(2)
    if not everything:
        kb.row(
            InlineKeyboardButton(
                text=_("All topics"),
                callback_data=TopicCb(action=TopicAction.ALL, flow=flow).pack(),
            )
        )
    kb.row(
        InlineKeyboardButton(
            text=_flow_done(flow), callback_data=TopicCb(action=TopicAction.DONE, flow=flow).pack()
        )
    )
    return text, kb.as_markup()


# --- settings -------------------------------------------------------------------------------


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


def escape_user_text(text: str, limit: int = 60) -> str:
    """User input echoed back in HTML messages."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.quote(text)
