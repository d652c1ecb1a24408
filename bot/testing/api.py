"""The HTTP layer of the Bot API: ``/bot<token>/<method>`` in any of Telegram's encodings.

Every answer passes through here: the latency (half before handling, half before the
answer leaves), injected faults, the token check, then the method, and the call is
recorded in the state.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import re
import time
from typing import Any

from aiohttp import web

from bot.testing.errors import FakeApiError, bad_request
from bot.testing.methods import METHODS, ApiRequest
from bot.testing.records import Call
from bot.testing.state import TelegramState
from bot.testing.timing import FaultKind

__all__ = ["add_bot_api_routes", "call_method", "decode_params"]

logger = logging.getLogger(__name__)

STATE_KEY = web.AppKey("fake_telegram_state", TelegramState)

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
        "max_connections",
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
        "ip_address",
    }
)
_INT_RE = re.compile(r"-?\d+")


def _decode_field(key: str, value: str) -> Any:
    if key in _INT_FIELDS:
        return int(value) if _INT_RE.fullmatch(value) else value
    if key in _TEXT_FIELDS:
        return value
    if value in ("true", "false"):
        return value == "true"
    if value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Parameters as Telegram reads them: form strings become ints, booleans, JSON."""
    decoded = {
        key: _decode_field(key, value) if isinstance(value, str) else value
        for key, value in raw.items()
    }
    for key in _INT_FIELDS & decoded.keys():
        value = decoded[key]
        if isinstance(value, str) and _INT_RE.fullmatch(value):
            decoded[key] = int(value)
    return decoded


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
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
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            params.update(body)
    return decode_params(params), files


async def call_method(
    state: TelegramState,
    token: str,
    method: str,
    params: dict[str, Any],
    files: dict[str, bytes] | None = None,
) -> Any:
    """Run one Bot API method on the state: its result, or FakeApiError."""
    if not state.accept_any_token and token != state.token:
        raise FakeApiError(401, "Unauthorized")
    key = method.lower()
    custom = state.custom_methods.get(key)
    if custom is not None:
        return custom(params)
    handler = METHODS.get(key)
    if handler is None:
        raise FakeApiError(404, "Not Found")
    result = handler(ApiRequest(state, token, params, files or {}))
    if inspect.isawaitable(result):
        result = await result
    return result


async def _answer(
    state: TelegramState, token: str, method: str, request: web.Request
) -> tuple[dict[str, Any], int, dict[str, Any], FaultKind | None]:
    """(body, status, params, fault kind) for one request."""
    params: dict[str, Any] = {}
    try:
        params, files = await _read_params(request)
        fault = state.faults.take(method)
        if fault is not None and fault.kind is FaultKind.ERROR:
            assert fault.error is not None
            raise fault.error
        result = await call_method(state, token, method, params, files)
    except FakeApiError as error:
        return error.to_body(), error.error_code, params, None
    except Exception as error:
        # A bug in the fake (or a custom handler) must not look like a network problem.
        logger.exception("fake Telegram failed on %s", method)
        body = FakeApiError(500, f"Internal Server Error: fake server: {error!r}").to_body()
        return body, 500, params, None
    return {"ok": True, "result": result}, 200, params, fault.kind if fault else None


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    method = request.match_info["method"]
    state.tokens_seen.add(token)
    delay = state.latency.sample(method)
    if delay:
        await asyncio.sleep(delay / 2)  # the request on its way
    processed = time.monotonic()
    body, status, params, lost = await _answer(state, token, method, request)
    state.record_call(
        Call(
            method=method,
            params=params,
            token=token,
            status=status,
            response=copy.deepcopy(body),
            timestamp=processed,
            seq=state.next_call_seq(),
            answer_lost=lost is not None,
        )
    )
    if lost is FaultKind.HANG:
        await asyncio.Event().wait()  # until the client gives up (or the server stops)
    if lost is FaultKind.LOSE:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if delay:
        await asyncio.sleep(delay / 2)  # the answer on its way
    return web.json_response(body, status=status)


def add_bot_api_routes(app: web.Application, state: TelegramState) -> None:
    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", _handle)
