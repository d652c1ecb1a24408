"""Admins: ADMIN_IDS from the configuration, plus those added at run time by another admin.

Every admin action is audited (:meth:`AdminService.audit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.storage import Database
from bot.storage import admin as repo

__all__ = ["AddedAdmin", "AdminList", "AdminService", "Removal"]


@dataclass(frozen=True, slots=True)
class AddedAdmin:
    user_id: int
    added_by: int | None
    since: datetime


@dataclass(frozen=True, slots=True)
class AdminList:
    configured: tuple[int, ...]  # ADMIN_IDS, ascending
    added: tuple[AddedAdmin, ...]  # at run time, oldest first (not in ADMIN_IDS)


class Removal(StrEnum):
    REMOVED = "removed"
    CONFIGURED = "configured"  # in ADMIN_IDS: only the configuration can remove them
    NOT_ADMIN = "not_admin"


class AdminService:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    async def is_admin(self, user_id: int) -> bool:
        if user_id in self.settings.admin_ids:
            return True
        async with self.db.transaction() as conn:
            return await repo.stored_admin(conn, user_id)

    async def all_ids(self) -> set[int]:
        """Every admin: ADMIN_IDS and run-time admins."""
        async with self.db.transaction() as conn:
            stored = await repo.list_admins(conn)
        return set(self.settings.admin_ids) | {user_id for user_id, _by, _since in stored}

    async def listing(self) -> AdminList:
        configured = self.settings.admin_ids
        async with self.db.transaction() as conn:
            stored = await repo.list_admins(conn)
        added = tuple(
            AddedAdmin(user_id, by, since)
            for user_id, by, since in stored
            if user_id not in configured
        )
        return AdminList(tuple(sorted(configured)), added)

    async def add(self, user_id: int, by: int) -> bool:
        """Make ``user_id`` an admin; False if they already are one."""
        if user_id in self.settings.admin_ids:
            return False
        now = self.clock.now()
        async with self.db.transaction() as conn:
            added = await repo.add_admin(conn, user_id, by, now)
            if added:
                await repo.audit(conn, by, "admin.add", now, user_id=user_id)
        return added

    async def remove(self, user_id: int, by: int) -> Removal:
        if user_id in self.settings.admin_ids:
            return Removal.CONFIGURED
        now = self.clock.now()
        async with self.db.transaction() as conn:
            removed = await repo.remove_admin(conn, user_id)
            if removed:
                await repo.audit(conn, by, "admin.remove", now, user_id=user_id)
        return Removal.REMOVED if removed else Removal.NOT_ADMIN

    async def audit(self, admin_id: int, action: str, **details: Any) -> None:
        async with self.db.transaction() as conn:
            await repo.audit(conn, admin_id, action, self.clock.now(), **details)
