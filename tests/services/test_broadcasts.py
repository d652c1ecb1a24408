"""Broadcasts queued through the outbox, stopped, and their progress message."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot

from bot.services import ServiceSet
from bot.services.broadcasts import Audience, send_preview
from bot.storage import Database, outbox
from bot.storage import admin as admin_repo
from bot.testing import FakeTelegram
from tests.seed import add_user
from tests.services.conftest import NOW

ADMIN = 500
TEXT = {"method": "sendMessage", "text": "<b>Water</b> is off on Monday", "parse_mode": "HTML"}


async def residents(db: Database) -> None:
    await add_user(db, NOW, ADMIN, language="en")
    await add_user(db, NOW, 2001, [("district", "khamovniki")])
    await add_user(db, NOW, 2002, [("okrug", "tsao")])  # Khamovniki's okrug
    await add_user(db, NOW, 2003, [("district", "arbat")], language="en")
    await add_user(db, NOW, 2004, [("district", "khamovniki")], paused=True)


async def progress_message(bot: Bot) -> int:
    return (await bot.send_message(ADMIN, "📣 …")).message_id


async def test_audiences_are_counted_and_queued(
    services: ServiceSet, db: Database, fake: FakeTelegram, bot: Bot
) -> None:
    await residents(db)
    broadcasts = services.broadcasts
    khamovniki = Audience("district", ("khamovniki",))
    assert await broadcasts.count(khamovniki) == 2  # the paused one is left out
    assert await broadcasts.count(Audience("language", ("en",))) == 2
    assert await broadcasts.count(Audience("all")) == 4

    broadcast = await broadcasts.create(
        admin_id=ADMIN,
        payload=TEXT,
        audience=khamovniki,
        send_at=NOW - timedelta(minutes=1),  # past: now
        urgent=True,
        progress_chat_id=ADMIN,
        progress_message_id=await progress_message(bot),
    )
    assert (broadcast.recipients, broadcast.state, broadcast.send_at) == (2, "sending", NOW)
    assert broadcast.priority == admin_repo.PRIORITY_URGENT
    async with db.transaction() as conn:
        assert (await outbox.counts(conn, broadcast_id=broadcast.id))["queued"] == 2
        [entry] = await admin_repo.list_audit(conn, action="broadcast.create")
    assert entry.admin_id == ADMIN and entry.details["recipients"] == 2
    assert entry.details["payload"] == TEXT

    await broadcasts.show_progress(bot, broadcast.id)
    progress = fake.message(ADMIN, broadcast.progress_message_id or 0)
    assert "Remaining: 2" in progress.body and [b.text for b in progress.buttons] == ["⏹ Stop"]


async def test_later_and_empty_broadcasts(services: ServiceSet, db: Database, bot: Bot) -> None:
    await residents(db)
    broadcasts = services.broadcasts
    later = await broadcasts.create(
        admin_id=ADMIN,
        payload=TEXT,
        audience=Audience("okrug", ("tsao",)),
        send_at=NOW + timedelta(hours=3),
        urgent=False,
        progress_chat_id=ADMIN,
        progress_message_id=await progress_message(bot),
    )
    assert later.state == "scheduled" and later.priority == admin_repo.PRIORITY_NORMAL
    async with db.transaction() as conn:
        row = await outbox.get_by_key(conn, outbox.broadcast_key(later.id, 2002))
    assert row is not None and row.not_before == NOW + timedelta(hours=3)

    nobody = await broadcasts.create(
        admin_id=ADMIN,
        payload=TEXT,
        audience=Audience("district", ("sokolniki",)),
        send_at=None,
        urgent=False,
        progress_chat_id=ADMIN,
        progress_message_id=await progress_message(bot),
    )
    assert nobody.recipients == 0
    assert await broadcasts.active(nobody.id) is None  # finished at once
    assert await broadcasts.active(later.id) is not None


async def test_stop_drops_the_rest_once(services: ServiceSet, db: Database, bot: Bot) -> None:
    await residents(db)
    broadcasts = services.broadcasts
    broadcast = await broadcasts.create(
        admin_id=ADMIN,
        payload=TEXT,
        audience=Audience("all"),
        send_at=None,
        urgent=False,
        progress_chat_id=ADMIN,
        progress_message_id=await progress_message(bot),
    )
    report = await broadcasts.stop(broadcast.id, ADMIN, "en")
    assert report is not None
    assert "stopped" in report and "Not sent (stopped): 4" in report
    assert await broadcasts.stop(broadcast.id, ADMIN, "en") is None
    assert await broadcasts.active(broadcast.id) is None
    async with db.transaction() as conn:
        assert (await outbox.counts(conn, broadcast_id=broadcast.id))["queued"] == 0
        [entry] = await admin_repo.list_audit(conn, action="broadcast.stop")
        stored = await admin_repo.get_broadcast(conn, broadcast.id)
    assert entry.details == {"broadcast_id": broadcast.id, "dropped": 4}
    assert stored is not None and stored.progress_text == report


async def test_preview_is_sent_as_residents_will_get_it(fake: FakeTelegram, bot: Bot) -> None:
    message_id = await send_preview(bot, ADMIN, TEXT)
    preview = fake.message(ADMIN, message_id)
    assert preview.body == "Water is off on Monday" and preview.entity_texts("bold") == ["Water"]
