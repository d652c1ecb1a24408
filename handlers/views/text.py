"""Small pieces of text the screens share: times, schedules, places, topics."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel import Locale
from babel.dates import format_datetime

from bot.services.accounts import User
from bot.services.subscriptions import Subscriptions
from digests.region import Region, fold
from digests.understanding import TOPIC_NAMES, TOPICS
from handlers.callbacks import Flow

__all__ = [
    "OFF",
    "ON",
    "View",
    "escape_user_text",
    "flow_done",
    "format_minute",
    "next_delivery_text",
    "places_text",
    "schedule_text",
    "topics_text",
    "weekday_name",
]

View = tuple[str, InlineKeyboardMarkup]  # a screen: its text and its keyboard

ON = "✅"
OFF = "▫️"


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


def flow_done(flow: Flow) -> str:
    """The label of the button that ends a screen: «Next »» in the set-up."""
    return _("Next »") if flow is Flow.SETUP else _("✔️ Done")


def escape_user_text(text: str, limit: int = 60) -> str:
    """User input echoed back in HTML messages."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.quote(text)
