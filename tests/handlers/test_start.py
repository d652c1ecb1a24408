"""/start: welcome, guided set-up with buttons, skipping it, deep links, language."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.handlers.conftest import Harness, button_texts


async def test_new_user_sets_up_with_buttons(harness: Harness) -> None:
    user = harness.user(1001, "ru")
    welcome, setup = await harness.send(user, "/start")
    assert "Здравствуйте" in welcome.body
    assert "по-русски" in welcome.body
    assert button_texts(welcome) == ["🇬🇧 English"]
    assert "Ваши районы" in setup.body
    assert "ЮЗАО" in button_texts(setup) and "Пропустить настройку" in button_texts(setup)

    # Okrug → its districts, on pages of at most 10.
    answer = await harness.press(user, setup, text="ЮЗАО")
    assert answer.get("show_alert") is not True
    assert "Юго-Западный административный округ" in setup.body
    assert "Страница 1 из 2" in setup.body
    districts = [t for t in button_texts(setup) if t.startswith(("▫️", "✅"))]
    assert 1 < len(districts) <= 11  # ten districts and «whole okrug»

    answer = await harness.press(user, setup, text="▫️ Академический")
    assert answer["text"] == "Добавлено: Академический"
    assert "✅ Академический" in button_texts(setup)
    await harness.press(user, setup, text="Ещё ›")
    assert "Страница 2 из 2" in setup.body
    await harness.press(user, setup, text="▫️ Южное Бутово")
    await harness.press(user, setup, text="« Округа")
    assert "ЮЗАО · 2" in button_texts(setup)
    assert "Выбрано: Академический, Южное Бутово" in setup.body
    await harness.press(user, setup, text="СЗАО")
    await harness.press(user, setup, text="▫️ Весь округ")
    assert "✅ Весь округ" in button_texts(setup)

    # Done → topics, all ticked; untick one.
    await harness.press(user, setup, text="Дальше »")
    assert "Темы" in setup.body
    assert all(t.startswith("✅") for t in button_texts(setup)[:12])
    await harness.press(user, setup, text="✅ Спорт")
    assert "▫️ Спорт" in button_texts(setup)

    # Next → delivery time presets; choose 07:00 → summary.
    await harness.press(user, setup, text="Дальше »")
    assert "Время рассылки" in setup.body
    assert "Оставить 08:00" in button_texts(setup)
    await harness.press(user, setup, text="07:00")
    assert "Готово!" in setup.body
    assert "Академический, Южное Бутово, СЗАО (весь округ)" in setup.body
    assert "каждый день в 07:00" in setup.body

    # One message, edited in place all along.
    assert setup.edited
    assert len(user.messages) == 2

    stored = await harness.stored(user.id)
    assert stored is not None and stored.language == "ru"
    assert stored.delivery_minute == 7 * 60
    # 07:00 in Moscow on Saturday 21 November is 04:00 UTC.
    assert stored.next_delivery_at == datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
    subs = await harness.subs(user.id)
    assert subs.districts == {"akademichesky", "yuzhnoe-butovo"}
    assert subs.okrugs == {"szao"}
    assert len(subs.topics) == 11 and "sport" not in subs.topics


async def test_skipping_set_up_keeps_sensible_defaults(harness: Harness) -> None:
    user = harness.user(1002, "ru")
    _welcome, setup = await harness.send(user, "/start")
    await harness.press(user, setup, text="Пропустить настройку")
    assert "Настройка пропущена" in setup.body
    assert "новости всего города" in setup.body
    assert "каждый день в 08:00" in setup.body
    assert "/districts" in setup.body and "/settings" in setup.body
    stored = await harness.stored(user.id)
    assert stored is not None
    assert (stored.timezone, stored.delivery_minute, stored.mode) == ("Europe/Moscow", 480, "daily")
    assert stored.next_delivery_at == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    assert (await harness.subs(user.id)).is_empty


async def test_interface_language_follows_telegram_and_can_be_switched(harness: Harness) -> None:
    user = harness.user(1003, "en-GB")
    welcome, setup = await harness.send(user, "/start")
    assert "Hello!" in welcome.body and "in English" in welcome.body
    assert "Your districts" in setup.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.language == "en"

    answer = await harness.press(user, welcome, text="🇷🇺 Русский")
    assert answer["text"] == "Язык: русский"
    assert "Здравствуйте" in welcome.body
    assert button_texts(welcome) == ["🇬🇧 English"]
    stored = await harness.stored(user.id)
    assert stored is not None and stored.language == "ru"
    # The next screen of the set-up comes in the new language.
    await harness.press(user, setup, text="CAO")
    assert "Отметьте ваши районы" in setup.body


async def test_deep_link_to_a_district_subscribes_then_continues_set_up(harness: Harness) -> None:
    user = harness.user(1004, "ru")
    welcome, setup = await harness.send(user, "/start d_khamovniki")
    assert "Вы подписаны: Хамовники" in welcome.body
    # The picker opens at the district's okrug, with the district ticked.
    assert "Центральный административный округ" in setup.body
    assert "✅ Хамовники" in button_texts(setup)
    assert (await harness.subs(user.id)).districts == {"khamovniki"}
    await harness.press(user, setup, text="Дальше »")
    assert "Темы" in setup.body


async def test_deep_link_to_an_okrug(harness: Harness) -> None:
    user = harness.user(1005, "ru")
    welcome, setup = await harness.send(user, "/start o_szao")
    assert "Вы подписаны: Северо-Западный административный округ" in welcome.body
    assert "✅ СЗАО" in button_texts(setup)
    assert (await harness.subs(user.id)).okrugs == {"szao"}


async def test_deep_link_for_a_known_user_just_subscribes(harness: Harness) -> None:
    user = harness.user(1006, "ru")
    await harness.send(user, "/start")
    [reply] = await harness.send(user, "/start d_kurkino")
    assert "Вы подписаны: Куркино" in reply.body
    assert "/districts" in reply.body
    assert (await harness.subs(user.id)).districts == {"kurkino"}


async def test_invalid_deep_link_gets_a_note_and_the_normal_start(harness: Harness) -> None:
    user = harness.user(1007, "ru")
    for payload in ("d_atlantis", "o_", "x_khamovniki", "garbage"):
        note, welcome, setup = await harness.send(user, f"/start {payload}")
        assert "ссылка не ведёт" in note.body
        assert "Здравствуйте" in welcome.body
        assert "Ваши районы" in setup.body
    assert (await harness.subs(user.id)).is_empty


async def test_start_after_stop_resumes_deliveries(harness: Harness) -> None:
    user = harness.user(1008, "ru")
    await harness.send(user, "/subscribe Хамовники")
    [stopped] = await harness.send(user, "/stop")
    assert "/start" in stopped.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.paused and stored.next_delivery_at is None
    assert (await harness.subs(user.id)).is_empty
    back, _welcome, _setup = await harness.send(user, "/start")
    assert "С возвращением" in back.body
    stored = await harness.stored(user.id)
    assert stored is not None and not stored.paused and stored.next_delivery_at is not None
