"""The fake in time: latency seen from the client, lost and hanging answers, flood limits."""

from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter

from bot.testing import FakeApiError, FakeTelegram, Latency, RateLimits
from bot.testing.flood import FloodControl

CHAT = 1001


async def _timed(call: Callable[[], Awaitable[object]], times: int = 1) -> list[float]:
    loop = asyncio.get_running_loop()
    durations = []
    for _ in range(times):
        start = loop.time()
        await call()
        durations.append(loop.time() - start)
    return durations


def test_latency_samples_stay_within_the_jitter() -> None:
    rng = random.Random(7)
    samples = [Latency(0.2, 0.1).sample(rng) for _ in range(2000)]
    assert min(samples) >= 0.1 and max(samples) <= 0.3
    assert max(samples) - min(samples) > 0.15  # really spread, not a constant
    assert Latency(0.05, 0.2).sample(rng) >= 0  # never negative
    assert Latency.parse("0.15:0.05") == Latency(0.15, 0.05)
    assert Latency.parse("0.3") == Latency(0.3, 0.0)
    with pytest.raises(ValueError, match="SECONDS"):
        Latency.parse("fast")
    with pytest.raises(ValueError, match="negative"):
        Latency(-0.1)


async def test_every_answer_takes_the_configured_round_trip() -> None:
    async with FakeTelegram(latency=Latency(0.15, 0.05), seed=3) as fake:
        bot = fake.make_bot()
        try:
            sends = await _timed(lambda: bot.send_message(CHAT, "x"), times=8)
            me = await _timed(bot.get_me)
            fake.fail_next("sendMessage", error_code=429, retry_after=1)
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(CHAT, "refused")
            refused = loop.time() - start
        finally:
            await bot.session.close()
    # Each answer waits at least mean - jitter; generous upper bounds for a loaded machine.
    assert min(sends + me + [refused]) >= 0.10
    assert 0.10 <= statistics.median(sends) < 0.6
    assert len(fake.sent_messages(CHAT)) == 8


async def test_a_method_can_have_its_own_latency() -> None:
    async with FakeTelegram(method_latency={"getMe": Latency(0.4)}) as fake:
        bot = fake.make_bot()
        try:
            [me] = await _timed(bot.get_me)
            [send] = await _timed(lambda: bot.send_message(CHAT, "x"))
            fake.set_latency(0.3, "sendMessage")
            [slow_send] = await _timed(lambda: bot.send_message(CHAT, "y"))
        finally:
            await bot.session.close()
    assert me >= 0.4 and send < me and slow_send >= 0.3
    assert fake.latency.of("getme") == Latency(0.4) and fake.latency.of("getChat") == Latency()


async def test_a_lost_answer_still_delivers_the_message(fake: FakeTelegram, bot: Bot) -> None:
    fake.lose_answers("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(CHAT, "delivered unheard")
    [call] = fake.calls("sendMessage")
    assert call.ok and call.answer_lost
    assert [m.text for m in fake.sent_messages(CHAT)] == ["delivered unheard"]
    await bot.send_message(CHAT, "next")  # only one answer was lost
    assert fake.answers_lost == 1


async def test_a_hanging_answer_makes_the_client_time_out(fake: FakeTelegram, bot: Bot) -> None:
    fake.hang_answers("*")
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(CHAT, "in limbo", request_timeout=1)
    assert loop.time() - start >= 1
    assert [m.text for m in fake.sent_messages(CHAT)] == ["in limbo"]
    assert fake.calls()[-1].answer_lost


async def test_per_chat_limit_tolerates_a_burst(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_rate_limits(per_chat_per_second=1, per_chat_burst=3)
    for n in range(3):
        await bot.send_message(CHAT, f"burst {n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "one too many")
    # Three in any three seconds: the slot frees about three seconds after the first.
    assert 2 <= info.value.retry_after <= 3
    await bot.send_message(CHAT + 1, "another chat is not affected")
    assert len(fake.sent_messages(CHAT)) == 3


async def test_global_limit_is_per_bot_token(fake: FakeTelegram) -> None:
    fake.set_rate_limits(RateLimits(global_per_second=5))
    first, second = fake.make_bot(), fake.make_bot("987654321:AAOtherBotToken-abcdefghijklmnopqrst")
    try:
        for chat in range(5):
            await first.send_message(chat + 1, "x")
        with pytest.raises(TelegramRetryAfter) as info:
            await first.send_message(99, "over 5/s")
        assert info.value.retry_after == 1
        await second.send_message(99, "the other bot has its own budget")
    finally:
        await first.session.close()
        await second.session.close()


def test_flood_windows_follow_telegram_limits() -> None:
    flood = FloodControl(RateLimits.telegram())
    assert flood.limits.global_per_second == 30 and flood.limits.per_group_per_minute == 20
    now = 100.0
    for n in range(30):
        flood.check("t", n, True, now)
        flood.note("t", n, now)
    with pytest.raises(FakeApiError, match="retry after 1"):
        flood.check("t", 999, True, now + 0.5)
    flood.check("t", 999, True, now + 1.0)  # the window moved on
    for n in range(20):  # one every 2 s: within the per-chat limit
        flood.check("t", -5, False, now + 2 + 2 * n)
        flood.note("t", -5, now + 2 + 2 * n)
    with pytest.raises(FakeApiError, match="retry after 20"):
        flood.check("t", -5, False, now + 42)  # 20 in the last minute in a group
    flood.check("t", 5, True, now + 42)  # a private chat has no per-minute limit
    with pytest.raises(ValueError, match="positive"):
        RateLimits(global_per_second=0)


async def test_limits_set_later_count_earlier_sends(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(CHAT, "before the limit")
    fake.set_rate_limits(per_chat_per_second=1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(CHAT, "too soon after")
