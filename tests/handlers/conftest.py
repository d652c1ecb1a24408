"""End-to-end harness: the real dispatcher (middlewares, routers, storage on a SQLite file)
polling the fake Telegram server over HTTP, driven by fake users."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.types import TelegramObject

from bot.app import BOT_DEFAULTS, build_dispatcher, create_fsm_storage
from bot.clock import FixedClock
from bot.config import Settings
from bot.storage import Database
from bot.storage import users as repo
from bot.testing import (
    CallbackQueryRecord,
    FakeChat,
    FakeTelegram,
    FakeUser,
    StoredMessage,
    run_polling,
)

# Friday 20 November 2026, 15:00 in Moscow.
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    fake: FakeTelegram
    settings: Settings
    db: Database
    clock: FixedClock
    dp: Dispatcher | None = None
    _stack: AsyncExitStack | None = None
    expected: int = 0
    processed: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # ERROR records logged by the handlers package; the fixture fails the test on any left.
    errors: list[logging.LogRecord] = field(default_factory=list)

    async def start(self) -> None:
        """Build the real dispatcher and start polling the fake server."""
        dp = build_dispatcher(
            self.settings, self.db, clock=self.clock, storage=create_fsm_storage(self.settings)
        )

        async def count(
            handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
            event: TelegramObject,
            data: dict[str, Any],
        ) -> Any:
            try:
                return await handler(event, data)
            finally:
                self.processed += 1
                self.changed.set()

        # Outermost of all, so an update counts as done only when everything ran.
        dp.update.outer_middleware._middlewares.insert(0, count)
        self.dp = dp
        stack = AsyncExitStack()
        await stack.enter_async_context(
            run_polling(
                dp,
                self.fake.make_bot(
                    parse_mode=BOT_DEFAULTS.parse_mode, link_preview=BOT_DEFAULTS.link_preview
                ),
                polling_timeout=1,
            )
        )
        self._stack = stack

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def restart(self) -> None:
        """Stop the bot and start a fresh dispatcher (as after a process restart)."""
        await self.settle()
        await self.stop()
        await self.start()

    def user(self, uid: int = 1001, lang: str | None = "ru") -> FakeUser:
        return self.fake.user(uid, "Анна" if lang == "ru" else "Anna", language_code=lang)

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the dispatcher has finished every update pushed so far."""
        deadline = time.monotonic() + timeout
        while self.processed < self.expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"bot processed {self.processed} of {self.expected} updates in {timeout}s"
                )
            self.changed.clear()
            if self.processed >= self.expected:
                break
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                continue

    def _sent(self, chat_id: int) -> list[StoredMessage]:
        return self.fake.sent_messages(chat_id, include_deleted=True)

    async def send(
        self, user: FakeUser, text: str, chat: FakeChat | None = None
    ) -> list[StoredMessage]:
        """The user sends ``text``; returns the new messages the bot sent in reply."""
        chat_id = chat.id if chat is not None else user.id
        before = len(self._sent(chat_id))
        self.expected += 1
        await user.send(text, chat=chat)
        await self.settle()
        return self._sent(chat_id)[before:]

    async def press(
        self,
        user: FakeUser,
        message: StoredMessage,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> dict[str, Any]:
        """Press a button; returns the bot's answerCallbackQuery parameters."""
        self.expected += 1
        record = await user.press(message, text=text, data=data)
        await self.settle()
        return self._answer(record)

    async def press_forged(
        self, user: FakeUser, message: StoredMessage, data: str
    ) -> dict[str, Any]:
        """A callback with arbitrary data, as a modified client could send."""
        self.expected += 1
        record = await user.send_callback(message, data)
        await self.settle()
        return self._answer(record)

    @staticmethod
    def _answer(record: CallbackQueryRecord) -> dict[str, Any]:
        assert record.answer is not None, f"callback {record.data!r} was not answered"
        return record.answer

    async def stored(self, uid: int) -> repo.User | None:
        async with self.db.transaction() as conn:
            return await repo.get_user(conn, uid)

    async def subs(self, uid: int) -> repo.Subscriptions:
        async with self.db.transaction() as conn:
            return await repo.get_subscriptions(conn, uid)


def button_texts(message: StoredMessage) -> list[str]:
    return [b.text for b in message.buttons]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def harness(db: Database, sqlite_url: str, clock: FixedClock) -> AsyncIterator[Harness]:
    settings = Settings(_env_file=None, database_url=sqlite_url)  # type: ignore[call-arg]
    async with FakeTelegram() as fake:
        h = Harness(fake=fake, settings=settings, db=db, clock=clock)
        errors = _Collect()
        errors.records = h.errors
        logging.getLogger("handlers").addHandler(errors)
        try:
            await h.start()
            try:
                yield h
                assert not fake.unanswered_callbacks(), fake.unanswered_callbacks()
            finally:
                await h.stop()
        finally:
            logging.getLogger("handlers").removeHandler(errors)
        assert not h.errors, [r.getMessage() for r in h.errors]
