"""The on-demand and preview digests, on both backends."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.config import Settings
from bot.services.subscriptions import Subscriptions
from bot.storage import Database
from bot.storage import users as users_repo
from digests.understanding import Place
from tests.seed import store_articles
from tests.services.conftest import services_for

STORIES = [
    (
        "https://mos.example/1",
        "В Куркино отремонтировали площадку",
        "В районе Куркино завершили ремонт спортивной площадки у школы: установили "
        "тренажёры и новое покрытие для футбола.",
    ),
    (
        "https://mos.example/2",
        "Библиотека в Щукино",
        "В районе Щукино открыли новую библиотеку с залом для лекций и выставок.",
    ),
]


async def test_on_demand_digest_has_the_readers_news_since_their_last_digest(
    any_db: Database, settings: Settings, clock: FixedClock
) -> None:
    services = services_for(any_db, settings, clock)
    await store_articles(any_db, clock.now(), STORIES)
    user, _ = await services.accounts.ensure(1, 1, "en")
    assert await services.digests.on_demand(user) is None  # no district yet

    await services.subscriptions.subscribe(1, Place("district", "kurkino"))
    ready = await services.digests.on_demand(user)
    assert ready is not None
    assert [item.story.url for item in ready.digest.items] == ["https://mos.example/1"]
    assert "https://mos.example/1" in ready.messages[0]
    assert "Щукино" not in "".join(ready.messages)
    assert ready.request.period_end == clock.now()

    async with any_db.transaction() as conn:
        await users_repo.mark_alerted(conn, [1], clock.now())
    clock.advance(timedelta(minutes=5))
    user = await services.accounts.get(1)
    assert user is not None
    later = await services.digests.on_demand(user)
    assert later is not None and later.digest.is_empty
    assert len(later.messages) == 1 and "Nothing new" in later.messages[0]


async def test_preview_is_what_a_subscriber_would_get(
    any_db: Database, settings: Settings, clock: FixedClock
) -> None:
    services = services_for(any_db, settings, clock)
    await store_articles(any_db, clock.now(), STORIES)
    shchukino = Subscriptions(districts=frozenset({"shchukino"}))
    ready = await services.digests.preview(shchukino, "ru", timedelta(hours=2), "Europe/Moscow")
    assert [item.story.url for item in ready.digest.items] == ["https://mos.example/2"]
    assert ready.request.language == "ru" and ready.request.cap == settings.digest_cap
    # Stored an hour ago: a 30-minute window has nothing.
    recent = await services.digests.preview(shchukino, "ru", timedelta(minutes=30), "Europe/Moscow")
    assert recent.digest.is_empty and len(recent.messages) == 1
