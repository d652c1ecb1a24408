"""Who the bot can talk to: users, groups, and the errors Telegram gives for some chats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.testing.errors import FakeApiError, bad_request

__all__ = ["BLOCKED", "DEACTIVATED", "NOT_FOUND", "ChatDirectory", "UserProfile"]

BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
NOT_FOUND = "Bad Request: chat not found"


@dataclass(slots=True)
class UserProfile:
    """A Telegram user as the fake knows them."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"
    is_premium: bool | None = None

    def to_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def to_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of the private chat with this user."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


class ChatDirectory:
    """Users and groups, and per-chat errors (blocked, deactivated, not found).

    By default any positive id is a private chat that exists (a user who started the bot
    long ago); with ``known_chats_only`` only users created with ``add_user`` exist and
    the others answer 400 "chat not found", as for someone who never opened the bot.
    """

    def __init__(self, *, known_chats_only: bool = False) -> None:
        self.known_chats_only = known_chats_only
        self.users: dict[int, UserProfile] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._errors: dict[int, FakeApiError] = {}

    def add_user(self, profile: UserProfile) -> UserProfile:
        """Register a user; an existing id keeps its first profile."""
        if profile.id <= 0:
            raise ValueError("user ids are positive")
        return self.users.setdefault(profile.id, profile)

    def add_group(
        self, id: int, title: str, *, type: str = "supergroup", username: str | None = None
    ) -> dict[str, Any]:
        if id >= 0:
            raise ValueError("group ids are negative")
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unsupported chat type {type!r}")
        data: dict[str, Any] = {"id": id, "type": type, "title": title}
        if username:
            data["username"] = username
        return self.groups.setdefault(id, data)

    # -- errors

    def set_error(self, chat_id: int, error_code: int, description: str) -> None:
        """Every call addressed to ``chat_id`` fails with this error until cleared."""
        self._errors[chat_id] = FakeApiError(error_code, description)

    def clear_error(self, chat_id: int) -> None:
        self._errors.pop(chat_id, None)

    def error_of(self, chat_id: int) -> FakeApiError | None:
        return self._errors.get(chat_id)

    def is_blocked(self, chat_id: int) -> bool:
        error = self._errors.get(chat_id)
        return error is not None and error.description == BLOCKED

    def errors(self) -> dict[int, str]:
        return {chat_id: e.description for chat_id, e in self._errors.items()}

    # -- resolution

    def resolve(self, chat_id: Any, *, check_access: bool = True) -> dict[str, Any]:
        """The Chat object for a ``chat_id`` parameter, raising Telegram's errors.

        ``check_access=False`` is for reading (getChat, the source of a copy): a blocked
        user's chat still exists, only a missing one fails.
        """
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat_id = self._by_username(chat_id.removeprefix("@").lower())
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise bad_request("chat not found")
        error = self._errors.get(chat_id)
        if error is not None and (check_access or error.error_code == 400):
            raise error
        if chat_id > 0:
            user = self.users.get(chat_id)
            if user is not None:
                return user.to_chat()
            if self.known_chats_only:
                raise bad_request("chat not found")
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        group = self.groups.get(chat_id)
        if group is None:
            raise bad_request("chat not found")
        return dict(group)

    def _by_username(self, username: str) -> int:
        chats = [u.to_chat() for u in self.users.values()] + list(self.groups.values())
        for chat in chats:
            if str(chat.get("username", "")).lower() == username:
                return int(chat["id"])
        raise bad_request("chat not found")
