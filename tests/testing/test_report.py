"""Comparing expected and received messages per chat."""

from __future__ import annotations

from bot.testing import FakeTelegram
from bot.testing.report import compare_delivery, received_by_chat


def test_a_clean_delivery() -> None:
    report = compare_delivery({1: ["a", "b"], 2: ["c"]}, {1: ["a", "b"], 2: ["c"]})
    assert report.ok and (report.expected, report.delivered) == (3, 3)
    assert report.summary().startswith("3/3 delivered, 0 lost, 0 duplicated")


def test_lost_duplicated_reordered_and_unexpected_are_told_apart() -> None:
    expected = {1: ["a", "b", "c"], 2: ["d", "e"], 3: ["f"], 4: ["g", "h"]}
    received = {1: ["a", "c"], 2: ["d", "d", "e"], 3: ["f", "zz"], 4: ["h", "g"]}
    report = compare_delivery(expected, received)
    assert not report.ok
    assert report.lost == {1: ["b"]} and report.lost_count == 1
    assert report.duplicated == {2: {"d": 2}} and report.duplicate_count == 1
    assert report.max_duplicates_per_chat == 1
    assert report.unexpected == {3: ["zz"]}
    assert report.reordered == {4: ["h", "g"]}  # a lost message alone is not a reordering
    assert (report.expected, report.delivered) == (8, 7)


def test_a_retried_message_arriving_again_later_keeps_the_order() -> None:
    # "a" was delivered, its answer lost, and sent again after "b": order of first arrivals.
    report = compare_delivery({1: ["a", "b"]}, {1: ["a", "b", "a"]})
    assert report.reordered == {} and report.duplicated == {1: {"a": 2}}


async def test_received_by_chat_from_the_fake(fake: FakeTelegram) -> None:
    bot = fake.make_bot()
    try:
        for chat, text in ((2, "x"), (1, "y"), (2, "z")):
            await bot.send_message(chat, text)
    finally:
        await bot.session.close()
    received = received_by_chat(fake.sent_messages(), key=lambda m: m.text or "")
    assert received == {2: ["x", "z"], 1: ["y"]}
