"""Records kept by the fake server: API calls, messages, callback queries."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.testing._html import utf16_slice

__all__ = [
    "ButtonNotFoundError",
    "Call",
    "CallbackQueryRecord",
    "FakeApiError",
    "InlineButton",
    "StoredMessage",
    "WaitTimeoutError",
]

_T = TypeVar("_T")


class FakeApiError(Exception):
    """An error answer of the Bot API; raise it from custom method handlers too."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class WaitTimeoutError(AssertionError):
    """A ``wait_for*`` helper gave up; an AssertionError so pytest shows it as a failure."""


class ButtonNotFoundError(LookupError):
    """``user.press`` could not find the requested button."""


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded Bot API request and the answer the server gave."""

    method: str
    params: dict[str, Any]
    token: str
    status: int
    response: dict[str, Any]
    timestamp: float  # time.monotonic() when the request arrived

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

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


class _Notifier:
    """Wakes everybody waiting for *some* state change; waiters re-check their predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[], _T | None],
        timeout: float,  # noqa: ASYNC109 - a plain deadline is the clearest test API
        what: str | Callable[[], str],
    ) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                description = what() if callable(what) else what
                raise WaitTimeoutError(f"timed out after {timeout:g}s waiting for {description}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


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

    def _snapshot(self) -> None:
        self.history.append(self.to_api(with_reply=False))

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
    _notifier: _Notifier | None = field(default=None, repr=False)

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
