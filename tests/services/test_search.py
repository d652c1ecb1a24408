"""Search on both backends (FTS5 and tsvector): morphology, scope and pages."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.config import Settings
from bot.services.search import PAGE_SIZE
from bot.storage import Database
from digests.understanding import Place
from tests.seed import store_articles
from tests.services.conftest import services_for

SCHOOL = (
    "В районе {district} после капитального ремонта открылась школа № {n}. В здании "
    "обновили спортивный зал, столовую и библиотеку, во дворе появился стадион. "
    "Учеников ждут {k} классов."
)


async def test_search_pages_through_the_readers_districts_or_everywhere(
    any_db: Database, settings: Settings, clock: FixedClock
) -> None:
    services = services_for(any_db, settings, clock)
    schools = [
        (
            f"https://mos.example/s{n}",
            f"Школа № {n} открылась после ремонта",
            SCHOOL.format(district="Куркино", n=n, k=20 + n),
        )
        for n in range(1, 8)
    ]
    elsewhere = (
        "https://mos.example/far",
        "Школа в Щукино открылась",
        SCHOOL.format(district="Щукино", n=99, k=40),
    )
    await store_articles(any_db, clock.now(), [*schools, elsewhere])
    await services.accounts.ensure(1, 1, "ru")

    # No districts: everywhere, and nothing to narrow to.
    anywhere = await services.search.search(1, "школы")
    assert anywhere.everywhere and not anywhere.can_narrow and anywhere.total == 8

    await services.subscriptions.subscribe(1, Place("district", "kurkino"))
    first = await services.search.search(1, "школы")  # «школы» finds «школа»
    assert not first.everywhere and first.can_narrow
    assert first.total == 7 and len(first.hits) == PAGE_SIZE and first.has_next
    second = await services.search.search(1, "школы", page=1)
    assert len(second.hits) == 2 and not second.has_next
    urls = {hit.url for hit in first.hits + second.hits}
    assert urls == {url for url, _title, _text in schools}

    wide = await services.search.search(1, "школы", everywhere=True)
    assert wide.everywhere and wide.total == 8

    # An okrug covers its districts: СЗАО has both Kurkino and Shchukino.
    await services.subscriptions.unsubscribe(1, Place("district", "kurkino"))
    await services.subscriptions.subscribe(1, Place("okrug", "szao"))
    okrug = await services.search.search(1, "школы")
    assert not okrug.everywhere and okrug.total == 8
    await services.subscriptions.toggle(1, Place("okrug", "szao"))
    await services.subscriptions.subscribe(1, Place("okrug", "tsao"))
    assert (await services.search.search(1, "школы")).total == 0
    assert (await services.search.search(1, "кенгуру")).total == 0
