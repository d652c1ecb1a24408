"""Subscriptions: the districts, okrugs and topics a resident follows.

No topic stored means all topics; no district or okrug means city-wide news.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.storage import Database
from bot.storage import users as repo
from bot.storage.users import Subscriptions, User
from digests.understanding import TOPICS, Place

__all__ = [
    "SubscriptionChange",
    "SubscriptionService",
    "Subscriptions",
    "is_subscribed",
    "toggle_topic",
]


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """``changed`` is False when the subscription already was as asked; ``subscribed`` is
    whether the place is followed now."""

    changed: bool
    subscribed: bool
    subscriptions: Subscriptions


def is_subscribed(subs: Subscriptions, place: Place) -> bool:
    return place.slug in (subs.okrugs if place.kind == "okrug" else subs.districts)


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


class SubscriptionService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def get(self, user_id: int) -> Subscriptions:
        async with self.db.transaction() as conn:
            return await repo.get_subscriptions(conn, user_id)

    async def subscribe(self, user_id: int, place: Place) -> SubscriptionChange:
        async with self.db.transaction() as conn:
            added = await repo.add_subscription(
                conn, user_id, place.kind, place.slug, self.clock.now()
            )
            subs = await repo.get_subscriptions(conn, user_id)
        return SubscriptionChange(added, True, subs)

    async def unsubscribe(self, user_id: int, place: Place) -> SubscriptionChange:
        async with self.db.transaction() as conn:
            removed = await repo.remove_subscription(conn, user_id, place.kind, place.slug)
            subs = await repo.get_subscriptions(conn, user_id)
        return SubscriptionChange(removed, False, subs)

    async def toggle(self, user_id: int, place: Place) -> SubscriptionChange:
        """Follow the place if not followed yet, else stop following it."""
        async with self.db.transaction() as conn:
            if is_subscribed(await repo.get_subscriptions(conn, user_id), place):
                await repo.remove_subscription(conn, user_id, place.kind, place.slug)
                subscribed = False
            else:
                await repo.add_subscription(conn, user_id, place.kind, place.slug, self.clock.now())
                subscribed = True
            subs = await repo.get_subscriptions(conn, user_id)
        return SubscriptionChange(True, subscribed, subs)

    async def toggle_topic(self, user_id: int, slug: str) -> Subscriptions | None:
        """Tick or untick one topic; None (nothing changed) if it was the last one ticked."""
        async with self.db.transaction() as conn:
            topics = toggle_topic((await repo.get_subscriptions(conn, user_id)).topics, slug)
            if topics is None:
                return None
            await repo.set_topics(conn, user_id, topics)
            return await repo.get_subscriptions(conn, user_id)

    async def all_topics(self, user_id: int) -> Subscriptions:
        async with self.db.transaction() as conn:
            await repo.set_topics(conn, user_id, ())
            return await repo.get_subscriptions(conn, user_id)

    async def stop(self, user_id: int) -> User:
        """/stop: no districts or okrugs any more (topic choices stay), deliveries paused."""
        async with self.db.transaction() as conn:
            await repo.clear_subscriptions(conn, user_id)
            return await repo.update_settings(conn, user_id, self.clock.now(), paused=True)
