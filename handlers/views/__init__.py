"""Screens: the text and inline keyboard of every message the bot shows and edits.

Pure functions of the stored state (user, subscriptions, region), called inside a handler
so that gettext uses the user's locale. Handlers decide which screen comes next.
"""

from handlers.views.places import PAGE_SIZE, okrug_page_view, okrugs_view, subscriptions_view
from handlers.views.settings import (
    COMMON_ZONES,
    TIME_PRESETS,
    mode_view,
    settings_view,
    time_view,
    tz_view,
    weekday_view,
)
from handlers.views.text import (
    View,
    escape_user_text,
    format_minute,
    next_delivery_text,
    places_text,
    schedule_text,
    topics_text,
    weekday_name,
)
from handlers.views.topics import topics_view
from handlers.views.welcome import setup_done_view, skipped_view, welcome_markup, welcome_text

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
