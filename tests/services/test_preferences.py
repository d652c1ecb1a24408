from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.services import ServiceSet
from bot.services.preferences import Change
from digests.understanding import Place


async def test_a_change_touches_only_what_it_names_and_reschedules(
    services: ServiceSet,
) -> None:
    preferences = services.preferences
    await services.accounts.ensure(1, 1, "ru")
    await services.subscriptions.subscribe(1, Place("district", "arbat"))
    # 15:00 in Moscow now: 18:30 is still today.
    profile = await preferences.change(1, Change(delivery_minute=18 * 60 + 30))
    user = profile.user
    assert (user.delivery_minute, user.timezone, user.mode) == (1110, "Europe/Moscow", "daily")
    assert user.next_delivery_at == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    assert profile.subscriptions.districts == {"arbat"}

    weekly = (await preferences.change(1, Change(mode="weekly", weekday=0))).user
    assert weekly.next_delivery_at == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # Monday
    paused = (await preferences.change(1, Change(paused=True, notify_empty=True))).user
    assert paused.paused and paused.notify_empty and paused.next_delivery_at is None
    resumed = (await preferences.change(1, Change(paused=False))).user
    assert not resumed.paused and resumed.notify_empty and resumed.mode == "weekly"
    assert (await preferences.profile(1)).user == resumed


async def test_an_unknown_user_has_no_profile(services: ServiceSet) -> None:
    with pytest.raises(LookupError):
        await services.preferences.profile(404)
