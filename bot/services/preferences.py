"""Preferences: delivery time, time zone, mode, language, the «nothing new» note, pause.

Every change recomputes the next delivery time (in storage).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.clock import Clock
from bot.scheduling.times import Mode
from bot.services.accounts import Profile
from bot.storage import Database
from bot.storage import users as repo

__all__ = ["Change", "PreferenceService"]


@dataclass(frozen=True, slots=True)
class Change:
    """The preferences to change; None leaves one as it is. Values are already validated."""

    delivery_minute: int | None = None
    timezone: str | None = None
    mode: Mode | None = None
    weekday: int | None = None
    language: str | None = None
    notify_empty: bool | None = None
    paused: bool | None = None

    def values(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


class PreferenceService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def profile(self, user_id: int) -> Profile:
        async with self.db.transaction() as conn:
            user = await repo.get_user(conn, user_id)
            if user is None:
                raise LookupError(f"no user {user_id}")
            return Profile(user, await repo.get_subscriptions(conn, user_id))

    async def change(self, user_id: int, change: Change) -> Profile:
        """Apply ``change``; the profile as it is now."""
        async with self.db.transaction() as conn:
            user = await repo.update_settings(conn, user_id, self.clock.now(), **change.values())
            return Profile(user, await repo.get_subscriptions(conn, user_id))
