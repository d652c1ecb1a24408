"""Stories → digests: the one path used by the scheduler, the /digest command and the CLI."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.i18n import translator
from bot.storage.stories import load_candidates
from bot.storage.users import Subscriptions
from digests.build import Digest, DigestRequest, build_digest
from digests.region import load_region
from digests.render import render_digest, render_empty
from digests.topics import TOPIC_NAMES

__all__ = ["digest_request", "render", "render_nothing_new", "user_digest"]


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


async def user_digest(conn: AsyncConnection, request: DigestRequest) -> Digest:
    candidates = await load_candidates(conn, request.period_start, request.period_end)
    return build_digest(request, candidates, load_region())


def render(digest: Digest, timezone: str, now: datetime) -> list[str]:
    """Telegram-HTML parts, each within Telegram's 4096-character limit."""
    return render_digest(
        digest,
        translator(digest.request.language),
        load_region(),
        TOPIC_NAMES,
        now=now,
        tz=ZoneInfo(timezone),
    )


def render_nothing_new(request: DigestRequest, timezone: str, now: datetime) -> str:
    return render_empty(
        request, translator(request.language), load_region(), now=now, tz=ZoneInfo(timezone)
    )
