"""Comparing what each chat should have received with what it did: lost, duplicated, reordered.

Pure functions, for tests and benches alike: ``received_by_chat`` turns the fake's messages
(in-process ``fake.sent_messages()`` or ``await client.messages()``) into keys per chat,
and ``compare_delivery`` checks them against the expected keys per chat, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.testing.records import StoredMessage

__all__ = ["DeliveryReport", "compare_delivery", "received_by_chat"]


def received_by_chat(
    messages: Iterable[StoredMessage], key: Callable[[StoredMessage], str]
) -> dict[int, list[str]]:
    """``key(message)`` of every message, grouped per chat in the order they arrived."""
    result: dict[int, list[str]] = {}
    for message in sorted(messages, key=lambda m: m.seq):
        result.setdefault(message.chat_id, []).append(key(message))
    return result


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    expected: int  # messages expected, over all chats
    delivered: int  # expected messages that arrived at least once
    lost: dict[int, list[str]]  # per chat: expected and never arrived
    duplicated: dict[int, dict[str, int]]  # per chat: key -> times it arrived (> 1)
    reordered: dict[int, list[str]]  # per chat: arrival order, when not the expected one
    unexpected: dict[int, list[str]]  # per chat: arrived but never expected

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered or self.unexpected)

    @property
    def lost_count(self) -> int:
        return sum(len(keys) for keys in self.lost.values())

    @property
    def duplicate_count(self) -> int:
        """Extra copies: a message arriving three times counts two."""
        return sum(n - 1 for keys in self.duplicated.values() for n in keys.values())

    @property
    def max_duplicates_per_chat(self) -> int:
        return max(
            (sum(n - 1 for n in keys.values()) for keys in self.duplicated.values()), default=0
        )

    def summary(self) -> str:
        return (
            f"{self.delivered}/{self.expected} delivered, {self.lost_count} lost, "
            f"{self.duplicate_count} duplicated (at most {self.max_duplicates_per_chat} "
            f"in one chat), {len(self.reordered)} chats out of order, "
            f"{sum(len(k) for k in self.unexpected.values())} unexpected"
        )


def compare_delivery(
    expected: Mapping[int, Sequence[str]], received: Mapping[int, Sequence[str]]
) -> DeliveryReport:
    """Check ``received`` against ``expected`` (both: chat id -> keys in order)."""
    lost: dict[int, list[str]] = {}
    duplicated: dict[int, dict[str, int]] = {}
    reordered: dict[int, list[str]] = {}
    unexpected: dict[int, list[str]] = {}
    delivered = 0
    for chat in expected.keys() | received.keys():
        want = list(expected.get(chat, ()))
        got = list(received.get(chat, ()))
        counts = Counter(got)
        wanted = set(want)
        if missing := [k for k in want if k not in counts]:
            lost[chat] = missing
        if extra := {k: n for k, n in counts.items() if n > 1}:
            duplicated[chat] = extra
        if strangers := [k for k in got if k not in wanted]:
            unexpected[chat] = strangers
        delivered += sum(1 for k in want if k in counts)
        first_arrivals = list(dict.fromkeys(k for k in got if k in wanted))
        if first_arrivals != [k for k in want if k in counts]:
            reordered[chat] = got
    return DeliveryReport(
        expected=sum(len(v) for v in expected.values()),
        delivered=delivered,
        lost=lost,
        duplicated=duplicated,
        reordered=reordered,
        unexpected=unexpected,
    )
