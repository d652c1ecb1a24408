"""/broadcast end to end: the guided flow through the real dispatcher, the outbox and the
sender, against the fake Telegram server."""

from __future__ import annotations

from datetime import timedelta

from bot.services.broadcast_progress import update_broadcast_progress
from bot.storage import admin as repo
from bot.storage import outbox
from bot.testing import StoredMessage
from tests.handlers.admin.conftest import ADMIN, AdminHarness

HAMOVNIKI = "khamovniki"
ARBAT = "arbat"
TSAO = "tsao"


async def seed_residents(h: AdminHarness) -> None:
    await h.add_user(2001, [("district", HAMOVNIKI)])
    await h.add_user(2002, [("district", HAMOVNIKI), ("district", ARBAT)])
    await h.add_user(2003, [("okrug", TSAO)])  # the okrug of Khamovniki: included
    await h.add_user(2004, [("district", "sokolniki")])  # another district
    await h.add_user(2005, [("district", HAMOVNIKI)], paused=True)  # paused: not included
    await h.add_user(2006, [("district", HAMOVNIKI)], active=False)  # blocked: not included
    await h.add_user(2007, [("okrug", "szao")])


async def start_flow(h: AdminHarness, text: str = "Water will be off on Monday") -> StoredMessage:
    """/broadcast, then the content as bold+plain text; returns the preview."""
    [prompt] = await h.send(h.admin, "/broadcast")
    assert "New broadcast" in prompt.body
    replies = await h.push_message(
        h.admin,
        text=text,
        entities=[{"type": "bold", "offset": 0, "length": 5}],
    )
    preview, question = replies
    assert preview.entity_texts("bold") == [text[:5]]
    assert "Who should receive it?" in question.body
    return preview


async def choose_districts(h: AdminHarness, names: str = "Хамовники") -> StoredMessage:
    question = h.admin.last_message
    assert question is not None
    await h.press(h.admin, question, text="🏘 Districts")
    [when] = await h.send(h.admin, names)
    return when


async def confirm(h: AdminHarness, urgent: bool = False, when: str | None = None) -> None:
    last = h.admin.last_message
    assert last is not None
    if when is None:
        await h.press(h.admin, last, text="▶️ Now")
    else:
        await h.send(h.admin, when)
        last = h.admin.last_message
        assert last is not None
    priority = h.admin.last_message
    assert priority is not None and "Priority" in priority.body
    await h.press(h.admin, priority, text="⚡ Urgent (ahead of digests)" if urgent else "Normal")
    summary = h.admin.last_message
    assert summary is not None and "Ready to broadcast" in summary.body
    await h.press(h.admin, summary, text="✅ Send")


def received(h: AdminHarness, uid: int) -> list[StoredMessage]:
    return h.fake.sent_messages(uid)


async def test_district_broadcast_reaches_exactly_its_audience(h: AdminHarness) -> None:
    await seed_residents(h)
    preview = await start_flow(h)
    when = await choose_districts(h, "Хамовники")
    assert "Recipients now: 3" in when.body
    await confirm(h, urgent=True)

    async with h.db.transaction() as conn:
        [broadcast] = await repo.active_broadcasts(conn)
        assert broadcast.recipients == 3
        assert broadcast.priority == repo.PRIORITY_URGENT
        rows = await outbox.counts(conn, broadcast_id=broadcast.id)
        assert rows["queued"] == 3
        [entry] = await repo.list_audit(conn, action="broadcast.create")
    assert entry.admin_id == ADMIN and entry.details["recipients"] == 3
    progress = h.fake.message(ADMIN, broadcast.progress_message_id or 0)
    assert "Remaining: 3" in progress.body and progress.buttons

    stats = await h.sender().run_until_empty()
    assert stats.sent == 3
    for uid in (2001, 2002, 2003):
        [got] = received(h, uid)
        # The preview is what residents get.
        assert (got.text, got.entities) == (preview.text, preview.entities)
    for uid in (2004, 2005, 2006, 2007):
        assert received(h, uid) == []

    await update_broadcast_progress(h.bot, h.db, h.clock)  # type: ignore[arg-type]
    async with h.db.transaction() as conn:
        done = await repo.get_broadcast(conn, broadcast.id)
    assert done is not None and done.state == "done"
    progress = h.fake.message(ADMIN, broadcast.progress_message_id or 0)
    assert "finished" in progress.body and "Sent: 3" in progress.body
    assert not progress.buttons
    report = h.admin.last_message
    assert report is not None and report.message_id != progress.message_id
    assert "Sent: 3" in report.body
    # Nothing changes any more: no further edits or reports.
    assert await update_broadcast_progress(h.bot, h.db, h.clock) == 0  # type: ignore[arg-type]


async def test_progress_is_edited_only_when_numbers_change(h: AdminHarness) -> None:
    for uid in range(3001, 3005):
        await h.add_user(uid, [("okrug", TSAO)], language="en")
    await start_flow(h)
    question = h.admin.last_message
    assert question is not None
    await h.press(h.admin, question, text="🏙 Okrugs")
    okrugs = h.admin.last_message
    assert okrugs is not None
    await h.press(h.admin, okrugs, text="CAO")
    await h.press(h.admin, okrugs, text="Done")
    assert "Recipients now: 4" in okrugs.body
    await confirm(h)
    async with h.db.transaction() as conn:
        [broadcast] = await repo.active_broadcasts(conn)
    message = h.fake.message(ADMIN, broadcast.progress_message_id or 0)
    edits = len(message.history)
    h.clock.advance(timedelta(seconds=10))
    assert await update_broadcast_progress(h.bot, h.db, h.clock) == 0  # type: ignore[arg-type]
    assert len(message.history) == edits

    sent: list[int] = []

    async def one_then_report(row: outbox.OutboxRow, outcome: object) -> None:
        sent.append(row.id)
        if len(sent) == 1:
            h.clock.advance(timedelta(seconds=10))
            await update_broadcast_progress(h.bot, h.db, h.clock)  # type: ignore[arg-type]

    await h.sender(on_outcome=one_then_report).run_until_empty()
    assert "Sent: 1" in message.history[-1]["text"] or "Sent: 1" in message.body
    assert len(message.history) == edits + 1


async def test_stop_halts_the_rest(h: AdminHarness) -> None:
    uids = list(range(4001, 4011))
    for uid in uids:
        await h.add_user(uid, [("district", ARBAT)])
    await start_flow(h)
    await choose_districts(h, "Арбат")
    await confirm(h)
    async with h.db.transaction() as conn:
        [broadcast] = await repo.active_broadcasts(conn)
    progress = h.fake.message(ADMIN, broadcast.progress_message_id or 0)

    delivered: list[int] = []

    async def stop_after_three(row: outbox.OutboxRow, outcome: object) -> None:
        delivered.append(row.chat_id)
        if len(delivered) == 3:
            await h.press(h.admin, progress, text="⏹ Stop")
            answer = await h.press(h.admin, progress, text="⏹ Yes, stop it")
            assert answer.get("text") == "Stopped"

    stats = await h.sender(on_outcome=stop_after_three).run_until_empty()
    assert stats.sent == 3
    assert sum(len(received(h, uid)) for uid in uids) == 3
    async with h.db.transaction() as conn:
        stopped = await repo.get_broadcast(conn, broadcast.id)
        counts = await outbox.counts(conn, broadcast_id=broadcast.id)
        [entry] = await repo.list_audit(conn, action="broadcast.stop")
    assert stopped is not None and stopped.state == "stopped"
    assert counts["dropped"] == 7 and counts["queued"] == 0
    assert entry.details == {"broadcast_id": broadcast.id, "dropped": 7}
    assert "stopped" in progress.body and "Not sent (stopped): 7" in progress.body
    # A later sender or progress run changes nothing.
    assert (await h.sender().run_until_empty()).sent == 0
    assert await update_broadcast_progress(h.bot, h.db, h.clock) == 0  # type: ignore[arg-type]


async def test_restart_continues_without_resending(h: AdminHarness) -> None:
    uids = list(range(5001, 5009))
    for uid in uids:
        await h.add_user(uid, [("district", HAMOVNIKI)])
    await start_flow(h)
    await choose_districts(h)
    await confirm(h)

    first = h.sender()

    async def crash_after_three(row: outbox.OutboxRow, outcome: object) -> None:
        if first.stats.sent == 3:
            first.stop()

    first.on_outcome = crash_after_three
    await first.run_until_empty()
    assert first.stats.sent == 3

    await h.restart()  # a new dispatcher and a new sender on the same database
    second = await h.sender().run_until_empty()
    assert second.sent == 5
    assert [len(received(h, uid)) for uid in uids] == [1] * 8


async def test_scheduled_broadcast_waits_for_its_time(h: AdminHarness) -> None:
    await h.add_user(6001, [("district", HAMOVNIKI)])
    await start_flow(h)
    await choose_districts(h)
    # 15:00 in Moscow now; 18:30 today, in the admin's (default) zone.
    await confirm(h, when="18:30")
    async with h.db.transaction() as conn:
        [broadcast] = await repo.active_broadcasts(conn)
        row = await outbox.get_by_key(conn, outbox.broadcast_key(broadcast.id, 6001))
    assert broadcast.state == "scheduled"
    assert row is not None and row.not_before == h.clock.now() + timedelta(hours=3, minutes=30)
    progress = h.fake.message(ADMIN, broadcast.progress_message_id or 0)
    assert "scheduled" in progress.body
    h.clock.advance(timedelta(hours=4))
    await h.sender().run_until_empty()
    assert len(received(h, 6001)) == 1


async def test_invalid_input_is_caught_before_confirmation(h: AdminHarness) -> None:
    await h.add_user(7001, [("district", HAMOVNIKI)])
    await h.send(h.admin, "/broadcast")
    # A caption over 1024 characters.
    [reply] = await h.push_message(
        h.admin,
        photo=[{"file_id": "AgAfakePhoto1", "file_unique_id": "u1", "width": 90, "height": 60}],
        caption="x" * 1100,
    )
    assert "1100" in reply.body and "1024" in reply.body
    # Something that is neither text nor a photo nor a channel post.
    [reply] = await h.push_message(h.admin, text=None)
    assert "text (with formatting)" in reply.body
    # Telegram refuses the preview: the error is shown and the message asked again.
    h.fake.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: can't parse entities: unsupported start tag <x>",
    )
    [reply] = await h.send(h.admin, "Hello")
    assert "Telegram refused this message" in reply.body
    assert "can't parse entities: unsupported start tag <x>" in reply.body  # escaped
    # Unknown districts are named; an audience of nobody is refused.
    preview, question = await h.send(h.admin, "Hello again")
    assert preview.body == "Hello again"
    [again] = await h.send(h.admin, "Атлантида")  # the audience is chosen with buttons
    assert "buttons" in again.body
    await h.press(h.admin, question, text="🏘 Districts")
    [reply] = await h.send(h.admin, "Атлантида, Хамовники")
    assert "Атлантида" in reply.body
    [reply] = await h.send(h.admin, "Сокольники")
    assert "Nobody matches" in reply.body
    async with h.db.transaction() as conn:
        assert await repo.active_broadcasts(conn) == []
    [reply] = await h.send(h.admin, "/cancel")
    assert "cancelled" in reply.body


async def test_photo_and_channel_post(h: AdminHarness) -> None:
    await h.add_user(8001, [("okrug", TSAO)], language="en")
    # A photo with a formatted caption.
    await h.send(h.admin, "/broadcast")
    preview, _question = await h.push_message(
        h.admin,
        photo=[{"file_id": "AgAfakePhoto2", "file_unique_id": "u2", "width": 90, "height": 60}],
        caption="Fair on Saturday",
        caption_entities=[{"type": "italic", "offset": 0, "length": 4}],
    )
    assert preview.photo is not None and preview.entity_texts("italic") == ["Fair"]
    await h.press(h.admin, _question, text="🌐 Language")
    await h.press(h.admin, _question, text="🇬🇧 English")
    await confirm(h)
    # A post forwarded from a channel: copied, without the forward header.
    await h.send(h.admin, "/broadcast")
    channel = {"id": -1001234, "type": "channel", "title": "Prefecture"}
    copy_preview, question = await h.push_message(
        h.admin,
        text="Road works on Tverskaya",
        forward_origin={"type": "channel", "chat": channel, "message_id": 77, "date": 1},
    )
    assert copy_preview.method == "copyMessage" and copy_preview.forward_origin is None
    await h.press(h.admin, question, text="🗂 Topic")
    await h.press(h.admin, question, text="Transport")
    await confirm(h)
    await h.sender().run_until_empty()
    photo, post = received(h, 8001)
    assert photo.photo == preview.photo and photo.caption == preview.caption
    assert photo.caption_entities == preview.caption_entities
    assert post.text == "Road works on Tverskaya" and post.forward_origin is None
