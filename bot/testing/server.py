"""``FakeTelegram``: the fake's state served over HTTP on 127.0.0.1, with its knobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiohttp import web

from bot.testing.actors import FakeChat, FakeUser
from bot.testing.api import add_bot_api_routes
from bot.testing.chats import UserProfile
from bot.testing.errors import FakeApiError, default_description
from bot.testing.flood import RateLimits
from bot.testing.state import DEFAULT_TOKEN, MethodHandler, TelegramState
from bot.testing.timing import Fault, FaultKind, LatencyLike
from bot.testing.webhook import WebhookDelivery, WebhookRetry

__all__ = ["FakeTelegram"]


class _LocalSession(AiohttpSession):
    """AiohttpSession without the 0.25 s close delay, which only matters for TLS peers."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram(TelegramState):
    """A fake Telegram Bot API server on 127.0.0.1 that the real aiogram ``Bot`` talks to.

    Use as ``async with FakeTelegram() as fake:`` and build bots with ``fake.make_bot()``.
    State is plain Python: inspect it with ``calls()``, ``sent_messages()``, ``message()``,
    act as users with ``fake.user(...)``, and change behaviour with ``block()``,
    ``fail_next()``, ``set_rate_limits()``, ``set_latency()``. By default it answers at
    once and without flood limits; ``latency=Latency(0.15, 0.05)`` and
    ``rate_limits=RateLimits.telegram()`` make it behave like the real server in time.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "district_news_test_bot",
        bot_first_name: str = "District News",
        strict_html: bool = True,
        accept_any_token: bool = True,
        known_chats_only: bool = False,
        latency: LatencyLike = 0.0,
        method_latency: Mapping[str, LatencyLike] | None = None,
        rate_limits: RateLimits | None = None,
        webhook_retry: WebhookRetry | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_html=strict_html,
            accept_any_token=accept_any_token,
            known_chats_only=known_chats_only,
            latency=latency,
            method_latency=method_latency,
            rate_limits=rate_limits,
            seed=seed,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._webhooks = WebhookDelivery(self, webhook_retry)
        self._app_setups: list[Callable[[web.Application], None]] = []
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeChat] = {}

    # ------------------------------------------------------------------ lifecycle

    def add_routes(self, setup: Callable[[web.Application], None]) -> None:
        """Add routes beside the Bot API before ``start()`` (the control API does)."""
        if self._runner is not None:
            raise RuntimeError("add routes before the server starts")
        self._app_setups.append(setup)

    async def start(self) -> Self:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        add_bot_api_routes(app, self)
        for setup in self._app_setups:
            setup(app)
        # handler_cancellation: a long poll whose client went away must not linger;
        # a short shutdown_timeout keeps teardown fast even if something does.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        await self._webhooks.start()
        return self

    async def close(self) -> None:
        """Stop the server; pending long polls return ``[]`` at once."""
        self.closing = True
        self.update_notifier.notify()
        await self._webhooks.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the Bot API base for aiogram's TelegramAPIServer."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    def make_bot(
        self,
        token: str | None = None,
        *,
        parse_mode: ParseMode | None = ParseMode.HTML,
        **defaults: Any,
    ) -> Bot:
        """A real aiogram Bot pointed at this server (close it: ``await bot.session.close()``)."""
        session = _LocalSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(
            token or self.token,
            session=session,
            default=DefaultBotProperties(parse_mode=parse_mode, **defaults),
        )

    # ------------------------------------------------------------------ knobs

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        error_code: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*": any) fail with this error.

        The calls have no effect: nothing is sent. Latency still applies.
        """
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        error = FakeApiError(
            error_code, description or default_description(error_code, retry_after), params or None
        )
        self.faults.add(method, Fault(count, FaultKind.ERROR, error))

    def lose_answers(self, method: str, count: int = 1) -> None:
        """The next ``count`` calls are handled (a message is delivered), then the
        connection is closed without an answer: the client sees a network error."""
        self.faults.add(method, Fault(count, FaultKind.LOSE))

    def hang_answers(self, method: str, count: int = 1) -> None:
        """The next ``count`` calls are handled, and their answers never come: the client
        waits for its own timeout."""
        self.faults.add(method, Fault(count, FaultKind.HANG))

    def set_latency(self, latency: LatencyLike, method: str | None = None) -> None:
        """Answer after ``latency`` (seconds or a Latency); without ``method``, every
        method without its own setting, getUpdates included."""
        self.latency.set(latency, method)

    def set_rate_limits(
        self,
        limits: RateLimits | None = None,
        *,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int | None = None,
        per_group_per_minute: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Flood limits for sends (a RateLimits, or its fields; nothing: unlimited)."""
        self.flood.limits = limits or RateLimits(
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
            per_chat_burst=per_chat_burst,
            per_group_per_minute=per_group_per_minute,
            retry_after=retry_after,
        )

    @property
    def rate_limits(self) -> RateLimits:
        return self.flood.limits

    def add_method(self, name: str, handler: MethodHandler) -> None:
        """Serve an extra API method: ``handler(params) -> result`` or raise FakeApiError."""
        self.custom_methods[name.lower()] = handler

    # ------------------------------------------------------------------ actors

    def user(
        self,
        id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        is_premium: bool | None = None,
    ) -> FakeUser:
        """A user who can write to the bot; the same id returns the same object."""
        if id not in self._users:
            profile = self.chats.add_user(
                UserProfile(id, first_name, last_name, username, language_code, is_premium)
            )
            self._users[id] = FakeUser(self, profile)
        return self._users[id]

    def group(
        self,
        id: int,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        username: str | None = None,
    ) -> FakeChat:
        """A group/supergroup the bot is a member of."""
        if id not in self._groups:
            data = self.chats.add_group(id, title, type=type, username=username)
            self._groups[id] = FakeChat(self, data)
        return self._groups[id]
