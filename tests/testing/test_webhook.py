"""Webhooks as Telegram does them: set/delete/info, delivery with the secret, order, retries."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.testing import SECRET_HEADER, FakeTelegram, WebhookRetry

SECRET = "s3cret_token-1"
FAST_RETRY = WebhookRetry(initial=0.05, maximum=0.2, timeout=5)


@dataclass
class Delivery:
    update: dict[str, Any]
    secret: str | None
    content_type: str
    at: float

    @property
    def text(self) -> str | None:
        message = self.update.get("message")
        return message.get("text") if isinstance(message, dict) else None


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what arrives and answers as told."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    # Answer for each delivery: a status, or a coroutine function deciding it.
    script: Callable[[Delivery], Awaitable[web.StreamResponse]] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        delivery = Delivery(
            update=await request.json(),
            secret=request.headers.get(SECRET_HEADER),
            content_type=request.content_type,
            at=asyncio.get_running_loop().time(),
        )
        self.deliveries.append(delivery)
        self.changed.set()
        if self.script is not None:
            return await self.script(delivery)
        return web.Response(status=200)

    def texts(self) -> list[str | None]:
        return [d.text for d in self.deliveries]

    async def wait(self, count: int, timeout: float = 5.0) -> list[Delivery]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while len(self.deliveries) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.deliveries


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with serve(app) as base:
        receiver.url = f"{base}/hook"
        yield receiver


@pytest.fixture
async def hooked() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(webhook_retry=FAST_RETRY) as fake:
        yield fake


async def test_set_webhook_checks_its_parameters(fake: FakeTelegram, bot: Bot) -> None:
    for secret, reason in (
        ("with space", "secret token contains unallowed characters"),
        ("base64+/=", "secret token contains unallowed characters"),
        ("x" * 257, "secret token is too long"),
    ):
        with pytest.raises(TelegramBadRequest, match=reason):
            await bot.set_webhook("https://bot.example/hook", secret_token=secret)
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("ftp://bot.example/hook")
    with pytest.raises(TelegramBadRequest, match="max_connections"):
        await bot.set_webhook("https://bot.example/hook", max_connections=101)
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_info_and_getupdates_conflict_while_a_webhook_is_set(
    hooked: FakeTelegram, receiver: Receiver
) -> None:
    bot = hooked.make_bot()
    try:
        waiting = asyncio.create_task(bot.get_updates(timeout=10))
        await hooked.wait_for(lambda: hooked.polling, what="long poll")
        assert await bot.set_webhook(
            receiver.url, secret_token=SECRET, allowed_updates=["message"], max_connections=5
        )
        assert await asyncio.wait_for(waiting, 2) == []  # the waiting poll ends at once
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.max_connections) == (receiver.url, 0, 5)
        assert info.allowed_updates == ["message"] and info.last_error_date is None
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates() == []
    finally:
        await bot.session.close()


async def test_updates_are_posted_with_the_secret_in_order(
    hooked: FakeTelegram, receiver: Receiver
) -> None:
    bot = hooked.make_bot()
    user = hooked.user(1001, "Анна")
    await user.send("queued before the webhook")
    try:
        await bot.set_webhook(receiver.url, secret_token=SECRET)
        for n in range(5):
            await user.send(f"message {n}")
        deliveries = await receiver.wait(6)
        await hooked.wait_for(lambda: hooked.pending_update_count() == 0, what="all confirmed")
    finally:
        await bot.session.close()
    assert receiver.texts() == ["queued before the webhook", *(f"message {n}" for n in range(5))]
    assert {d.secret for d in deliveries} == {SECRET}
    assert {d.content_type for d in deliveries} == {"application/json"}
    ids = [d.update["update_id"] for d in deliveries]
    assert ids == sorted(ids)
    assert hooked.webhook is not None and hooked.webhook.delivered == 6


async def test_a_failed_delivery_is_retried_and_holds_back_only_its_chat(
    hooked: FakeTelegram, receiver: Receiver
) -> None:
    failures = {"A1": 3}

    async def script(delivery: Delivery) -> web.StreamResponse:
        if failures.get(delivery.text or "", 0) > 0:
            failures[str(delivery.text)] -= 1
            return web.Response(status=500)
        return web.Response(status=200)

    receiver.script = script
    bot = hooked.make_bot()
    anna, boris = hooked.user(1, "Анна"), hooked.user(2, "Борис")
    try:
        await bot.set_webhook(receiver.url)
        await anna.send("A1")
        await anna.send("A2")
        await boris.send("B1")
        await receiver.wait(6)
        await hooked.wait_for(lambda: hooked.pending_update_count() == 0, what="all confirmed")
        info = await bot.get_webhook_info()
    finally:
        await bot.session.close()
    texts = receiver.texts()
    assert texts.count("A1") == 4 and texts.count("A2") == 1 and texts.count("B1") == 1
    # Anna's second message waited for her first; Boris did not wait for Anna.
    assert texts.index("A2") > max(i for i, t in enumerate(texts) if t == "A1")
    assert texts.index("B1") < max(i for i, t in enumerate(texts) if t == "A1")
    attempts = [d.at for d in receiver.deliveries if d.text == "A1"]
    assert attempts[1] - attempts[0] >= FAST_RETRY.initial * 0.9  # backoff, not a hot loop
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None and info.pending_update_count == 0


async def test_chats_are_delivered_in_parallel(hooked: FakeTelegram, receiver: Receiver) -> None:
    release = asyncio.Event()

    async def script(delivery: Delivery) -> web.StreamResponse:
        if delivery.text == "slow":
            await release.wait()
        return web.Response(status=200)

    receiver.script = script
    bot = hooked.make_bot()
    try:
        await bot.set_webhook(receiver.url)
        await hooked.user(1).send("slow")
        await hooked.user(1).send("after slow")
        await hooked.user(2).send("other chat")
        await receiver.wait(2)
        assert receiver.texts() == ["slow", "other chat"]  # chat 1 is still in flight
        release.set()
        await receiver.wait(3)
    finally:
        await bot.session.close()
    assert receiver.texts() == ["slow", "other chat", "after slow"]


async def test_retry_after_from_the_webhook_is_respected(
    hooked: FakeTelegram, receiver: Receiver
) -> None:
    async def script(delivery: Delivery) -> web.StreamResponse:
        if len(receiver.deliveries) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(status=200)

    receiver.script = script
    bot = hooked.make_bot()
    try:
        await bot.set_webhook(receiver.url)
        await hooked.user(1).send("hello")
        first, second = await receiver.wait(2)
    finally:
        await bot.session.close()
    assert second.at - first.at >= 0.95
    assert hooked.webhook is not None
    assert hooked.webhook.last_error_message == (
        "Wrong response from the webhook: 429 Too Many Requests"
    )


async def test_unreachable_webhook_keeps_updates_for_later(hooked: FakeTelegram) -> None:
    with socket.socket() as probe:  # a port where nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = hooked.make_bot()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        await hooked.user(1).send("kept")
        await hooked.wait_for(
            lambda: hooked.webhook is not None and hooked.webhook.failed_attempts >= 2,
            what="failed attempts",
        )
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Connection refused"
        assert info.pending_update_count == 1
        await bot.delete_webhook()
        [update] = await bot.get_updates()
        assert update.message is not None and update.message.text == "kept"
    finally:
        await bot.session.close()


async def test_drop_pending_updates(hooked: FakeTelegram, receiver: Receiver) -> None:
    bot = hooked.make_bot()
    try:
        await hooked.user(1).send("old")
        await bot.set_webhook(receiver.url, drop_pending_updates=True)
        await hooked.user(1).send("new")
        await receiver.wait(1)
        await bot.delete_webhook()
        await hooked.user(1).send("after")
        await bot.set_webhook(receiver.url)
        await receiver.wait(2)
    finally:
        await bot.session.close()
    assert receiver.texts() == ["new", "after"]


async def test_a_method_in_the_webhook_answer_is_run(
    hooked: FakeTelegram, receiver: Receiver
) -> None:
    async def script(delivery: Delivery) -> web.StreamResponse:
        chat = delivery.update["message"]["chat"]["id"]
        return web.json_response(
            {"method": "sendMessage", "chat_id": chat, "text": "<b>hi</b>", "parse_mode": "HTML"}
        )

    receiver.script = script
    bot = hooked.make_bot()
    try:
        await bot.set_webhook(receiver.url)
        user = hooked.user(7)
        await user.send("/start")
        [reply] = await user.wait_for_messages()
    finally:
        await bot.session.close()
    assert reply.text == "hi" and reply.entity_texts("bold") == ["hi"]


async def test_aiogram_webhook_handler_end_to_end(hooked: FakeTelegram) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"Привет, <b>{message.chat.first_name}</b>")

    dp = Dispatcher()
    dp.include_router(router)
    bot = hooked.make_bot()
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=SECRET).register(app, path="/tg")
    setup_application(app, dp, bot=bot)
    async with serve(app) as base:
        await bot.set_webhook(f"{base}/tg", secret_token=SECRET)
        user = hooked.user(42, "Анна")
        await user.send("/start")
        [reply] = await user.wait_for_messages()
        assert reply.text == "Привет, Анна"

        # A webhook with the wrong secret is refused by aiogram: the fake keeps retrying.
        await bot.set_webhook(f"{base}/tg", secret_token="wrong")
        await user.send("/start")
        await hooked.wait_for(
            lambda: hooked.webhook is not None and hooked.webhook.failed_attempts >= 1,
            what="a refused delivery",
        )
        assert hooked.webhook is not None
        assert hooked.webhook.last_error_message == (
            "Wrong response from the webhook: 401 Unauthorized"
        )
        await bot.delete_webhook()
    await bot.session.close()
