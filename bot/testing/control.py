"""The control API: drive a FakeTelegram over HTTP from another process.

Beside the Bot API (``/bot<token>/<method>``) the server then answers JSON under ``/fake``:

=======  ================================  ==============================================
GET      /fake/health                      ``{"ok": true, "token": ...}``
GET      /fake/stats                       counters: calls per method and status, ...
POST     /fake/reset                       forget messages, updates, calls, faults
POST     /fake/users                       create a user ``{"id", "first_name", ...}``
POST     /fake/groups                      create a group ``{"id", "title", "type"}``
POST     /fake/users/{id}/send             the user sends ``{"text", "chat_id"?}``
POST     /fake/users/{id}/press            presses ``{"message_id", "text"|"data"}``
POST     /fake/users/{id}/block|unblock    ``{"emit_update": true}``
GET      /fake/chats/{id}/messages         what the bot sent there, in order
GET      /fake/messages?after=SEQ          every bot message, in sending order
GET      /fake/calls?method=M&after=N      recorded Bot API calls
GET      /fake/callbacks/{id}              a callback query's answer (or null)
GET      /fake/updates                     updates not yet taken by the bot
PUT      /fake/chats/{id}/error            ``{"kind": "blocked"|"deactivated"|"missing"}``
DELETE   /fake/chats/{id}/error            clear it
POST     /fake/faults                      ``{"method", "count", "kind", "error_code", ...}``
PUT      /fake/latency                     ``{"mean", "jitter", "method"?}``
PUT      /fake/rate-limits                 RateLimits fields
=======  ================================  ==============================================

Bad requests get 400 with ``{"error": ...}``. ``bot.testing.client`` is its Python client.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

from aiohttp import web

from bot.testing.errors import ButtonNotFoundError
from bot.testing.flood import RateLimits
from bot.testing.server import FakeTelegram
from bot.testing.timing import Latency

__all__ = ["PREFIX", "attach_control"]

PREFIX = "/fake"
_FAKE = web.AppKey("fake_telegram", FakeTelegram)

_Handler = Callable[[web.Request], Awaitable[Any]]


class _BadInput(Exception):
    pass


def _route(handler: _Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = await handler(request)
        except (_BadInput, KeyError, TypeError, ValueError, LookupError) as error:
            return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        return web.json_response(result)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as error:
        raise _BadInput(f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise _BadInput("body must be a JSON object")
    return data


def _fake(request: web.Request) -> FakeTelegram:
    return request.app[_FAKE]


def _int(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


async def health(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    return {"ok": True, "token": fake.token, "bot_username": fake.bot_username}


async def stats(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    calls: dict[str, dict[str, int]] = {}
    for (method, status), count in sorted(fake.call_counts.items()):
        calls.setdefault(method, {})[str(status)] = count
    webhook = fake.webhook
    return {
        "calls": calls,
        "bot_messages": fake.bot_messages_stored,
        "pending_updates": fake.pending_update_count(),
        "polling": fake.polling,
        "answers_lost": fake.answers_lost,
        "unanswered_callbacks": len(fake.unanswered_callbacks()),
        "webhook": None
        if webhook is None
        else {
            "url": webhook.url,
            "delivered": webhook.delivered,
            "failed_attempts": webhook.failed_attempts,
            "last_error_message": webhook.last_error_message,
        },
        "faults_pending": fake.faults.pending(),
        "latency": fake.latency.to_json(),
        "rate_limits": fake.rate_limits.to_json(),
    }


async def reset(request: web.Request) -> dict[str, Any]:
    _fake(request).reset()
    return {"ok": True}


async def create_user(request: web.Request) -> dict[str, Any]:
    data = await _body(request)
    user = _fake(request).user(
        int(data["id"]),
        str(data.get("first_name", "Test")),
        last_name=data.get("last_name"),
        username=data.get("username"),
        language_code=data.get("language_code", "ru"),
        is_premium=data.get("is_premium"),
    )
    return user.to_user()


async def create_group(request: web.Request) -> dict[str, Any]:
    data = await _body(request)
    chat = _fake(request).group(
        int(data["id"]),
        str(data.get("title", "Test group")),
        type=str(data.get("type", "supergroup")),
        username=data.get("username"),
    )
    return chat.to_chat()


async def user_send(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    user = fake.user(_int(request, "user_id"))
    chat = fake.group(int(data["chat_id"])) if data.get("chat_id") else None
    message = await user.send(str(data["text"]), chat=chat, reply_to=data.get("reply_to"))
    return message.to_json()


async def user_press(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    user = fake.user(_int(request, "user_id"))
    chat = fake.group(int(data["chat_id"])) if data.get("chat_id") else None
    try:
        record = await user.press(
            int(data["message_id"]), text=data.get("text"), data=data.get("data"), chat=chat
        )
    except ButtonNotFoundError as error:
        raise _BadInput(str(error)) from None
    return {"callback_query_id": record.id, "data": record.data}


def _user_block(blocked: bool) -> _Handler:
    async def handler(request: web.Request) -> dict[str, Any]:
        data = await _body(request)
        user = _fake(request).user(_int(request, "user_id"))
        emit = bool(data.get("emit_update", True))
        await (user.block(emit_update=emit) if blocked else user.unblock(emit_update=emit))
        return {"ok": True}

    return handler


async def chat_messages(request: web.Request) -> dict[str, Any]:
    include_deleted = request.query.get("include_deleted", "") in ("1", "true")
    messages = _fake(request).sent_messages(
        _int(request, "chat_id"), include_deleted=include_deleted
    )
    return {"messages": [m.to_json() for m in messages]}


async def all_messages(request: web.Request) -> dict[str, Any]:
    after = int(request.query.get("after", 0))
    messages = _fake(request).sent_messages(include_deleted=True)
    return {"messages": [m.to_json() for m in messages if m.seq > after]}


async def calls(request: web.Request) -> dict[str, Any]:
    method = request.query.get("method") or None
    after = int(request.query.get("after", 0))
    return {"calls": [c.to_json() for c in _fake(request).calls(method, after=after)]}


async def callback(request: web.Request) -> dict[str, Any]:
    record = _fake(request).callback(request.match_info["callback_id"])
    if record is None:
        raise LookupError(f"no callback query {request.match_info['callback_id']}")
    return {"id": record.id, "data": record.data, "answer": record.answer}


async def updates(request: web.Request) -> dict[str, Any]:
    return {"updates": _fake(request).pending_updates}


_CHAT_ERRORS = {"blocked": "block", "deactivated": "deactivate", "missing": "mark_missing"}


async def set_chat_error(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    chat_id = _int(request, "chat_id")
    kind = data.get("kind")
    if kind is not None:
        if kind not in _CHAT_ERRORS:
            raise _BadInput(f"kind must be one of {sorted(_CHAT_ERRORS)}")
        getattr(fake, _CHAT_ERRORS[kind])(chat_id)
    else:
        fake.set_chat_error(chat_id, int(data["error_code"]), str(data["description"]))
    return {"ok": True}


async def clear_chat_error(request: web.Request) -> dict[str, Any]:
    _fake(request).unblock(_int(request, "chat_id"))
    return {"ok": True}


async def add_fault(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    method = str(data["method"])
    count = int(data.get("count", 1))
    kind = str(data.get("kind", "error"))
    if kind == "lose":
        fake.lose_answers(method, count)
    elif kind == "hang":
        fake.hang_answers(method, count)
    elif kind == "error":
        retry_after = data.get("retry_after")
        fake.fail_next(
            method,
            count,
            error_code=int(data.get("error_code", 500)),
            description=data.get("description"),
            retry_after=int(retry_after) if retry_after is not None else None,
        )
    else:
        raise _BadInput("kind must be error, lose or hang")
    return {"ok": True, "pending": fake.faults.pending()}


async def set_latency(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    latency = Latency(float(data.get("mean", 0)), float(data.get("jitter", 0)))
    fake.set_latency(latency, data.get("method"))
    return fake.latency.to_json()


async def set_rate_limits(request: web.Request) -> dict[str, Any]:
    fake = _fake(request)
    data = await _body(request)
    known = {f.name for f in fields(RateLimits)}
    unknown = set(data) - known
    if unknown:
        raise _BadInput(f"unknown rate limit fields {sorted(unknown)}; known: {sorted(known)}")
    fake.set_rate_limits(RateLimits(**data))
    return fake.rate_limits.to_json()


def attach_control(fake: FakeTelegram) -> FakeTelegram:
    """Serve the control API beside the Bot API (call before ``fake.start()``)."""

    def setup(app: web.Application) -> None:
        app[_FAKE] = fake
        routes: list[tuple[str, str, _Handler]] = [
            ("GET", "/health", health),
            ("GET", "/stats", stats),
            ("POST", "/reset", reset),
            ("POST", "/users", create_user),
            ("POST", "/groups", create_group),
            ("POST", "/users/{user_id}/send", user_send),
            ("POST", "/users/{user_id}/press", user_press),
            ("POST", "/users/{user_id}/block", _user_block(True)),
            ("POST", "/users/{user_id}/unblock", _user_block(False)),
            ("GET", "/chats/{chat_id}/messages", chat_messages),
            ("GET", "/messages", all_messages),
            ("GET", "/calls", calls),
            ("GET", "/callbacks/{callback_id}", callback),
            ("GET", "/updates", updates),
            ("PUT", "/chats/{chat_id}/error", set_chat_error),
            ("DELETE", "/chats/{chat_id}/error", clear_chat_error),
            ("POST", "/faults", add_fault),
            ("PUT", "/latency", set_latency),
            ("PUT", "/rate-limits", set_rate_limits),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, _route(handler))

    fake.add_routes(setup)
    return fake
