"""Everything the fake Telegram knows, in plain Python and free of HTTP.

Methods (``bot.testing.methods``) read and change it, the HTTP layer (``bot.testing.api``)
records calls into it, actors (``bot.testing.actors``) push updates into it, and tests
inspect it. ``FakeTelegram`` is this state served over HTTP.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram.types import Update

from bot.testing.chats import BLOCKED, DEACTIVATED, NOT_FOUND, ChatDirectory
from bot.testing.flood import FloodControl, RateLimits
from bot.testing.records import Call, CallbackQueryRecord, StoredMessage
from bot.testing.timing import Faults, LatencyLike, LatencyPlan
from bot.testing.waiting import Notifier

__all__ = ["DEFAULT_TOKEN", "UPDATE_TYPES", "MethodHandler", "TelegramState", "Webhook"]

_T = TypeVar("_T")
_K = TypeVar("_K")

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklmn"

# A custom method: ``handler(params) -> result``, or raise FakeApiError.
MethodHandler = Callable[[dict[str, Any]], Any]

# What getUpdates and webhooks deliver when allowed_updates is not given (or is []).
UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


@dataclass(slots=True)
class Webhook:
    """A webhook set with setWebhook, and how delivering to it went."""

    url: str
    secret_token: str | None = None
    allowed_updates: frozenset[str] = UPDATE_TYPES
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    failed_attempts: int = 0

    def note_error(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message
        self.failed_attempts += 1


@dataclass(slots=True)
class Poll:
    """A getUpdates request waiting for updates."""

    conflict: bool = False


@dataclass(slots=True)
class BotSettings:
    """What the bot configured about itself: commands and profile texts."""

    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    profile: dict[tuple[str, str], Any] = field(default_factory=dict)


def update_type(update: Mapping[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


class TelegramState:
    """Chats, messages, pending updates, callback queries and recorded calls."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "district_news_test_bot",
        bot_first_name: str = "District News",
        strict_html: bool = True,
        accept_any_token: bool = True,
        known_chats_only: bool = False,
        latency: LatencyLike = 0.0,
        method_latency: Mapping[str, LatencyLike] | None = None,
        rate_limits: RateLimits | None = None,
        seed: int | None = None,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # Stricter than Telegram about stray '&' (see bot.testing.html); False = exact Telegram.
        self.strict_html = strict_html
        self.accept_any_token = accept_any_token

        self.notifier = Notifier()  # any change: calls, messages, updates
        self.update_notifier = Notifier()  # new updates or a webhook change: pollers wake
        self.chats = ChatDirectory(known_chats_only=known_chats_only)
        self.bot_settings = BotSettings()

        self._calls: list[Call] = []
        self.call_counts: Counter[tuple[str, int]] = Counter()  # (method, status)
        self.bot_messages_stored = 0
        self.answers_lost = 0
        self.tokens_seen: set[str] = set()
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self._seq = 0
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self.allowed_updates: frozenset[str] = UPDATE_TYPES  # remembered from getUpdates
        self.poll: Poll | None = None
        self.webhook: Webhook | None = None
        self.closing = False
        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._next_callback_id = 1

        # Behaviour.
        self.latency = LatencyPlan(latency, method_latency, seed)
        self.faults = Faults()
        self.flood = FloodControl(rate_limits)
        self.bad_urls: set[str] = set()
        self.custom_methods: dict[str, MethodHandler] = {}

    # ------------------------------------------------------------------ the bot

    def bot_id_for(self, token: str) -> int:
        head = token.split(":", 1)[0]
        return int(head) if head.isdigit() else self.bot_id_for(DEFAULT_TOKEN)

    @property
    def bot_id(self) -> int:
        return self.bot_id_for(self.token)

    def bot_user(self, token: str | None = None) -> dict[str, Any]:
        """The Bot API ``User`` object of the bot."""
        return {
            "id": self.bot_id_for(token or self.token),
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Commands set with setMyCommands, by (scope JSON, language code)."""
        return self.bot_settings.commands

    @property
    def bot_profile(self) -> dict[tuple[str, str], Any]:
        return self.bot_settings.profile

    # ------------------------------------------------------------------ chat errors

    def set_chat_error(self, chat_id: int, error_code: int, description: str) -> None:
        """Every call addressed to ``chat_id`` fails with this error until cleared."""
        self.chats.set_error(chat_id, error_code, description)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: 403 "bot was blocked by the user"."""
        self.chats.set_error(chat_id, 403, BLOCKED)

    def deactivate(self, chat_id: int) -> None:
        """The account was deleted: 403 "user is deactivated"."""
        self.chats.set_error(chat_id, 403, DEACTIVATED)

    def mark_missing(self, chat_id: int) -> None:
        """400 "chat not found", as for a user who never started the bot."""
        self.chats.set_error(chat_id, 400, NOT_FOUND)

    def unblock(self, chat_id: int) -> None:
        """Clear any chat error set by block/deactivate/mark_missing/set_chat_error."""
        self.chats.clear_error(chat_id)

    # ------------------------------------------------------------------ messages

    def new_message_id(self, chat_id: int) -> int:
        """The next message id in a chat (ids grow per chat, as in private chats)."""
        next_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = next_id
        return next_id

    def store_message(self, message: StoredMessage) -> StoredMessage:
        """Keep a message (from the bot or from a user) in its chat's history."""
        # Global order across chats, so sent_messages() without chat_id is chronological.
        self._seq += 1
        message.seq = self._seq
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        self.bot_messages_stored += message.from_bot
        self.notifier.notify()
        return message

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """Messages the bot sent (current state), in sending order."""
        chats = [chat_id] if chat_id is not None else list(self._messages)
        result = [
            m
            for cid in chats
            for m in self._messages.get(cid, {}).values()
            if m.from_bot and (include_deleted or not m.deleted)
        ]
        if chat_id is None:
            result.sort(key=lambda m: m.seq)
        return result

    def chat_history(self, chat_id: int) -> list[StoredMessage]:
        """Every message in a chat, from the bot and from users, including deleted ones."""
        return list(self._messages.get(chat_id, {}).values())

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        message = self.find_message(chat_id, message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return message

    # ------------------------------------------------------------------ updates

    def push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update (without ``update_id``) for getUpdates or the webhook; return its id.

        The update is validated with aiogram's model, so a malformed test update fails
        here rather than deep inside the dispatcher.
        """
        update = {"update_id": self._next_update_id, **copy.deepcopy(payload)}
        Update.model_validate(update)
        self._next_update_id += 1
        self._updates.append(update)
        self.update_notifier.notify()
        self.notifier.notify()
        return int(update["update_id"])

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (getUpdates offset, or webhook 2xx)."""
        return copy.deepcopy(self._updates)

    def pending_update_count(self) -> int:
        return len(self._updates)

    def updates_of_types(self, allowed: Iterable[str], limit: int) -> list[dict[str, Any]]:
        wanted = frozenset(allowed)
        picked = [u for u in self._updates if update_type(u) in wanted]
        return copy.deepcopy(picked[:limit])

    def first_update(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The oldest pending update matching ``predicate`` (not a copy: do not change it)."""
        return next((u for u in self._updates if predicate(u)), None)

    def pending_update_keys(self, key: Callable[[dict[str, Any]], _K]) -> list[_K]:
        """The distinct ``key(update)`` of pending updates, in order of first appearance."""
        return list(dict.fromkeys(key(u) for u in self._updates))

    def forget_updates_before(self, offset: int) -> None:
        """getUpdates' confirmation: updates with a smaller id are gone."""
        self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def keep_last_updates(self, count: int) -> None:
        self._updates = self._updates[-count:] if count else []

    def forget_update(self, update_id: int) -> None:
        """A webhook delivery succeeded (or the update was not wanted there)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self.notifier.notify()

    def drop_pending_updates(self) -> None:
        self._updates.clear()
        self.notifier.notify()

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting."""
        return self.poll is not None

    # ------------------------------------------------------------------ callback queries

    def new_callback_id(self) -> str:
        """A fresh callback query id (long numeric strings, like Telegram's)."""
        value = f"{self.bot_id}{self._next_callback_id:08d}"
        self._next_callback_id += 1
        return value

    def register_callback(self, record: CallbackQueryRecord) -> CallbackQueryRecord:
        """Keep a callback query so that answerCallbackQuery can find and answer it."""
        record._notifier = self.notifier
        self._callbacks[record.id] = record
        return record

    def callback(self, callback_id: str) -> CallbackQueryRecord | None:
        return self._callbacks.get(callback_id)

    @property
    def callback_queries(self) -> list[CallbackQueryRecord]:
        return list(self._callbacks.values())

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        return [q for q in self._callbacks.values() if not q.answered]

    # ------------------------------------------------------------------ recorded calls

    def record_call(self, call: Call) -> Call:
        self._calls.append(call)
        self.call_counts[(call.method, call.status)] += 1
        self.answers_lost += call.answer_lost
        self.notifier.notify()
        return call

    def next_call_seq(self) -> int:
        return len(self._calls) + 1

    def calls(
        self, method: str | None = None, *, ok: bool | None = None, after: int = 0
    ) -> list[Call]:
        """Recorded calls, oldest first; ``method`` is case-insensitive; ``after`` a seq."""
        wanted = method.lower() if method else None
        return [
            c
            for c in self._calls[after:]
            if (wanted is None or c.method.lower() == wanted) and (ok is None or c.ok == ok)
        ]

    def last_call(self, method: str | None = None) -> Call:
        calls = self.calls(method)
        if not calls:
            raise LookupError(f"no {method or 'API'} calls recorded")
        return calls[-1]

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], _T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str | Callable[[], str] = "condition",
    ) -> _T:
        """Wait until ``predicate()`` returns something truthy (re-checked on every change)."""
        return await self.notifier.wait_for(predicate, timeout, what)

    # ------------------------------------------------------------------ reset

    def reset(self) -> None:
        """Forget messages, updates, callbacks, calls, faults and flood counters.

        Users, groups, chat errors, the webhook and the behaviour settings stay: a bench
        can run several rounds against one server.
        """
        self._calls.clear()
        self.call_counts.clear()
        self.bot_messages_stored = 0
        self.answers_lost = 0
        self._messages.clear()
        self._last_message_id.clear()
        self._updates.clear()
        self._callbacks.clear()
        self.faults.clear()
        self.flood.reset()
        self.notifier.notify()
