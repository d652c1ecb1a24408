"""Accounts: a resident's stored user, from the first message to /start.

:class:`Profile` (the user with their subscriptions) is what the settings, set-up and
privacy screens show.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import language_for
from bot.storage import Database
from bot.storage import users as repo
from bot.storage.users import Subscriptions, User
from digests.understanding import Place

__all__ = ["AccountService", "Profile", "Started", "User"]


@dataclass(frozen=True, slots=True)
class Profile:
    """A resident's settings and subscriptions."""

    user: User
    subscriptions: Subscriptions


@dataclass(frozen=True, slots=True)
class Started:
    """What /start did: ``resumed`` paused deliveries; ``subscribed`` to a deep-linked place."""

    profile: Profile
    resumed: bool
    subscribed: Place | None


class AccountService:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    async def ensure(
        self, user_id: int, chat_id: int, language_code: str | None
    ) -> tuple[User, bool]:
        """The user of a private chat, created on first contact with the operator's defaults
        (language from Telegram's ``language_code``); a user who had blocked the bot and
        writes again is reactivated. Returns (user, created)."""
        settings = self.settings
        defaults = repo.UserDefaults(
            language=language_for(language_code, settings.default_language),
            timezone=settings.default_timezone,
            delivery_minute=settings.default_digest_time.hour * 60
            + settings.default_digest_time.minute,
        )
        async with self.db.transaction() as conn:
            return await repo.ensure_user(conn, user_id, chat_id, self.clock.now(), defaults)

    async def get(self, user_id: int) -> User | None:
        async with self.db.transaction() as conn:
            return await repo.get_user(conn, user_id)

    async def start(self, user: User, place: Place | None) -> Started:
        """/start: deliveries resume if paused, and a deep link's place is subscribed."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            resumed = user.paused
            if resumed:
                user = await repo.update_settings(conn, user.id, now, paused=False)
            if place is not None:
                await repo.add_subscription(conn, user.id, place.kind, place.slug, now)
            subs = await repo.get_subscriptions(conn, user.id)
        return Started(Profile(user, subs), resumed, place)
