"""What a method handler gets: the state, the token, the decoded parameters and files."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.testing.errors import bad_request
from bot.testing.records import StoredMessage
from bot.testing.state import TelegramState

__all__ = ["ApiRequest", "Handler", "find_message", "new_outgoing"]


@dataclass(slots=True)
class ApiRequest:
    state: TelegramState
    token: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def strict_html(self) -> bool:
        return self.state.strict_html

    def chat(self, key: str = "chat_id", *, check_access: bool = True) -> dict[str, Any]:
        return self.state.chats.resolve(self.params.get(key), check_access=check_access)


# A handler returns the ``result`` of the answer, or raises FakeApiError.
Handler = Callable[[ApiRequest], Any | Awaitable[Any]]


def find_message(
    state: TelegramState, chat_id: int, message_id: Any, missing: str
) -> StoredMessage:
    """A message that exists and is not deleted, or Telegram's 400 with ``missing``."""
    if not isinstance(message_id, int):
        raise bad_request("message identifier is not specified" if message_id is None else missing)
    message = state.find_message(chat_id, message_id)
    if message is None or message.deleted:
        raise bad_request(missing)
    return message


def new_outgoing(request: ApiRequest, chat: dict[str, Any], method: str) -> StoredMessage:
    """A message from the bot to ``chat``, not stored yet."""
    state = request.state
    return StoredMessage(
        chat=chat,
        message_id=state.new_message_id(int(chat["id"])),
        date=int(time.time()),
        sender=state.bot_user(request.token),
        from_bot=True,
        method=method,
        params=dict(request.params),
        protect_content=bool(request.params.get("protect_content")),
    )
