"""/help, /privacy, /mydata, /deletemydata, and the command menu."""

from __future__ import annotations

from datetime import timedelta

from handlers.commands import COMMANDS, set_bot_commands
from tests.handlers.conftest import Harness, button_texts


async def test_help_lists_every_command(harness: Harness) -> None:
    user = harness.user(6001, "ru")
    [reply] = await harness.send(user, "/help")
    for command in COMMANDS:
        assert f"/{command.name}" in reply.body
    assert "/subscribe <название> — Подписаться на район или округ по названию" in reply.body


async def test_privacy_and_my_data(harness: Harness) -> None:
    user = harness.user(6002, "ru")
    await harness.send(user, "/subscribe Хамовники")
    await harness.send(user, "/time 07:15")
    [reply] = await harness.send(user, "/privacy")
    assert "Что я храню" in reply.body and "/deletemydata" in reply.body
    [reply] = await harness.send(user, "/mydata")
    assert "ID пользователя: 6002" in reply.body
    assert "Рассылка: каждый день в 07:15" in reply.body
    assert "Районы: Хамовники" in reply.body
    assert "Последний дайджест: никогда" in reply.body
    # The user's name is not stored, so it is not shown either.
    assert "Анна" not in reply.body


async def test_delete_my_data_after_confirmation(harness: Harness) -> None:
    user = harness.user(6003, "ru")
    await harness.send(user, "/subscribe Хамовники")
    [ask] = await harness.send(user, "/deletemydata")
    assert button_texts(ask) == ["🗑 Да, удалить всё", "Отмена"]
    await harness.press(user, ask, text="Отмена")
    assert "ничего не удалено" in ask.body and not ask.buttons
    assert await harness.stored(user.id) is not None

    [ask] = await harness.send(user, "/deletemydata")
    answer = await harness.press(user, ask, text="🗑 Да, удалить всё")
    assert answer["text"] == "Удалено"
    assert "Все ваши данные удалены" in ask.body
    assert await harness.stored(user.id) is None
    assert (await harness.subs(user.id)).is_empty


async def test_old_delete_button_does_not_delete_a_new_account(harness: Harness) -> None:
    user = harness.user(6004, "ru")
    [first] = await harness.send(user, "/deletemydata")
    [second] = await harness.send(user, "/deletemydata")
    await harness.press(user, first, text="🗑 Да, удалить всё")
    assert await harness.stored(user.id) is None
    # The user comes back later and sets up again.
    harness.clock.advance(timedelta(hours=2))
    await harness.send(user, "/subscribe Куркино")
    answer = await harness.press(user, second, text="🗑 Да, удалить всё")
    assert answer["text"].startswith("Эта кнопка устарела")
    assert await harness.stored(user.id) is not None
    assert (await harness.subs(user.id)).districts == {"kurkino"}


async def test_set_bot_commands_per_language(harness: Harness) -> None:
    bot = harness.fake.make_bot()
    try:
        await set_bot_commands(bot)
    finally:
        await bot.session.close()
    calls = harness.fake.calls("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == ["ru", "en", None]
    assert all(c.ok for c in calls)
    by_lang = {c.params.get("language_code"): c.params["commands"] for c in calls}
    ru = {c["command"]: c["description"] for c in by_lang["ru"]}
    en = {c["command"]: c["description"] for c in by_lang["en"]}
    assert ru["topics"] == "Выбрать темы" and en["topics"] == "Choose topics"
    assert by_lang[None] == by_lang["ru"]
    assert set(ru) == {c.name for c in COMMANDS if c.menu}
    assert all(c.params["scope"] == {"type": "all_private_chats"} for c in calls)
