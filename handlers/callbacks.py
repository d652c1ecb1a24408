"""Callback data factories. Packed data must stay within Telegram's 64 bytes, so fields are
one-letter names with slugs and short codes as values.

A field ``f`` tells whether a screen is part of the guided set-up (``"s"``) or was opened on
its own (``"m"``): the same screens serve both, and the next step follows from the data
rather than from per-user state, so buttons keep working after a restart.
"""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData

__all__ = [
    "Flow",
    "PickCb",
    "PrivacyCb",
    "SetCb",
    "SetupCb",
    "SubCb",
    "TopicCb",
]

Flow = Literal["s", "m"]


class PickCb(CallbackData, prefix="p"):
    """District picker. a: o = okrug list, k = open okrug page, d = toggle district,
    w = toggle whole okrug, x = done."""

    a: Literal["o", "k", "d", "w", "x"]
    s: str = ""  # okrug slug (k, w) or district slug (d)
    n: int = 0  # page within the okrug
    f: Flow = "m"


class TopicCb(CallbackData, prefix="t"):
    """Topics. a: t = toggle topic s, a = all topics, x = done."""

    a: Literal["t", "a", "x"]
    s: str = ""
    f: Flow = "m"


class SetCb(CallbackData, prefix="s"):
    """Settings. k is what to change (or which menu to open), v the new value."""

    k: Literal["menu", "time", "tz", "mode", "wd", "lang", "empty", "pause"]
    v: str = ""
    f: Flow = "m"


class SubCb(CallbackData, prefix="u"):
    """Add or remove one subscription; r: l = re-render the list, c = confirm in place."""

    a: Literal["add", "del"]
    k: Literal["d", "o"]
    s: str
    r: Literal["l", "c"] = "c"


class SetupCb(CallbackData, prefix="w"):
    """Welcome message and set-up: switch language, skip set-up."""

    a: Literal["lang", "skip"]
    v: str = ""


class PrivacyCb(CallbackData, prefix="x"):
    """Deleting one's data: ask, confirm (v = the account's creation stamp), cancel."""

    a: Literal["yes", "no"]
    v: int = 0
