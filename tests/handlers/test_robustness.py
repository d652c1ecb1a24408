"""Stale and forged buttons, edits that change nothing, unknown input, groups, errors."""

from __future__ import annotations

import pytest

from bot.storage import users as repo
from handlers.callbacks import (
    SetCb,
    Setting,
    TopicAction,
    TopicCb,
)
from tests.handlers.conftest import Harness, button_texts

STALE_RU = "Эта кнопка устарела. Отправьте /start или /help, чтобы продолжить."


async def test_stale_button_after_unsubscribing(harness: Harness) -> None:
    user = harness.user(5001, "ru")
    await harness.send(user, "/subscribe Арбат")
    [listing] = await harness.send(user, "/districts")
    await harness.send(user, "/unsubscribe Арбат")
    # The old list still shows «❌ Арбат».
    answer = await harness.press(user, listing, text="❌ Арбат")
    assert answer["text"] == "Вы уже отписались: Арбат."
    assert "ещё не выбрали район" in listing.body  # refreshed
    assert (await harness.subs(user.id)).is_empty


async def test_old_buttons_keep_working_after_a_restart(harness: Harness) -> None:
    """Buttons carry their state, so a message from before a restart still works."""
    user = harness.user(5002, "ru")
    [picker] = await harness.send(user, "/subscribe")
    # A new dispatcher (a restart) over the same database and Telegram chat.
    await harness.restart()
    await harness.press(user, picker, text="ЗелАО")
    await harness.press(user, picker, text="▫️ Крюково")
    assert (await harness.subs(user.id)).districts == {"kryukovo"}


@pytest.mark.parametrize(
    "data",
    [
        "zz:1",  # a prefix nobody uses
        "p:d:atlantis:0:m",  # unknown district
        "p:k:atlantis:0:m",  # unknown okrug
        "p:d:khamovniki:0:m:extra",  # too many fields
        "p:k:tsao:abc:m",  # not an int
        "p:q:tsao:0:m",  # unknown action
        "t:t:astrology:m",  # unknown topic
        "s:tz:Mars/Olympus:m",  # unknown time zone
        "s:time:99999:m",  # out of range
        "s:lang:fr:m",  # unsupported language
        "s:menu:nowhere:m",  # unknown menu
        "u:add:d:atlantis:c",  # unknown place
        "u:add:x:khamovniki:c",  # unknown kind
        "x:yes:notanumber",  # malformed confirmation
        "",  # empty
        "p",  # prefix only
    ],
)
async def test_forged_callback_data_gets_a_polite_answer(harness: Harness, data: str) -> None:
    user = harness.user(5003, "ru")
    await harness.send(user, "/subscribe Арбат")
    [message] = await harness.send(user, "/settings")
    body_before = message.body
    answer = await harness.press_forged(user, message, data)
    assert answer["text"] == STALE_RU
    assert message.body == body_before
    stored = await harness.stored(user.id)
    assert stored is not None and (stored.language, stored.timezone) == ("ru", "Europe/Moscow")
    assert (await harness.subs(user.id)).districts == {"arbat"}


async def test_edit_that_changes_nothing_is_not_an_error(harness: Harness) -> None:
    user = harness.user(5004, "ru")
    [message] = await harness.send(user, "/settings")
    # Re-render the same screen: Telegram answers "message is not modified".
    answer = await harness.press_forged(
        user, message, SetCb(setting=Setting.MENU, value="main").pack()
    )
    assert "text" not in answer or answer["text"] != STALE_RU
    failed = harness.fake.calls("editMessageText", ok=False)
    assert failed and "message is not modified" in (failed[-1].description or "")
    assert len(user.messages) == 1  # no duplicate message


async def test_deleted_message_is_replaced_by_a_new_one(harness: Harness) -> None:
    user = harness.user(5005, "ru")
    [message] = await harness.send(user, "/topics")
    message.deleted = True  # as if the message can no longer be edited
    before = len(harness.fake.sent_messages(user.id, include_deleted=True))
    await harness.press_forged(user, message, TopicCb(action=TopicAction.ALL).pack())
    sent = harness.fake.sent_messages(user.id, include_deleted=True)[before:]
    assert len(sent) == 1 and "Темы" in sent[0].body


async def test_unknown_command_and_free_text_get_a_hint(harness: Harness) -> None:
    user = harness.user(5006, "ru")
    [reply] = await harness.send(user, "/frobnicate")
    assert reply.body == "Не знаю такой команды. Что я умею: /help."
    [reply] = await harness.send(user, "привет, как дела?")
    assert "/subscribe" in reply.body and not reply.buttons
    # A district name typed as plain text offers to subscribe.
    [reply] = await harness.send(user, "Хамовники")
    assert button_texts(reply) == ["➕ Подписаться: Хамовники"]
    await harness.press(user, reply, text="➕ Подписаться: Хамовники")
    assert (await harness.subs(user.id)).districts == {"khamovniki"}


async def test_group_chat_gets_one_short_answer(harness: Harness) -> None:
    user = harness.user(5007, "ru")
    group = harness.fake.group(-100500, "Соседи Хамовников")
    [reply] = await harness.send(user, "/start", chat=group)
    assert "только в личных сообщениях" in reply.body
    assert "https://t.me/" in reply.body
    [reply] = await harness.send(user, "/subscribe Хамовники", chat=group)
    assert "только в личных сообщениях" in reply.body
    assert await harness.send(user, "/start@some_other_bot", chat=group) == []
    assert await harness.send(user, "Хамовники", chat=group) == []
    assert await harness.send(user, "всем привет", chat=group) == []
    # Nobody was stored or subscribed from the group.
    assert await harness.stored(user.id) is None


async def test_handler_error_is_answered_politely(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = harness.user(5008, "ru")
    [view] = await harness.send(user, "/topics")

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(repo, "set_topics", broken)
    answer = await harness.press(user, view, text="✅ Спорт")
    assert answer["text"] == "Извините, что-то пошло не так. Попробуйте ещё раз."
    [reply] = await harness.send(user, "/topics")  # the bot still works
    assert "Темы" in reply.body
    [record] = harness.errors
    assert record.exc_info is not None and "on fire" in str(record.exc_info[1])
    harness.errors.clear()
    monkeypatch.undo()
    [reply] = await harness.send(user, "/stop")
    monkeypatch.setattr(repo, "clear_subscriptions", broken)
    [reply] = await harness.send(user, "/stop")
    assert reply.body == "Извините, что-то пошло не так. Попробуйте ещё раз."
    harness.errors.clear()
