"""The outbox repository, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.storage import outbox
from bot.storage.database import Database
from bot.storage.outbox import OutboxMessage
from tests.delivery.conftest import add_users

NOW = datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def msg(key: str, chat: int, **kw: object) -> OutboxMessage:
    payload = kw.pop("payload", {"method": "sendMessage", "text": key})
    return OutboxMessage(key, chat, payload, user_id=chat, **kw)  # type: ignore[arg-type]


async def test_enqueue_ignores_duplicate_keys(db: Database) -> None:
    await add_users(db, 1, 2)
    async with db.transaction() as conn:
        n = await outbox.enqueue(conn, [msg("a", 1), msg("b", 2), msg("a", 1)], NOW)
        assert n == 2
        assert await outbox.enqueue(conn, [msg("a", 1), msg("c", 1)], NOW) == 1
        assert await outbox.enqueue(conn, [], NOW) == 0
        row = await outbox.get_by_key(conn, "c")
    assert row is not None
    assert row.state == "queued" and row.attempts == 0
    assert row.payload == {"method": "sendMessage", "text": "c"}
    assert row.not_before == NOW and row.created_at == NOW
    assert row.not_before.tzinfo is not None


async def test_enqueue_many_rows(db: Database) -> None:
    await add_users(db, 1)
    rows = [msg(f"k{i}", 1) for i in range(2500)]
    async with db.transaction() as conn:
        assert await outbox.enqueue(conn, rows, NOW) == 2500
        assert await outbox.enqueue(conn, rows, NOW) == 0
        assert (await outbox.counts(conn))["queued"] == 2500


async def test_claim_ready_orders_by_priority_then_id_and_respects_not_before(
    db: Database,
) -> None:
    await add_users(db, 1, 2, 3)
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn,
            [
                msg("low1", 1),
                msg("later", 2, priority=10, not_before=NOW + timedelta(seconds=5)),
                msg("low2", 2),
                msg("urgent", 3, priority=10),
                msg("mid", 1, priority=5),
            ],
            NOW,
        )
        ready = await outbox.claim_ready(conn, NOW, limit=10)
        assert [r.idempotency_key for r in ready] == ["urgent", "mid", "low1", "low2"]
        assert [r.idempotency_key for r in await outbox.claim_ready(conn, NOW, 2)] == [
            "urgent",
            "mid",
        ]
        later = await outbox.claim_ready(conn, NOW + timedelta(seconds=5), 10)
        assert [r.idempotency_key for r in later][:2] == ["later", "urgent"]
        assert await outbox.next_ready_at(conn) == NOW


async def test_claim_ready_can_skip_chats(db: Database) -> None:
    await add_users(db, 1, 2, 3)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg("a1", 1), msg("a2", 1), msg("b", 2), msg("c", 3)], NOW)
        ready = await outbox.claim_ready(conn, NOW, 10, exclude_chats={1, 3})
        assert [r.idempotency_key for r in ready] == ["b"]


async def test_row_lifecycle(db: Database) -> None:
    await add_users(db, 1)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg("a", 1)], NOW)
        [row] = await outbox.claim_ready(conn, NOW)
        assert await outbox.mark_sending(conn, row.id)
        assert not await outbox.mark_sending(conn, row.id)  # taken once only
        assert await outbox.claim_ready(conn, NOW) == []
        await outbox.mark_sent(conn, row.id, 4242, NOW + timedelta(seconds=1))
        sent = await outbox.get_row(conn, row.id)
        assert sent is not None
        assert sent.state == "sent"
        assert sent.telegram_message_id == 4242
        assert sent.sent_at == NOW + timedelta(seconds=1)
        assert not await outbox.has_queued(conn)
        assert await outbox.next_ready_at(conn) is None


async def test_retry_later_counts_attempts_and_holds_the_chat(db: Database) -> None:
    await add_users(db, 1, 2)
    later = NOW + timedelta(seconds=30)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg("p1", 1), msg("p2", 1), msg("other", 2), msg("p3", 1)], NOW)
        p1 = await outbox.get_by_key(conn, "p1")
        assert p1 is not None
        assert await outbox.mark_sending(conn, p1.id)
        await outbox.retry_later(conn, p1.id, later, "TelegramNetworkError: boom")
        row = await outbox.get_row(conn, p1.id)
        assert row is not None
        assert (row.state, row.attempts, row.last_error) == (
            "queued",
            1,
            "TelegramNetworkError: boom",
        )
        # The digest's later parts wait for the first; other chats do not.
        ready = [r.idempotency_key for r in await outbox.claim_ready(conn, NOW)]
        assert ready == ["other"]
        ready = [r.idempotency_key for r in await outbox.claim_ready(conn, later)]
        assert ready == ["p1", "p2", "other", "p3"]
        await outbox.retry_later(conn, p1.id, NOW, "flood", count_attempt=False, hold_chat=False)
        row = await outbox.get_row(conn, p1.id)
        assert row is not None and row.attempts == 1 and row.not_before == NOW


async def test_drop_queued_for_chat_drops_only_that_chats_queued_rows(db: Database) -> None:
    await add_users(db, 1, 2)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg("a", 1), msg("b", 1), msg("c", 2), msg("d", 1)], NOW)
        a = await outbox.get_by_key(conn, "a")
        assert a is not None
        await outbox.mark_sending(conn, a.id)
        await outbox.mark_sent(conn, a.id, 1, NOW)
        dropped = await outbox.drop_queued_for_chat(conn, 1, "blocked: Forbidden")
        assert [r.idempotency_key for r in dropped] == ["b", "d"]
        assert all(r.state == "dropped" and r.last_error == "blocked: Forbidden" for r in dropped)
        assert await outbox.counts(conn) == {
            "queued": 1,
            "sending": 0,
            "sent": 1,
            "failed": 0,
            "dropped": 2,
        }


async def test_requeue_in_flight(db: Database) -> None:
    await add_users(db, 1)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg("a", 1), msg("b", 1)], NOW)
        rows = await outbox.claim_ready(conn, NOW)
        await outbox.mark_sending(conn, rows[0].id)
    async with db.transaction() as conn:
        assert await outbox.requeue_in_flight(conn) == 1
        assert await outbox.requeue_in_flight(conn) == 0
        row = await outbox.get_row(conn, rows[0].id)
        assert row is not None and row.state == "queued"
        assert row.last_error == "requeued after restart"


async def test_failed_dropped_counts_and_retention(db: Database) -> None:
    await add_users(db, 1, 2)
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn,
            [
                msg("d1", 1, kind="digest"),
                msg("d2", 2, kind="digest"),
                msg("b1", 1, kind="broadcast"),
                msg("b2", 2, kind="broadcast"),
            ],
            NOW,
        )
        d1 = await outbox.get_by_key(conn, "d1")
        b1 = await outbox.get_by_key(conn, "b1")
        assert d1 is not None and b1 is not None
        await outbox.mark_failed(conn, d1.id, "TelegramBadRequest: can't parse entities")
        await outbox.mark_dropped(conn, b1.id, "blocked")
        assert (await outbox.counts(conn, kind="digest"))["failed"] == 1
        assert (await outbox.counts(conn, kind="broadcast"))["dropped"] == 1
        assert (await outbox.counts(conn, since=NOW + timedelta(seconds=1)))["queued"] == 0
        by_kind = await outbox.counts_by_kind(conn)
        assert by_kind["digest"] == {
            "queued": 1,
            "sending": 0,
            "sent": 0,
            "failed": 1,
            "dropped": 0,
        }
        assert by_kind["broadcast"]["dropped"] == 1
        assert await outbox.delete_finished(conn, NOW + timedelta(days=1)) == 2
        assert sum((await outbox.counts(conn)).values()) == 2


async def test_drop_queued_for_broadcast(db: Database) -> None:
    await add_users(db, 1, 2)
    async with db.transaction() as conn:
        from sqlalchemy import insert

        from bot.storage import schema

        bid = (
            await conn.execute(
                insert(schema.broadcasts)
                .values(admin_id=1, payload={}, audience={}, created_at=NOW)
                .returning(schema.broadcasts.c.id)
            )
        ).scalar_one()
        await outbox.enqueue(
            conn,
            [
                msg(outbox.broadcast_key(bid, 1), 1, kind="broadcast", broadcast_id=bid),
                msg(outbox.broadcast_key(bid, 2), 2, kind="broadcast", broadcast_id=bid),
                msg("digest", 1),
            ],
            NOW,
        )
        dropped = await outbox.drop_queued_for_broadcast(conn, bid, "stopped by admin")
        assert len(dropped) == 2
        assert await outbox.counts(conn, broadcast_id=bid) == {
            "queued": 0,
            "sending": 0,
            "sent": 0,
            "failed": 0,
            "dropped": 2,
        }


async def test_concurrent_workers_take_each_row_once(db: Database) -> None:
    """Two workers reading the same ready rows: mark_sending lets exactly one have each."""
    await add_users(db, 1)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [msg(f"k{i}", 1) for i in range(30)], NOW)
    taken: list[int] = []

    async def worker() -> None:
        async with db.transaction() as conn:
            rows = await outbox.claim_ready(conn, NOW, limit=30)
        for row in rows:
            async with db.transaction() as conn:
                if await outbox.mark_sending(conn, row.id):
                    taken.append(row.id)
            await asyncio.sleep(0)

    await asyncio.gather(worker(), worker())
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 30


def test_keys() -> None:
    assert outbox.broadcast_key(5, 7) == "broadcast:5:7"
    key = outbox.digest_key(7, "daily", NOW, part=2)
    assert key == "digest:7:daily:2025-03-01T08:00:00.123456+00:00:2"
