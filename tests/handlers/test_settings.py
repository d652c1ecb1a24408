"""/settings, /time, /timezone, /language, /pause, /resume, /stop; next delivery follows."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.handlers.conftest import Harness, button_texts


async def test_time_and_timezone_by_text_move_the_next_delivery(harness: Harness) -> None:
    user = harness.user(4001, "ru")
    await harness.send(user, "/start")
    stored = await harness.stored(user.id)
    assert stored is not None
    # Friday 15:00 in Moscow: the next 08:00 is Saturday, 05:00 UTC.
    assert stored.next_delivery_at == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)

    [reply] = await harness.send(user, "/time 16:30")
    assert "16:30 (Europe/Moscow)" in reply.body
    assert "пт 20 ноября, 16:30" in reply.body  # still today
    stored = await harness.stored(user.id)
    assert stored is not None and stored.delivery_minute == 16 * 60 + 30
    assert stored.next_delivery_at == datetime(2026, 11, 20, 13, 30, tzinfo=UTC)

    [reply] = await harness.send(user, "/timezone Asia/Yekaterinburg")
    assert "Asia/Yekaterinburg" in reply.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.timezone == "Asia/Yekaterinburg"
    # 17:00 in Yekaterinburg now: 16:30 local is tomorrow, 11:30 UTC.
    assert stored.next_delivery_at == datetime(2026, 11, 21, 11, 30, tzinfo=UTC)

    [reply] = await harness.send(user, "/time 25:00")
    assert "ЧЧ:ММ" in reply.body
    [reply] = await harness.send(user, "/timezone Mars/Olympus")
    assert "Не знаю часовой пояс «Mars/Olympus»" in reply.body
    stored = await harness.stored(user.id)
    assert stored is not None
    assert (stored.delivery_minute, stored.timezone) == (990, "Asia/Yekaterinburg")


async def test_settings_buttons(harness: Harness) -> None:
    user = harness.user(4002, "ru")
    [view] = await harness.send(user, "/settings")
    assert "каждый день в 08:00" in view.body
    assert "Следующий дайджест: сб 21 ноября, 08:00" in view.body

    await harness.press(user, view, text="🕗 Время")
    assert "Время рассылки" in view.body and "✅ 08:00" in button_texts(view)
    await harness.press(user, view, text="21:00")
    assert "каждый день в 21:00" in view.body
    assert "Следующий дайджест: пт 20 ноября, 21:00" in view.body

    await harness.press(user, view, text="🌍 Часовой пояс")
    assert "✅ Moscow (UTC+3)" in button_texts(view)
    await harness.press(user, view, text="Kaliningrad (UTC+2)")
    assert "Часовой пояс: Europe/Kaliningrad" in view.body
    stored = await harness.stored(user.id)
    assert stored is not None
    assert stored.next_delivery_at == datetime(2026, 11, 20, 19, 0, tzinfo=UTC)

    await harness.press(user, view, text="📬 Режим рассылки")
    await harness.press(user, view, text="Еженедельный дайджест…")
    await harness.press(user, view, text="Среда")
    assert "раз в неделю, среда, в 21:00" in view.body
    stored = await harness.stored(user.id)
    assert stored is not None and (stored.mode, stored.weekday) == ("weekly", 2)
    assert stored.next_delivery_at == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)

    await harness.press(user, view, text="📬 Режим рассылки")
    await harness.press(user, view, text="Мгновенные уведомления")
    stored = await harness.stored(user.id)
    assert stored is not None and stored.mode == "instant" and stored.next_delivery_at is None

    await harness.press(user, view, text="🔔 Присылать «ничего нового»")
    assert "«ничего нового»: вкл." in view.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.notify_empty

    await harness.press(user, view, text="⏸ Приостановить рассылку")
    assert "Рассылка: на паузе" in view.body
    await harness.press(user, view, text="▶️ Возобновить рассылку")
    stored = await harness.stored(user.id)
    assert stored is not None and not stored.paused


async def test_language_switch_changes_the_texts(harness: Harness) -> None:
    user = harness.user(4003, "ru")
    [view] = await harness.send(user, "/settings")
    assert "Настройки" in view.body
    answer = await harness.press(user, view, text="🇬🇧 English")
    assert answer["text"] == "Saved"
    assert "Settings" in view.body and "every day at 08:00" in view.body
    assert "🇷🇺 Русский" in button_texts(view)
    stored = await harness.stored(user.id)
    assert stored is not None and stored.language == "en"
    [reply] = await harness.send(user, "/help")
    assert "What I can do" in reply.body

    [reply] = await harness.send(user, "/language ru")
    assert reply.body == "Готово: теперь я говорю по-русски."
    [reply] = await harness.send(user, "/language")
    assert button_texts(reply) == ["🇷🇺 Русский", "🇬🇧 English"]
    await harness.press(user, reply, text="🇬🇧 English")
    assert "Settings" in reply.body


async def test_pause_resume_stop(harness: Harness) -> None:
    user = harness.user(4004, "ru")
    await harness.send(user, "/subscribe Митино")
    [reply] = await harness.send(user, "/pause")
    assert "/resume" in reply.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.paused and stored.next_delivery_at is None
    [reply] = await harness.send(user, "/pause")
    assert "уже на паузе" in reply.body
    [reply] = await harness.send(user, "/resume")
    assert "снова включена: каждый день в 08:00" in reply.body
    assert "Следующий дайджест" in reply.body
    [reply] = await harness.send(user, "/resume")
    assert "уже включена" in reply.body
    assert (await harness.subs(user.id)).districts == {"mitino"}

    [reply] = await harness.send(user, "/stop")
    assert "/start" in reply.body and "/deletemydata" in reply.body
    stored = await harness.stored(user.id)
    assert stored is not None and stored.paused
    assert (await harness.subs(user.id)).is_empty
