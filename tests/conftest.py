"""Shared fixtures: real databases (a SQLite file; PostgreSQL and Redis when reachable).

PostgreSQL/Redis tests skip with a reason on machines without those servers, except when
NEWSBOT_REQUIRE_SERVICES=1 (CI), where an unreachable server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.storage import Database
from bot.testing import FakeTelegram

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("NEWSBOT_REQUIRE_SERVICES") == "1"


def service_unavailable(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable ({error!r})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; NEWSBOT_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{message}; set it up or TEST_POSTGRES_URL/TEST_REDIS_URL to run these tests")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for this test session."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg

    name = f"newsbot_test_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def admin(sql: str) -> None:
        # Tests already run inside an event loop: use a private one in a thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run(sql)).result()

    try:
        admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1 (see bot/testing)."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking to ``fake`` over HTTP."""
    client = fake.make_bot()
    try:
        yield client
    finally:
        await client.session.close()


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The test Redis database (index 15), emptied before and after the test."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.flushdb()
    except (OSError, RedisError) as exc:
        await client.aclose()
        service_unavailable(f"Redis at {REDIS_URL}", exc)
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'newsbot.sqlite3'}"


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite database in a real file."""
    database = Database(sqlite_url)
    await database.upgrade()
    yield database
    await database.close()


async def _reset_postgres(url: str) -> Database:
    database = Database(url)
    async with database.engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await database.upgrade()
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL (a clean schema per test)."""
    if request.param == "sqlite":
        database = Database(sqlite_url)
        await database.upgrade()
    else:
        database = await _reset_postgres(request.getfixturevalue("postgres_url"))
    yield database
    await database.close()
