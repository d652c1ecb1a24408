"""With REDIS_URL, dialog state is shared and survives a restart (memory storage does not)."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import create_fsm_storage
from bot.config import Settings
from tests.handlers.conftest import Harness
from tests.handlers.test_reading import SCHOOL, seed, subscribed

pytestmark = pytest.mark.redis


async def test_redis_is_used_when_configured(redis_url: str) -> None:
    settings = Settings(_env_file=None, redis_url=redis_url)  # type: ignore[call-arg]
    storage = create_fsm_storage(settings)
    try:
        assert isinstance(storage, RedisStorage)
    finally:
        await storage.close()


async def test_search_pages_survive_a_restart_with_redis(harness: Harness, redis_url: str) -> None:
    harness.settings = harness.settings.model_copy(update={"redis_url": redis_url})
    await harness.restart()  # now on Redis
    await seed(
        harness,
        [
            (
                f"https://mos.example/s{n}",
                f"Школа № {n}",
                SCHOOL.format(district="Куркино", n=n, k=n),
            )
            for n in range(1, 8)
        ],
    )
    user = await subscribed(harness, 6001, "Куркино", "en")
    [page] = await harness.send(user, "/search школа")
    await harness.restart()  # a new process would see the same Redis
    answer = await harness.press(user, page, text="▶")
    assert "out of date" not in (answer.get("text") or "")
    assert len(page.links) == 2 and "\n6. Школа № 6" in page.text
