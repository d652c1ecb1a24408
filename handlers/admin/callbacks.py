"""Callback data of the admin screens: readable field names, short values (Telegram allows
64 bytes; aiogram packs only the prefix and the values).

The stop button of a broadcast's progress message is
:class:`bot.services.broadcast_progress.BroadcastCb`.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

__all__ = [
    "AdminAction",
    "AdminCb",
    "BroadcastStep",
    "BroadcastStepCb",
    "FeedButton",
    "FeedCb",
]


class BroadcastStep(StrEnum):
    AUDIENCE = "aud"  # value: all, okrug, district, language or topic
    TOGGLE_OKRUG = "ok"  # value: the okrug
    OKRUGS_DONE = "okd"
    LANGUAGE = "lang"  # value: ru or en
    TOPIC = "topic"  # value: the topic
    NOW = "now"  # send now
    PRIORITY = "pri"  # value: n (normal) or u (urgent)
    SEND = "send"  # confirmed
    CANCEL = "cancel"


class BroadcastStepCb(CallbackData, prefix="abf"):
    """The steps of the /broadcast dialog."""

    step: BroadcastStep
    value: str = ""


class FeedButton(StrEnum):
    LIST = "list"  # a page of the list
    SHOW = "show"
    PAUSE = "pause"
    RESUME = "resume"
    POLL = "poll"
    ASK_REMOVE = "rm"
    REMOVE = "rmok"  # confirmed
    ADD = "add"


class FeedCb(CallbackData, prefix="afd"):
    """/feeds screens."""

    action: FeedButton
    feed_id: int = 0
    page: int = 0  # the list page to come back to


class AdminAction(StrEnum):
    REMOVE = "rm"


class AdminCb(CallbackData, prefix="aad"):
    """/admins: remove the run-time admin ``user_id``."""

    action: AdminAction
    user_id: int = 0
