"""Feeds: their configuration (from the feeds file or added by admins) and their health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.feeds.poller import FetchOutcome
from bot.feeds.sources import Binding, BindingKind, FeedSource
from bot.storage import schema as s

__all__ = [
    "Feed",
    "SyncReport",
    "add_feed",
    "articles_per_day",
    "due_feeds",
    "get_feed",
    "list_feeds",
    "remove_feed",
    "save_outcomes",
    "set_enabled",
    "sync_sources",
]

Origin = Literal["file", "admin", "cli"]


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str
    binding: Binding
    language: str
    poll_interval: timedelta
    origin: str
    enabled: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    ttl_minutes: int | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_errors: int
    failing_since: datetime | None
    broken: bool

    @classmethod
    def from_row(cls, row: RowMapping) -> Feed:
        return cls(
            id=row["id"],
            url=row["url"],
            title=row["title"],
            binding=Binding(BindingKind(row["binding_kind"]), row["binding_slug"]),
            language=row["language"],
            poll_interval=timedelta(seconds=row["poll_interval"]),
            origin=row["origin"],
            enabled=row["enabled"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            body_hash=row["body_hash"],
            ttl_minutes=row["ttl_minutes"],
            next_poll_at=row["next_poll_at"],
            last_polled_at=row["last_polled_at"],
            last_success_at=row["last_success_at"],
            last_error_at=row["last_error_at"],
            last_error=row["last_error"],
            consecutive_errors=row["consecutive_errors"],
            failing_since=row["failing_since"],
            broken=row["broken"],
        )

    def source(self) -> FeedSource:
        return FeedSource(
            url=self.url,
            binding=self.binding,
            name=self.title,
            language=self.language,
            poll_interval=self.poll_interval,
        )


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int
    updated: int
    disabled: int
    total: int  # feeds in the file


def _values(source: FeedSource) -> dict[str, object]:
    return {
        "title": source.name,
        "binding_kind": source.binding.kind.value,
        "binding_slug": source.binding.slug,
        "language": source.language,
        "poll_interval": int(source.poll_interval.total_seconds()),
    }


async def sync_sources(
    conn: AsyncConnection, sources: Sequence[FeedSource], now: datetime
) -> SyncReport:
    """Make the file-configured feeds match ``sources``.

    Feeds that left the file are disabled, not deleted, so their articles stay. Feeds added
    by admins are left alone (unless the file now lists the same URL: the file wins).
    """
    existing = {row["url"]: row for row in (await conn.execute(select(s.feeds))).mappings()}
    added = updated = disabled = 0
    wanted = {source.url for source in sources}
    for source in sources:
        row = existing.get(source.url)
        if row is None:
            await conn.execute(
                insert(s.feeds).values(
                    url=source.url,
                    origin="file",
                    enabled=True,
                    next_poll_at=now,
                    created_at=now,
                    **_values(source),
                )
            )
            added += 1
            continue
        values = _values(source)
        if row["origin"] != "file" or any(row[k] != v for k, v in values.items()):
            await conn.execute(
                update(s.feeds).where(s.feeds.c.id == row["id"]).values(origin="file", **values)
            )
            updated += 1
    for url, row in existing.items():
        if row["origin"] == "file" and url not in wanted and row["enabled"]:
            await conn.execute(
                update(s.feeds).where(s.feeds.c.id == row["id"]).values(enabled=False)
            )
            disabled += 1
    return SyncReport(added, updated, disabled, len(sources))


async def list_feeds(conn: AsyncConnection, *, enabled_only: bool = False) -> list[Feed]:
    query = select(s.feeds).order_by(s.feeds.c.id)
    if enabled_only:
        query = query.where(s.feeds.c.enabled.is_(True))
    return [Feed.from_row(r) for r in (await conn.execute(query)).mappings()]


async def get_feed(conn: AsyncConnection, feed_id: int) -> Feed | None:
    row = (await conn.execute(select(s.feeds).where(s.feeds.c.id == feed_id))).mappings().first()
    return Feed.from_row(row) if row else None


async def get_feed_by_url(conn: AsyncConnection, url: str) -> Feed | None:
    row = (await conn.execute(select(s.feeds).where(s.feeds.c.url == url))).mappings().first()
    return Feed.from_row(row) if row else None


async def add_feed(
    conn: AsyncConnection, source: FeedSource, now: datetime, origin: Origin = "admin"
) -> Feed:
    """Add a feed (or re-enable and update an existing one with that URL)."""
    found = await get_feed_by_url(conn, source.url)
    if found is None:
        await conn.execute(
            insert(s.feeds).values(
                url=source.url,
                origin=origin,
                enabled=True,
                next_poll_at=now,
                created_at=now,
                **_values(source),
            )
        )
    else:
        await conn.execute(
            update(s.feeds).where(s.feeds.c.id == found.id).values(enabled=True, **_values(source))
        )
    feed = await get_feed_by_url(conn, source.url)
    assert feed is not None
    return feed


async def set_enabled(conn: AsyncConnection, feed_id: int, enabled: bool, now: datetime) -> bool:
    values: dict[str, object] = {"enabled": enabled}
    if enabled:
        values["next_poll_at"] = now
    result = await conn.execute(update(s.feeds).where(s.feeds.c.id == feed_id).values(**values))
    return bool(result.rowcount)


async def poll_now(conn: AsyncConnection, feed_id: int, now: datetime) -> bool:
    """Make a feed due immediately."""
    result = await conn.execute(
        update(s.feeds).where(s.feeds.c.id == feed_id).values(next_poll_at=now)
    )
    return bool(result.rowcount)


async def remove_feed(conn: AsyncConnection, feed_id: int) -> bool:
    """Delete a feed and its articles."""
    result = await conn.execute(delete(s.feeds).where(s.feeds.c.id == feed_id))
    return bool(result.rowcount)


async def articles_per_day(conn: AsyncConnection, now: datetime, days: int = 7) -> dict[int, float]:
    """Average articles fetched per day over the last ``days``, per feed id."""
    since = now - timedelta(days=days)
    rows = await conn.execute(
        select(s.articles.c.feed_id, func.count())
        .where(and_(s.articles.c.fetched_at >= since))
        .group_by(s.articles.c.feed_id)
    )
    return {feed_id: count / days for feed_id, count in rows}


async def due_feeds(conn: AsyncConnection, now: datetime, limit: int | None = None) -> list[Feed]:
    """Enabled feeds whose next poll time has come (never polled: due), most overdue first."""
    query = (
        select(s.feeds)
        .where(
            s.feeds.c.enabled.is_(True),
            (s.feeds.c.next_poll_at.is_(None)) | (s.feeds.c.next_poll_at <= now),
        )
        .order_by(s.feeds.c.next_poll_at)
    )
    if limit is not None:
        query = query.limit(limit)
    return [Feed.from_row(r) for r in (await conn.execute(query)).mappings()]


async def save_outcomes(conn: AsyncConnection, outcomes: Sequence[FetchOutcome]) -> None:
    """Fetch state, health and next poll time of many polls in one executemany UPDATE."""
    if outcomes:
        await conn.execute(_SAVE_OUTCOME, [_outcome_row(o) for o in outcomes])


_TITLE = bindparam("b_title", type_=s.feeds.c.title.type)
# Keep a title the operator gave; fill it in only when empty (b_title NULL: leave it).
_SAVE_OUTCOME = (
    update(s.feeds)
    .where(s.feeds.c.id == bindparam("b_id"))
    .values(
        title=case(
            (_TITLE.is_(None), s.feeds.c.title),
            (or_(s.feeds.c.title.is_(None), s.feeds.c.title == ""), _TITLE),
            else_=s.feeds.c.title,
        ),
        last_polled_at=bindparam("b_polled_at"),
        next_poll_at=bindparam("b_next_poll_at"),
        etag=bindparam("b_etag"),
        last_modified=bindparam("b_last_modified"),
        body_hash=bindparam("b_body_hash"),
        ttl_minutes=bindparam("b_ttl_minutes"),
        last_success_at=bindparam("b_last_success_at"),
        last_error_at=bindparam("b_last_error_at"),
        last_error=bindparam("b_last_error"),
        consecutive_errors=bindparam("b_consecutive_errors"),
        failing_since=bindparam("b_failing_since"),
        broken=bindparam("b_broken"),
    )
)


def _outcome_row(outcome: FetchOutcome) -> dict[str, object]:
    health = outcome.health
    return {
        "b_id": outcome.feed_id,
        "b_title": outcome.feed_title or None,
        "b_polled_at": outcome.polled_at,
        "b_next_poll_at": outcome.next_poll_at,
        "b_etag": outcome.etag,
        "b_last_modified": outcome.last_modified,
        "b_body_hash": outcome.body_hash,
        "b_ttl_minutes": outcome.ttl_minutes,
        "b_last_success_at": health.last_success_at,
        "b_last_error_at": health.last_error_at,
        "b_last_error": health.last_error,
        "b_consecutive_errors": health.consecutive_errors,
        "b_failing_since": health.failing_since,
        "b_broken": health.broken,
    }
