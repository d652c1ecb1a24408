"""A Python client for the fake's control API (``bot.testing.control``).

    async with FakeTelegramClient("http://127.0.0.1:8081") as fake:
        await fake.create_user(1001, "Анна")
        await fake.send(1001, "/start")
        [reply] = await fake.wait_for_chat_messages(1001, count=1)

Messages come back as ``StoredMessage`` snapshots and calls as ``Call``, the same types an
in-process ``FakeTelegram`` hands out.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

import aiohttp

from bot.testing.control import PREFIX
from bot.testing.errors import WaitTimeoutError
from bot.testing.flood import RateLimits
from bot.testing.records import Call, StoredMessage
from bot.testing.timing import Latency

__all__ = ["ControlError", "FakeTelegramClient"]


class ControlError(RuntimeError):
    """The control API refused a request (bad input, unknown message or user)."""


class FakeTelegramClient:
    """Drives a fake Telegram server in another process through its control API."""

    def __init__(self, base_url: str, *, poll_interval: float = 0.05) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_interval = poll_interval
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, verb: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        async with self._session.request(
            verb, f"{self.base_url}{PREFIX}{path}", json=body, params=params
        ) as response:
            data = await response.json()
            if response.status != 200:
                raise ControlError(f"{verb} {path}: {data.get('error', data)}")
            return data

    # ------------------------------------------------------------------ reading

    async def health(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/health"))

    async def stats(self) -> dict[str, Any]:
        """Calls per method and status, bot messages stored, pending updates, webhook."""
        return dict(await self._request("GET", "/stats"))

    async def chat_messages(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """What the bot sent to a chat, in order (current state of each message)."""
        data = await self._request(
            "GET", f"/chats/{chat_id}/messages", query={"include_deleted": int(include_deleted)}
        )
        return [StoredMessage.from_json(m) for m in data["messages"]]

    async def messages(self, *, after: int = 0) -> list[StoredMessage]:
        """Every message the bot sent (deleted ones too), in sending order; ``after`` a seq."""
        data = await self._request("GET", "/messages", query={"after": after})
        return [StoredMessage.from_json(m) for m in data["messages"]]

    async def calls(self, method: str | None = None, *, after: int = 0) -> list[Call]:
        data = await self._request("GET", "/calls", query={"method": method, "after": after})
        return [Call.from_json(c) for c in data["calls"]]

    async def pending_updates(self) -> list[dict[str, Any]]:
        return list((await self._request("GET", "/updates"))["updates"])

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """The bot's answerCallbackQuery parameters, or None while unanswered."""
        data = await self._request("GET", f"/callbacks/{callback_query_id}")
        answer = data["answer"]
        return dict(answer) if answer is not None else None

    async def wait_for_bot_messages(
        self,
        count: int,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Wait until the bot has sent at least ``count`` messages in all; return the stats."""
        return await self._poll_until(
            lambda s: s["bot_messages"] >= count, timeout, f"{count} bot messages"
        )

    async def wait_for_chat_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        """Wait until a chat has at least ``count`` bot messages; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = await self.chat_messages(chat_id, include_deleted=True)
            if len(messages) >= count:
                return messages
            if loop.time() >= deadline:
                raise WaitTimeoutError(
                    f"timed out after {timeout:g}s waiting for {count} bot message(s) in chat "
                    f"{chat_id}; got {messages!r}"
                )
            await asyncio.sleep(self.poll_interval)

    async def _poll_until(
        self,
        done: Any,
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            stats = await self.stats()
            if done(stats):
                return stats
            if loop.time() >= deadline:
                raise WaitTimeoutError(f"timed out after {timeout:g}s waiting for {what}: {stats}")
            await asyncio.sleep(self.poll_interval)

    # ------------------------------------------------------------------ acting as users

    async def create_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "id": user_id,
            "first_name": first_name,
            "language_code": language_code,
            "username": username,
        }
        return dict(await self._request("POST", "/users", body))

    async def create_group(
        self, chat_id: int, title: str = "Test group", *, type: str = "supergroup"
    ) -> dict[str, Any]:
        body = {"id": chat_id, "title": title, "type": type}
        return dict(await self._request("POST", "/groups", body))

    async def send(self, user_id: int, text: str, *, chat_id: int | None = None) -> StoredMessage:
        """The user sends ``text`` to the bot (in their private chat, or in a group)."""
        body = {"text": text, "chat_id": chat_id}
        return StoredMessage.from_json(await self._request("POST", f"/users/{user_id}/send", body))

    async def press(
        self,
        user_id: int,
        message_id: int,
        *,
        text: str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
    ) -> str:
        """Press an inline button; returns the callback query id."""
        body = {"message_id": message_id, "text": text, "data": data, "chat_id": chat_id}
        result = await self._request("POST", f"/users/{user_id}/press", body)
        return str(result["callback_query_id"])

    async def block(self, user_id: int, *, emit_update: bool = True) -> None:
        await self._request("POST", f"/users/{user_id}/block", {"emit_update": emit_update})

    async def unblock(self, user_id: int, *, emit_update: bool = True) -> None:
        await self._request("POST", f"/users/{user_id}/unblock", {"emit_update": emit_update})

    # ------------------------------------------------------------------ faults and behaviour

    async def set_chat_error(
        self,
        chat_id: int,
        kind: str | None = None,
        *,
        error_code: int | None = None,
        description: str | None = None,
    ) -> None:
        """``kind`` "blocked", "deactivated" or "missing"; or an error code and description."""
        body = (
            {"kind": kind}
            if kind is not None
            else {"error_code": error_code, "description": description}
        )
        await self._request("PUT", f"/chats/{chat_id}/error", body)

    async def clear_chat_error(self, chat_id: int) -> None:
        await self._request("DELETE", f"/chats/{chat_id}/error")

    async def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        error_code: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        body = {
            "method": method,
            "count": count,
            "kind": "error",
            "error_code": error_code,
            "description": description,
            "retry_after": retry_after,
        }
        await self._request("POST", "/faults", body)

    async def lose_answers(self, method: str, count: int = 1) -> None:
        await self._request("POST", "/faults", {"method": method, "count": count, "kind": "lose"})

    async def hang_answers(self, method: str, count: int = 1) -> None:
        await self._request("POST", "/faults", {"method": method, "count": count, "kind": "hang"})

    async def set_latency(self, latency: Latency | float, method: str | None = None) -> None:
        value = latency if isinstance(latency, Latency) else Latency(float(latency))
        await self._request("PUT", "/latency", {**value.to_json(), "method": method})

    async def set_rate_limits(self, limits: RateLimits) -> None:
        await self._request("PUT", "/rate-limits", limits.to_json())

    async def reset(self) -> None:
        """Forget messages, updates, calls and faults (users and settings stay)."""
        await self._request("POST", "/reset")
