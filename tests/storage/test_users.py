from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Database, users

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # 09:00 in Moscow


async def test_new_user_gets_defaults_and_a_next_delivery(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        user, created = await users.ensure_user(conn, 42, 42, NOW)
    assert created
    assert (user.language, user.timezone, user.mode, user.delivery_minute) == (
        "ru",
        "Europe/Moscow",
        "daily",
        480,
    )
    # 08:00 in Moscow has passed today: tomorrow 05:00 UTC.
    assert user.next_delivery_at == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


async def test_settings_change_recomputes_next_delivery(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        await users.ensure_user(conn, 1, 1, NOW)
        user = await users.update_settings(conn, 1, NOW, timezone="Asia/Vladivostok")
        assert user.next_delivery_at == datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
        paused = await users.update_settings(conn, 1, NOW, paused=True)
        assert paused.next_delivery_at is None
        with pytest.raises(TypeError):
            await users.update_settings(conn, 1, NOW, is_admin=True)


async def test_subscriptions_roundtrip_for_many_users(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        for uid in (1, 2, 3):
            await users.ensure_user(conn, uid, uid, NOW)
        assert await users.add_subscription(conn, 1, "district", "khamovniki", NOW)
        assert not await users.add_subscription(conn, 1, "district", "khamovniki", NOW)
        await users.add_subscription(conn, 1, "okrug", "szao", NOW)
        await users.add_subscription(conn, 2, "district", "kurkino", NOW)
        await users.set_topics(conn, 2, ["sport", "culture"])
        subs = await users.subscriptions_of(conn, [1, 2, 3])
        assert subs[1] == users.Subscriptions(frozenset({"khamovniki"}), frozenset({"szao"}))
        assert subs[2].topics == {"sport", "culture"}
        assert subs[3].is_empty
        assert await users.remove_subscription(conn, 1, "okrug", "szao")
        assert (await users.get_subscriptions(conn, 1)).okrugs == frozenset()


async def test_due_users_and_blocked_users(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        await users.ensure_user(conn, 1, 1, NOW)
        await users.ensure_user(conn, 2, 2, NOW)
        later = NOW + timedelta(days=1)
        assert [u.id for u in await users.due_users(conn, later)] == [1, 2]
        await users.mark_inactive(conn, 2, "blocked", NOW)
        assert [u.id for u in await users.due_users(conn, later)] == [1]
        # A user who blocked the bot and comes back starts cleanly.
        back, created = await users.ensure_user(conn, 2, 2, later)
        assert not created and back.active and back.inactive_reason is None
        assert back.next_delivery_at is not None


async def test_delete_user_removes_everything(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        await users.ensure_user(conn, 9, 9, NOW)
        await users.add_subscription(conn, 9, "district", "kurkino", NOW)
        await users.set_topics(conn, 9, ["sport"])
        assert await users.delete_user(conn, 9)
        assert await users.get_user(conn, 9) is None
        assert (await users.get_subscriptions(conn, 9)) == users.Subscriptions()


async def test_clear_subscriptions_keeps_topics(any_db: Database) -> None:
    async with any_db.transaction() as conn:
        await users.ensure_user(conn, 5, 5, NOW)
        await users.ensure_user(conn, 6, 6, NOW)
        await users.add_subscription(conn, 5, "district", "kurkino", NOW)
        await users.add_subscription(conn, 5, "okrug", "szao", NOW)
        await users.add_subscription(conn, 6, "district", "kurkino", NOW)
        await users.set_topics(conn, 5, ["sport"])
        assert await users.clear_subscriptions(conn, 5) == 2
        assert await users.clear_subscriptions(conn, 5) == 0
        subs = await users.get_subscriptions(conn, 5)
        assert subs.is_empty and subs.topics == {"sport"}
        assert (await users.get_subscriptions(conn, 6)).districts == {"kurkino"}
