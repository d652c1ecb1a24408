"""Test actors: users and group chats that talk to the bot through the fake server."""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING, Any

from bot.testing._html import utf16_len
from bot.testing._models import ButtonNotFoundError, CallbackQueryRecord, StoredMessage

if TYPE_CHECKING:
    from bot.testing._server import FakeTelegram

__all__ = ["FakeChat", "FakeUser"]

# Telegram marks "/cmd" and "/cmd@bot" at a word start as bot_command entities.
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def _command_entities(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND_RE.finditer(text)
    ]


class FakeChat:
    """A chat as the test sees it: what the bot sent there, and waiting for more."""

    def __init__(self, fake: FakeTelegram, data: dict[str, Any]) -> None:
        self.fake = fake
        self._data = data
        self._cursor = 0  # how many bot messages wait_for_messages already returned

    @property
    def id(self) -> int:
        return int(self._data["id"])

    @property
    def type(self) -> str:
        return str(self._data["type"])

    def to_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        return dict(self._data)

    @property
    def chat_instance(self) -> str:
        # Stable per chat, like Telegram's opaque global identifier.
        return str(int(hashlib.sha1(str(self.id).encode()).hexdigest()[:15], 16))

    @property
    def messages(self) -> list[StoredMessage]:
        """Messages the bot sent to this chat and has not deleted (current state)."""
        return self.fake.sent_messages(self.id)

    @property
    def last_message(self) -> StoredMessage | None:
        messages = self.messages
        return messages[-1] if messages else None

    async def wait_for_messages(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        """Return the next ``count`` messages the bot sends here.

        Each call continues where the previous one stopped, so messages that arrived
        before the call are not lost and are not returned twice.
        """
        start = self._cursor

        def _ready() -> list[StoredMessage] | None:
            sent = self.fake.sent_messages(self.id, include_deleted=True)
            return sent[start : start + count] if len(sent) >= start + count else None

        def _describe() -> str:
            sent = self.fake.sent_messages(self.id, include_deleted=True)[start:]
            errors = [
                f"{c.method}: {c.description}"
                for c in self.fake.calls(ok=False)
                if c.params.get("chat_id") == self.id
            ]
            return f"{count} new bot message(s) in chat {self.id}; got {sent!r}" + (
                f"; failed calls for this chat: {errors}" if errors else ""
            )

        messages = await self.fake.wait_for(_ready, timeout, _describe)
        self._cursor = start + count
        return messages

    def _reply_target(self, reply_to: StoredMessage | int | None) -> dict[str, Any] | None:
        if reply_to is None:
            return None
        target = (
            reply_to
            if isinstance(reply_to, StoredMessage)
            else self.fake.message(self.id, reply_to)
        )
        return target.to_api(with_reply=False)

    def _message_by_ref(self, ref: StoredMessage | int) -> StoredMessage:
        if isinstance(ref, StoredMessage):
            return ref
        return self.fake.message(self.id, ref)

    def __repr__(self) -> str:
        return f"<FakeChat {self.type} {self.id}>"


class FakeUser:
    """A Telegram user driving the bot: ``send`` messages, ``press`` buttons, read replies."""

    def __init__(
        self,
        fake: FakeTelegram,
        *,
        id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        is_premium: bool | None,
    ) -> None:
        self.fake = fake
        self.id = id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        self.chat = FakeChat(fake, self._private_chat_data())

    def to_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def _private_chat_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def to_chat(self) -> dict[str, Any]:
        return self.chat.to_chat()

    # -- reading what the bot sent to this user (private chat)

    @property
    def messages(self) -> list[StoredMessage]:
        return self.chat.messages

    @property
    def last_message(self) -> StoredMessage | None:
        return self.chat.last_message

    async def wait_for_messages(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        return await self.chat.wait_for_messages(count, timeout)

    # -- acting

    async def send(
        self,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: StoredMessage | int | None = None,
    ) -> StoredMessage:
        """Send a text message to the bot (private chat unless ``chat`` is a group)."""
        target = chat or self.chat
        # Writing to a bot implies having unblocked it ("Restart" in the client).
        if target is self.chat and self.fake._is_blocked(self.id):
            await self.unblock()
        message = StoredMessage(
            chat=target.to_chat(),
            message_id=self.fake._allocate_message_id(target.id),
            date=int(time.time()),
            sender=self.to_user(),
            from_bot=False,
            method="update",
            text=text,
            entities=_command_entities(text),
            raw_text=text,
        )
        if reply_to is not None:
            message.reply_to = target._message_by_ref(reply_to)
        self.fake._store(message)
        self.fake.push_update({"message": message.to_api()})
        return message

    async def press(
        self,
        message: StoredMessage | int,
        *,
        text: str | None = None,
        data: str | None = None,
        chat: FakeChat | None = None,
    ) -> CallbackQueryRecord:
        """Press an inline button (found by its ``text`` or ``callback_data``).

        ``message`` is a StoredMessage or a message id in ``chat`` (default: the private
        chat). Raises ButtonNotFoundError if the message, as currently edited, has no
        such callback button.
        """
        target = chat or self.chat
        stored = target._message_by_ref(message)
        if stored.deleted:
            raise ButtonNotFoundError(f"message {stored.message_id} was deleted by the bot")
        button = stored.button(text=text, data=data)
        if button.callback_data is None:
            raise ButtonNotFoundError(
                f"button {button.text!r} is not a callback button: {button.raw}"
            )
        record = CallbackQueryRecord(
            id=self.fake._new_callback_id(),
            user_id=self.id,
            message=stored,
            data=button.callback_data,
            created=time.monotonic(),
        )
        self.fake._register_callback(record)
        chat_data = stored.chat
        instance = (
            target.chat_instance
            if target.id == stored.chat_id
            else FakeChat(self.fake, chat_data).chat_instance
        )
        self.fake.push_update(
            {
                "callback_query": {
                    "id": record.id,
                    "from": self.to_user(),
                    "message": stored.to_api(),
                    "chat_instance": instance,
                    "data": button.callback_data,
                }
            }
        )
        return record

    def _member_update(self, old: str, new: str) -> None:
        bot_user = self.fake._bot_user()
        new_member: dict[str, Any] = {"status": new, "user": bot_user}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": bot_user}
        if old == "kicked":
            old_member["until_date"] = 0
        self.fake.push_update(
            {
                "my_chat_member": {
                    "chat": self.to_chat(),
                    "from": self.to_user(),
                    "date": int(time.time()),
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                }
            }
        )

    async def block(self, *, emit_update: bool = True) -> None:
        """Block the bot: sends then fail with 403; Telegram also sends my_chat_member."""
        self.fake.block(self.id)
        if emit_update:
            self._member_update("member", "kicked")

    async def unblock(self, *, emit_update: bool = True) -> None:
        self.fake.unblock(self.id)
        if emit_update:
            self._member_update("kicked", "member")

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name!r}>"
