"""The sender against a scripted in-process Bot API (aiogram's real response checks and
exceptions, no HTTP) and a fake clock."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import CopyMessage, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import LinkPreviewOptions

from bot.config import Settings
from bot.delivery import Outcome, Sender, SenderConfig, Status, classify
from bot.storage import outbox, users
from bot.storage.database import Database
from bot.storage.outbox import OutboxMessage, OutboxRow
from tests.delivery.conftest import TOKEN, FakeClock, Reply, ScriptedSession, add_users, error

Outcomes = list[tuple[str, Status]]


def text(key: str, chat: int, **kw: Any) -> OutboxMessage:
    kw.setdefault("user_id", chat)
    return OutboxMessage(key, chat, {"method": "sendMessage", "text": key}, **kw)


def make_sender(
    db: Database, bot: Bot, clock: FakeClock, seen: Outcomes | None = None, **config: Any
) -> Sender:
    async def on_outcome(row: OutboxRow, outcome: Outcome) -> None:
        if seen is not None:
            seen.append((row.idempotency_key, outcome.status))

    return Sender(
        db,
        bot,
        SenderConfig(**config),
        on_outcome=on_outcome,
        now=clock.now,
        clock=clock.monotonic,
        sleep=clock.sleep,
        rng=random.Random(1),
    )


async def enqueue(db: Database, clock: FakeClock, *messages: OutboxMessage) -> None:
    async with db.transaction() as conn:
        await outbox.enqueue(conn, messages, clock.now())


async def row(db: Database, key: str) -> OutboxRow:
    async with db.transaction() as conn:
        found = await outbox.get_by_key(conn, key)
    assert found is not None
    return found


def texts(session: ScriptedSession) -> list[str]:
    return [getattr(r.method, "text", None) or r.name for r in session.requests]


async def test_executes_each_payload_kind_and_records_message_ids(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1, 2, 3)
    keyboard = {"inline_keyboard": [[{"text": "Открыть", "url": "https://example.org"}]]}
    await enqueue(
        db,
        clock,
        OutboxMessage(
            "m",
            1,
            {
                "method": "sendMessage",
                "text": "<b>Новости</b>",
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
                "reply_markup": keyboard,
            },
            user_id=1,
        ),
        OutboxMessage(
            "p", 2, {"method": "sendPhoto", "photo": "AgACphoto", "caption": "c"}, user_id=2
        ),
        OutboxMessage(
            "c",
            3,
            {"method": "copyMessage", "from_chat_id": 99, "message_id": 5},
            user_id=3,
            kind="broadcast",
        ),
    )
    stats = await make_sender(db, scripted_bot, clock).run_until_empty()
    assert stats.sent == 3
    m, p, c = (r.method for r in session.requests)
    assert isinstance(m, SendMessage) and m.chat_id == 1 and m.parse_mode == "HTML"
    assert isinstance(m.link_preview_options, LinkPreviewOptions)
    assert m.link_preview_options.is_disabled
    assert m.reply_markup is not None
    assert m.reply_markup.inline_keyboard[0][0].url == "https://example.org"  # type: ignore[union-attr]
    assert not m.allow_paid_broadcast
    assert isinstance(p, SendPhoto) and (p.photo, p.caption) == ("AgACphoto", "c")
    assert isinstance(c, CopyMessage) and (c.chat_id, c.from_chat_id, c.message_id) == (3, 99, 5)
    assert not c.allow_paid_broadcast  # paid broadcasts are off by default
    for key, message_id in (("m", 1), ("p", 2), ("c", 3)):
        sent = await row(db, key)
        assert (sent.state, sent.telegram_message_id) == ("sent", message_id)
        assert sent.sent_at is not None


async def test_global_rate_and_per_chat_spacing(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, *range(1, 101))
    # Three parts of one user's digest among 100 single messages to other chats.
    messages = [text(f"part{i}", 1) for i in (1, 2, 3)]
    messages += [text(f"m{chat}", chat) for chat in range(2, 101)]
    await enqueue(db, clock, *messages)
    start = clock.monotonic()
    stats = await make_sender(db, scripted_bot, clock, rate=25.0).run_until_empty()
    assert stats.sent == 102
    duration = clock.monotonic() - start
    assert 101 / duration <= 25.0 * 1.05  # a burst of 2.5 at the start only
    assert duration < 4.5
    part_times = [r.at for r in session.requests if r.chat_id == 1]
    assert [t for t in texts(session) if t.startswith("part")] == ["part1", "part2", "part3"]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(part_times))
    # The spacing of chat 1 did not hold the others up: they were sent in between.
    assert texts(session).index("part3") < 100


async def test_multi_part_digests_do_not_starve_the_rate(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    """Three parts per user, adjacent in the queue, and a small batch: the sender reads
    other users' rows while these chats wait, so the global rate is still reached (only
    the last users' parts form a short tail)."""
    chats = range(1, 101)
    await add_users(db, *chats)
    await enqueue(db, clock, *(text(f"{c}-{p}", c) for c in chats for p in (1, 2, 3)))
    start = clock.monotonic()
    stats = await make_sender(db, scripted_bot, clock, rate=25.0, batch_size=20).run_until_empty()
    assert stats.sent == 300
    assert clock.monotonic() - start < 300 / 25 + 2.5
    for chat in chats:
        parts = [r for r in session.requests if r.chat_id == chat]
        assert [getattr(r.method, "text", "") for r in parts] == [f"{chat}-{p}" for p in (1, 2, 3)]
        assert all(b.at - a.at >= 1.05 - 1e-6 for a, b in itertools.pairwise(parts))


async def test_priority_first_then_fifo_and_not_before(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, *range(1, 8))
    start = clock.monotonic()
    await enqueue(
        db,
        clock,
        text("d1", 1),
        text("d2", 2),
        text("later", 3, priority=10, not_before=clock.now() + timedelta(seconds=10)),
        text("d3", 4),
        text("urgent1", 5, priority=10, kind="broadcast"),
        text("alert", 6, priority=5, kind="alert"),
        text("urgent2", 7, priority=10, kind="broadcast"),
    )
    await make_sender(db, scripted_bot, clock).run_until_empty()
    assert texts(session) == ["urgent1", "urgent2", "alert", "d1", "d2", "d3", "later"]
    assert session.requests[-1].at - start >= 10.0


async def test_retry_after_pauses_all_sending_then_retries(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, *range(1, 21))
    await enqueue(db, clock, *(text(f"m{c}", c) for c in range(1, 21)))
    flooded: list[float] = []

    def script(method: TelegramMethod[Any]) -> Reply | None:
        if getattr(method, "text", "") == "m5" and not flooded:
            flooded.append(clock.monotonic())
            return error(429, "Too Many Requests: retry after 3", retry_after=3)
        return None

    session.script = script
    seen: Outcomes = []
    sender = make_sender(db, scripted_bot, clock, seen, retry_after_margin=0.5)
    stats = await sender.run_until_empty()
    assert stats.sent == 20 and stats.rate_limited == 1
    assert Counter(t for t in texts(session))["m5"] == 2
    [t429] = flooded
    after = [r for r in session.requests if r.at > t429]
    assert after and all(r.at >= t429 + 3.5 for r in after)  # nothing during the pause
    assert texts(session)[texts(session).index("m5") + 1] == "m5"  # retried first
    m5 = await row(db, "m5")
    assert (m5.state, m5.attempts) == ("sent", 0)  # a flood wait is not the message's fault
    assert ("m5", Status.RATE_LIMITED) in seen and ("m5", Status.SENT) in seen


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (error(403, "Forbidden: bot was blocked by the user"), "blocked"),
        (error(403, "Forbidden: user is deactivated"), "deactivated"),
        (error(400, "Bad Request: chat not found"), "chat_not_found"),
    ],
)
async def test_gone_recipient_is_deactivated_and_their_queue_dropped(
    db: Database,
    scripted_bot: Bot,
    session: ScriptedSession,
    clock: FakeClock,
    reply: Reply,
    reason: str,
) -> None:
    await add_users(db, 1, 2, 3)
    await enqueue(
        db,
        clock,
        text("a1", 1),
        text("b1", 2),
        text("b2", 2),
        text("c1", 3),
        text("b3", 2, kind="alert"),
    )
    session.script = lambda m: reply if m.chat_id == 2 else None  # type: ignore[attr-defined]
    seen: Outcomes = []
    stats = await make_sender(db, scripted_bot, clock, seen).run_until_empty()
    assert (stats.sent, stats.dropped) == (2, 3)
    assert texts(session).count("b1") == 1 and "b2" not in texts(session)
    for key in ("b1", "b2", "b3"):
        dropped = await row(db, key)
        assert dropped.state == "dropped"
        assert dropped.last_error is not None and dropped.last_error.startswith(f"{reason}: ")
    assert sorted(k for k, s in seen if s == Status.DROPPED) == ["b1", "b2", "b3"]
    async with db.transaction() as conn:
        user = await users.get_user(conn, 2)
        other = await users.get_user(conn, 3)
    assert user is not None and not user.active and user.inactive_reason == reason
    assert other is not None and other.active


async def test_bad_request_fails_the_row_only(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1, 2)
    await enqueue(db, clock, text("bad", 1), text("next", 1), text("other", 2))
    bad = 'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0'
    session.script = lambda m: error(400, bad) if getattr(m, "text", "") == "bad" else None
    seen: Outcomes = []
    stats = await make_sender(db, scripted_bot, clock, seen).run_until_empty()
    assert (stats.sent, stats.failed) == (2, 1)
    assert texts(session).count("bad") == 1  # not retried
    failed = await row(db, "bad")
    assert failed.state == "failed"
    assert failed.last_error == f"TelegramBadRequest: {bad}"
    assert ("bad", Status.FAILED) in seen
    async with db.transaction() as conn:
        user = await users.get_user(conn, 1)
    assert user is not None and user.active


async def test_server_errors_retry_with_backoff_keeping_the_chats_order(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1, 2)
    await enqueue(db, clock, text("part1", 1), text("part2", 1), text("other", 2))
    failures = iter([error(502, "Bad Gateway"), error(500, "Internal Server Error")])

    def script(method: TelegramMethod[Any]) -> Reply | None:
        return next(failures, None) if getattr(method, "text", "") == "part1" else None

    session.script = script
    stats = await make_sender(db, scripted_bot, clock, backoff_base=2.0).run_until_empty()
    assert (stats.sent, stats.retried) == (3, 2)
    sent = [t for t in texts(session) if t.startswith("part")]
    assert sent == ["part1", "part1", "part1", "part2"]
    times = [r.at for r in session.requests if r.chat_id == 1]
    assert times[1] - times[0] >= 1.6 and times[2] - times[1] >= 3.2  # 2 s, 4 s, ±20%
    part1 = await row(db, "part1")
    assert (part1.state, part1.attempts) == ("sent", 2)
    assert part1.last_error == "TelegramServerError: Internal Server Error"


async def test_network_errors_give_up_after_max_attempts(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1)
    await enqueue(db, clock, text("x", 1))
    session.script = lambda m: TelegramNetworkError(m, "ClientConnectorError: refused")
    stats = await make_sender(db, scripted_bot, clock, max_attempts=3).run_until_empty()
    assert (stats.sent, stats.retried, stats.failed) == (0, 2, 1)
    assert len(session.requests) == 3
    failed = await row(db, "x")
    assert failed.state == "failed"
    assert failed.last_error == (
        "gave up after 3 attempts: TelegramNetworkError: ClientConnectorError: refused"
    )


async def test_invalid_payloads_fail_without_a_request(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1, 2, 3)
    await enqueue(
        db,
        clock,
        OutboxMessage("unknown", 1, {"method": "sendSticker", "sticker": "x"}),
        OutboxMessage("typo", 2, {"method": "sendMessage", "txt": "x"}),
        OutboxMessage("missing", 3, {"method": "sendPhoto", "caption": "no photo"}),
    )
    stats = await make_sender(db, scripted_bot, clock).run_until_empty()
    assert stats.failed == 3 and session.requests == []
    assert "unsupported method 'sendSticker'" in str((await row(db, "unknown")).last_error)
    assert "unknown sendMessage parameters: ['txt']" in str((await row(db, "typo")).last_error)
    assert "invalid sendPhoto payload" in str((await row(db, "missing")).last_error)


async def test_paid_broadcasts_use_the_flag_and_their_own_rate(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, *range(1, 202))
    await enqueue(db, clock, *(text(f"b{c}", c, kind="broadcast") for c in range(1, 201)))
    await enqueue(db, clock, text("digest", 201))
    settings = Settings(allow_paid_broadcast=True, paid_broadcast_rate=500.0, send_rate=25.0)
    config = SenderConfig.from_settings(settings)
    assert (config.rate, config.allow_paid_broadcast, config.paid_broadcast_rate) == (
        25.0,
        True,
        500.0,
    )
    sender = Sender(
        db, scripted_bot, config, now=clock.now, clock=clock.monotonic, sleep=clock.sleep
    )
    start = clock.monotonic()
    await sender.run_until_empty()
    assert clock.monotonic() - start < 1.0  # 200 messages at 500/s, not at 25/s
    flags = {getattr(r.method, "text", ""): r.method.allow_paid_broadcast for r in session.requests}  # type: ignore[attr-defined]
    assert flags["digest"] is None
    assert all(flags[f"b{c}"] is True for c in range(1, 201))


async def test_unauthorized_keeps_rows_queued_and_pauses(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1)
    await enqueue(db, clock, text("x", 1))
    replies = iter([error(401, "Unauthorized")])
    session.script = lambda m: next(replies, None)
    start = clock.monotonic()
    stats = await make_sender(db, scripted_bot, clock, unauthorized_pause=60.0).run_until_empty()
    assert stats.sent == 1 and stats.failed == 0
    assert session.requests[1].at - start >= 60.0
    assert (await row(db, "x")).attempts == 0


async def test_rows_left_sending_by_a_crash_are_requeued_on_start(
    db: Database, scripted_bot: Bot, session: ScriptedSession, clock: FakeClock
) -> None:
    await add_users(db, 1)
    await enqueue(db, clock, text("inflight", 1), text("queued", 1))
    async with db.transaction() as conn:
        inflight = await outbox.get_by_key(conn, "inflight")
        assert inflight is not None
        assert await outbox.mark_sending(conn, inflight.id)
    stats = await make_sender(db, scripted_bot, clock).run_until_empty()
    assert stats.requeued_on_start == 1 and stats.sent == 2
    assert texts(session) == ["inflight", "queued"]


async def test_callback_errors_do_not_stop_sending(
    db: Database, scripted_bot: Bot, clock: FakeClock
) -> None:
    await add_users(db, 1, 2)
    await enqueue(db, clock, text("a", 1), text("b", 2))

    async def broken(row: OutboxRow, outcome: Outcome) -> None:
        raise RuntimeError("progress message gone")

    sender = make_sender(db, scripted_bot, clock)
    sender.on_outcome = broken
    assert (await sender.run_until_empty()).sent == 2


async def test_run_wakes_on_new_rows_and_stops(sqlite_db: Database) -> None:
    """Real clock: run() idles, wake() gets a new row out at once, stop() returns."""
    db = sqlite_db
    session = ScriptedSession()
    bot = Bot(TOKEN, session=session)
    await add_users(db, 1, 2)
    sender = Sender(db, bot, SenderConfig(poll_interval=30.0))
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.1)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [text("a", 1), text("b", 2)], clock_now())
    loop = asyncio.get_running_loop()
    woken = loop.time()
    sender.wake()
    while len(session.requests) < 2:
        await asyncio.sleep(0.01)
        assert loop.time() - woken < 2.0, "wake() did not get the rows out"
    assert sender.running
    sender.stop()
    await asyncio.wait_for(task, 2.0)
    assert sender.stats.sent == 2
    assert not sender.running


async def test_several_in_flight(sqlite_db: Database) -> None:
    """max_in_flight > 1 overlaps slow requests; each row is still sent once."""
    db = sqlite_db

    class Slow(ScriptedSession):
        async def make_request(self, bot: Bot, method: Any, timeout: Any = None) -> Any:  # noqa: ASYNC109
            await asyncio.sleep(0.05)
            return await super().make_request(bot, method, timeout)

    session = Slow()
    bot = Bot(TOKEN, session=session)
    await add_users(db, *range(1, 41))
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [text(f"m{c}", c) for c in range(1, 41)], clock_now())
    config = SenderConfig(rate=1000.0, max_in_flight=8)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stats = await Sender(db, bot, config).run_until_empty()
    assert stats.sent == 40
    assert loop.time() - start < 40 * 0.05 / 2  # overlapped
    assert sorted(texts(session)) == sorted(f"m{c}" for c in range(1, 41))


def clock_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_classify() -> None:
    method = SendMessage(chat_id=1, text="x")
    cases = [
        (TelegramRetryAfter(method, "Too Many Requests", 7), "rate_limited", None),
        (
            TelegramForbiddenError(method, "Forbidden: bot was kicked from the group chat"),
            "drop",
            "kicked",
        ),
        (TelegramForbiddenError(method, "Forbidden: something new"), "drop", "forbidden"),
        (TelegramBadRequest(method, "Bad Request: chat not found"), "drop", "chat_not_found"),
        (TelegramBadRequest(method, "Bad Request: message is too long"), "fail", None),
        (TelegramEntityTooLarge(method, "Request Entity Too Large"), "fail", None),
        (TelegramUnauthorizedError(method, "Unauthorized"), "halt", None),
        (TelegramServerError(method, "Bad Gateway"), "retry", None),
        (TelegramNetworkError(method, "Request timeout error"), "retry", None),
        (OSError("connection reset"), "retry", None),
    ]
    for exc, action, reason in cases:
        verdict = classify(exc)
        assert (verdict.action, verdict.reason) == (action, reason), exc
    assert classify(cases[0][0]).retry_after == 7.0
