"""Users, their settings and their subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.scheduling.times import Mode, next_delivery
from bot.storage import schema as s

__all__ = [
    "Subscriptions",
    "User",
    "UserDefaults",
    "add_subscription",
    "advance_deliveries",
    "clear_subscriptions",
    "delete_user",
    "due_users",
    "ensure_user",
    "get_subscriptions",
    "get_user",
    "instant_users",
    "mark_alerted",
    "mark_inactive",
    "profiles",
    "remove_subscription",
    "set_topics",
    "subscriptions_of",
    "update_settings",
]

SubscriptionKind = Literal["district", "okrug"]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    chat_id: int
    language: str
    timezone: str
    delivery_minute: int
    mode: Mode
    weekday: int
    paused: bool
    notify_empty: bool
    active: bool
    inactive_reason: str | None
    next_delivery_at: datetime | None
    last_digest_at: datetime | None
    created_at: datetime

    @property
    def delivery_time(self) -> time:
        return time(self.delivery_minute // 60, self.delivery_minute % 60)

    @classmethod
    def from_row(cls, row: RowMapping) -> User:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class UserDefaults:
    language: str = "ru"
    timezone: str = "Europe/Moscow"
    delivery_minute: int = 8 * 60


@dataclass(frozen=True, slots=True)
class Subscriptions:
    districts: frozenset[str] = frozenset()
    okrugs: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()  # empty means all topics

    @property
    def is_empty(self) -> bool:
        return not self.districts and not self.okrugs


def _schedule(values: dict[str, Any], now: datetime) -> datetime | None:
    if values["paused"] or not values["active"]:
        return None
    return next_delivery(
        now,
        timezone=values["timezone"],
        minute=values["delivery_minute"],
        mode=values["mode"],
        weekday=values["weekday"],
    )


async def get_user(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(select(s.users).where(s.users.c.id == user_id))).mappings().first()
    return User.from_row(row) if row else None


async def ensure_user(
    conn: AsyncConnection,
    user_id: int,
    chat_id: int,
    now: datetime,
    defaults: UserDefaults = UserDefaults(),
) -> tuple[User, bool]:
    """The user, created with defaults if new; a returning user who had blocked the bot is
    reactivated. Returns (user, created)."""
    user = await get_user(conn, user_id)
    if user is None:
        values: dict[str, Any] = {
            "id": user_id,
            "chat_id": chat_id,
            "language": defaults.language,
            "timezone": defaults.timezone,
            "delivery_minute": defaults.delivery_minute,
            "mode": "daily",
            "weekday": 0,
            "paused": False,
            "notify_empty": False,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        values["next_delivery_at"] = _schedule(values, now)
        await conn.execute(insert(s.users).values(**values))
        created = await get_user(conn, user_id)
        assert created is not None
        return created, True
    if not user.active or user.chat_id != chat_id:
        return await update_settings(conn, user_id, now, active=True, chat_id=chat_id), False
    return user, False


async def update_settings(
    conn: AsyncConnection, user_id: int, now: datetime, **changes: Any
) -> User:
    """Change settings and recompute the next delivery time from them."""
    allowed = {
        "chat_id",
        "language",
        "timezone",
        "delivery_minute",
        "mode",
        "weekday",
        "paused",
        "notify_empty",
        "active",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown user settings: {sorted(unknown)}")
    user = await get_user(conn, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    values = {name: getattr(user, name) for name in allowed} | changes
    if changes.get("active"):
        values["inactive_reason"] = None
    values["next_delivery_at"] = _schedule(values, now)
    values["updated_at"] = now
    await conn.execute(update(s.users).where(s.users.c.id == user_id).values(**values))
    updated = await get_user(conn, user_id)
    assert updated is not None
    return updated


async def mark_inactive(conn: AsyncConnection, user_id: int, reason: str, now: datetime) -> None:
    """The user blocked the bot or is gone: stop scheduling them."""
    await conn.execute(
        update(s.users)
        .where(s.users.c.id == user_id)
        .values(active=False, inactive_reason=reason, next_delivery_at=None, updated_at=now)
    )


async def delete_user(conn: AsyncConnection, user_id: int) -> bool:
    """Delete the user and everything tied to them (cascades); True if they existed."""
    await conn.execute(delete(s.outbox).where(s.outbox.c.user_id == user_id))
    result = await conn.execute(delete(s.users).where(s.users.c.id == user_id))
    return bool(result.rowcount)


async def add_subscription(
    conn: AsyncConnection, user_id: int, kind: SubscriptionKind, slug: str, now: datetime
) -> bool:
    """Subscribe; False if the subscription already existed."""
    exists = await conn.scalar(
        select(func.count())
        .select_from(s.subscriptions)
        .where(
            s.subscriptions.c.user_id == user_id,
            s.subscriptions.c.kind == kind,
            s.subscriptions.c.slug == slug,
        )
    )
    if exists:
        return False
    await conn.execute(
        insert(s.subscriptions).values(user_id=user_id, kind=kind, slug=slug, created_at=now)
    )
    return True


async def remove_subscription(
    conn: AsyncConnection, user_id: int, kind: SubscriptionKind, slug: str
) -> bool:
    result = await conn.execute(
        delete(s.subscriptions).where(
            s.subscriptions.c.user_id == user_id,
            s.subscriptions.c.kind == kind,
            s.subscriptions.c.slug == slug,
        )
    )
    return bool(result.rowcount)


async def set_topics(conn: AsyncConnection, user_id: int, topics: Iterable[str]) -> None:
    """Replace the user's topics; an empty set means all topics."""
    await conn.execute(
        delete(s.topic_subscriptions).where(s.topic_subscriptions.c.user_id == user_id)
    )
    rows = [{"user_id": user_id, "topic": t} for t in sorted(set(topics))]
    if rows:
        await conn.execute(insert(s.topic_subscriptions), rows)


async def get_subscriptions(conn: AsyncConnection, user_id: int) -> Subscriptions:
    return (await subscriptions_of(conn, [user_id])).get(user_id, Subscriptions())


async def subscriptions_of(
    conn: AsyncConnection, user_ids: Sequence[int]
) -> dict[int, Subscriptions]:
    """Subscriptions of many users in two queries (the digest tick must not loop per user)."""
    if not user_ids:
        return {}
    districts: dict[int, set[str]] = {}
    okrugs: dict[int, set[str]] = {}
    topics: dict[int, set[str]] = {}
    for chunk in _chunks(user_ids, 5000):
        place_rows = await conn.execute(
            select(s.subscriptions.c.user_id, s.subscriptions.c.kind, s.subscriptions.c.slug).where(
                s.subscriptions.c.user_id.in_(chunk)
            )
        )
        for uid, kind, slug in place_rows:
            (districts if kind == "district" else okrugs).setdefault(uid, set()).add(slug)
        topic_rows = await conn.execute(
            select(s.topic_subscriptions.c.user_id, s.topic_subscriptions.c.topic).where(
                s.topic_subscriptions.c.user_id.in_(chunk)
            )
        )
        for uid, topic in topic_rows:
            topics.setdefault(uid, set()).add(topic)
    return {
        uid: Subscriptions(
            frozenset(districts.get(uid, ())),
            frozenset(okrugs.get(uid, ())),
            frozenset(topics.get(uid, ())),
        )
        for uid in user_ids
    }


async def due_users(conn: AsyncConnection, now: datetime, limit: int = 5000) -> list[User]:
    """Active users whose next delivery time has come, earliest first (uses ix_users_due)."""
    rows = await conn.execute(
        select(s.users)
        .where(s.users.c.active.is_(True), s.users.c.next_delivery_at <= now)
        .order_by(s.users.c.next_delivery_at)
        .limit(limit)
    )
    return [User.from_row(r) for r in rows.mappings()]


async def instant_users(conn: AsyncConnection) -> list[User]:
    """Active, unpaused users who asked for instant alerts."""
    rows = await conn.execute(
        select(s.users).where(
            s.users.c.active.is_(True), s.users.c.paused.is_(False), s.users.c.mode == "instant"
        )
    )
    return [User.from_row(r) for r in rows.mappings()]


async def advance_deliveries(
    conn: AsyncConnection, schedule: Sequence[tuple[int, datetime | None, datetime]]
) -> None:
    """After a tick: (user id, next delivery, end of the period just queued) for many users
    in one executemany UPDATE."""
    if not schedule:
        return
    await conn.execute(
        update(s.users)
        .where(s.users.c.id == bindparam("b_id"))
        .values(next_delivery_at=bindparam("b_next"), last_digest_at=bindparam("b_last")),
        [{"b_id": uid, "b_next": following, "b_last": last} for uid, following, last in schedule],
    )


async def mark_alerted(conn: AsyncConnection, user_ids: Sequence[int], now: datetime) -> None:
    """Instant-mode users got everything up to ``now``."""
    for chunk in _chunks(user_ids, 5000):
        await conn.execute(
            update(s.users).where(s.users.c.id.in_(chunk)).values(last_digest_at=now)
        )


async def profiles(conn: AsyncConnection, user_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """user id -> (language, timezone) for the users we know."""
    found: dict[int, tuple[str, str]] = {}
    ids = sorted(user_ids)
    for chunk in _chunks(ids, 5000):
        rows = await conn.execute(
            select(s.users.c.id, s.users.c.language, s.users.c.timezone).where(
                s.users.c.id.in_(chunk)
            )
        )
        found.update((int(uid), (str(lang), str(tz))) for uid, lang, tz in rows)
    return found


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def clear_subscriptions(conn: AsyncConnection, user_id: int) -> int:
    """Remove all the user's district and okrug subscriptions (topic choices stay);
    returns how many were removed."""
    result = await conn.execute(delete(s.subscriptions).where(s.subscriptions.c.user_id == user_id))
    return int(result.rowcount or 0)
