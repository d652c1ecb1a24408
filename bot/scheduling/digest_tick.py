"""The digest tick: due users → digests → outbox, and their next delivery time, in one go.

Users with the same subscriptions, language and period share one built and rendered digest
(:func:`digests.composition.build_many`), so a tick costs a handful of queries however many users
are due. A user's period ends at their *scheduled* time, not at the moment the tick ran, so
everyone scheduled for 08:00 shares the same period. After downtime a user gets one catch-up
digest covering the whole gap: the next time is computed from now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.scheduling.times import next_delivery
from bot.services.digests import digest_request, render, render_nothing_new
from bot.storage import Database, sent_digests
from bot.storage import outbox as outbox_repo
from bot.storage import users as users_repo
from bot.storage.stories import load_candidates
from bot.storage.users import User
from digests.composition import Digest, DigestRequest, build_many, should_send
from digests.region import Region

__all__ = ["TickReport", "message_payload", "run_digest_tick", "run_instant_alerts"]

log = logging.getLogger(__name__)

DAILY_LOOKBACK = timedelta(days=1)
WEEKLY_LOOKBACK = timedelta(days=7)
MAX_LOOKBACK = timedelta(days=7)  # a catch-up after a long outage still stays readable
LATE = timedelta(minutes=15)  # later than this, the tick is a catch-up after downtime


@dataclass(frozen=True, slots=True)
class TickReport:
    due: int
    digests_built: int  # distinct digests, shared by users with equal requests
    messages_queued: int
    users_skipped_empty: int


def message_payload(text: str) -> dict[str, object]:
    """An outbox payload for one HTML message without link previews."""
    return {
        "method": "sendMessage",
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def _period_end(user: User, now: datetime) -> datetime:
    """The scheduled instant when on time (users scheduled alike share a period); the current
    minute for a catch-up after downtime, so it covers the whole gap."""
    scheduled = user.next_delivery_at or now
    if now - scheduled <= LATE:
        return scheduled
    return now.replace(second=0, microsecond=0)


def _period(user: User, end: datetime) -> tuple[datetime, datetime]:
    lookback = WEEKLY_LOOKBACK if user.mode == "weekly" else DAILY_LOOKBACK
    start = user.last_digest_at or end - lookback
    return max(start, end - MAX_LOOKBACK), end


async def _queue(
    conn: AsyncConnection,
    plans: list[tuple[User, DigestRequest, str]],
    now: datetime,
    *,
    cap: int,
    region: Region,
) -> tuple[int, int, int]:
    """Build, render and queue digests for ``plans`` of (user, request, kind)."""
    if not plans:
        return 0, 0, 0
    start = min(p[1].period_start for p in plans)
    end = max(p[1].period_end for p in plans)
    candidates = await load_candidates(conn, start, end)
    built = build_many([p[1] for p in plans], candidates, region)
    rendered: dict[tuple[DigestRequest, str], list[str]] = {}
    messages: list[outbox_repo.OutboxMessage] = []
    sent: list[sent_digests.SentDigest] = []
    skipped = 0
    for user, request, kind in plans:
        digest: Digest = built[request]
        if not should_send(digest, notify_empty=user.notify_empty and kind != "instant"):
            skipped += 1
            continue
        key = (request, user.timezone)
        if key not in rendered:
            rendered[key] = (
                render(digest, user.timezone, request.period_end, region=region)
                if not digest.is_empty
                else [render_nothing_new(request, user.timezone, request.period_end, region=region)]
            )
        parts = rendered[key]
        for n, text in enumerate(parts, start=1):
            messages.append(
                outbox_repo.OutboxMessage(
                    idempotency_key=outbox_repo.digest_key(user.id, kind, request.period_end, n),
                    chat_id=user.chat_id,
                    user_id=user.id,
                    kind="alert" if kind == "instant" else "digest",
                    payload=message_payload(text),
                )
            )
        sent.append(
            sent_digests.SentDigest(
                user_id=user.id,
                kind=kind,
                period_start=request.period_start,
                period_end=request.period_end,
                story_count=len(digest.items),
                part_count=len(parts),
                created_at=now,
            )
        )
    queued = await outbox_repo.enqueue(conn, messages, now)
    await sent_digests.record(conn, sent)
    return len(built), queued, skipped


async def run_digest_tick(
    db: Database, now: datetime, *, region: Region, limit: int = 20_000, cap: int = 12
) -> TickReport:
    """Queue the digests of every user whose delivery time has come (daily and weekly)."""
    async with db.transaction() as conn:
        due = await users_repo.due_users(conn, now, limit)
        if not due:
            return TickReport(0, 0, 0, 0)
        subs = await users_repo.subscriptions_of(conn, [u.id for u in due])
        plans: list[tuple[User, DigestRequest, str]] = []
        for user in due:
            start, end = _period(user, _period_end(user, now))
            request = digest_request(subs[user.id], user.language, start, end, cap=cap)
            if not subs[user.id].is_empty:
                plans.append((user, request, user.mode))
        built, queued, skipped = await _queue(conn, plans, now, cap=cap, region=region)
        await users_repo.advance_deliveries(
            conn,
            [
                (
                    user.id,
                    next_delivery(
                        now,
                        timezone=user.timezone,
                        minute=user.delivery_minute,
                        mode=user.mode,
                        weekday=user.weekday,
                    ),
                    _period_end(user, now),
                )
                for user in due
            ],
        )
    report = TickReport(len(due), built, queued, skipped)
    log.info("digest tick: %s", report)
    return report


async def run_instant_alerts(
    db: Database, now: datetime, *, region: Region, cap: int = 12
) -> TickReport:
    """After a poll cycle: one message per instant-mode user with the new matching stories."""
    async with db.transaction() as conn:
        users = await users_repo.instant_users(conn)
        if not users:
            return TickReport(0, 0, 0, 0)
        subs = await users_repo.subscriptions_of(conn, [u.id for u in users])
        plans = []
        for user in users:
            if subs[user.id].is_empty:
                continue
            start = user.last_digest_at or now - DAILY_LOOKBACK
            request = digest_request(subs[user.id], user.language, start, now, cap=cap)
            plans.append((user, request, "instant"))
        built, queued, skipped = await _queue(conn, plans, now, cap=cap, region=region)
        await users_repo.mark_alerted(conn, [u.id for u in users], now)
    return TickReport(len(users), built, queued, skipped)
