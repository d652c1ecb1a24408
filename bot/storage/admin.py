"""Admin data: run-time admins, the audit log, broadcasts and their audiences, statistics.

Audiences are selected with one set-based query each (never a query per user); a
broadcast's recipients are enqueued in one bulk insert through :func:`outbox.enqueue`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import outbox
from bot.storage import schema as s
from digests.region import Region

__all__ = [
    "AUDIENCE_KINDS",
    "PRIORITY_NORMAL",
    "PRIORITY_URGENT",
    "STOPPED_REASON",
    "Audience",
    "AuditEntry",
    "Broadcast",
    "BroadcastProgress",
    "Stats",
    "active_broadcasts",
    "add_admin",
    "audience_recipients",
    "audit",
    "collect_stats",
    "count_audience",
    "create_broadcast",
    "finish_broadcast",
    "get_broadcast",
    "list_admins",
    "list_audit",
    "progress_of",
    "remove_admin",
    "save_progress",
    "stop_broadcast",
    "stored_admin",
]

AudienceKind = Literal["all", "okrug", "district", "language", "topic"]
AUDIENCE_KINDS: Final[tuple[AudienceKind, ...]] = ("all", "okrug", "district", "language", "topic")
PRIORITY_NORMAL: Final = 0  # same as digests: first come, first served
PRIORITY_URGENT: Final = 10  # ahead of digests in the outbox
STOPPED_REASON: Final = "stopped by admin"

_u = s.users.c


# -- admins ------------------------------------------------------------------------------


async def stored_admin(conn: AsyncConnection, user_id: int) -> bool:
    """Whether ``user_id`` was added as an admin at run time (ADMIN_IDS are not stored)."""
    found = await conn.scalar(select(s.admins.c.user_id).where(s.admins.c.user_id == user_id))
    return found is not None


async def list_admins(conn: AsyncConnection) -> list[tuple[int, int | None, datetime]]:
    """Run-time admins: (user id, added by, since), oldest first."""
    rows = await conn.execute(
        select(s.admins.c.user_id, s.admins.c.added_by, s.admins.c.created_at).order_by(
            s.admins.c.created_at, s.admins.c.user_id
        )
    )
    return [(int(r.user_id), r.added_by, r.created_at) for r in rows]


async def add_admin(conn: AsyncConnection, user_id: int, added_by: int, now: datetime) -> bool:
    """Add a run-time admin; False if already one."""
    if await stored_admin(conn, user_id):
        return False
    await conn.execute(insert(s.admins).values(user_id=user_id, added_by=added_by, created_at=now))
    return True


async def remove_admin(conn: AsyncConnection, user_id: int) -> bool:
    result = await conn.execute(delete(s.admins).where(s.admins.c.user_id == user_id))
    return bool(result.rowcount)


# -- audit log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    admin_id: int
    action: str
    details: dict[str, Any]
    created_at: datetime


async def audit(
    conn: AsyncConnection,
    admin_id: int,
    action: str,
    now: datetime,
    **details: Any,
) -> None:
    """Record an admin action (who, what, when, details as JSON)."""
    await conn.execute(
        insert(s.audit_log).values(
            admin_id=admin_id, action=action, details=dict(details), created_at=now
        )
    )


async def list_audit(
    conn: AsyncConnection, *, limit: int = 100, action: str | None = None
) -> list[AuditEntry]:
    """Newest first."""
    stmt = select(s.audit_log).order_by(s.audit_log.c.id.desc()).limit(limit)
    if action is not None:
        stmt = stmt.where(s.audit_log.c.action == action)
    rows = (await conn.execute(stmt)).mappings()
    return [
        AuditEntry(r["id"], int(r["admin_id"]), r["action"], dict(r["details"]), r["created_at"])
        for r in rows
    ]


# -- audiences ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast goes to. Only active users who have not paused deliveries count.

    * ``all``: everyone;
    * ``okrug``: followers of the okrugs or of any of their districts;
    * ``district``: followers of the districts or of the okrugs they belong to;
    * ``language``: users whose interface language is ``values[0]``;
    * ``topic``: users who get the topic ``values[0]`` (chosen, or "all topics").
    """

    kind: AudienceKind
    values: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": list(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Audience:
        kind = data.get("kind")
        if kind not in AUDIENCE_KINDS:
            raise ValueError(f"unknown audience kind {kind!r}")
        return cls(kind, tuple(str(v) for v in data.get("values", ())))


def _subscribed(kind: str, slugs: Sequence[str]) -> ColumnElement[bool]:
    sub = s.subscriptions.c
    return exists().where(sub.user_id == _u.id, sub.kind == kind, sub.slug.in_(sorted(slugs)))


def _audience_where(audience: Audience, region: Region) -> ColumnElement[bool]:
    base = and_(_u.active.is_(True), _u.paused.is_(False))
    values = audience.values
    if audience.kind == "all":
        return base
    if audience.kind == "okrug":
        districts = [d.slug for o in values for d in region.districts_of(o)]
        return and_(base, or_(_subscribed("okrug", values), _subscribed("district", districts)))
    if audience.kind == "district":
        okrugs = sorted({region.district(d).okrug for d in values})
        return and_(base, or_(_subscribed("district", values), _subscribed("okrug", okrugs)))
    if audience.kind == "language":
        return and_(base, _u.language.in_(values))
    topic = s.topic_subscriptions.c
    chose = exists().where(topic.user_id == _u.id, topic.topic.in_(values))
    chose_any = exists().where(topic.user_id == _u.id)
    return and_(base, or_(chose, ~chose_any))


def _audience_query(audience: Audience, region: Region) -> Select[Any]:
    return select(_u.id, _u.chat_id).where(_audience_where(audience, region))


async def count_audience(conn: AsyncConnection, audience: Audience, region: Region) -> int:
    stmt = select(func.count()).select_from(s.users).where(_audience_where(audience, region))
    return int(await conn.scalar(stmt) or 0)


async def audience_recipients(
    conn: AsyncConnection, audience: Audience, region: Region
) -> list[tuple[int, int]]:
    """(user id, chat id) of every recipient, by user id."""
    rows = await conn.execute(_audience_query(audience, region).order_by(_u.id))
    return [(int(r.id), int(r.chat_id)) for r in rows]


# -- broadcasts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    admin_id: int
    payload: dict[str, Any]
    audience: Audience
    priority: int
    state: str  # scheduled | sending | stopped | done
    send_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    recipients: int
    progress_text: str | None
    progress_at: datetime | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> Broadcast:
        return cls(
            id=row["id"],
            admin_id=int(row["admin_id"]),
            payload=dict(row["payload"]),
            audience=Audience.from_json(row["audience"]),
            priority=row["priority"],
            state=row["state"],
            send_at=row["send_at"],
            progress_chat_id=row["progress_chat_id"],
            progress_message_id=row["progress_message_id"],
            recipients=row["recipients"],
            progress_text=row["progress_text"],
            progress_at=row["progress_at"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
        )


async def create_broadcast(
    conn: AsyncConnection,
    *,
    admin_id: int,
    payload: Mapping[str, Any],
    audience: Audience,
    region: Region,
    priority: int,
    send_at: datetime,
    now: datetime,
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> Broadcast:
    """Create the broadcast row and queue one outbox row per recipient (in one transaction:
    the caller's). Returns the stored broadcast with its number of recipients."""
    result = await conn.execute(
        insert(s.broadcasts)
        .values(
            admin_id=admin_id,
            payload=dict(payload),
            audience=audience.to_json(),
            priority=priority,
            state="scheduled" if send_at > now else "sending",
            send_at=send_at,
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
            created_at=now,
        )
        .returning(s.broadcasts.c.id)
    )
    broadcast_id = int(result.scalar_one())
    recipients = await audience_recipients(conn, audience, region)
    queued = await outbox.enqueue(
        conn,
        (
            outbox.OutboxMessage(
                idempotency_key=outbox.broadcast_key(broadcast_id, user_id),
                chat_id=chat_id,
                payload=payload,
                kind="broadcast",
                user_id=user_id,
                priority=priority,
                not_before=send_at,
                broadcast_id=broadcast_id,
            )
            for user_id, chat_id in recipients
        ),
        now,
    )
    await conn.execute(
        update(s.broadcasts).where(s.broadcasts.c.id == broadcast_id).values(recipients=queued)
    )
    found = await get_broadcast(conn, broadcast_id)
    assert found is not None
    return found


async def get_broadcast(conn: AsyncConnection, broadcast_id: int) -> Broadcast | None:
    row = (
        (await conn.execute(select(s.broadcasts).where(s.broadcasts.c.id == broadcast_id)))
        .mappings()
        .first()
    )
    return Broadcast.from_row(row) if row else None


async def active_broadcasts(conn: AsyncConnection) -> list[Broadcast]:
    """Broadcasts still scheduled or sending."""
    rows = await conn.execute(
        select(s.broadcasts)
        .where(s.broadcasts.c.state.in_(("scheduled", "sending")))
        .order_by(s.broadcasts.c.id)
    )
    return [Broadcast.from_row(r) for r in rows.mappings()]


async def stop_broadcast(
    conn: AsyncConnection, broadcast_id: int, now: datetime
) -> tuple[bool, int]:
    """Drop the queued rest of a broadcast. Returns (stopped now, rows dropped); False if it
    had already finished or been stopped."""
    result = await conn.execute(
        update(s.broadcasts)
        .where(
            s.broadcasts.c.id == broadcast_id,
            s.broadcasts.c.state.in_(("scheduled", "sending")),
        )
        .values(state="stopped", finished_at=now)
    )
    if not result.rowcount:
        return False, 0
    dropped = await outbox.drop_queued_for_broadcast(conn, broadcast_id, STOPPED_REASON)
    return True, len(dropped)


async def finish_broadcast(conn: AsyncConnection, broadcast_id: int, now: datetime) -> bool:
    """Mark a broadcast done; False if it was not active any more."""
    result = await conn.execute(
        update(s.broadcasts)
        .where(
            s.broadcasts.c.id == broadcast_id,
            s.broadcasts.c.state.in_(("scheduled", "sending")),
        )
        .values(state="done", finished_at=now)
    )
    return bool(result.rowcount)


async def save_progress(
    conn: AsyncConnection,
    broadcast_id: int,
    text: str,
    now: datetime,
    *,
    state: str | None = None,
) -> None:
    values: dict[str, Any] = {"progress_text": text, "progress_at": now}
    if state is not None:
        values["state"] = state
    await conn.execute(
        update(s.broadcasts).where(s.broadcasts.c.id == broadcast_id).values(**values)
    )


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    sent: int = 0
    blocked: int = 0  # dropped because the recipient blocked the bot or is gone
    failed: int = 0
    stopped: int = 0  # dropped by the admin's stop
    queued: int = 0  # including the row in flight
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed


async def progress_of(
    conn: AsyncConnection, broadcast_ids: Sequence[int]
) -> dict[int, BroadcastProgress]:
    """Outcome counts of several broadcasts, in one grouped query."""
    if not broadcast_ids:
        return {}
    c = s.outbox.c
    bucket = case(
        (c.state.in_(("queued", "sending")), "queued"),
        (c.state == "sent", "sent"),
        (c.state == "failed", "failed"),
        (and_(c.state == "dropped", c.last_error == STOPPED_REASON), "stopped"),
        else_="blocked",
    ).label("bucket")
    rows = await conn.execute(
        select(c.broadcast_id, bucket, func.count(), func.min(c.sent_at), func.max(c.sent_at))
        .where(c.broadcast_id.in_(sorted(set(broadcast_ids))))
        .group_by(c.broadcast_id, bucket)
    )
    found: dict[int, dict[str, Any]] = {b: {} for b in broadcast_ids}
    for broadcast_id, name, n, first, last in rows:
        values = found[int(broadcast_id)]
        values[name] = int(n)
        if name == "sent":
            values["first_sent_at"] = first
            values["last_sent_at"] = last
    return {b: BroadcastProgress(**v) for b, v in found.items()}


# -- statistics --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    now: datetime
    users_total: int = 0
    users_active: int = 0  # active and not paused
    users_paused: int = 0  # active but paused
    users_blocked: int = 0  # inactive: blocked the bot, deactivated
    users_new_week: int = 0
    subscribed_users: int = 0  # users with at least one subscription
    per_okrug: dict[str, int] = field(default_factory=dict)  # okrug slug -> users following it
    top_districts: list[tuple[str, int]] = field(default_factory=list)
    digests_day: int = 0  # digests built in the last 24 hours
    outbox_day: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> state -> n
    failures_day: dict[str, int] = field(default_factory=dict)  # reason -> n
    broadcasts_day: int = 0  # broadcasts created in the last 24 hours
    queue_length: int = 0  # outbox rows queued now (due or not)
    feeds_total: int = 0
    feeds_enabled: int = 0
    feeds_broken: int = 0
    feeds_paused: int = 0

    def sent(self, kind: str) -> int:
        return self.outbox_day.get(kind, {}).get("sent", 0)


def failure_reason(error: str | None) -> str:
    """A short reason for a failed or dropped outbox row, for grouping in statistics."""
    if not error:
        return "unknown"
    if error == STOPPED_REASON:
        return "stopped"
    head = error.split(":", 1)[0].strip()
    if head in ("blocked", "deactivated", "kicked", "forbidden", "chat_not_found"):
        return head
    lowered = error.lower()
    if "gave up after" in lowered:
        return "retries_exhausted"
    if "can't parse entities" in lowered:
        return "bad_html"
    if "too long" in lowered:
        return "too_long"
    if "badrequest" in lowered:
        return "bad_request"
    return "other"


async def collect_stats(conn: AsyncConnection, now: datetime, *, top: int = 10) -> Stats:
    """Everything /stats and ``newsbot stats`` show, in a handful of grouped queries."""
    day_ago = now - timedelta(days=1)
    week_ago = now - timedelta(days=7)
    users_row = (
        await conn.execute(
            select(
                func.count(),
                func.sum(case((and_(_u.active.is_(True), _u.paused.is_(False)), 1), else_=0)),
                func.sum(case((and_(_u.active.is_(True), _u.paused.is_(True)), 1), else_=0)),
                func.sum(case((_u.active.is_(False), 1), else_=0)),
                func.sum(case((_u.created_at >= week_ago, 1), else_=0)),
            ).select_from(s.users)
        )
    ).one()
    sub = s.subscriptions.c
    subscribed = await conn.scalar(select(func.count(func.distinct(sub.user_id))))
    okrug_counts: dict[str, int] = {}
    for okrug, n in await conn.execute(
        select(sub.slug, func.count(func.distinct(sub.user_id)))
        .where(sub.kind == "okrug")
        .group_by(sub.slug)
    ):
        okrug_counts[str(okrug)] = int(n)
    top_rows = await conn.execute(
        select(sub.slug, func.count().label("n"))
        .where(sub.kind == "district")
        .group_by(sub.slug)
        .order_by(func.count().desc(), sub.slug)
        .limit(top)
    )
    digests_day = await conn.scalar(
        select(func.count()).select_from(s.digests).where(s.digests.c.created_at >= day_ago)
    )
    broadcasts_day = await conn.scalar(
        select(func.count()).select_from(s.broadcasts).where(s.broadcasts.c.created_at >= day_ago)
    )
    by_kind = await outbox.counts_by_kind(conn, since=day_ago)
    oc = s.outbox.c
    failures: dict[str, int] = {}
    for error, n in await conn.execute(
        select(oc.last_error, func.count())
        .where(oc.created_at >= day_ago, oc.state.in_(("failed", "dropped")))
        .group_by(oc.last_error)
    ):
        reason = failure_reason(error)
        failures[reason] = failures.get(reason, 0) + int(n)
    queue = await conn.scalar(
        select(func.count()).select_from(s.outbox).where(oc.state == "queued")
    )
    fc = s.feeds.c
    feeds_row = (
        await conn.execute(
            select(
                func.count(),
                func.sum(case((fc.enabled.is_(True), 1), else_=0)),
                func.sum(case((and_(fc.enabled.is_(True), fc.broken.is_(True)), 1), else_=0)),
                func.sum(case((fc.enabled.is_(False), 1), else_=0)),
            ).select_from(s.feeds)
        )
    ).one()
    return Stats(
        now=now,
        users_total=int(users_row[0] or 0),
        users_active=int(users_row[1] or 0),
        users_paused=int(users_row[2] or 0),
        users_blocked=int(users_row[3] or 0),
        users_new_week=int(users_row[4] or 0),
        subscribed_users=int(subscribed or 0),
        per_okrug=okrug_counts,
        top_districts=[(str(slug), int(n)) for slug, n in top_rows],
        digests_day=int(digests_day or 0),
        outbox_day=by_kind,
        failures_day=dict(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
        broadcasts_day=int(broadcasts_day or 0),
        queue_length=int(queue or 0),
        feeds_total=int(feeds_row[0] or 0),
        feeds_enabled=int(feeds_row[1] or 0),
        feeds_broken=int(feeds_row[2] or 0),
        feeds_paused=int(feeds_row[3] or 0),
    )


# -- feed health -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedActivity:
    last_article_at: datetime | None
    recent: int  # articles fetched in the last ``window``


async def feed_activity(
    conn: AsyncConnection, now: datetime, window: timedelta = timedelta(days=30)
) -> dict[int, FeedActivity]:
    """Per feed id: when its newest article was fetched and how many came in ``window``."""
    a = s.articles.c
    rows = await conn.execute(
        select(
            a.feed_id,
            func.max(a.fetched_at),
            func.sum(case((a.fetched_at >= now - window, 1), else_=0)),
        ).group_by(a.feed_id)
    )
    out: dict[int, FeedActivity] = {}
    for feed_id, last, recent in rows:
        out[int(feed_id)] = FeedActivity(last, int(recent or 0))
    return out


async def set_feed_notified(conn: AsyncConnection, feed_id: int, **values: datetime | None) -> None:
    """Set ``broken_notified_at`` / ``quiet_notified_at``."""
    allowed = {"broken_notified_at", "quiet_notified_at"}
    if set(values) - allowed:
        raise ValueError(f"unknown columns {sorted(set(values) - allowed)}")
    await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_id).values(**values))


async def feed_notification_state(
    conn: AsyncConnection,
) -> list[tuple[int, bool, bool, datetime | None, datetime | None]]:
    """(id, enabled, broken, broken_notified_at, quiet_notified_at) of every feed."""
    fc = s.feeds.c
    rows = await conn.execute(
        select(fc.id, fc.enabled, fc.broken, fc.broken_notified_at, fc.quiet_notified_at).order_by(
            fc.id
        )
    )
    return [(int(r[0]), bool(r[1]), bool(r[2]), r[3], r[4]) for r in rows]
