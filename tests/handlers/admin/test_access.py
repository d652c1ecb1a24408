"""Only admins reach admin handlers: commands, forged buttons and deep links from anyone
else get the residents' answers, with no state change and nothing admin-ish revealed."""

from __future__ import annotations

import json

from bot.i18n import translator
from bot.services.admins import AdminService
from bot.services.broadcast_progress import BroadcastCb, StopButton
from bot.storage import admin as repo
from bot.storage import feeds as feeds_repo
from bot.storage import outbox
from bot.testing import StoredMessage
from handlers.admin import admin_commands, set_admin_commands
from handlers.admin.callbacks import (
    AdminAction,
    AdminCb,
    BroadcastStep,
    BroadcastStepCb,
    FeedButton,
    FeedCb,
)
from tests.handlers.admin.conftest import ADMIN, RESIDENT, AdminHarness
from tests.handlers.admin.test_broadcast import choose_districts, confirm, start_flow
from tests.handlers.admin.test_feeds import make_feeds

# The residents' answers (ru), as the resident routers give them.
UNKNOWN = translator("ru").gettext("I don't know this command. /help lists what I can do.")
STALE = translator("ru").gettext("This button is out of date. Send /start or /help to continue.")

ADMIN_WORDS = (
    "admin",
    "администратор",
    "broadcast",
    "feed",
    "recipients",
    "получател",
    "statistic",
    "статистик",
)


def assert_nothing_revealed(messages: list[StoredMessage]) -> None:
    for message in messages:
        body = message.body.lower()
        assert not any(word in body for word in ADMIN_WORDS), message.body
        assert not any("ab" in (b.callback_data or "")[:3] for b in message.buttons)


async def test_non_admin_commands_are_unknown(h: AdminHarness) -> None:
    resident = h.user(RESIDENT)
    await h.send(resident, "/start")
    await h.add_user(2001, [("district", "khamovniki")])
    feed_id = (await make_feeds(h, 1))[0]
    for command in (
        "/broadcast",
        "/feeds",
        "/feeds 2",
        f"/addfeed https://example.ru/rss {feed_id}",
        "/stats",
        "/admins",
        f"/admins add {RESIDENT}",
        f"/admins remove {ADMIN}",
        "/cancel",
        "/start broadcast",  # a deep link: just the residents' start
    ):
        replies = await h.send(resident, command)
        assert replies, command
        if not command.startswith("/start"):
            assert [r.body for r in replies] == [UNKNOWN], command
        assert_nothing_revealed(replies)
    # Text after /broadcast is not taken as a broadcast.
    replies = await h.send(resident, "Hello everyone")
    assert_nothing_revealed(replies)
    async with h.db.transaction() as conn:
        assert await repo.list_admins(conn) == []
        assert await repo.list_audit(conn) == []
        assert (await outbox.counts(conn))["queued"] == 0
        assert len(await feeds_repo.list_feeds(conn)) == 1
    assert not await AdminService(h.db, h.settings, h.clock).is_admin(RESIDENT)


async def test_forged_admin_buttons_are_refused(h: AdminHarness) -> None:
    resident = h.user(RESIDENT)
    await h.add_user(2001, [("district", "khamovniki")])
    await h.add_user(2002, [("district", "khamovniki")])
    [feed_id] = await make_feeds(h, 1)
    async with h.db.transaction() as conn:
        await repo.add_admin(conn, 777, ADMIN, h.clock.now())
    # A live broadcast the resident will try to stop.
    await start_flow(h)
    await choose_districts(h)
    await confirm(h)
    async with h.db.transaction() as conn:
        [broadcast] = await repo.active_broadcasts(conn)
        audit_before = await repo.list_audit(conn)

    reply = (await h.send(resident, "/start"))[-1]
    forged = [
        BroadcastCb(action=StopButton.CONFIRM, broadcast_id=broadcast.id).pack(),
        BroadcastCb(action=StopButton.ASK, broadcast_id=broadcast.id).pack(),
        BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="all").pack(),
        BroadcastStepCb(step=BroadcastStep.SEND).pack(),
        BroadcastStepCb(step=BroadcastStep.CANCEL).pack(),
        FeedCb(action=FeedButton.REMOVE, feed_id=feed_id).pack(),
        FeedCb(action=FeedButton.PAUSE, feed_id=feed_id).pack(),
        FeedCb(action=FeedButton.LIST).pack(),
        FeedCb(action=FeedButton.ADD).pack(),
        AdminCb(action=AdminAction.REMOVE, user_id=777).pack(),
    ]
    for data in forged:
        before = len(h.fake.sent_messages(RESIDENT, include_deleted=True))
        answer = await h.press_forged(resident, reply, data)
        assert answer.get("text") == STALE, data
        after = h.fake.sent_messages(RESIDENT, include_deleted=True)
        assert len(after) == before, data  # no new screen
        assert_nothing_revealed([reply])
    async with h.db.transaction() as conn:
        still = await repo.get_broadcast(conn, broadcast.id)
        assert still is not None and still.state == "sending"
        assert (await outbox.counts(conn, broadcast_id=broadcast.id))["queued"] == 2
        feed = await feeds_repo.get_feed(conn, feed_id)
        assert feed is not None and feed.enabled
        assert [a for a, _by, _at in await repo.list_admins(conn)] == [777]
        assert len(await repo.list_audit(conn)) == len(audit_before)
    # The resident's own FSM state was not touched either: a text is just a text.
    replies = await h.send(resident, "Hello")
    assert_nothing_revealed(replies)


async def test_runtime_admins(h: AdminHarness) -> None:
    deputy = h.user(777, lang="en")
    await h.send(deputy, "/start")
    [reply] = await h.send(deputy, "/stats")
    assert "know this command" in reply.body

    [reply] = await h.send(h.admin, "/admins add 777")
    assert "777 is now an admin" in reply.body
    [reply] = await h.send(h.admin, "/admins add 777")
    assert "already" in reply.body
    # The admin menu appears in the new admin's chat only.
    scopes = {json.loads(scope)["chat_id"] for scope, _lang in h.fake.commands}
    assert scopes == {777}
    commands = [c["command"] for c in h.fake.commands[('{"chat_id": 777, "type": "chat"}', "en")]]
    assert "broadcast" in commands and "start" in commands
    [reply] = await h.send(deputy, "/stats")
    assert "Statistics" in reply.body

    [listing] = await h.send(h.admin, "/admins")
    assert f"{ADMIN} (ADMIN_IDS" in listing.body and "777 (added by 500)" in listing.body
    [reply] = await h.send(deputy, f"/admins remove {ADMIN}")
    assert "ADMIN_IDS" in reply.body
    assert await AdminService(h.db, h.settings, h.clock).is_admin(ADMIN)

    answer = await h.press(h.admin, listing, text="✖ Remove 777")
    assert "no longer an admin" in answer["text"]
    [reply] = await h.send(deputy, "/stats")
    assert "know this command" in reply.body
    async with h.db.transaction() as conn:
        entries = [(e.admin_id, e.action, e.details) for e in await repo.list_audit(conn)]
    assert entries[::-1] == [
        (ADMIN, "admin.add", {"user_id": 777}),
        (777, "stats.view", {}),
        (ADMIN, "admin.remove", {"user_id": 777}),
    ]


async def test_admin_commands_menu(h: AdminHarness) -> None:
    assert h.bot is not None
    await set_admin_commands(h.bot, [ADMIN])
    names = [c.command for c in admin_commands("ru")]
    assert {"broadcast", "feeds", "addfeed", "stats", "admins", "start"} <= set(names)
    scopes = {key[0] for key in h.fake.commands}
    assert all("chat" in scope and str(ADMIN) in scope for scope in scopes)
