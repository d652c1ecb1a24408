"""Privacy: what is stored about a resident (/mydata) and deleting it (/deletemydata)."""

from __future__ import annotations

from bot.services.accounts import Profile
from bot.storage import Database
from bot.storage import users as repo
from bot.storage.users import User

__all__ = ["PrivacyService", "account_stamp"]


def account_stamp(user: User) -> int:
    """Identifies this account, not a later one of the same person (after a deletion):
    a confirmation button carries it."""
    return int(user.created_at.timestamp() * 1000)


class PrivacyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def stored_data(self, user: User) -> Profile:
        async with self.db.transaction() as conn:
            return Profile(user, await repo.get_subscriptions(conn, user.id))

    async def delete_account(self, user: User, stamp: int) -> bool:
        """Delete everything stored about ``user``; False (nothing deleted) if ``stamp``
        belongs to an account that no longer exists."""
        if stamp != account_stamp(user):
            return False
        async with self.db.transaction() as conn:
            await repo.delete_user(conn, user.id)
        return True
