"""Engine creation, SQLite tuning and migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is the same code with a
different ``DATABASE_URL``. Repositories take an ``AsyncConnection`` so that callers decide
what one transaction covers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.errors import ServiceUnavailableError

__all__ = ["Database", "alembic_config", "describe_error", "in_metadata", "open_database"]

MIGRATIONS = Path(__file__).parent / "migrations"
# Created by raw SQL in migration 0002 (full-text search), not described by the metadata.
RAW_SQL_OBJECTS = frozenset({"article_search", "ix_articles_search"})


def in_metadata(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: compare only what the SQLAlchemy metadata describes."""
    return not (name or "").startswith(tuple(RAW_SQL_OBJECTS))


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """One database: an async engine plus migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, pool_pre_ping=True)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    async def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision`` (idempotent)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_upgrade, revision)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision)

    async def close(self) -> None:
        await self.engine.dispose()


def describe_error(exc: BaseException) -> str:
    """One line on why a database operation failed (the driver's words, not SQLAlchemy's)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def open_database(url: str, *, connect_timeout: float = 30.0) -> Database:
    """A migrated :class:`Database`, or ServiceUnavailableError saying why it cannot be used:
    unreachable server, missing database, a file that is not SQLite, an unknown revision."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        db = Database(url)
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise ServiceUnavailableError(
            f"cannot use the database {shown}: {describe_error(exc)}"
        ) from None
    try:
        async with asyncio.timeout(connect_timeout):
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        await db.upgrade()
    except TimeoutError:
        await db.close()
        raise ServiceUnavailableError(
            f"cannot use the database {shown}: no answer within {connect_timeout:g} s"
        ) from None
    except (OSError, SQLAlchemyError, sqlite3.Error, CommandError) as exc:
        await db.close()
        raise ServiceUnavailableError(
            f"cannot use the database {shown}: {describe_error(exc)}"
        ) from None
    return db


def _run_upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
