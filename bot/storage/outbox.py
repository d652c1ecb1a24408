"""The outbox: every message the bot is going to send, and what became of it.

Producers (digests, alerts, admin broadcasts) :func:`enqueue` rows; the sender
(:mod:`bot.delivery.sender`) claims ready rows and moves each through

    queued -> sending -> sent | failed | dropped        (or back to queued to retry)

Every state change is its own short transaction chosen by the caller, so that "sending" is
durable before the Bot API call and "sent" is durable before the next one starts: after a
crash, only rows left in ``sending`` are in doubt (:func:`requeue_in_flight`).

The idempotency key makes enqueueing repeatable: a second enqueue of the same key (a digest
tick that ran twice, a broadcast resumed after a restart) inserts nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import schema as s

__all__ = [
    "STATES",
    "OutboxMessage",
    "OutboxRow",
    "State",
    "broadcast_key",
    "claim_ready",
    "counts",
    "counts_by_kind",
    "delete_finished",
    "digest_key",
    "drop_queued_for_broadcast",
    "drop_queued_for_chat",
    "enqueue",
    "get_by_key",
    "get_row",
    "has_queued",
    "mark_dropped",
    "mark_failed",
    "mark_sending",
    "mark_sent",
    "next_ready_at",
    "requeue_in_flight",
    "retry_later",
]

State = Literal["queued", "sending", "sent", "failed", "dropped"]
STATES: Final[tuple[State, ...]] = ("queued", "sending", "sent", "failed", "dropped")
FINAL_STATES: Final[frozenset[str]] = frozenset({"sent", "failed", "dropped"})

_t = s.outbox
_c = _t.c


def digest_key(user_id: int, kind: str, period_end: datetime, part: int = 1) -> str:
    """Idempotency key of one part of a user's digest for one period."""
    return f"digest:{user_id}:{kind}:{period_end.isoformat()}:{part}"


def broadcast_key(broadcast_id: int, user_id: int) -> str:
    """Idempotency key of one recipient of an admin broadcast."""
    return f"broadcast:{broadcast_id}:{user_id}"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to enqueue: one Bot API call described by ``payload``.

    ``payload`` is JSON: ``{"method": "sendMessage", "text": ..., "parse_mode": "HTML", ...}``,
    ``{"method": "sendPhoto", "photo": ..., "caption": ...}`` or
    ``{"method": "copyMessage", "from_chat_id": ..., "message_id": ...}``; ``chat_id`` is
    taken from the row, not the payload.
    """

    idempotency_key: str
    chat_id: int
    payload: Mapping[str, Any]
    kind: str = "digest"  # digest | alert | broadcast | notice
    user_id: int | None = None
    priority: int = 0  # higher goes first
    not_before: datetime | None = None  # None: now
    broadcast_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    chat_id: int
    user_id: int | None
    kind: str
    priority: int
    payload: dict[str, Any] = field(hash=False)
    state: State
    attempts: int  # failed attempts that count toward the retry limit
    not_before: datetime
    last_error: str | None
    broadcast_id: int | None
    telegram_message_id: int | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> OutboxRow:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def _insert(conn: AsyncConnection) -> Any:
    # Both dialects spell "insert if absent" the same way, but it lives in different modules.
    if conn.dialect.name == "postgresql":
        return postgresql.insert(_t)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(_t)
    raise NotImplementedError(f"outbox: unsupported dialect {conn.dialect.name}")


async def enqueue(conn: AsyncConnection, messages: Iterable[OutboxMessage], now: datetime) -> int:
    """Insert the messages whose idempotency key is new; returns how many were inserted."""
    rows = [
        {
            "idempotency_key": m.idempotency_key,
            "chat_id": m.chat_id,
            "user_id": m.user_id,
            "kind": m.kind,
            "priority": m.priority,
            "payload": dict(m.payload),
            "state": "queued",
            "attempts": 0,
            "not_before": m.not_before or now,
            "broadcast_id": m.broadcast_id,
            "created_at": now,
        }
        for m in messages
    ]
    if not rows:
        return 0
    # RETURNING counts only the rows actually inserted, on both dialects, also for
    # executemany (SQLAlchemy's "insertmanyvalues"); rowcount is unreliable there.
    stmt = (
        _insert(conn).on_conflict_do_nothing(index_elements=[_c.idempotency_key]).returning(_c.id)
    )
    result = await conn.execute(stmt, rows)
    return len(result.all())


async def get_row(conn: AsyncConnection, row_id: int) -> OutboxRow | None:
    row = (await conn.execute(select(_t).where(_c.id == row_id))).mappings().first()
    return OutboxRow.from_row(row) if row else None


async def get_by_key(conn: AsyncConnection, key: str) -> OutboxRow | None:
    row = (await conn.execute(select(_t).where(_c.idempotency_key == key))).mappings().first()
    return OutboxRow.from_row(row) if row else None


async def claim_ready(
    conn: AsyncConnection,
    now: datetime,
    limit: int = 100,
    *,
    exclude_chats: Collection[int] = (),
) -> list[OutboxRow]:
    """Queued rows that are due, highest priority first, then oldest first.

    This only reads: a row is taken by :func:`mark_sending`, which succeeds for one caller.
    On PostgreSQL the read skips rows another worker's transaction holds locked.
    ``exclude_chats`` skips chats the caller cannot send to yet (per-chat spacing), so a
    batch is not filled with the later parts of a few users' digests.
    """
    stmt = (
        select(_t)
        .where(_c.state == "queued", _c.not_before <= now)
        .order_by(_c.priority.desc(), _c.id)
        .limit(limit)
    )
    if exclude_chats:
        stmt = stmt.where(_c.chat_id.not_in(sorted(exclude_chats)))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = (await conn.execute(stmt)).mappings().all()
    return [OutboxRow.from_row(r) for r in rows]


async def mark_sending(conn: AsyncConnection, row_id: int) -> bool:
    """Take a queued row for sending; False if it is no longer queued (taken or dropped)."""
    result = await conn.execute(
        update(_t).where(_c.id == row_id, _c.state == "queued").values(state="sending")
    )
    return result.rowcount == 1


async def mark_sent(
    conn: AsyncConnection, row_id: int, telegram_message_id: int | None, now: datetime
) -> None:
    await conn.execute(
        update(_t)
        .where(_c.id == row_id)
        .values(state="sent", telegram_message_id=telegram_message_id, sent_at=now)
    )


async def retry_later(
    conn: AsyncConnection,
    row_id: int,
    not_before: datetime,
    error: str | None,
    *,
    count_attempt: bool = True,
    hold_chat: bool = True,
) -> None:
    """Put a row back in the queue, due at ``not_before``.

    ``count_attempt=False`` for flood waits, which say nothing about the message itself.
    ``hold_chat`` also delays the chat's later queued rows, so that the parts of a digest
    keep their order when one of them has to be retried.
    """
    values: dict[str, Any] = {"state": "queued", "not_before": not_before, "last_error": error}
    if count_attempt:
        values["attempts"] = _c.attempts + 1
    row = (
        await conn.execute(update(_t).where(_c.id == row_id).values(**values).returning(_c.chat_id))
    ).first()
    if row is not None and hold_chat:
        await conn.execute(
            update(_t)
            .where(
                _c.chat_id == row.chat_id,
                _c.state == "queued",
                _c.id > row_id,
                _c.not_before < not_before,
            )
            .values(not_before=not_before)
        )


async def mark_failed(conn: AsyncConnection, row_id: int, error: str) -> None:
    """The message cannot be sent as it is (bad HTML, too long, retries exhausted)."""
    await conn.execute(update(_t).where(_c.id == row_id).values(state="failed", last_error=error))


async def mark_dropped(conn: AsyncConnection, row_id: int, reason: str) -> None:
    """The message will not be sent because its recipient is gone."""
    await conn.execute(update(_t).where(_c.id == row_id).values(state="dropped", last_error=reason))


async def drop_queued_for_chat(conn: AsyncConnection, chat_id: int, reason: str) -> list[OutboxRow]:
    """Drop every queued row for the chat (the user blocked the bot); returns those rows."""
    return await _drop_queued(conn, _c.chat_id == chat_id, reason)


async def drop_queued_for_broadcast(
    conn: AsyncConnection, broadcast_id: int, reason: str
) -> list[OutboxRow]:
    """Drop the queued rest of a broadcast (the admin stopped it); returns those rows."""
    return await _drop_queued(conn, _c.broadcast_id == broadcast_id, reason)


async def _drop_queued(conn: AsyncConnection, where: Any, reason: str) -> list[OutboxRow]:
    rows = await conn.execute(
        update(_t)
        .where(where, _c.state == "queued")
        .values(state="dropped", last_error=reason)
        .returning(*_t.c)
    )
    return sorted((OutboxRow.from_row(r) for r in rows.mappings()), key=lambda r: r.id)


async def requeue_in_flight(conn: AsyncConnection, note: str = "requeued after restart") -> int:
    """Put rows left in ``sending`` by a dead process back in the queue; returns how many.

    Call it once at start-up, before any sender of this database runs: a row in ``sending``
    belonging to a live sender would otherwise be sent twice.
    """
    result = await conn.execute(
        update(_t).where(_c.state == "sending").values(state="queued", last_error=note)
    )
    return int(result.rowcount or 0)


async def has_queued(conn: AsyncConnection) -> bool:
    """Whether any row is queued (due or not)."""
    row = await conn.execute(select(_c.id).where(_c.state == "queued").limit(1))
    return row.first() is not None


async def next_ready_at(conn: AsyncConnection) -> datetime | None:
    """When the earliest queued row becomes due (None if nothing is queued)."""
    value: datetime | None = await conn.scalar(
        select(func.min(_c.not_before)).where(_c.state == "queued")
    )
    return value


def _filters(kind: str | None, broadcast_id: int | None, since: datetime | None) -> list[Any]:
    where: list[Any] = []
    if kind is not None:
        where.append(_c.kind == kind)
    if broadcast_id is not None:
        where.append(_c.broadcast_id == broadcast_id)
    if since is not None:
        where.append(_c.created_at >= since)
    return where


async def counts(
    conn: AsyncConnection,
    *,
    kind: str | None = None,
    broadcast_id: int | None = None,
    since: datetime | None = None,
) -> dict[str, int]:
    """Rows per state (every state present, zero if none), optionally filtered."""
    stmt = select(_c.state, func.count()).group_by(_c.state)
    where = _filters(kind, broadcast_id, since)
    if where:
        stmt = stmt.where(and_(*where))
    result: dict[str, int] = dict.fromkeys(STATES, 0)
    for state, n in await conn.execute(stmt):
        result[state] = int(n)
    return result


async def counts_by_kind(
    conn: AsyncConnection, *, since: datetime | None = None
) -> dict[str, dict[str, int]]:
    """Rows per kind, then per state (for the admin statistics)."""
    stmt = select(_c.kind, _c.state, func.count()).group_by(_c.kind, _c.state)
    if since is not None:
        stmt = stmt.where(_c.created_at >= since)
    result: dict[str, dict[str, int]] = {}
    for kind, state, n in await conn.execute(stmt):
        result.setdefault(kind, dict.fromkeys(STATES, 0))[state] = int(n)
    return result


async def delete_finished(conn: AsyncConnection, before: datetime) -> int:
    """Delete sent, failed and dropped rows created before ``before`` (retention)."""
    result = await conn.execute(
        delete(_t).where(_c.state.in_(sorted(FINAL_STATES)), _c.created_at < before)
    )
    return int(result.rowcount or 0)
