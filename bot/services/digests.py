"""Stories → digests: the one path used by the scheduler, the /digest command and the CLI.

The module functions build the request and render a digest; the scheduler
(:mod:`bot.scheduling.digest_tick`) uses them with its own batched queries.
:class:`DigestService` serves one reader at a time: /digest and ``newsbot digest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import translator
from bot.storage import Database
from bot.storage import users as users_repo
from bot.storage.stories import load_candidates
from bot.storage.users import Subscriptions, User
from digests.composition import (
    Digest,
    DigestRequest,
    StoryCandidate,
    build_digest,
    render_digest,
    render_empty,
)
from digests.region import Region
from digests.understanding import TOPIC_NAMES

__all__ = [
    "MAX_LOOKBACK",
    "ON_DEMAND_LOOKBACK",
    "DigestService",
    "ReadyDigest",
    "digest_request",
    "render",
    "render_nothing_new",
]

ON_DEMAND_LOOKBACK = timedelta(hours=24)  # /digest before any digest was sent
MAX_LOOKBACK = timedelta(days=7)


def digest_request(
    subs: Subscriptions, language: str, start: datetime, end: datetime, cap: int = 12
) -> DigestRequest:
    return DigestRequest(
        districts=subs.districts,
        okrugs=subs.okrugs,
        topics=subs.topics,
        language=language,
        period_start=start,
        period_end=end,
        cap=cap,
    )


def render(digest: Digest, timezone: str, now: datetime, *, region: Region) -> list[str]:
    """Telegram-HTML parts, each within Telegram's 4096-character limit."""
    return render_digest(
        digest,
        translator(digest.request.language),
        region,
        TOPIC_NAMES,
        now=now,
        tz=ZoneInfo(timezone),
    )


def render_nothing_new(
    request: DigestRequest, timezone: str, now: datetime, *, region: Region
) -> str:
    return render_empty(
        request, translator(request.language), region, now=now, tz=ZoneInfo(timezone)
    )


@dataclass(frozen=True, slots=True)
class ReadyDigest:
    """A built digest and its Telegram-HTML messages (the «nothing new» note when empty)."""

    request: DigestRequest
    digest: Digest
    messages: list[str]


class DigestService:
    def __init__(self, db: Database, settings: Settings, clock: Clock, region: Region) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.region = region

    async def on_demand(self, user: User) -> ReadyDigest | None:
        """/digest: what is new since the user's last digest (at most a week); None when
        they follow no district or okrug."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            subs = await users_repo.get_subscriptions(conn, user.id)
            if subs.is_empty:
                return None
            start = max(user.last_digest_at or now - ON_DEMAND_LOOKBACK, now - MAX_LOOKBACK)
            request = digest_request(subs, user.language, start, now, self.settings.digest_cap)
            candidates = await load_candidates(conn, start, now)
        return self._ready(request, candidates, user.timezone, now)

    async def preview(
        self, subs: Subscriptions, language: str, since: timedelta, timezone: str
    ) -> ReadyDigest:
        """The digest a subscriber with ``subs`` would get now (``newsbot digest``)."""
        now = self.clock.now()
        request = digest_request(subs, language, now - since, now, self.settings.digest_cap)
        async with self.db.transaction() as conn:
            candidates = await load_candidates(conn, request.period_start, now)
        return self._ready(request, candidates, timezone, now)

    def _ready(
        self,
        request: DigestRequest,
        candidates: list[StoryCandidate],
        timezone: str,
        now: datetime,
    ) -> ReadyDigest:
        region = self.region
        digest = build_digest(request, candidates, region)
        messages = (
            [render_nothing_new(request, timezone, now, region=region)]
            if digest.is_empty
            else render(digest, timezone, now, region=region)
        )
        return ReadyDigest(request, digest, messages)
