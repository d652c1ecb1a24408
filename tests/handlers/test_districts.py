"""Subscribing by typed names, the picker's paging and whole-okrug toggle, /districts."""

from __future__ import annotations

from tests.handlers.conftest import Harness, button_texts


async def test_subscribe_by_declined_name(harness: Harness) -> None:
    user = harness.user(2001, "ru")
    [reply] = await harness.send(user, "/subscribe Хамовниках")
    assert "Вы подписаны: Хамовники" in reply.body
    [reply] = await harness.send(user, "/subscribe в Куркино")
    assert "Вы подписаны: Куркино" in reply.body
    [reply] = await harness.send(user, "/subscribe хорошево-мневники")
    assert "Вы подписаны: Хорошёво-Мнёвники" in reply.body
    [reply] = await harness.send(user, "/subscribe юзао")
    assert "Вы подписаны: Юго-Западный административный округ" in reply.body
    [reply] = await harness.send(user, "/subscribe Хамовнеки")  # a typo
    assert "Вы уже подписаны: Хамовники" in reply.body
    subs = await harness.subs(user.id)
    assert subs.districts == {"khamovniki", "kurkino", "khoroshyovo-mnyovniki"}
    assert subs.okrugs == {"yuzao"}


async def test_ambiguous_name_offers_buttons(harness: Harness) -> None:
    user = harness.user(2002, "ru")
    [reply] = await harness.send(user, "/subscribe Бутово")
    assert "«Бутово»" in reply.body and "Какое выбрать?" in reply.body
    assert button_texts(reply) == ["➕ Северное Бутово", "➕ Южное Бутово"]
    assert (await harness.subs(user.id)).is_empty
    answer = await harness.press(user, reply, text="➕ Южное Бутово")
    assert answer["text"] == "✅ Вы подписаны: Южное Бутово."
    assert "Вы подписаны: Южное Бутово" in reply.body and not reply.buttons
    assert (await harness.subs(user.id)).districts == {"yuzhnoe-butovo"}

    # Unsubscribing by the ambiguous name removes the one the user follows.
    [reply] = await harness.send(user, "/unsubscribe Бутово")
    assert "Вы отписались: Южное Бутово" in reply.body
    assert (await harness.subs(user.id)).is_empty


async def test_unknown_name_suggests_the_closest(harness: Harness) -> None:
    user = harness.user(2003, "ru")
    [reply] = await harness.send(user, "/subscribe Хамовн")
    assert "Не знаю «Хамовн»" in reply.body
    assert button_texts(reply)[0] == "➕ Хамовники"
    await harness.press(user, reply, text="➕ Хамовники")
    assert (await harness.subs(user.id)).districts == {"khamovniki"}

    [reply] = await harness.send(user, "/subscribe <b>Шмыгово</b>")
    assert "Не знаю «<b>Шмыгово</b>»" in reply.body  # echoed as text, not markup
    [reply] = await harness.send(user, "/subscribe qwertyuiop")
    assert button_texts(reply) == ["📍 Выбрать из списка"]
    await harness.press(user, reply, text="📍 Выбрать из списка")
    assert "Ваши районы" in reply.body


async def test_picker_pages_and_whole_okrug(harness: Harness) -> None:
    user = harness.user(2004, "ru")
    [picker] = await harness.send(user, "/subscribe")
    await harness.press(user, picker, text="СВАО")  # 17 districts: two pages
    first_page = [t for t in button_texts(picker) if t.startswith("▫️ ") and t != "▫️ Весь округ"]
    assert len(first_page) == 10
    await harness.press(user, picker, text="Ещё ›")
    second_page = [t for t in button_texts(picker) if t.startswith("▫️ ") and t != "▫️ Весь округ"]
    assert len(second_page) == 7 and not set(first_page) & set(second_page)
    await harness.press(user, picker, text="▫️ Южное Медведково")
    assert "Страница 2 из 2" in picker.body  # stays on the same page
    await harness.press(user, picker, text="‹ Назад")
    assert "Страница 1 из 2" in picker.body
    await harness.press(user, picker, text="▫️ Весь округ")
    assert "весь округ" in picker.body
    answer = await harness.press(user, picker, text="✅ Весь округ")
    assert answer["text"].startswith("Убрано")
    await harness.press(user, picker, text="▫️ Весь округ")
    await harness.press(user, picker, text="✔️ Готово")
    assert "Вы подписаны на 2 места" in picker.body
    subs = await harness.subs(user.id)
    assert subs.okrugs == {"svao"} and subs.districts == {"yuzhnoe-medvedkovo"}


async def test_districts_list_removes_with_buttons(harness: Harness) -> None:
    user = harness.user(2005, "ru")
    [empty] = await harness.send(user, "/districts")
    assert "ещё не выбрали район" in empty.body
    for name in ("Хамовники", "Арбат", "СЗАО", "Куркино", "Митино"):
        await harness.send(user, f"/subscribe {name}")
    [listing] = await harness.send(user, "/districts")
    assert "Вы подписаны на 5 мест:" in listing.body
    assert button_texts(listing)[:2] == ["❌ Северо-Западный административный округ", "❌ Арбат"]
    answer = await harness.press(user, listing, text="❌ Арбат")
    assert answer["text"] == "🗑 Вы отписались: Арбат."
    assert "Вы подписаны на 4 места:" in listing.body
    assert "❌ Арбат" not in button_texts(listing)
    for name in ("Хамовники", "Куркино", "Митино"):
        await harness.press(user, listing, text=f"❌ {name}")
    assert "Вы подписаны на 1 место:" in listing.body
    subs = await harness.subs(user.id)
    assert subs.districts == set() and subs.okrugs == {"szao"}


async def test_unsubscribe_by_name(harness: Harness) -> None:
    user = harness.user(2006, "ru")
    await harness.send(user, "/subscribe Митино")
    [reply] = await harness.send(user, "/unsubscribe Хамовники")
    assert "Вы не подписаны: Хамовники" in reply.body
    [reply] = await harness.send(user, "/unsubscribe в Митине")
    assert "Вы отписались: Митино" in reply.body
    [reply] = await harness.send(user, "/unsubscribe qwertyuiop")
    assert "Не знаю «qwertyuiop»" in reply.body
    [reply] = await harness.send(user, "/unsubscribe")
    assert "ещё не выбрали район" in reply.body
    assert (await harness.subs(user.id)).is_empty


async def test_english_user_sees_english_names(harness: Harness) -> None:
    user = harness.user(2007, "en")
    [reply] = await harness.send(user, "/subscribe Khamovniki")
    assert "You are subscribed to Khamovniki." in reply.body
    [reply] = await harness.send(user, "/subscribe Butovo")
    assert button_texts(reply) == ["➕ Severnoe Butovo", "➕ Yuzhnoe Butovo"]
    [listing] = await harness.send(user, "/districts")
    assert "You follow 1 place:" in listing.body
