"""The fake Bot API HTTP server and its in-memory Telegram state."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Update
from aiohttp import web

from bot.testing._html import EntityParseError, ParsedText, parse_html, trim_text, utf16_len
from bot.testing._models import (
    Call,
    CallbackQueryRecord,
    FakeApiError,
    StoredMessage,
    _Notifier,
)

if TYPE_CHECKING:
    from bot.testing._users import FakeChat, FakeUser

__all__ = ["DEFAULT_TOKEN", "FakeTelegram", "MethodHandler"]

_T = TypeVar("_T")
logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklmn"

MethodHandler = Callable[[dict[str, Any]], Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Form fields are strings; these are converted back to the types Telegram would parse.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "until_date",
    }
)
# Free-text fields are never JSON/bool-decoded: a message "[1, 2]" or "true" must stay text.
_TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "photo",
        "url",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "data",
        "file_id",
        "emoji",
        "question",
        "explanation",
        "first_name",
        "last_name",
        "username",
        "language_code",
        "action",
        "parse_mode",
        "secret_token",
        "message_effect_id",
        "business_connection_id",
    }
)
_DEFAULT_UPDATE_TYPES = frozenset(
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
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_FILE_ID_RE = re.compile(r"[A-Za-z0-9_\-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def _decode_field(key: str, value: str) -> Any:
    if key in _INT_FIELDS:
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if key in _TEXT_FIELDS:
        return value
    if value in ("true", "false"):
        return value == "true"
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _bad_request(reason: str) -> FakeApiError:
    return FakeApiError(400, f"Bad Request: {reason}")


def _default_description(code: int, retry_after: int | None) -> str:
    if code == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(code, "Error")


@dataclass(slots=True)
class _Fault:
    remaining: int
    error: FakeApiError


class _Poll:
    """A pending getUpdates request."""

    __slots__ = ("conflict",)

    def __init__(self) -> None:
        self.conflict = False


class _LocalSession(AiohttpSession):
    """AiohttpSession without the 0.25 s close delay, which only matters for TLS peers."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram:
    """A fake Telegram Bot API server on 127.0.0.1 that the real aiogram ``Bot`` talks to.

    Use as ``async with FakeTelegram() as fake:`` and build bots with ``fake.make_bot()``.
    State is plain Python: inspect it with ``calls()``, ``sent_messages()``, ``message()``,
    act as users with ``fake.user(...)``, and tweak behaviour with ``block()``,
    ``fail_next()``, ``set_rate_limits()``, ``set_latency()``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "district_news_test_bot",
        bot_first_name: str = "District News",
        strict_html: bool = True,
        accept_any_token: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # Stricter than Telegram about stray '&' (see bot.testing._html); False = exact Telegram.
        self.strict_html = strict_html
        self.accept_any_token = accept_any_token
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False

        self._notifier = _Notifier()
        self._calls: list[Call] = []
        self.tokens_seen: set[str] = set()

        # Chats: by default any positive id is a private chat that exists.
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeChat] = {}
        self._chat_errors: dict[int, FakeApiError] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self._seq = 0

        # Updates queue and long polling.
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._updates_event = asyncio.Event()
        self._poll: _Poll | None = None
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self.webhook_url: str | None = None

        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._next_callback_id = 1
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.bot_profile: dict[tuple[str, str], Any] = {}

        # Behaviour knobs.
        self._faults: dict[str, deque[_Fault]] = {}
        self._latency: dict[str, float] = {}
        self.global_per_second: int | None = None
        self.per_chat_per_second: int | None = None
        self.per_group_per_minute: int | None = None
        self.retry_after: int | None = None
        self._sent_global: deque[float] = deque()
        self._sent_per_chat: dict[int, deque[float]] = {}
        self.bad_urls: set[str] = set()
        self._custom_methods: dict[str, MethodHandler] = {}

        self._handlers: dict[str, Callable[[dict[str, Any], str], Any]] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._set_profile("description"),
            "setmyshortdescription": self._set_profile("short_description"),
            "setmyname": self._set_profile("name"),
            "setchatmenubutton": self._set_profile("menu_button"),
            "getchat": self._get_chat,
            "sendchataction": self._send_chat_action,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client went away must not linger;
        # a short shutdown_timeout keeps teardown fast even if something does.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        """Stop the server; pending long polls return ``[]`` at once."""
        self._closing = True
        self._wake_polls()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    @property
    def bot_id(self) -> int:
        return self._bot_id_for(self.token)

    def make_bot(
        self,
        token: str | None = None,
        *,
        parse_mode: ParseMode | None = ParseMode.HTML,
        **defaults: Any,
    ) -> Bot:
        """A real aiogram Bot pointed at this server (close it: ``await bot.session.close()``)."""
        session = _LocalSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(
            token or self.token,
            session=session,
            default=DefaultBotProperties(parse_mode=parse_mode, **defaults),
        )

    # ------------------------------------------------------------------ knobs

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        error_code: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with the given error."""
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        error = FakeApiError(
            error_code,
            description or _default_description(error_code, retry_after),
            params or None,
        )
        self._faults.setdefault(method.lower(), deque()).append(_Fault(count, error))

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers; without ``method`` applies to every method except getUpdates."""
        self._latency[method.lower() if method else "*"] = seconds

    def set_rate_limits(
        self,
        *,
        global_per_second: int | None = None,
        per_chat_per_second: int | None = None,
        per_group_per_minute: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Flood limits for send*/copy/forward (None = unlimited, the default).

        ``retry_after`` fixes the value in 429 answers; by default it is the time until
        the sliding window frees a slot, rounded up.
        """
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_group_per_minute = per_group_per_minute
        self.retry_after = retry_after

    def set_chat_error(self, chat_id: int, error_code: int, description: str) -> None:
        """Every call addressed to ``chat_id`` fails with this error until cleared."""
        self._chat_errors[chat_id] = FakeApiError(error_code, description)

    def block(self, chat_id: int) -> None:
        self.set_chat_error(chat_id, 403, "Forbidden: bot was blocked by the user")

    def deactivate(self, chat_id: int) -> None:
        self.set_chat_error(chat_id, 403, "Forbidden: user is deactivated")

    def mark_missing(self, chat_id: int) -> None:
        self.set_chat_error(chat_id, 400, "Bad Request: chat not found")

    def _is_blocked(self, chat_id: int) -> bool:
        error = self._chat_errors.get(chat_id)
        return error is not None and "blocked" in error.description

    def unblock(self, chat_id: int) -> None:
        """Clear any chat error set by block/deactivate/mark_missing/set_chat_error."""
        self._chat_errors.pop(chat_id, None)

    def add_method(self, name: str, handler: MethodHandler) -> None:
        """Serve an extra API method: ``handler(params) -> result`` or raise FakeApiError."""
        self._custom_methods[name.lower()] = handler

    # ------------------------------------------------------------------ actors

    def user(
        self,
        id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        is_premium: bool | None = None,
    ) -> FakeUser:
        """A user who can write to the bot; the same id returns the same object."""
        from bot.testing._users import FakeUser

        if id in self._users:
            return self._users[id]
        if id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(
            self,
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self._users[id] = user
        return user

    def group(
        self,
        id: int,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        username: str | None = None,
    ) -> FakeChat:
        """A group/supergroup the bot is a member of."""
        from bot.testing._users import FakeChat

        if id in self._groups:
            return self._groups[id]
        if id >= 0:
            raise ValueError("group ids are negative")
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unsupported chat type {type!r}")
        data: dict[str, Any] = {"id": id, "type": type, "title": title}
        if username:
            data["username"] = username
        chat = FakeChat(self, data)
        self._groups[id] = chat
        return chat

    def push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update (without ``update_id``) for getUpdates; returns its id.

        The update is validated with aiogram's model, so a malformed test update fails
        here rather than deep inside the dispatcher.
        """
        update = {"update_id": self._next_update_id, **copy.deepcopy(payload)}
        Update.model_validate(update)
        self._next_update_id += 1
        self._updates.append(update)
        self._wake_polls()
        self._notifier.notify()
        return int(update["update_id"])

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls, oldest first; ``method`` is case-insensitive."""
        wanted = method.lower() if method else None
        return [
            c
            for c in self._calls
            if (wanted is None or c.method.lower() == wanted) and (ok is None or c.ok == ok)
        ]

    def last_call(self, method: str | None = None) -> Call:
        calls = self.calls(method)
        if not calls:
            raise LookupError(f"no {method or 'API'} calls recorded")
        return calls[-1]

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
        try:
            return self._messages[chat_id][message_id]
        except KeyError:
            raise LookupError(f"no message {message_id} in chat {chat_id}") from None

    @property
    def callback_queries(self) -> list[CallbackQueryRecord]:
        return list(self._callbacks.values())

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        return [q for q in self._callbacks.values() if not q.answered]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (via getUpdates offset)."""
        return copy.deepcopy(self._updates)

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting."""
        return self._poll is not None

    async def wait_for(
        self,
        predicate: Callable[[], _T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str | Callable[[], str] = "condition",
    ) -> _T:
        """Wait until ``predicate()`` returns something truthy (re-checked on every change)."""
        return await self._notifier.wait_for(predicate, timeout, what)

    # ------------------------------------------------------------------ internals for actors

    def _bot_id_for(self, token: str) -> int:
        head = token.split(":", 1)[0]
        return int(head) if head.isdigit() else self._bot_id_for(DEFAULT_TOKEN)

    def _bot_user(self, token: str | None = None) -> dict[str, Any]:
        return {
            "id": self._bot_id_for(token or self.token),
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _allocate_message_id(self, chat_id: int) -> int:
        next_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = next_id
        return next_id

    def _store(self, message: StoredMessage) -> StoredMessage:
        # Global order across chats, so sent_messages() without chat_id is chronological.
        self._seq += 1
        message.seq = self._seq
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        return message

    def _new_callback_id(self) -> str:
        # Telegram's ids are long numeric strings; keep the shape.
        value = f"{self._bot_id_for(self.token)}{self._next_callback_id:08d}"
        self._next_callback_id += 1
        return value

    def _register_callback(self, record: CallbackQueryRecord) -> None:
        record._notifier = self._notifier
        self._callbacks[record.id] = record

    def _changed(self) -> None:
        self._notifier.notify()

    def _wake_polls(self) -> None:
        self._updates_event.set()
        self._updates_event = asyncio.Event()

    # ------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.method == "POST" and request.body_exists:
            if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = value.file.read()
                    else:
                        params[key] = value
            else:
                raw = await request.text()
                try:
                    body = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    raise _bad_request("can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise _bad_request("JSON body must be an object")
                params.update(body)
        decoded = {
            key: _decode_field(key, value) if isinstance(value, str) else value
            for key, value in params.items()
        }
        for key in _INT_FIELDS & decoded.keys():
            value = decoded[key]
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                decoded[key] = int(value)
        return decoded, files

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        token = request.match_info["token"]
        method = request.match_info["method"]
        self.tokens_seen.add(token)
        params: dict[str, Any] = {}
        try:
            params, files = await self._read_params(request)
            result = await self._dispatch(token, method, params, files)
        except FakeApiError as error:
            body = error.to_body()
            status = error.error_code
        except Exception as error:
            # A bug in the fake (or a custom handler) must not look like a network problem.
            logger.exception("fake Telegram failed on %s", method)
            body = FakeApiError(500, f"Internal Server Error: fake server: {error!r}").to_body()
            status = 500
        else:
            body = {"ok": True, "result": result}
            status = 200
        self._calls.append(
            Call(
                method=method,
                params=params,
                token=token,
                status=status,
                response=copy.deepcopy(body),
                timestamp=started,
            )
        )
        self._notifier.notify()
        return web.json_response(body, status=status)

    async def _dispatch(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        key = method.lower()
        delay = self._latency.get(key, 0.0 if key == "getupdates" else self._latency.get("*", 0))
        if delay:
            await asyncio.sleep(delay)
        faults = self._faults.get(key)
        if faults:
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.popleft()
            raise fault.error
        if not self.accept_any_token and token != self.token:
            raise FakeApiError(401, "Unauthorized")
        if key == "getupdates":
            return await self._get_updates(params)
        if key in self._custom_methods:
            return self._custom_methods[key](params)
        handler = self._handlers.get(key)
        if handler is None:
            raise FakeApiError(404, "Not Found")
        params["_files"] = files
        try:
            return handler(params, token)
        finally:
            params.pop("_files", None)

    # ------------------------------------------------------------------ helpers

    def _chat(self, chat_id: Any, *, check_access: bool = True) -> dict[str, Any]:
        """Resolve chat_id to a Chat object, raising Telegram's errors."""
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@").lower()
            chats = [u.to_chat() for u in self._users.values()]
            chats += [g.to_chat() for g in self._groups.values()]
            for chat in chats:
                if str(chat.get("username", "")).lower() == username:
                    chat_id = int(chat["id"])
                    break
            else:
                raise _bad_request("chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _bad_request("chat not found")
        error = self._chat_errors.get(chat_id)
        if error is not None and (check_access or error.error_code == 400):
            raise error
        if chat_id > 0:
            user = self._users.get(chat_id)
            if user is not None:
                return user.to_chat()
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        group = self._groups.get(chat_id)
        if group is None:
            raise _bad_request("chat not found")
        return group.to_chat()

    def _check_rate(self, chat: dict[str, Any]) -> None:
        now = time.monotonic()
        waits: list[float] = []
        if self.global_per_second is not None:
            waits.append(self._window_wait(self._sent_global, self.global_per_second, 1.0, now))
        history = self._sent_per_chat.get(int(chat["id"]), deque())
        if self.per_chat_per_second is not None:
            waits.append(self._window_wait(history, self.per_chat_per_second, 1.0, now))
        if self.per_group_per_minute is not None and chat["type"] != "private":
            waits.append(self._window_wait(history, self.per_group_per_minute, 60.0, now))
        wait = max(waits, default=0.0)
        if wait > 0:
            retry_after = self.retry_after or max(1, math.ceil(wait))
            raise FakeApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    @staticmethod
    def _window_wait(history: deque[float], limit: int, window: float, now: float) -> float:
        recent = [t for t in history if now - t < window]
        if len(recent) < limit:
            return 0.0
        # The slot frees when the oldest of the last `limit` sends leaves the window.
        return recent[-limit] + window - now

    def _note_send(self, chat_id: int) -> None:
        now = time.monotonic()
        self._sent_global.append(now)
        while self._sent_global and now - self._sent_global[0] >= 1.0:
            self._sent_global.popleft()
        history = self._sent_per_chat.setdefault(chat_id, deque())
        history.append(now)
        while history and now - history[0] >= 60.0:
            history.popleft()

    def _formatted(
        self,
        params: dict[str, Any],
        *,
        text_key: str,
        entities_key: str,
        limit: int,
        too_long: str,
    ) -> ParsedText | None:
        raw = params.get(text_key)
        if raw is None or raw == "":
            return None
        raw = str(raw)
        mode = str(params.get("parse_mode") or "").lower()
        # Like the real Bot API, a parse_mode wins over explicit entities.
        if mode == "html":
            try:
                parsed = parse_html(raw, strict=self.strict_html)
            except EntityParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        elif mode in ("", "none", "markdown", "markdownv2"):
            # Markdown is not emulated: the text is taken as-is.
            entities = params.get(entities_key) if not mode or mode == "none" else None
            parsed = ParsedText(raw, list(entities) if isinstance(entities, list) else [])
        else:
            raise _bad_request("unsupported parse_mode")
        trimmed = trim_text(parsed.text, parsed.entities)
        if utf16_len(trimmed.text) > limit:
            raise _bad_request(too_long)
        return trimmed if trimmed.text else None

    def _text(self, params: dict[str, Any]) -> ParsedText:
        parsed = self._formatted(
            params,
            text_key="text",
            entities_key="entities",
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
        )
        if parsed is None:
            raise _bad_request("message text is empty")
        return parsed

    def _caption(self, params: dict[str, Any]) -> ParsedText | None:
        return self._formatted(
            params,
            text_key="caption",
            entities_key="caption_entities",
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
        )

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """Validate reply_markup; return the inline keyboard to store on the message."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            # Reply keyboards / remove / force_reply are accepted but not part of Message.
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                self._check_button(button)
        if not any(rows):
            return None
        return copy.deepcopy(markup)

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        actions = [name for name in _BUTTON_ACTIONS if button.get(name) not in (None, "")]
        if "callback_data" in button:
            data = button["callback_data"]
            if (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
        if not actions:
            raise _bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if len(actions) > 1:
            # Telegram's own wording differs; fake-specific, the point is to fail loudly.
            raise _bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields "
                f"must be used, got {actions}"
            )
        if "url" in actions:
            url = str(button["url"])
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https", "tg") or (
                parts.scheme != "tg" and not parts.hostname
            ):
                raise _bad_request("BUTTON_URL_INVALID")

    def _find_message(self, chat_id: int, message_id: Any, missing: str) -> StoredMessage:
        if not isinstance(message_id, int):
            raise _bad_request(
                "message identifier is not specified" if message_id is None else missing
            )
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise _bad_request(missing)
        return message

    def _reply_to(self, params: dict[str, Any], chat_id: int) -> StoredMessage | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            target_chat = reply.get("chat_id", chat_id)
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
            target_chat = chat_id
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        target = self._messages.get(int(target_chat), {}).get(int(message_id or 0))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _new_outgoing(
        self, params: dict[str, Any], token: str, chat: dict[str, Any], method: str
    ) -> StoredMessage:
        chat_id = int(chat["id"])
        public_params = {k: v for k, v in params.items() if not k.startswith("_")}
        return StoredMessage(
            chat=chat,
            message_id=self._allocate_message_id(chat_id),
            date=int(time.time()),
            sender=self._bot_user(token),
            from_bot=True,
            method=method,
            params=public_params,
            protect_content=bool(params.get("protect_content")),
        )

    def _photo_sizes(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        files: dict[str, bytes] = params.get("_files", {})
        photo = params.get("photo")
        content: bytes | None = None
        if isinstance(photo, str) and photo.startswith("attach://"):
            content = files.get(photo.removeprefix("attach://"))
            if content is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        elif "photo" in files:
            content = files["photo"]
        if content is not None:
            file_id = "AgAfake" + hashlib.sha1(content).hexdigest()[:24]
        elif not isinstance(photo, str) or not photo:
            raise _bad_request("there is no photo in the request")
        elif photo.startswith(("http://", "https://")):
            if photo in self.bad_urls:
                raise _bad_request("failed to get HTTP URL content")
            file_id = "AgAfakeurl" + hashlib.sha1(photo.encode()).hexdigest()[:24]
        elif _FILE_ID_RE.fullmatch(photo):
            file_id = photo
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        unique = hashlib.sha1(file_id.encode()).hexdigest()[:12]
        return [
            {"file_id": file_id + "_s", "file_unique_id": unique + "s", "width": 90, "height": 60},
            {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 853},
        ]

    # ------------------------------------------------------------------ methods

    @staticmethod
    def _true(params: dict[str, Any], token: str) -> bool:
        return True

    def _get_me(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            **self._bot_user(token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: dict[str, Any], token: str) -> bool:
        self.webhook_url = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any], token: str) -> bool:
        url = params.get("url")
        self.webhook_url = str(url) if url else None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if self.webhook_url:
            self._wake_polls()
        return True

    def _get_webhook_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any], token: str) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = copy.deepcopy(commands)
        return True

    def _get_my_commands(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any], token: str) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_profile(self, field_name: str) -> Callable[[dict[str, Any], str], bool]:
        def handler(params: dict[str, Any], token: str) -> bool:
            key = (field_name, str(params.get("language_code") or params.get("chat_id") or ""))
            self.bot_profile[key] = params.get(field_name)
            return True

        return handler

    def _get_chat(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"), check_access=False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _send_chat_action(self, params: dict[str, Any], token: str) -> bool:
        self._chat(params.get("chat_id"))
        return True

    def _prepare_send(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        self._check_rate(chat)
        return chat

    def _send_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat = self._prepare_send(params)
        parsed = self._text(params)
        markup = self._markup(params)
        reply_to = self._reply_to(params, int(chat["id"]))
        message = self._new_outgoing(params, token, chat, "sendMessage")
        message.text = parsed.text
        message.entities = parsed.entities
        message.raw_text = str(params["text"])
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        message.reply_to = reply_to
        preview = params.get("link_preview_options")
        message.link_preview_options = preview if isinstance(preview, dict) else None
        return self._commit_send(message)

    def _commit_send(self, message: StoredMessage) -> dict[str, Any]:
        self._store(message)
        self._note_send(message.chat_id)
        return message.to_api()

    def _send_photo(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat = self._prepare_send(params)
        sizes = self._photo_sizes(params)
        caption = self._caption(params)
        markup = self._markup(params)
        reply_to = self._reply_to(params, int(chat["id"]))
        message = self._new_outgoing(params, token, chat, "sendPhoto")
        message.photo = sizes
        if caption is not None:
            message.caption = caption.text
            message.caption_entities = caption.entities
        message.raw_text = params.get("caption")
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        message.reply_to = reply_to
        return self._commit_send(message)

    def _copy_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat = self._prepare_send(params)
        source_chat = self._chat(params.get("from_chat_id"), check_access=False)
        source = self._find_message(
            int(source_chat["id"]), params.get("message_id"), "message to copy not found"
        )
        markup = self._markup(params)
        message = self._new_outgoing(params, token, chat, "copyMessage")
        message.text = source.text
        message.entities = copy.deepcopy(source.entities)
        message.photo = copy.deepcopy(source.photo)
        message.link_preview_options = source.link_preview_options
        if "caption" in params and source.photo is not None:
            caption = self._caption(params)
            message.caption = caption.text if caption else None
            message.caption_entities = caption.entities if caption else []
        else:
            message.caption = source.caption
            message.caption_entities = copy.deepcopy(source.caption_entities)
        message.reply_markup = markup
        message.reply_to = self._reply_to(params, int(chat["id"]))
        self._commit_send(message)
        return {"message_id": message.message_id}

    def _forward_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat = self._prepare_send(params)
        source_chat = self._chat(params.get("from_chat_id"), check_access=False)
        source = self._find_message(
            int(source_chat["id"]), params.get("message_id"), "message to forward not found"
        )
        if source.protect_content:
            raise _bad_request("message can't be forwarded")
        message = self._new_outgoing(params, token, chat, "forwardMessage")
        message.text = source.text
        message.entities = copy.deepcopy(source.entities)
        message.photo = copy.deepcopy(source.photo)
        message.caption = source.caption
        message.caption_entities = copy.deepcopy(source.caption_entities)
        if source.chat.get("type") == "channel":
            origin: dict[str, Any] = {
                "type": "channel",
                "chat": dict(source.chat),
                "message_id": source.message_id,
                "date": source.date,
            }
        else:
            origin = {"type": "user", "sender_user": dict(source.sender), "date": source.date}
        message.forward_origin = origin
        return self._commit_send(message)

    def _editable(self, params: dict[str, Any]) -> StoredMessage:
        if params.get("inline_message_id"):
            raise _bad_request("fake server does not support inline messages")
        chat = self._chat(params.get("chat_id"))
        message = self._find_message(
            int(chat["id"]), params.get("message_id"), "message to edit not found"
        )
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _apply_edit(message: StoredMessage, **changes: Any) -> dict[str, Any]:
        message._snapshot()
        for name, value in changes.items():
            setattr(message, name, value)
        message.edit_date = int(time.time())
        return message.to_api()

    def _edit_message_text(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        message = self._editable(params)
        parsed = self._text(params)
        # Omitting reply_markup in an edit removes the inline keyboard, as in Telegram.
        markup = self._markup(params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        if (parsed.text, parsed.entities, markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        preview = params.get("link_preview_options")
        return self._apply_edit(
            message,
            text=parsed.text,
            entities=parsed.entities,
            raw_text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            link_preview_options=preview if isinstance(preview, dict) else None,
        )

    def _edit_message_caption(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        message = self._editable(params)
        caption = self._caption(params)
        markup = self._markup(params)
        if message.photo is None:
            raise _bad_request("there is no caption in the message to edit")
        new_text = caption.text if caption else None
        new_entities = caption.entities if caption else []
        if (new_text, new_entities, markup) == (
            message.caption,
            message.caption_entities,
            message.reply_markup,
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._apply_edit(
            message,
            caption=new_text,
            caption_entities=new_entities,
            raw_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )

    def _edit_message_reply_markup(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        message = self._editable(params)
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._apply_edit(message, reply_markup=markup)

    def _delete_message(self, params: dict[str, Any], token: str) -> bool:
        chat = self._chat(params.get("chat_id"), check_access=False)
        message = self._find_message(
            int(chat["id"]), params.get("message_id"), "message to delete not found"
        )
        message.deleted = True
        return True

    def _delete_messages(self, params: dict[str, Any], token: str) -> bool:
        chat = self._chat(params.get("chat_id"), check_access=False)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad_request("message identifiers are not specified")
        for message_id in ids:
            message = self._messages.get(int(chat["id"]), {}).get(int(message_id))
            if message is not None:
                message.deleted = True
        return True

    def _answer_callback_query(self, params: dict[str, Any], token: str) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id", "")))
        if query is None or query.answered:
            raise _bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answer = {k: v for k, v in params.items() if not k.startswith("_")}
        return True

    # ------------------------------------------------------------------ getUpdates

    def _pick_updates(self, limit: int) -> list[dict[str, Any]]:
        picked = [u for u in self._updates if self._update_type(u) in self._allowed_updates]
        return copy.deepcopy(picked[:limit])

    @staticmethod
    def _update_type(update: dict[str, Any]) -> str:
        return next((k for k in update if k != "update_id"), "")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise FakeApiError(409, CONFLICT_WEBHOOK)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the setting for later calls; [] means "the default set".
            self._allowed_updates = frozenset(allowed) or _DEFAULT_UPDATE_TYPES
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        if self._poll is not None:
            self._poll.conflict = True
            self._wake_polls()
        poll = _Poll()
        self._poll = poll
        self._changed()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.conflict:
                    raise FakeApiError(409, CONFLICT_OTHER_POLL)
                updates = self._pick_updates(limit)
                remaining = deadline - loop.time()
                if updates or self._closing or remaining <= 0 or self.webhook_url:
                    return updates
                event = self._updates_event
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            if self._poll is poll:
                self._poll = None
