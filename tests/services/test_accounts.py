from __future__ import annotations

from datetime import UTC, datetime, time

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import ServiceSet
from bot.services.preferences import Change
from bot.storage import Database
from bot.storage import users as users_repo
from digests.understanding import Place
from tests.services.conftest import services_for


async def test_first_contact_creates_the_user_with_the_operators_defaults(
    db: Database, settings: Settings, clock: FixedClock
) -> None:
    settings = settings.model_copy(
        update={"default_timezone": "Asia/Yekaterinburg", "default_digest_time": time(7, 30)}
    )
    accounts = services_for(db, settings, clock).accounts
    user, created = await accounts.ensure(1, 1, "uk")
    assert created
    assert (user.language, user.timezone, user.delivery_minute) == ("ru", "Asia/Yekaterinburg", 450)
    # 07:30 in Yekaterinburg (UTC+5) has passed at 17:00 there: tomorrow 02:30 UTC.
    assert user.next_delivery_at == datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    english, _ = await accounts.ensure(2, 2, "de")
    assert english.language == "en"
    again, created = await accounts.ensure(1, 1, "en")
    assert not created and again.language == "ru"  # a stored choice is not overwritten


async def test_a_user_who_blocked_the_bot_is_reactivated(
    services: ServiceSet, db: Database
) -> None:
    await services.accounts.ensure(1, 1, "ru")
    async with db.transaction() as conn:
        await users_repo.mark_inactive(conn, 1, "blocked", datetime(2026, 11, 20, tzinfo=UTC))
    blocked = await services.accounts.get(1)
    assert blocked is not None and not blocked.active and blocked.next_delivery_at is None
    user, created = await services.accounts.ensure(1, 1, "ru")
    assert not created and user.active and user.next_delivery_at is not None


async def test_start_resumes_and_subscribes_to_the_deep_linked_place(
    services: ServiceSet,
) -> None:
    user, _ = await services.accounts.ensure(1, 1, "ru")
    started = await services.accounts.start(user, None)
    assert not started.resumed and started.profile.subscriptions.is_empty

    paused = (await services.preferences.change(1, Change(paused=True))).user
    started = await services.accounts.start(paused, Place("district", "khamovniki"))
    assert started.resumed and not started.profile.user.paused
    assert started.profile.user.next_delivery_at is not None
    assert started.profile.subscriptions.districts == {"khamovniki"}
    assert started.subscribed == Place("district", "khamovniki")
