"""The topics with ✅ toggles."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.subscriptions import Subscriptions
from digests.understanding import TOPIC_NAMES, TOPICS
from handlers.callbacks import Flow, TopicAction, TopicCb
from handlers.views.text import OFF, ON, View, flow_done

__all__ = ["topics_view"]


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
            text=flow_done(flow), callback_data=TopicCb(action=TopicAction.DONE, flow=flow).pack()
        )
    )
    return text, kb.as_markup()
