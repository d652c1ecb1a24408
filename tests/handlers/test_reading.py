"""/digest and /search end to end: stored stories, the real bot, the fake Telegram server."""

from __future__ import annotations

from bot.testing import FakeUser
from tests.handlers.conftest import Harness, button_texts
from tests.seed import store_articles

SCHOOL = (
    "В районе {district} после капитального ремонта открылась школа № {n}. В здании "
    "обновили спортивный зал, столовую и библиотеку, во дворе появился стадион. "
    "Учеников ждут {k} классов."
)


async def seed(harness: Harness, items: list[tuple[str, str, str]]) -> None:
    """Store articles (url, title, text) from one city-wide feed, understood for real."""
    await store_articles(harness.db, harness.clock.now(), items)


async def subscribed(harness: Harness, uid: int, name: str, lang: str = "ru") -> FakeUser:
    user = harness.user(uid, lang)
    await harness.send(user, f"/subscribe {name}")
    return user


async def test_digest_shows_the_users_stories_as_valid_html(harness: Harness) -> None:
    await seed(
        harness,
        [
            (
                "https://mos.example/1",
                "Куркино: <script>alert(1)</script> & площадка",
                "В районе Куркино завершили ремонт спортивной площадки у школы: установили "
                "тренажёры и новое покрытие для футбола.",
            ),
            (
                "https://mos.example/2",
                "Библиотека в Щукино",
                "В районе Щукино открыли новую библиотеку с залом для лекций и выставок.",
            ),
        ],
    )
    user = await subscribed(harness, 5001, "Куркино")
    [reply] = await harness.send(user, "/digest")
    # The fake server parsed the HTML like Telegram: the title is text, not markup.
    assert "Куркино: <script>alert(1)</script> & площадка" in reply.text
    assert [url for _, url in reply.links] == ["https://mos.example/1"]
    assert "Щукино" not in reply.text
    assert reply.params.get("link_preview_options") is not None


async def test_digest_without_districts_says_what_to_do(harness: Harness) -> None:
    user = harness.user(5002, "en")
    await harness.send(user, "/start")
    [reply] = await harness.send(user, "/digest")
    assert "/districts" in reply.text


async def test_digest_with_nothing_new_says_so(harness: Harness) -> None:
    user = await subscribed(harness, 5003, "Kurkino", "en")
    [reply] = await harness.send(user, "/digest")
    assert "Nothing new" in reply.text


async def test_search_is_morphology_aware_pages_and_widens(harness: Harness) -> None:
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
        "Школа в Щукино <b>открылась</b> & ждёт",
        SCHOOL.format(district="Щукино", n=99, k=40),
    )
    await seed(harness, [*schools, elsewhere])
    user = await subscribed(harness, 5004, "Куркино")

    [page] = await harness.send(user, "/search школы")  # «школы» finds «школа»
    assert "7 новостей" in page.text
    assert len(page.links) == 5 and "https://mos.example/far" not in dict(page.links).values()
    assert button_texts(page) == ["▶", "Искать везде"]

    answer = await harness.press(user, page, text="▶")
    assert answer.get("text") is None
    assert len(page.links) == 2 and page.edited  # edited in place, not re-sent

    await harness.press(user, page, text="◀")
    await harness.press(user, page, text="Искать везде")
    assert "8 новостей" in page.text and "везде" in page.text
    await harness.press(user, page, text="▶")  # the oldest is on the last page
    assert "Школа в Щукино <b>открылась</b> & ждёт" in page.text  # feed text stays text


async def test_search_without_words_and_with_no_match(harness: Harness) -> None:
    user = await subscribed(harness, 5005, "Куркино", "en")
    [hint] = await harness.send(user, "/search")
    assert "/search" in hint.text
    [empty] = await harness.send(user, "/search кенгуру")
    assert "Nothing found" in empty.text


async def test_search_page_button_after_restart_is_answered_politely(harness: Harness) -> None:
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
    user = await subscribed(harness, 5006, "Куркино", "en")
    [page] = await harness.send(user, "/search школа")
    await harness.send(user, "/search школа")
    await harness.restart()  # dialog state is gone; the old message's buttons remain
    answer = await harness.press(user, page, text="▶")
    assert "out of date" in answer["text"]
