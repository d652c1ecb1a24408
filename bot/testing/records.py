"""Records kept by the fake server: API calls, messages, callback queries."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bot.testing.errors import ButtonNotFoundError
from bot.testing.html import utf16_slice
from bot.testing.waiting import Notifier

__all__ = ["Call", "CallbackQueryRecord", "InlineButton", "StoredMessage"]


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded Bot API request and the answer the server gave."""

    method: str
    params: dict[str, Any]
    token: str
    status: int
    response: dict[str, Any]
    # time.monotonic() when the server processed the request: after the request half of
    # any latency, so it is the moment "Telegram" saw it.
    timestamp: float
    seq: int = 0  # order of recording, from 1
    # Handled, but the client never got the answer (a fault: lose_answers / hang_answers).
    answer_lost: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (the control API's ``/fake/calls``)."""
        params = {k: v for k, v in self.params.items() if not k.startswith("_")}
        return {
            "seq": self.seq,
            "method": self.method,
            "params": params,
            "status": self.status,
            "response": self.response,
            "timestamp": self.timestamp,
            "answer_lost": self.answer_lost,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        return cls(
            method=str(data["method"]),
            params=dict(data["params"]),
            token="",  # the control API does not hand out tokens
            status=int(data["status"]),
            response=dict(data["response"]),
            timestamp=float(data["timestamp"]),
            seq=int(data["seq"]),
            answer_lost=bool(data.get("answer_lost")),
        )

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        value = self.response.get("description")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class InlineButton:
    text: str
    callback_data: str | None
    url: str | None
    raw: dict[str, Any]


@dataclass(eq=False)
class StoredMessage:
    """Current state of a message in the fake server (edits are applied in place)."""

    chat: dict[str, Any]
    message_id: int
    date: int
    sender: dict[str, Any]
    from_bot: bool
    method: str
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    # What the bot passed in, before parse_mode was applied (handy for HTML assertions).
    raw_text: str | None = None
    parse_mode: str | None = None
    link_preview_options: dict[str, Any] | None = None
    reply_to: StoredMessage | None = None
    forward_origin: dict[str, Any] | None = None
    protect_content: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    seq: int = 0  # global order of storing, across chats

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def keyboard(self) -> list[list[InlineButton]]:
        """Inline keyboard rows (empty if the message has none)."""
        if not self.reply_markup:
            return []
        return [
            [
                InlineButton(
                    text=str(button.get("text", "")),
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                    raw=button,
                )
                for button in row
            ]
            for row in self.reply_markup.get("inline_keyboard", [])
        ]

    @property
    def buttons(self) -> list[InlineButton]:
        """All inline buttons, row by row."""
        return [button for row in self.keyboard for button in row]

    def button(self, *, text: str | None = None, data: str | None = None) -> InlineButton:
        if (text is None) == (data is None):
            raise TypeError("pass exactly one of text= or data=")
        for button in self.buttons:
            if (text is not None and button.text == text) or (
                data is not None and button.callback_data == data
            ):
                return button
        wanted = f"text={text!r}" if text is not None else f"data={data!r}"
        available = [(b.text, b.callback_data or b.url) for b in self.buttons]
        raise ButtonNotFoundError(
            f"message {self.message_id} in chat {self.chat_id} has no button with {wanted}; "
            f"buttons: {available}"
        )

    @property
    def body(self) -> str:
        """Text of a text message, caption of a media message ('' if none)."""
        return self.text if self.text is not None else (self.caption or "")

    def entity_texts(self, entity_type: str) -> list[str]:
        """Visible substrings covered by entities of a type ("bold", "text_link", ...)."""
        entities = self.entities if self.text is not None else self.caption_entities
        return [
            utf16_slice(self.body, e["offset"], e["length"])
            for e in entities
            if e["type"] == entity_type
        ]

    @property
    def links(self) -> list[tuple[str, str]]:
        """(visible text, url) for every text_link entity."""
        entities = self.entities if self.text is not None else self.caption_entities
        return [
            (utf16_slice(self.body, e["offset"], e["length"]), str(e["url"]))
            for e in entities
            if e["type"] == "text_link"
        ]

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object for the current state."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.forward_origin is not None:
            data["forward_origin"] = copy.deepcopy(self.forward_origin)
        if with_reply and self.reply_to is not None:
            # Telegram does not nest replies more than one level deep.
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.protect_content:
            data["has_protected_content"] = True
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = copy.deepcopy(self.entities)
            if self.link_preview_options:
                data["link_preview_options"] = copy.deepcopy(self.link_preview_options)
        if self.photo is not None:
            data["photo"] = copy.deepcopy(self.photo)
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = copy.deepcopy(self.caption_entities)
        if self.reply_markup:
            data["reply_markup"] = copy.deepcopy(self.reply_markup)
        return data

    def snapshot(self) -> None:
        """Keep the current state in ``history`` (before an edit)."""
        self.history.append(self.to_api(with_reply=False))

    def to_json(self) -> dict[str, Any]:
        """The Bot API form plus what the fake knows (the control API's message records)."""
        return {
            **self.to_api(),
            "chat_id": self.chat_id,
            "seq": self.seq,
            "method": self.method,
            "from_bot": self.from_bot,
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "deleted": self.deleted,
            "history": copy.deepcopy(self.history),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredMessage:
        """A snapshot of a message from its ``to_json`` form (the control client's view)."""
        reply = data.get("reply_to_message")
        return cls(
            chat=dict(data["chat"]),
            message_id=int(data["message_id"]),
            date=int(data["date"]),
            sender=dict(data.get("from") or {}),
            from_bot=bool(data.get("from_bot")),
            method=str(data.get("method", "")),
            text=data.get("text"),
            entities=list(data.get("entities") or []),
            caption=data.get("caption"),
            caption_entities=list(data.get("caption_entities") or []),
            photo=data.get("photo"),
            reply_markup=data.get("reply_markup"),
            raw_text=data.get("raw_text"),
            parse_mode=data.get("parse_mode"),
            link_preview_options=data.get("link_preview_options"),
            reply_to=cls.from_json(reply) if isinstance(reply, dict) else None,
            forward_origin=data.get("forward_origin"),
            protect_content=bool(data.get("has_protected_content")),
            edit_date=data.get("edit_date"),
            history=list(data.get("history") or []),
            deleted=bool(data.get("deleted")),
            seq=int(data.get("seq") or 0),
        )

    def __repr__(self) -> str:
        body = self.body
        short = body if len(body) <= 60 else body[:57] + "..."
        flags = " deleted" if self.deleted else ""
        flags += " edited" if self.edited else ""
        return f"<StoredMessage chat={self.chat_id} id={self.message_id}{flags} {short!r}>"


@dataclass(eq=False)
class CallbackQueryRecord:
    """A button press made by a fake user, and the bot's answer to it."""

    id: str
    user_id: int
    message: StoredMessage | None
    data: str | None
    created: float
    answer: dict[str, Any] | None = None
    _notifier: Notifier | None = field(default=None, repr=False)

    @property
    def answered(self) -> bool:
        return self.answer is not None

    async def wait_answered(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait until the bot calls answerCallbackQuery; return its params."""
        if self._notifier is None:
            raise RuntimeError("record is not attached to a server")

        def _answer() -> dict[str, Any] | None:
            return self.answer

        answer = await self._notifier.wait_for(
            _answer, timeout, f"answerCallbackQuery for callback {self.id} (data={self.data!r})"
        )
        return answer
