"""The fake Bot API server, exercised through the real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)

from bot.testing import (
    ButtonNotFoundError,
    FakeTelegram,
    PollingError,
    WaitTimeoutError,
    run_polling,
    utf16_len,
)

CHAT = 1001


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


# ---------------------------------------------------------------- basics


async def test_get_me_webhook_and_commands(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == bot.id == fake.bot_id
    assert me.is_bot and me.username == fake.bot_username and me.can_join_groups

    assert await bot.delete_webhook(drop_pending_updates=True)

    ru = [BotCommand(command="start", description="Начать")]
    en = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    await bot.set_my_commands(ru, language_code="ru")
    await bot.set_my_commands(en, scope=BotCommandScopeAllPrivateChats())

    def names(commands: list[BotCommand]) -> list[tuple[str, str]]:
        return [(c.command, c.description) for c in commands]

    assert names(await bot.get_my_commands(language_code="ru")) == names(ru)
    assert names(await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())) == names(en)
    assert await bot.get_my_commands() == []

    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert fake.tokens_seen == {fake.token}


async def test_unknown_method_is_404(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound):
        await bot.get_sticker_set("whatever")


async def test_send_edit_delete_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        CHAT,
        "<b>Новости</b> района",
        reply_markup=keyboard(("Далее", "page:2")),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=True,
        protect_content=True,
        allow_paid_broadcast=True,
    )
    assert sent.message_id == 1 and sent.chat.id == CHAT
    assert sent.from_user is not None and sent.from_user.id == bot.id
    assert sent.text == "Новости района"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None

    call = fake.last_call("sendMessage")
    assert call.ok and call.params["disable_notification"] is True
    assert call.params["allow_paid_broadcast"] is True
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "page:2"

    second = await bot.send_message(CHAT, "second")
    assert second.message_id == 2  # ids grow per chat
    assert (await bot.send_message(CHAT + 1, "other chat")).message_id == 1

    # Edits: same content is rejected, omitted reply_markup removes the keyboard.
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Новости</b> района",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=keyboard(("Далее", "page:2")),
        )
    edited = await bot.edit_message_text("Обновлено", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    stored = fake.message(CHAT, sent.message_id)
    assert stored.text == "Обновлено" and stored.reply_markup is None and stored.edited
    assert stored.history[0]["text"] == "Новости района"

    await bot.edit_message_reply_markup(
        chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(("A", "a"))
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(("A", "a"))
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)

    assert await bot.delete_message(CHAT, second.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, second.message_id)
    assert [m.message_id for m in fake.sent_messages(CHAT)] == [1]


async def test_photo_copy_forward(fake: FakeTelegram, bot: Bot) -> None:
    by_id = await bot.send_photo(CHAT, "AgACAgIAAxkBAAI", caption="<i>подпись</i>")
    assert by_id.photo is not None and by_id.photo[-1].file_id == "AgACAgIAAxkBAAI"
    assert by_id.caption == "подпись"
    assert by_id.caption_entities is not None

    by_url = await bot.send_photo(CHAT, "https://example.com/a.jpg")
    assert by_url.photo is not None and by_url.caption is None
    uploaded = await bot.send_photo(CHAT, BufferedInputFile(b"\x89PNG...", "a.png"))
    assert uploaded.photo is not None

    fake.bad_urls.add("https://example.com/broken.jpg")
    with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
        await bot.send_photo(CHAT, "https://example.com/broken.jpg")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(CHAT, "images/local.jpg")

    long_markup = "<b>" + "я" * 1000 + "</b>" + "<i>" + "ж" * 24 + "</i>"
    await bot.send_photo(CHAT, "AgAC", caption=long_markup)  # 1024 visible chars
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(CHAT, "AgAC", caption="x" * 1025)

    edited = await bot.edit_message_caption(
        chat_id=CHAT, message_id=by_id.message_id, caption="новая"
    )
    assert isinstance(edited, Message) and edited.caption == "новая"

    copied = await bot.copy_message(CHAT + 1, CHAT, by_id.message_id)
    copy_msg = fake.message(CHAT + 1, copied.message_id)
    assert copy_msg.caption == "новая" and copy_msg.photo == fake.message(CHAT, 1).photo
    forwarded = await bot.forward_message(CHAT + 2, CHAT, by_id.message_id)
    assert forwarded.forward_origin is not None
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(CHAT + 1, CHAT, 999)


# ---------------------------------------------------------------- HTML parse_mode


async def test_html_valid_nested_markup(bot: Bot) -> None:
    html = (
        "<b>Жирный <i>курсив &amp; <u>подчёркнутый</u></i></b> &lt;tag&gt; &quot;q&quot; "
        '<a href="https://mos.ru/news?id=1&amp;x=2">ссылка</a> <code>x&lt;y</code>\n'
        '<pre><code class="language-python">print(1)</code></pre>'
        "<blockquote expandable>цитата</blockquote> <tg-spoiler>спойлер</tg-spoiler> "
        '<span class="tg-spoiler">ещё</span> <s>зачёркнуто</s> &#128512;&#x41;'
    )
    sent = await bot.send_message(CHAT, html)
    assert sent.text == (
        'Жирный курсив & подчёркнутый <tag> "q" ссылка x<y\nprint(1)цитата спойлер ещё '
        "зачёркнуто 😀A"
    )
    entities = [(e.type, sent.text[e.offset : e.offset + e.length]) for e in sent.entities or []]
    assert entities == [
        ("bold", "Жирный курсив & подчёркнутый"),
        ("italic", "курсив & подчёркнутый"),
        ("underline", "подчёркнутый"),
        ("text_link", "ссылка"),
        ("code", "x<y"),
        ("pre", "print(1)"),
        ("expandable_blockquote", "цитата"),
        ("spoiler", "спойлер"),
        ("spoiler", "ещё"),
        ("strikethrough", "зачёркнуто"),
    ]
    by_type = {e.type: e for e in sent.entities or []}
    assert by_type["text_link"].url == "https://mos.ru/news?id=1&x=2"
    assert by_type["pre"].language == "python"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("Привет <foo>мир</foo>", 'Unsupported start tag "foo" at byte offset 13'),
        ("<b>не закрыт", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a<b", "Unclosed start tag at byte offset 1"),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_html_rejects_bad_markup(bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(CHAT, html)
    assert info.value.message.startswith("Bad Request: can't parse entities: ")
    assert reason in info.value.message


async def test_parse_mode_none_takes_text_as_is(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "1 < 2 & <b>", parse_mode=None)
    assert sent.text == "1 < 2 & <b>" and sent.entities is None


async def test_text_length_is_measured_after_entities(fake: FakeTelegram, bot: Bot) -> None:
    # ~5000 source chars, but only 4096 of them are visible.
    chunk = '<a href="https://example.com/x">ab</a>'  # 2 visible chars
    html = chunk * 100 + "&amp;" * 100 + "x" * (4096 - 300)
    assert len(html) > 5000
    sent = await bot.send_message(CHAT, html)
    assert sent.text is not None and len(sent.text) == 4096

    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "<b>" + "x" * 4097 + "</b>")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, "<b> </b>\n")
    # Surrounding whitespace is trimmed, as Telegram does.
    assert (await bot.send_message(CHAT, "  hi \n")).text == "hi"


async def test_length_counts_utf16_code_units(bot: Bot) -> None:
    assert utf16_len("😀") == 2
    sent = await bot.send_message(CHAT, "😀" * 2048)  # 4096 UTF-16 units
    assert sent.text == "😀" * 2048
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "😀" * 2048 + "x")

    sent = await bot.send_message(CHAT, "😀<b>жир</b>")
    assert sent.entities is not None and (sent.entities[0].offset, sent.entities[0].length) == (
        2,
        3,
    )


# ---------------------------------------------------------------- keyboards


async def test_callback_data_limit_and_button_shape(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(("b", "x" * 64)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "too long", reply_markup=keyboard(("b", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "cyrillic", reply_markup=keyboard(("b", "я" * 33)))

    both = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", url="https://mos.ru", callback_data="x")]]
    )
    with pytest.raises(TelegramBadRequest, match="exactly one"):
        await bot.send_message(CHAT, "two actions", reply_markup=both)
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(
            CHAT,
            "bad url",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="x", url="not a url")]]
            ),
        )
    assert len(fake.calls("sendMessage", ok=False)) == 4


# ---------------------------------------------------------------- errors


async def test_rate_limits_raise_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_rate_limits(per_chat_per_second=2)
    await bot.send_message(CHAT, "1")
    await bot.send_message(CHAT, "2")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "3")
    assert info.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in info.value.message
    await bot.send_message(CHAT + 1, "other chat is fine")
    await bot.edit_message_text("edits are not counted", chat_id=CHAT, message_id=1)

    fake.set_rate_limits()
    await bot.send_message(CHAT, "unthrottled")


async def test_global_rate_limit_counts_copies(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_rate_limits(global_per_second=2, retry_after=5)
    source = await bot.send_message(CHAT, "1")
    await bot.copy_message(CHAT + 1, CHAT, source.message_id)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.forward_message(CHAT + 2, CHAT, source.message_id)
    assert info.value.retry_after == 5
    assert fake.last_call().response["parameters"] == {"retry_after": 5}


async def test_blocked_deactivated_missing_chats(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(CHAT)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    fake.unblock(CHAT)
    await bot.send_message(CHAT, "hi again")

    fake.deactivate(CHAT + 1)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_photo(CHAT + 1, "AgAC")
    fake.mark_missing(CHAT + 2)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(CHAT + 2, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100500, "unknown group")


async def test_fault_injection_and_latency(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 2, error_code=429, retry_after=7)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(CHAT, "x")
        assert info.value.retry_after == 7
    fake.fail_next("sendMessage", error_code=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(CHAT, "x")
    fake.fail_next("sendMessage", error_code=403, description="Forbidden: bot was kicked")
    with pytest.raises(TelegramForbiddenError, match="kicked"):
        await bot.send_message(CHAT, "x")
    await bot.send_message(CHAT, "recovered")

    fake.set_latency(0.05, "getMe")
    loop = asyncio.get_running_loop()
    start = loop.time()
    await bot.get_me()
    assert loop.time() - start >= 0.05
    assert [c.status for c in fake.calls("sendMessage")] == [429, 429, 502, 403, 200]


async def test_accepts_json_urlencoded_and_query_params(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json={"chat_id": "7", "text": "json", "reply_markup": markup}
        ) as r:
            body = await r.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        form = {"chat_id": "7", "text": "[1, 2]", "reply_markup": json.dumps(markup)}
        async with http.post(url, data=form) as r:
            assert (await r.json())["result"]["text"] == "[1, 2]"
        async with http.get(
            url, params={"chat_id": "7", "text": "<b>get</b>", "parse_mode": "HTML"}
        ) as r:
            assert (await r.json())["result"]["text"] == "get"
        async with http.post(url, data={"chat_id": "7", "text": "<b>"}) as r:
            assert r.status == 200  # no parse_mode: taken as-is
        async with http.post(url, data={"chat_id": "7", "text": "<b>", "parse_mode": "HTML"}) as r:
            body = await r.json()
            assert r.status == 400 and body["error_code"] == 400 and not body["ok"]
    assert [c.params["chat_id"] for c in fake.calls("sendMessage")] == [7] * 5


# ---------------------------------------------------------------- updates


async def test_get_updates_offset_limit_and_allowed(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(42, "Анна", language_code="ru")
    await user.send("/start")
    await user.send("привет")
    await user.send("/digest@district_news_test_bot Тверской")

    updates = await bot.get_updates(limit=2)
    assert [u.message.text for u in updates if u.message] == ["/start", "привет"]
    first = updates[0].message
    assert first is not None and first.from_user is not None
    assert first.chat.type == "private" and first.from_user.language_code == "ru"
    assert first.entities is not None and first.entities[0].type == "bot_command"

    updates = await bot.get_updates(offset=updates[1].update_id + 1)
    assert len(updates) == 1 and updates[0].message is not None
    assert updates[0].message.entities is not None
    assert updates[0].message.entities[0].length == len("/digest@district_news_test_bot")
    assert len(fake.pending_updates) == 1

    await bot.get_updates(offset=updates[0].update_id + 1)
    assert fake.pending_updates == []

    await user.send("filtered out")
    assert await bot.get_updates(allowed_updates=["callback_query"]) == []


async def test_long_poll_waits_and_wakes_on_update(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(42)
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.polling, what="long poll")
    await user.send("hello")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message is not None and updates[0].message.text == "hello"

    # An empty timeout=0 poll returns at once.
    assert await asyncio.wait_for(bot.get_updates(offset=updates[0].update_id + 1), 1) == []


async def test_second_poll_terminates_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.polling, what="long poll")
    second = asyncio.create_task(bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_two_bot_processes_polling_get_409_in_turn(fake: FakeTelegram) -> None:
    """Two instances of one bot (two sessions, as two processes have) both long-polling:
    each new poll ends the other's with 409, as Telegram does."""
    first, second = fake.make_bot(), fake.make_bot()
    try:
        a = asyncio.create_task(first.get_updates(timeout=10))
        await fake.wait_for(lambda: fake.polling, what="first poll")
        b = asyncio.create_task(second.get_updates(timeout=10))
        with pytest.raises(TelegramConflictError, match="only one bot instance"):
            await asyncio.wait_for(a, 2)
        a = asyncio.create_task(first.get_updates(timeout=10))
        with pytest.raises(TelegramConflictError):
            await asyncio.wait_for(b, 2)
        await fake.user(5).send("hello")
        [update] = await asyncio.wait_for(a, 2)
        assert update.message is not None and update.message.text == "hello"
    finally:
        await first.session.close()
        await second.session.close()
    assert [c.status for c in fake.calls("getUpdates")] == [409, 409, 200]


async def test_long_poll_is_released_on_shutdown() -> None:
    fake = await FakeTelegram().start()
    bot = fake.make_bot()
    try:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_for(lambda: fake.polling, what="long poll")
        # Must not wait for the 30 s poll timeout (nor aiohttp's shutdown timeout).
        await asyncio.wait_for(fake.close(), 0.9)
        assert await asyncio.wait_for(poll, 0.5) == []
    finally:
        await bot.session.close()
        await fake.close()


# ---------------------------------------------------------------- users and dispatcher


def make_router() -> Router:
    # A Router attaches to one Dispatcher only, so every test builds its own.
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, greeting: str) -> None:
        await message.answer(
            f"<b>{greeting}</b>, {message.chat.first_name}!",
            reply_markup=keyboard(("Подписаться", "sub:tverskoy"), ("Отмена", "cancel")),
        )

    @router.message(Command("digest"))
    async def digest(message: Message) -> None:
        await message.reply("Дайджест для группы")

    @router.message(Command("boom"))
    async def boom(message: Message) -> None:
        raise ValueError("handler exploded")

    @router.callback_query(F.data.startswith("sub:"))
    async def subscribe(query: CallbackQuery) -> None:
        assert query.data is not None and isinstance(query.message, Message)
        district = query.data.split(":", 1)[1]
        await query.answer("Готово")
        await query.message.edit_text(f"Подписка: <i>{district}</i>")

    return router


def make_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    dp.include_router(make_router())
    return dp


async def test_polling_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001, first_name="Анна", language_code="ru")
    async with run_polling(make_dispatcher(), bot, greeting="Здравствуйте"):
        await user.send("/start")
        [reply] = await user.wait_for_messages(count=1, timeout=5)
        assert reply.text == "Здравствуйте, Анна!"
        assert reply.entity_texts("bold") == ["Здравствуйте"]
        assert [b.text for b in reply.buttons] == ["Подписаться", "Отмена"]
        assert reply.raw_text == "<b>Здравствуйте</b>, Анна!"

        with pytest.raises(ButtonNotFoundError, match="no button"):
            await user.press(reply, text="Нет такой")
        query = await user.press(reply, text="Подписаться")
        answer = await query.wait_answered(timeout=5)
        assert answer["text"] == "Готово"
        await fake.wait_for(lambda: reply.edited, timeout=5, what="edit")

    assert user.last_message is reply
    assert reply.text == "Подписка: tverskoy" and reply.buttons == []
    assert reply.entity_texts("italic") == ["tverskoy"]
    assert fake.unanswered_callbacks() == []
    assert fake.calls("getUpdates") and fake.calls("getMe")


async def test_group_chat_updates(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(-1001234567890, "Жители Арбата")
    user = fake.user(1002, "Борис")
    async with run_polling(make_dispatcher(), bot, greeting="Привет"):
        sent = await user.send(f"/digest@{fake.bot_username}", chat=group)
        [reply] = await group.wait_for_messages(timeout=5)
    assert reply.chat == {"id": group.id, "type": "supergroup", "title": "Жители Арбата"}
    assert reply.reply_to is sent
    assert reply.text == "Дайджест для группы"
    assert user.messages == []


async def test_handler_errors_surface_from_run_polling(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1003)
    with pytest.raises(PollingError, match="handler exploded"):
        async with run_polling(make_dispatcher(), bot, greeting="x") as polling:
            await user.send("/boom")
            await fake.wait_for(lambda: polling.errors, timeout=5, what="handler error")


async def test_wait_timeout_explains_what_happened(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1004)
    fake.block(user.id)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(user.id, "x")
    with pytest.raises(WaitTimeoutError, match="bot was blocked"):
        await user.wait_for_messages(timeout=0.05)


async def test_block_emits_my_chat_member_and_send_unblocks(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1005)
    await user.block()
    update = fake.pending_updates[-1]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(user.id, "x")
    await user.send("/start")  # pressing "Restart" unblocks
    await bot.send_message(user.id, "welcome back")
    types = [next(k for k in u if k != "update_id") for u in fake.pending_updates]
    assert types == ["my_chat_member", "my_chat_member", "message"]


async def test_answer_callback_twice_fails(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1006)
    msg = await bot.send_message(user.id, "pick", reply_markup=keyboard(("A", "a")))
    query = await user.press(msg.message_id, data="a")
    assert fake.unanswered_callbacks() == [query]
    assert await bot.answer_callback_query(query.id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    assert query.answered and fake.unanswered_callbacks() == []


async def test_updates_are_validated_by_aiogram(fake: FakeTelegram) -> None:
    bad: dict[str, Any] = {"callback_query": {"id": "1", "from": {"id": 1}}}
    with pytest.raises(ValueError, match="validation error"):
        fake.push_update(bad)
