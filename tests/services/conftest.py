"""Services tested directly: a real database (a SQLite file, or both backends through
``any_db``), a clock that moves only when told, the operator's settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import ServiceSet
from bot.storage import Database
from digests.region import load_region

# Friday 20 November 2026, 15:00 in Moscow.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
        admin_ids=frozenset({500}),
        feed_allowed_networks=("127.0.0.0/8",),
    )


def services_for(db: Database, settings: Settings, clock: FixedClock) -> ServiceSet:
    return ServiceSet.create(db, settings, clock, load_region("moscow"))


@pytest.fixture
def services(db: Database, settings: Settings, clock: FixedClock) -> ServiceSet:
    """All services on the SQLite test database."""
    return services_for(db, settings, clock)
