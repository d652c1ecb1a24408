"""/topics: ✅ toggles over the twelve topics; the empty set means all."""

from __future__ import annotations

from digests.understanding import TOPICS
from tests.handlers.conftest import Harness, button_texts


async def test_toggling_topics(harness: Harness) -> None:
    user = harness.user(3001, "ru")
    [view] = await harness.send(user, "/topics")
    assert len([t for t in button_texts(view) if t.startswith("✅")]) == 12
    assert "Все темы" not in button_texts(view)

    await harness.press(user, view, text="✅ Спорт")
    assert (await harness.subs(user.id)).topics == frozenset(TOPICS) - {"sport"}
    assert "▫️ Спорт" in button_texts(view)
    assert view.edited

    await harness.press(user, view, text="▫️ Спорт")
    assert (await harness.subs(user.id)).topics == frozenset()  # all topics

    # Down to one topic, then refuse to untick it.
    for slug_label in (
        "Транспорт",
        "ЖКХ",
        "Строительство",
        "Образование",
        "Здравоохранение",
        "Социальная поддержка",
        "Культура и досуг",
        "Спорт",
        "Безопасность",
        "Экология",
        "Экономика",
    ):
        await harness.press(user, view, text=f"✅ {slug_label}")
    assert (await harness.subs(user.id)).topics == {"government"}
    answer = await harness.press(user, view, text="✅ Власть")
    assert answer["show_alert"] is True
    assert answer["text"] == "Хотя бы одна тема должна остаться."
    assert (await harness.subs(user.id)).topics == {"government"}

    await harness.press(user, view, text="Все темы")
    assert (await harness.subs(user.id)).topics == frozenset()
    await harness.press(user, view, text="✔️ Готово")
    assert "Темы сохранены: все темы" in view.body
    assert not view.buttons


async def test_topic_names_in_english(harness: Harness) -> None:
    user = harness.user(3002, "en")
    [view] = await harness.send(user, "/topics")
    assert "✅ Housing and utilities" in button_texts(view)
    await harness.press(user, view, text="✅ Housing and utilities")
    await harness.press(user, view, text="✔️ Done")
    assert "Topics saved: Transport, Construction" in view.body
