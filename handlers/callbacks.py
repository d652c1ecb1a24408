"""Callback data factories of the residents' screens.

Telegram allows 64 bytes of callback data; aiogram packs only the prefix and the field
values (``p:d:khamovniki:0:m``), so fields have readable names while their values stay
short codes (the enums below) and slugs. A test checks the longest button of each factory.

``flow`` tells whether a screen is part of the guided set-up or was opened on its own: the
same screens serve both, and the next step follows from the data rather than from per-user
state, so buttons keep working after a restart.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from digests.understanding import Place

__all__ = [
    "Flow",
    "PickAction",
    "PickCb",
    "PlaceKind",
    "PrivacyAction",
    "PrivacyCb",
    "SetCb",
    "Setting",
    "SetupAction",
    "SetupCb",
    "SubAction",
    "SubCb",
    "SubReply",
    "TopicAction",
    "TopicCb",
]


class Flow(StrEnum):
    SETUP = "s"  # a step of the guided set-up: «Next »» leads on
    MENU = "m"  # opened on its own: «Done» closes it


class PickAction(StrEnum):
    OKRUGS = "o"  # the okrug list
    OKRUG = "k"  # an okrug's page of districts
    DISTRICT = "d"  # tick or untick a district
    WHOLE_OKRUG = "w"  # tick or untick the whole okrug
    DONE = "x"


class PickCb(CallbackData, prefix="p"):
    """The okrug → district picker."""

    action: PickAction
    slug: str = ""  # the okrug (OKRUG, WHOLE_OKRUG) or the district (DISTRICT)
    page: int = 0  # page within the okrug
    flow: Flow = Flow.MENU


class TopicAction(StrEnum):
    TOGGLE = "t"
    ALL = "a"  # all topics
    DONE = "x"


class TopicCb(CallbackData, prefix="t"):
    action: TopicAction
    slug: str = ""  # the topic (TOGGLE)
    flow: Flow = Flow.MENU


class Setting(StrEnum):
    MENU = "menu"  # open a menu: value is main, time, tz, mode or wd
    TIME = "time"  # value: minute of the day
    TIMEZONE = "tz"  # value: an IANA zone name
    MODE = "mode"  # value: daily or instant
    WEEKDAY = "wd"  # weekly on that day, value 0 (Monday) to 6
    LANGUAGE = "lang"  # value: ru or en
    NOTIFY_EMPTY = "empty"  # value: 1 on, 0 off
    PAUSE = "pause"  # value: 1 paused, 0 resumed


class SetCb(CallbackData, prefix="s"):
    """Settings: which one to change (or which menu to open) and the new value."""

    setting: Setting
    value: str = ""
    flow: Flow = Flow.MENU


class SubAction(StrEnum):
    ADD = "add"
    REMOVE = "del"


class PlaceKind(StrEnum):
    DISTRICT = "d"
    OKRUG = "o"

    @classmethod
    def of(cls, place: Place) -> PlaceKind:
        return cls.OKRUG if place.kind == "okrug" else cls.DISTRICT

    def place(self, slug: str) -> Place:
        return Place("okrug" if self is PlaceKind.OKRUG else "district", slug)


class SubReply(StrEnum):
    LIST = "l"  # show the list of subscriptions again
    CONFIRM = "c"  # replace the message with a confirmation


class SubCb(CallbackData, prefix="u"):
    """Add or remove one subscription."""

    action: SubAction
    kind: PlaceKind
    slug: str
    reply: SubReply = SubReply.CONFIRM


class SetupAction(StrEnum):
    LANGUAGE = "lang"  # switch to the language in value
    SKIP = "skip"  # skip the guided set-up


class SetupCb(CallbackData, prefix="w"):
    """The welcome message."""

    action: SetupAction
    value: str = ""


class PrivacyAction(StrEnum):
    DELETE = "yes"
    CANCEL = "no"


class PrivacyCb(CallbackData, prefix="x"):
    """Deleting one's data: confirmed for the account with this creation ``stamp``."""

    action: PrivacyAction
    stamp: int = 0
