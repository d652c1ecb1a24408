"""The sender, the real aiogram Bot and the fake Bot API server over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot

from bot.delivery import Outcome, Sender, SenderConfig, Status
from bot.storage import outbox, users
from bot.storage.database import Database
from bot.storage.outbox import OutboxMessage, OutboxRow
from bot.testing import Call, FakeTelegram, Latency
from tests.delivery.conftest import add_users

ROOT = Path(__file__).resolve().parents[2]
SENDS = ("sendmessage", "sendphoto", "copymessage")
# Telegram's round trip from a real server: 50-300 ms. The two tests of the sender's pace
# under the server's own 429s keep the fake's instant answers: with one message in flight
# the sender's rate is bounded by the round trip, which bench/delivery measures.
TELEGRAM_LATENCY = Latency(0.15, 0.05)


def now() -> datetime:
    return datetime.now(UTC)


def text(key: str, chat: int, **kw: Any) -> OutboxMessage:
    kw.setdefault("user_id", chat)
    payload = {"method": "sendMessage", "text": f"msg {key}", "parse_mode": "HTML"}
    return OutboxMessage(key, chat, kw.pop("payload", payload), **kw)


async def enqueue(db: Database, *messages: OutboxMessage) -> None:
    async with db.transaction() as conn:
        await outbox.enqueue(conn, messages, now())


def send_calls(fake: FakeTelegram) -> list[Call]:
    return [c for c in fake.calls() if c.method.lower() in SENDS]


def delivered(fake: FakeTelegram) -> Counter[str]:
    return Counter(str(c.params.get("text")) for c in fake.calls("sendMessage", ok=True))


def assert_pauses_observed(fake: FakeTelegram) -> int:
    """No request reached the server while a 429's retry_after was running."""
    calls = send_calls(fake)
    floods = [c for c in calls if c.status == 429]
    for flood in floods:
        retry_after = flood.response["parameters"]["retry_after"]
        during = [c for c in calls if flood.timestamp < c.timestamp < flood.timestamp + retry_after]
        assert during == [], f"{len(during)} requests during the pause after a 429"
    return len(floods)


async def test_429_storm_every_message_delivered_once(
    db: Database, fake: FakeTelegram, bot: Bot
) -> None:
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    chats = list(range(1001, 1061))
    await add_users(db, *chats)
    # 60 users, half of them with a two-part digest.
    messages = [text(f"{c}-1", c) for c in chats]
    messages += [text(f"{c}-2", c) for c in chats if c % 2 == 0]
    await enqueue(db, *messages)
    injected = 0

    async def inject(row: OutboxRow, outcome: Outcome) -> None:
        nonlocal injected
        if outcome.status == Status.SENT and row.id in (10, 30) and injected < 2:
            injected += 1
            fake.fail_next("sendMessage", error_code=429, retry_after=1)

    # 80/s is well over the fake's 30/s: the server answers 429 by itself as well.
    config = SenderConfig(rate=80.0, burst=8.0)
    stats = await Sender(db, bot, config, on_outcome=inject).run_until_empty()
    assert injected == 2
    floods = assert_pauses_observed(fake)
    assert floods == stats.rate_limited > injected  # injected ones plus the server's own
    counts = delivered(fake)
    assert set(counts) == {f"msg {m.idempotency_key}" for m in messages}
    assert max(counts.values()) == 1
    async with db.transaction() as conn:
        assert (await outbox.counts(conn))["sent"] == len(messages)


async def test_within_limits_no_429_and_parts_spaced(
    db: Database, fake: FakeTelegram, bot: Bot
) -> None:
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    await add_users(db, *range(1, 31))
    messages = [text(f"{c}-{p}", c) for c in range(1, 31) for p in (1, 2)]
    await enqueue(db, *messages)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stats = await Sender(db, bot, SenderConfig(rate=25.0)).run_until_empty()
    assert stats.sent == 60 and stats.rate_limited == 0
    assert loop.time() - start < 60 / 25 + 1.5
    assert all(c.status == 200 for c in send_calls(fake))
    for chat in range(1, 31):
        parts = [m.raw_text for m in fake.sent_messages(chat)]
        assert parts == [f"msg {chat}-1", f"msg {chat}-2"]


async def test_gone_users_deactivated_bad_html_failed_priorities_kept(
    db: Database, fake: FakeTelegram, bot: Bot
) -> None:
    fake.set_latency(TELEGRAM_LATENCY)
    await add_users(db, *range(1, 9))
    fake.block(2)
    fake.deactivate(3)
    fake.mark_missing(4)
    admin = fake.user(500, "Admin")
    source = await admin.send("Важное объявление")
    await enqueue(
        db,
        text("ok1", 1),
        *(text(f"gone{c}-{p}", c) for c in (2, 3, 4) for p in (1, 2)),
        text("bad", 5, payload={"method": "sendMessage", "text": "<b>oops", "parse_mode": "HTML"}),
        text("after-bad", 5),
        OutboxMessage(
            "photo",
            6,
            {"method": "sendPhoto", "photo": "https://example.org/p.jpg", "caption": "<i>c</i>"},
            user_id=6,
            kind="alert",
            priority=5,
        ),
        *(
            OutboxMessage(
                f"broadcast{c}",
                c,
                {"method": "copyMessage", "from_chat_id": 500, "message_id": source.message_id},
                user_id=c,
                kind="broadcast",
                priority=10,
            )
            for c in (7, 8)
        ),
    )
    outcomes: list[tuple[str, Status]] = []

    async def record(row: OutboxRow, outcome: Outcome) -> None:
        outcomes.append((row.idempotency_key, outcome.status))

    config = SenderConfig(allow_paid_broadcast=True)
    stats = await Sender(db, bot, config, on_outcome=record).run_until_empty()
    assert (stats.sent, stats.failed, stats.dropped) == (5, 1, 6)

    calls = send_calls(fake)
    order = [c.method.lower() for c in calls]
    assert order[:3] == ["copymessage", "copymessage", "sendphoto"]  # priorities first
    copies = fake.calls("copyMessage")
    assert all(c.params.get("allow_paid_broadcast") is True for c in copies)
    assert "allow_paid_broadcast" not in fake.calls("sendPhoto")[0].params
    # One request per gone chat; the second part was dropped without a request.
    assert Counter(c.params["chat_id"] for c in calls if c.status != 200) == {
        2: 1,
        3: 1,
        4: 1,
        5: 1,
    }
    async with db.transaction() as conn:
        for chat, reason in ((2, "blocked"), (3, "deactivated"), (4, "chat_not_found")):
            user = await users.get_user(conn, chat)
            assert user is not None and (user.active, user.inactive_reason) == (False, reason)
            for part in (1, 2):
                row = await outbox.get_by_key(conn, f"gone{chat}-{part}")
                assert row is not None and row.state == "dropped"
                assert row.last_error is not None and row.last_error.startswith(reason)
        bad = await outbox.get_by_key(conn, "bad")
        assert bad is not None and bad.state == "failed"
        assert bad.last_error is not None and "can't parse entities" in bad.last_error
        after = await outbox.get_by_key(conn, "after-bad")
        assert after is not None and after.state == "sent" and after.telegram_message_id
        user5 = await users.get_user(conn, 5)
        assert user5 is not None and user5.active
    assert [m.raw_text for m in fake.sent_messages(5)] == ["msg after-bad"]
    assert fake.sent_messages(7)[0].text == "Важное объявление"
    assert sum(1 for _, s in outcomes if s == Status.DROPPED) == 6


async def _wait_for_sends(fake: FakeTelegram, count: int, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(fake.calls("sendMessage", ok=True)) < count:
        assert loop.time() < deadline, "the worker did not send in time"
        await asyncio.sleep(0.005)


async def _worker(fake: FakeTelegram, db_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.delivery.crash_worker",
        fake.base_url,
        str(db_path),
        "--rate",
        "40",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_killed_worker_resumes_without_loss_or_duplicates(
    sqlite_db: Database, fake: FakeTelegram, tmp_path: Path
) -> None:
    """SIGKILL a worker process part-way, start another: nothing lost, at most one message
    (the one in flight at the kill) delivered twice. Most of the time is Python start-up."""
    kill_after = 15
    db = sqlite_db
    db_path = tmp_path / "outbox.sqlite3"
    fake.set_rate_limits(global_per_second=45, per_chat_per_second=1)
    fake.set_latency(TELEGRAM_LATENCY)  # most of the time is spent in flight: the kill lands there
    chats = list(range(1, 41))
    await add_users(db, *chats)
    messages = [text(f"{c}-1", c) for c in chats] + [text(f"{c}-2", c) for c in chats[:10]]
    await enqueue(db, *messages)

    first = await _worker(fake, db_path)
    try:
        await _wait_for_sends(fake, kill_after, within=60)  # Python start-up under load
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    before = sum(delivered(fake).values())
    assert kill_after <= before < len(messages)

    second = await _worker(fake, db_path)
    out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()
    assert b"requeued=" in out

    counts = delivered(fake)
    assert set(counts) == {f"msg {m.idempotency_key}" for m in messages}  # nothing lost
    duplicated = [k for k, n in counts.items() if n > 1]
    assert len(duplicated) <= 1 and max(counts.values()) <= 2, duplicated
    assert all(c.status == 200 for c in fake.calls("sendMessage"))
    async with db.transaction() as conn:
        assert (await outbox.counts(conn))["sent"] == len(messages)
