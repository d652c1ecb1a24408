"""The service layer: what the bot does, between Telegram (``handlers/``, ``bot/cli.py``) and
storage (``bot/storage/``).

A handler parses the update, calls a service and renders the result; the command line calls
the same services. Services open the database transactions and return stored records or
small result dataclasses, never Telegram objects. Those that talk to Telegram themselves
(progress messages, notices to admins) take the ``Bot`` as an argument.

:class:`ServiceSet` builds them all for one process; the dispatcher passes each to
handlers by name through its workflow data (``subscriptions: SubscriptionService``...).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.feeds.workers import CpuRunner
from bot.services.accounts import AccountService
from bot.services.admins import AdminService
from bot.services.broadcasts import BroadcastService
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.preferences import PreferenceService
from bot.services.privacy import PrivacyService
from bot.services.search import SearchService
from bot.services.stats import StatsService
from bot.services.subscriptions import SubscriptionService
from bot.storage import Database
from digests.region import Region

__all__ = ["ServiceSet"]


@dataclass(frozen=True, slots=True)
class ServiceSet:
    accounts: AccountService
    subscriptions: SubscriptionService
    preferences: PreferenceService
    digests: DigestService
    search: SearchService
    privacy: PrivacyService
    feeds: FeedService
    broadcasts: BroadcastService
    admins: AdminService
    stats: StatsService

    @classmethod
    def create(
        cls,
        db: Database,
        settings: Settings,
        clock: Clock,
        region: Region,
        *,
        parse_workers: CpuRunner | None = None,
    ) -> ServiceSet:
        return cls(
            accounts=AccountService(db, settings, clock),
            subscriptions=SubscriptionService(db, clock),
            preferences=PreferenceService(db, clock),
            digests=DigestService(db, settings, clock, region),
            search=SearchService(db, region, clock),
            privacy=PrivacyService(db),
            feeds=FeedService(db, settings, clock, region, parse_workers),
            broadcasts=BroadcastService(db, clock, region),
            admins=AdminService(db, settings, clock),
            stats=StatsService(db, clock),
        )

    def workflow_data(self) -> dict[str, Any]:
        """Each service under its field name, for the dispatcher."""
        return {field.name: getattr(self, field.name) for field in fields(self)}
