"""/topics: the twelve topics with ✅ toggles (none stored = all topics)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.storage import Database
from bot.storage import users as repo
from digests.topics import TOPIC_NAMES, TOPICS
from handlers.callbacks import TopicCb
from handlers.common import has_user, render, send, stale
from handlers.views import time_view, topics_text, topics_view

__all__ = ["router", "toggle_topic"]


def toggle_topic(stored: frozenset[str], slug: str) -> frozenset[str] | None:
    """The topics to store after toggling ``slug``; None if it would leave no topic.

    An empty set means all topics, so unticking one of "all" stores the eleven others and
    ticking the last missing one stores the empty set again.
    """
    chosen = set(stored) or set(TOPICS)
    if slug in chosen:
        if len(chosen) == 1:
            return None
        chosen.discard(slug)
    else:
        chosen.add(slug)
    return frozenset() if chosen >= set(TOPICS) else frozenset(chosen)


router = Router(name="topics")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(Command("topics"))
async def show_topics(message: Message, user: repo.User, db: Database) -> None:
    async with db.transaction() as conn:
        subs = await repo.get_subscriptions(conn, user.id)
    await send(message, topics_view(subs, "m"))


@router.callback_query(TopicCb.filter())
async def change_topics(
    callback: CallbackQuery, callback_data: TopicCb, user: repo.User, db: Database
) -> None:
    data = callback_data
    if data.a == "t" and data.s not in TOPIC_NAMES:
        await stale(callback)
        return
    async with db.transaction() as conn:
        subs = await repo.get_subscriptions(conn, user.id)
        if data.a == "t":
            topics = toggle_topic(subs.topics, data.s)
            if topics is None:
                await callback.answer(_("At least one topic must stay on."), show_alert=True)
                return
            await repo.set_topics(conn, user.id, topics)
        elif data.a == "a":
            await repo.set_topics(conn, user.id, ())
        subs = await repo.get_subscriptions(conn, user.id)
    await callback.answer()
    if data.a != "x":
        await render(callback, *topics_view(subs, data.f))
    elif data.f == "s":
        await render(callback, *time_view(user, "s"))
    else:
        await render(
            callback,
            _("🗂 Topics saved: {topics}").format(topics=topics_text(subs))
            + "\n"
            + _("Change them any time: /topics"),
        )
