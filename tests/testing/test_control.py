"""The control API and its client: in process (quick), and the ``serve`` process itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.testing import FakeTelegram, Latency, RateLimits, cli
from bot.testing.client import ControlError, FakeTelegramClient
from bot.testing.control import attach_control
from bot.testing.process import FakeTelegramProcess
from bot.testing.report import compare_delivery, received_by_chat


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegram, FakeTelegramClient]]:
    async with attach_control(FakeTelegram()) as fake, FakeTelegramClient(fake.base_url) as client:
        yield fake, client


def remote_bot(base_url: str) -> Bot:
    return Bot(
        "123456789:AAFakeTokenForTestsOnly-abcdefghijklmn",
        session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)),
    )


async def test_users_act_and_the_bot_reads_what_they_did(
    served: tuple[FakeTelegram, FakeTelegramClient],
) -> None:
    fake, client = served
    bot = fake.make_bot()
    try:
        user = await client.create_user(1001, "Анна", language_code="en")
        assert user == {"id": 1001, "is_bot": False, "first_name": "Анна", "language_code": "en"}
        sent = await client.send(1001, "/start")
        assert sent.text == "/start" and not sent.from_bot
        [update] = await bot.get_updates()
        assert update.message is not None and update.message.text == "/start"
        assert update.message.entities is not None  # the command is marked, as by a client

        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]]
        )
        question = await bot.send_message(1001, "<b>Подписаться?</b>", reply_markup=keyboard)
        [received] = await client.chat_messages(1001)
        assert received.text == "Подписаться?" and received.entity_texts("bold") == ["Подписаться?"]
        assert received.raw_text == "<b>Подписаться?</b>" and received.from_bot

        callback_id = await client.press(1001, question.message_id, text="Да")
        assert await client.callback_answer(callback_id) is None
        updates = await bot.get_updates(offset=update.update_id + 1)
        query = updates[0].callback_query
        assert query is not None and query.id == callback_id and query.data == "yes"
        await bot.answer_callback_query(callback_id, text="Готово")
        answer = await client.callback_answer(callback_id)
        assert answer is not None and answer["text"] == "Готово"

        with pytest.raises(ControlError, match="no button"):
            await client.press(1001, question.message_id, text="Нет")
        with pytest.raises(ControlError, match="KeyError"):
            await client._request("POST", "/users", {"first_name": "no id"})
    finally:
        await bot.session.close()


async def test_faults_limits_latency_and_counters(
    served: tuple[FakeTelegram, FakeTelegramClient],
) -> None:
    fake, client = served
    bot = fake.make_bot()
    try:
        await client.fail_next("sendMessage", error_code=429, retry_after=3)
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(1, "x")
        assert info.value.retry_after == 3
        await client.fail_next("sendMessage", error_code=502)
        with pytest.raises(TelegramServerError):
            await bot.send_message(1, "x")

        await client.set_chat_error(2, "blocked")
        with pytest.raises(TelegramForbiddenError, match="blocked"):
            await bot.send_message(2, "x")
        await client.clear_chat_error(2)
        await bot.send_message(2, "welcome back")

        await client.set_rate_limits(RateLimits(per_chat_per_second=1))
        await bot.send_message(3, "one")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(3, "two")
        await client.set_rate_limits(RateLimits())

        await client.set_latency(Latency(0.2), method="getMe")
        loop = asyncio.get_running_loop()
        start = loop.time()
        await bot.get_me()
        assert loop.time() - start >= 0.2

        stats = await client.stats()
        assert stats["calls"]["sendMessage"] == {"200": 2, "403": 1, "429": 2, "502": 1}
        assert stats["bot_messages"] == 2 and stats["webhook"] is None
        assert stats["latency"]["per_method"] == {"getme": {"mean": 0.2, "jitter": 0.0}}
        calls = await client.calls("sendMessage")
        assert [c.status for c in calls] == [429, 502, 403, 200, 200, 429]
        assert [c.seq for c in await client.calls(after=calls[-1].seq)] == [calls[-1].seq + 1]

        await client.reset()
        assert (await client.stats())["calls"] == {} and await client.messages() == []
    finally:
        await bot.session.close()


@pytest.mark.slow
async def test_serve_process_with_latency_driven_through_its_client() -> None:
    """The fake in its own process at 100 ms: the bot's round trips take that long, and the
    client reads back, per chat and in order, what arrived."""
    server = FakeTelegramProcess(
        latency=Latency(0.1, 0.02), rate_limits=RateLimits(per_chat_per_second=1, per_chat_burst=3)
    )
    await server.start()
    try:
        client = server.client
        assert (await client.health())["ok"]
        bot = remote_bot(server.base_url)
        loop = asyncio.get_running_loop()
        try:
            start = loop.time()
            await bot.get_me()
            assert loop.time() - start >= 0.08

            async def chat(chat_id: int) -> None:
                for part in (1, 2, 3):
                    await bot.send_message(chat_id, f"{chat_id}:{part}")

            await asyncio.gather(*(chat(c) for c in (11, 12, 13)))
            with pytest.raises(TelegramRetryAfter):  # a fourth at once is over the burst
                await bot.send_message(11, "11:4")
            await client.lose_answers("sendMessage")
            with pytest.raises(TelegramNetworkError, match="Server disconnected"):
                await bot.send_message(14, "14:1")
        finally:
            await bot.session.close()

        received = received_by_chat(await client.messages(), key=lambda m: m.text or "")
        expected = {c: [f"{c}:{p}" for p in (1, 2, 3)] for c in (11, 12, 13)} | {14: ["14:1"]}
        report = compare_delivery(expected, received)
        assert report.ok, report.summary()
        stats = await client.stats()
        assert stats["answers_lost"] == 1 and stats["calls"]["sendMessage"]["429"] == 1
    finally:
        exit_code = await server.stop()
    assert exit_code == 0  # SIGTERM is a clean stop


def test_serve_options() -> None:
    args = cli.parse_args(
        [
            "serve",
            "--latency",
            "0.15:0.05",
            "--method-latency",
            "getUpdates=0.05",
            "--telegram-limits",
            "--per-chat-burst",
            "5",
        ]
    )
    fake = cli.build(args)
    assert fake.latency.of("sendMessage") == Latency(0.15, 0.05)
    assert fake.latency.of("getupdates") == Latency(0.05)
    assert fake.rate_limits == RateLimits(
        global_per_second=30, per_chat_per_second=1, per_chat_burst=5, per_group_per_minute=20
    )
    assert cli.build(cli.parse_args(["serve"])).rate_limits == RateLimits()
    with pytest.raises(SystemExit):
        cli.parse_args(["serve", "--latency", "fast"])
    with pytest.raises(SystemExit):
        cli.parse_args(["serve", "--method-latency", "0.3"])
