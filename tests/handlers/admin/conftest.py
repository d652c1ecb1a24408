"""Admin tests: the real dispatcher (the admin router among the others, as the app wires it)
polling the fake Telegram server; the sender driven against the same fake and database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.enums import ParseMode

from bot.app import BOT_DEFAULTS
from bot.clock import FixedClock
from bot.config import Settings
from bot.delivery import Sender, SenderConfig
from bot.delivery.sender import OnOutcome
from bot.services.broadcast_progress import progress_hook
from bot.storage import Database
from bot.storage.users import SubscriptionKind
from bot.testing import FakeTelegram, FakeUser, StoredMessage
from tests.handlers.conftest import START, Harness, _Collect
from tests.seed import add_user

ADMIN = 500
RESIDENT = 1001


@dataclass
class AdminHarness(Harness):
    bot: Bot | None = None
    _created: list[Bot] = field(default_factory=list)

    @property
    def admin(self) -> FakeUser:
        return self.fake.user(ADMIN, "Admin", language_code="en")

    def sender(self, on_outcome: OnOutcome | None = None, **config: Any) -> Sender:
        """A sender as the app builds it, on the fake's clock-free limits."""
        assert self.bot is not None
        cfg = SenderConfig(
            **({"rate": 1000.0, "per_chat_interval": 0.0, "poll_interval": 0.02} | config)
        )
        hook = on_outcome or progress_hook(self.bot, self.db, self.clock)
        return Sender(self.db, self.bot, cfg, on_outcome=hook, now=self.clock.now)

    async def push_message(self, user: FakeUser, **fields: Any) -> list[StoredMessage]:
        """The user sends a message with arbitrary fields (photo, entities, forward)."""
        before = len(self._sent(user.id))
        self.expected += 1
        await user.send_message(**fields)
        await self.settle()
        return self._sent(user.id)[before:]

    async def add_user(
        self,
        uid: int,
        subs: Iterable[tuple[SubscriptionKind, str]] = (),
        **options: Any,
    ) -> None:
        await add_user(self.db, self.clock.now(), uid, subs, **options)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=sqlite_url,
        admin_ids=frozenset({ADMIN}),
        feed_allowed_networks=("127.0.0.0/8",),
    )


@pytest.fixture
async def h(db: Database, settings: Settings, clock: FixedClock) -> AsyncIterator[AdminHarness]:
    async with FakeTelegram() as fake:
        harness = AdminHarness(fake=fake, settings=settings, db=db, clock=clock)
        harness.bot = fake.make_bot(
            parse_mode=ParseMode.HTML, link_preview=BOT_DEFAULTS.link_preview
        )
        errors = _Collect()
        errors.records = harness.errors
        for name in ("handlers", "bot.services"):
            logging.getLogger(name).addHandler(errors)
        try:
            await harness.start()
            try:
                yield harness
                assert not fake.unanswered_callbacks(), fake.unanswered_callbacks()
            finally:
                await harness.stop()
                await harness.bot.session.close()
        finally:
            for name in ("handlers", "bot.services"):
                logging.getLogger(name).removeHandler(errors)
        assert not harness.errors, [r.getMessage() for r in harness.errors]
