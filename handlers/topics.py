"""/topics: the twelve topics with ✅ toggles (none stored = all topics)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services.accounts import User
from bot.services.subscriptions import SubscriptionService
from digests.understanding import TOPIC_NAMES
from handlers.callbacks import Flow, TopicAction, TopicCb
from handlers.common import has_user, render, send, stale
from handlers.views import time_view, topics_text, topics_view

__all__ = ["router"]

router = Router(name="topics")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(Command("topics"))
async def show_topics(message: Message, user: User, subscriptions: SubscriptionService) -> None:
    await send(message, topics_view(await subscriptions.get(user.id), Flow.MENU))


@router.callback_query(TopicCb.filter())
async def change_topics(
    callback: CallbackQuery,
    callback_data: TopicCb,
    user: User,
    subscriptions: SubscriptionService,
) -> None:
    data = callback_data
    if data.action is TopicAction.TOGGLE:
        if data.slug not in TOPIC_NAMES:
            await stale(callback)
            return
        subs = await subscriptions.toggle_topic(user.id, data.slug)
        if subs is None:
            await callback.answer(_("At least one topic must stay on."), show_alert=True)
            return
    elif data.action is TopicAction.ALL:
        subs = await subscriptions.all_topics(user.id)
    else:
        subs = await subscriptions.get(user.id)
    await callback.answer()
    if data.action is not TopicAction.DONE:
        await render(callback, *topics_view(subs, data.flow))
    elif data.flow is Flow.SETUP:
        await render(callback, *time_view(user, Flow.SETUP))
    else:
        await render(
            callback,
            _("🗂 Topics saved: {topics}").format(topics=topics_text(subs))
            + "\n"
            + _("Change them any time: /topics"),
        )
