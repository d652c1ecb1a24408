"""Digest tick → outbox → sender → the fake Telegram server, with a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import BOT_DEFAULTS
from bot.delivery.sender import Sender, SenderConfig
from bot.scheduling.digest_tick import run_digest_tick
from bot.storage import Database, users
from bot.testing import FakeTelegram, Latency, parse_html, utf16_len
from tests.scheduling.test_digest_tick import KURKINO, MOSCOW, add_story, setup, subscribe

# Sunday 2026-10-25: Berlin goes back from CEST (UTC+2) to CET (UTC+1) at 03:00.
SATURDAY = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
# Telegram's round trip from a real server is 50-300 ms.
TELEGRAM_LATENCY = Latency(0.15, 0.05)


async def deliver(db: Database, fake: FakeTelegram, now: datetime) -> None:
    bot = fake.make_bot(parse_mode=BOT_DEFAULTS.parse_mode, link_preview=BOT_DEFAULTS.link_preview)
    try:
        await Sender(
            db, bot, SenderConfig(rate=1000, per_chat_interval=0), now=lambda: now
        ).run_until_empty()
    finally:
        await bot.session.close()


async def test_local_delivery_time_holds_across_a_dst_change(db: Database) -> None:
    store, feed = await setup(db)
    await subscribe(db, 1, "kurkino", SATURDAY, timezone="Europe/Berlin")
    async with db.transaction() as conn:
        user = await users.get_user(conn, 1)
    assert user is not None and user.next_delivery_at == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)

    await add_story(db, store, feed, 1, KURKINO, SATURDAY + timedelta(hours=2))
    # 06:59 UTC on Sunday is 07:59 CET: not yet due.
    assert (
        await run_digest_tick(db, datetime(2026, 10, 25, 6, 59, tzinfo=UTC), region=MOSCOW)
    ).due == 0
    sunday_8am = datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert (await run_digest_tick(db, sunday_8am, region=MOSCOW)).messages_queued == 1
    async with FakeTelegram(latency=TELEGRAM_LATENCY) as fake:
        await deliver(db, fake, sunday_8am)
        assert len(fake.sent_messages(1)) == 1
    async with db.transaction() as conn:
        user = await users.get_user(conn, 1)
    assert user is not None and user.next_delivery_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


async def test_a_long_digest_is_split_between_items_into_valid_messages(db: Database) -> None:
    store, feed = await setup(db)
    morning = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    await subscribe(db, 1, "kurkino", morning - timedelta(hours=12))
    long_tail = " Подробности — на сайте управы района Куркино и в её телеграм-канале." * 5
    for n in range(1, 41):
        text = KURKINO.replace("№ 1", f"№ {n}").replace("тренажёры", f"{n} тренажёров")
        await add_story(db, store, feed, n, text + long_tail, morning - timedelta(hours=3))
    report = await run_digest_tick(db, morning, cap=40, region=MOSCOW)
    assert report.messages_queued >= 2
    async with FakeTelegram(latency=TELEGRAM_LATENCY) as fake:
        await deliver(db, fake, morning)
        parts = fake.sent_messages(1)
        accepted = fake.calls("sendMessage", ok=True)
    assert len(parts) == report.messages_queued == len(accepted)
    links: list[str] = []
    for part in parts:
        parsed = parse_html(part.raw_text)  # raises on markup Telegram would refuse
        assert utf16_len(parsed.text) <= 4096
        links += [url for _, url in part.links]
    # Every story appears once, whole, in some part: the split fell between items.
    assert sorted(links) == sorted(f"https://paper.example/{n}" for n in range(1, 41))
