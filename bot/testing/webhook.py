"""Delivering updates to a webhook the way Telegram's Bot API server does.

While a webhook is set, each pending update is POSTed to its URL as JSON, with the
``X-Telegram-Bot-Api-Secret-Token`` header when a secret was given. Updates of one chat go
one at a time and in order; different chats go in parallel, up to the webhook's
``max_connections``. A non-2xx answer, a connection error or a timeout is recorded as the
webhook's ``last_error_message`` and the same update is retried after a delay that
doubles up to a maximum (or after the answer's ``Retry-After``); later updates of that
chat wait. A 2xx answer may carry a Bot API method call in its JSON body, which is run,
as Telegram does for webhook replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.testing.api import call_method, decode_params
from bot.testing.errors import FakeApiError
from bot.testing.records import Call
from bot.testing.state import TelegramState, Webhook, update_type

__all__ = ["SECRET_HEADER", "WebhookDelivery", "WebhookRetry", "queue_key"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram runs no method of these names from a webhook reply.
_NOT_IN_REPLY = frozenset({"setwebhook", "deletewebhook", "close", "logout"})


@dataclass(frozen=True, slots=True)
class WebhookRetry:
    """Retry delays after a failed delivery, and how long the bot has to answer.

    Telegram starts at about a second and goes up to a minute; these defaults are
    shorter so that tests of failures stay quick.
    """

    initial: float = 0.1
    maximum: float = 5.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.timeout <= 0:
            raise ValueError(f"bad webhook retry settings: {self!r}")


def queue_key(update: dict[str, Any]) -> int | str:
    """Updates with the same key are delivered in order: the chat, else the user."""
    body = update.get(update_type(update))
    if isinstance(body, dict):
        message = body.get("message")
        chat = body.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        user = body.get("from") or body.get("user")
        if isinstance(user, dict) and "id" in user:
            return int(user["id"])
    return f"update:{update['update_id']}"


class WebhookDelivery:
    """Runs beside the HTTP server and delivers pending updates while a webhook is set."""

    def __init__(self, state: TelegramState, retry: WebhookRetry | None = None) -> None:
        self.state = state
        self.retry = retry or WebhookRetry()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._workers: dict[int | str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="fake-telegram-webhook")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._workers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            self._start_workers()
            await self.state.update_notifier.changed()

    def _start_workers(self) -> None:
        webhook = self.state.webhook
        if webhook is None:
            return
        for key in self.state.pending_update_keys(queue_key):
            if len(self._workers) >= webhook.max_connections:
                return
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._deliver_chat(key))

    async def _deliver_chat(self, key: int | str) -> None:
        """Deliver the updates of one chat in order, each until it is accepted."""
        delay = self.retry.initial
        try:
            while (webhook := self.state.webhook) is not None:
                update = self.state.first_update(lambda u: queue_key(u) == key)
                if update is None:
                    return
                if update_type(update) not in webhook.allowed_updates:
                    self.state.forget_update(int(update["update_id"]))
                    continue
                retry_after = await self._post(webhook, update)
                if retry_after is None:
                    webhook.delivered += 1
                    self.state.forget_update(int(update["update_id"]))
                    delay = self.retry.initial
                    continue
                await asyncio.sleep(retry_after or delay)
                delay = min(delay * 2, self.retry.maximum)
        finally:
            self._workers.pop(key, None)
            self.state.update_notifier.notify()  # room for another chat's worker

    async def _post(self, webhook: Webhook, update: dict[str, Any]) -> float | None:
        """POST one update: None when accepted, else the Retry-After seconds (0 if none)."""
        assert self._session is not None
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        one_way = self.state.latency.sample("webhook") / 2
        if one_way:
            await asyncio.sleep(one_way)
        try:
            async with self._session.post(
                webhook.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.retry.timeout),
            ) as response:
                body = await response.read()
                if 200 <= response.status <= 299:
                    await self._run_reply(body)
                    return None
                webhook.note_error(
                    f"Wrong response from the webhook: {response.status} {response.reason}"
                )
                return _retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            webhook.note_error("Read timeout expired")
        except aiohttp.ClientConnectorError:
            webhook.note_error("Connection refused")
        except aiohttp.ClientError:
            webhook.note_error("Webhook connection closed")
        except Exception as error:  # a bug here must not become a hot retry loop
            logger.exception("fake Telegram failed to deliver to %s", webhook.url)
            webhook.note_error(f"fake server: {error!r}")
        self.state.notifier.notify()
        return 0.0

    async def _run_reply(self, body: bytes) -> None:
        """A method call in the webhook's answer is executed (its result goes nowhere)."""
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return
        method = str(payload["method"])
        if method.lower() in _NOT_IN_REPLY or method.lower().startswith("get"):
            return
        params = decode_params({k: v for k, v in payload.items() if k != "method"})
        state = self.state
        processed = time.monotonic()
        try:
            result = await call_method(state, state.token, method, params)
            response: dict[str, Any] = {"ok": True, "result": result}
        except FakeApiError as error:
            response = error.to_body()
        except Exception as error:
            logger.exception("fake Telegram failed on %s from a webhook reply", method)
            response = FakeApiError(500, f"Internal Server Error: {error!r}").to_body()
        state.record_call(
            Call(
                method=method,
                params=params,
                token=state.token,
                status=200 if response["ok"] else int(response["error_code"]),
                response=response,
                timestamp=processed,
                seq=state.next_call_seq(),
            )
        )


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 0), 0.0), 3600.0)
    except ValueError:
        return 0.0
