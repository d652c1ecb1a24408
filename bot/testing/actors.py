"""Test actors: users and group chats that talk to the bot through the fake server.

They act on the fake's state (``bot.testing.state``): what a user sends becomes an update
for getUpdates or the webhook, and what the bot sends to a chat can be read and awaited.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from bot.testing.chats import UserProfile
from bot.testing.errors import ButtonNotFoundError
from bot.testing.html import utf16_len
from bot.testing.records import CallbackQueryRecord, StoredMessage
from bot.testing.state import TelegramState

__all__ = ["FakeChat", "FakeUser", "command_entities"]

# Telegram marks "/cmd" and "/cmd@bot" at a word start as bot_command entities.
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram's clients attach to a typed text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND_RE.finditer(text)
    ]


def chat_instance(chat_id: int) -> str:
    # Stable per chat, like Telegram's opaque global identifier.
    return str(int(hashlib.sha1(str(chat_id).encode()).hexdigest()[:15], 16))


class FakeChat:
    """A chat as the test sees it: what the bot sent there, and waiting for more."""

    def __init__(self, state: TelegramState, data: dict[str, Any]) -> None:
        self.fake = state
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
        return chat_instance(self.id)

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
        fake = self.fake

        def _ready() -> list[StoredMessage] | None:
            sent = fake.sent_messages(self.id, include_deleted=True)
            return sent[start : start + count] if len(sent) >= start + count else None

        def _describe() -> str:
            sent = fake.sent_messages(self.id, include_deleted=True)[start:]
            errors = [
                f"{c.method}: {c.description}"
                for c in fake.calls(ok=False)
                if c.params.get("chat_id") == self.id
            ]
            return f"{count} new bot message(s) in chat {self.id}; got {sent!r}" + (
                f"; failed calls for this chat: {errors}" if errors else ""
            )

        messages = await fake.wait_for(_ready, timeout, _describe)
        self._cursor = start + count
        return messages

    def message_by_ref(self, ref: StoredMessage | int) -> StoredMessage:
        """A message of this chat given as itself or by its id."""
        if isinstance(ref, StoredMessage):
            return ref
        return self.fake.message(self.id, ref)

    def __repr__(self) -> str:
        return f"<FakeChat {self.type} {self.id}>"


class FakeUser:
    """A Telegram user driving the bot: ``send`` messages, ``press`` buttons, read replies."""

    def __init__(self, state: TelegramState, profile: UserProfile) -> None:
        self.fake = state
        self.profile = profile
        self.chat = FakeChat(state, profile.to_chat())

    @property
    def id(self) -> int:
        return self.profile.id

    @property
    def first_name(self) -> str:
        return self.profile.first_name

    @property
    def language_code(self) -> str | None:
        return self.profile.language_code

    def to_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        return self.profile.to_user()

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
        return await self.send_message(
            text=text, entities=command_entities(text), chat=chat, reply_to=reply_to
        )

    async def send_message(
        self,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        photo: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        forward_origin: dict[str, Any] | None = None,
        chat: FakeChat | None = None,
        reply_to: StoredMessage | int | None = None,
    ) -> StoredMessage:
        """Send any message: formatted text, a photo with a caption, a forwarded post.

        Unlike ``send``, nothing is added: entities are exactly those given. With neither
        text nor photo it is a message the bot cannot read (a sticker, say).
        """
        target = chat or self.chat
        # Writing to a bot implies having unblocked it ("Restart" in the client).
        if target is self.chat and self.fake.chats.is_blocked(self.id):
            await self.unblock()
        message = StoredMessage(
            chat=target.to_chat(),
            message_id=self.fake.new_message_id(target.id),
            date=int(time.time()),
            sender=self.to_user(),
            from_bot=False,
            method="update",
            text=text,
            entities=list(entities or []),
            photo=photo,
            caption=caption,
            caption_entities=list(caption_entities or []),
            forward_origin=forward_origin,
            raw_text=text if text is not None else caption,
        )
        if reply_to is not None:
            message.reply_to = target.message_by_ref(reply_to)
        self.fake.store_message(message)
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
        stored = (chat or self.chat).message_by_ref(message)
        if stored.deleted:
            raise ButtonNotFoundError(f"message {stored.message_id} was deleted by the bot")
        button = stored.button(text=text, data=data)
        if button.callback_data is None:
            raise ButtonNotFoundError(
                f"button {button.text!r} is not a callback button: {button.raw}"
            )
        return await self.send_callback(stored, button.callback_data)

    async def send_callback(self, message: StoredMessage, data: str) -> CallbackQueryRecord:
        """A callback query with any ``data``, as a modified client could send."""
        record = self.fake.register_callback(
            CallbackQueryRecord(
                id=self.fake.new_callback_id(),
                user_id=self.id,
                message=message,
                data=data,
                created=time.monotonic(),
            )
        )
        self.fake.push_update(
            {
                "callback_query": {
                    "id": record.id,
                    "from": self.to_user(),
                    "message": message.to_api(),
                    "chat_instance": chat_instance(message.chat_id),
                    "data": data,
                }
            }
        )
        return record

    def _member_update(self, old: str, new: str) -> None:
        bot_user = self.fake.bot_user()
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
