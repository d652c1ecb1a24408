"""Fixtures for the delivery tests: databases (SQLite file, PostgreSQL), a fake clock, and
an in-process aiogram session that answers from a script (no HTTP).

PostgreSQL comes from ``postgres_url`` in tests/conftest.py (a fresh database per session,
skipped with a reason when the server is unreachable)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy import text

from bot.storage import users
from bot.storage.database import Database

TOKEN = "123456789:AAE-test-token-for-the-outbox-tests"


# -- clock -------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock and a UTC wall clock that only move when someone sleeps."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime.now(UTC).replace(microsecond=0)
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def advance(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- databases ---------------------------------------------------------------------------


async def _sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}")
    await db.upgrade()
    return db


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await _sqlite_db(tmp_path)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncGenerator[Database, None]:
    """The same tests on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        database = await _sqlite_db(tmp_path)
    else:
        # The session's database comes from tests/conftest.py; upgrade() is idempotent.
        database = Database(request.getfixturevalue("postgres_url"))
        await database.upgrade()
        async with database.transaction() as conn:
            await conn.execute(text("TRUNCATE outbox, broadcasts, users RESTART IDENTITY CASCADE"))
    try:
        yield database
    finally:
        await database.close()


async def add_users(db: Database, *ids: int, now: datetime | None = None) -> None:
    """Users whose chat id equals their user id."""
    async with db.transaction() as conn:
        for uid in ids:
            await users.ensure_user(conn, uid, uid, now or datetime.now(UTC))


# -- scripted aiogram session ------------------------------------------------------------

Reply = dict[str, Any] | tuple[int, dict[str, Any]] | BaseException


@dataclass
class Request:
    at: float
    method: TelegramMethod[Any]

    @property
    def chat_id(self) -> Any:
        return getattr(self.method, "chat_id", None)

    @property
    def name(self) -> str:
        return type(self.method).__name__


def ok_message(chat_id: int, message_id: int) -> dict[str, Any]:
    return {
        "ok": True,
        "result": {
            "message_id": message_id,
            "date": 1700000000,
            "chat": {"id": chat_id, "type": "private"},
            "text": "x",
        },
    }


def error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


class ScriptedSession(BaseSession):
    """Answers each request with ``script(method)`` (default: success), through aiogram's
    normal response check, so errors arrive as the real exception types."""

    def __init__(
        self,
        clock: Callable[[], float] = lambda: 0.0,
        script: Callable[[TelegramMethod[Any]], Reply | None] | None = None,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.script = script
        self.requests: list[Request] = []
        self._next_id = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        self.requests.append(Request(self.clock(), method))
        await asyncio.sleep(0)
        reply = self.script(method) if self.script else None
        if isinstance(reply, BaseException):
            raise reply
        if reply is None:
            self._next_id += 1
            chat_id = int(getattr(method, "chat_id", 0))
            if type(method).__name__ == "CopyMessage":
                reply = {"ok": True, "result": {"message_id": self._next_id}}
            else:
                reply = ok_message(chat_id, self._next_id)
        status, body = reply if isinstance(reply, tuple) else (200, reply)
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=json.dumps(body)
        )
        return response.result  # type: ignore[return-value]

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        if True:  # an async generator that never yields
            raise NotImplementedError
        yield b""  # type: ignore[unreachable]


@pytest.fixture
def session(clock: FakeClock) -> ScriptedSession:
    return ScriptedSession(clock=clock.monotonic)


@pytest.fixture
def scripted_bot(session: ScriptedSession) -> Bot:
    return Bot(TOKEN, session=session)
