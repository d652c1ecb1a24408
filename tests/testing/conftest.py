from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.testing import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = fake.make_bot()
    try:
        yield bot
    finally:
        await bot.session.close()
