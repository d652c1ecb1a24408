"""What Telegram checks in a message before accepting it: markup, lengths, keyboards, files.

Each check raises the FakeApiError Telegram would answer with ("Bad Request: ...").
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from bot.testing.errors import bad_request
from bot.testing.html import EntityParseError, ParsedText, parse_html, trim_text, utf16_len

__all__ = [
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "caption",
    "inline_keyboard",
    "photo_sizes",
    "text",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_FILE_ID_RE = re.compile(r"[A-Za-z0-9_\-]+")


def _formatted(
    params: dict[str, Any],
    *,
    text_key: str,
    entities_key: str,
    limit: int,
    too_long: str,
    strict_html: bool,
) -> ParsedText | None:
    raw = params.get(text_key)
    if raw is None or raw == "":
        return None
    raw = str(raw)
    mode = str(params.get("parse_mode") or "").lower()
    # Like the real Bot API, a parse_mode wins over explicit entities.
    if mode == "html":
        try:
            parsed = parse_html(raw, strict=strict_html)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode in ("", "none", "markdown", "markdownv2"):
        # Markdown is not emulated: the text is taken as-is.
        entities = params.get(entities_key) if not mode or mode == "none" else None
        parsed = ParsedText(raw, list(entities) if isinstance(entities, list) else [])
    else:
        raise bad_request("unsupported parse_mode")
    trimmed = trim_text(parsed.text, parsed.entities)
    # Telegram measures the visible text (after markup) in UTF-16 code units.
    if utf16_len(trimmed.text) > limit:
        raise bad_request(too_long)
    return trimmed if trimmed.text else None


def text(params: dict[str, Any], *, strict_html: bool) -> ParsedText:
    """The ``text`` of sendMessage / editMessageText: parsed, trimmed, at most 4096 long."""
    parsed = _formatted(
        params,
        text_key="text",
        entities_key="entities",
        limit=MAX_TEXT_LENGTH,
        too_long="message is too long",
        strict_html=strict_html,
    )
    if parsed is None:
        raise bad_request("message text is empty")
    return parsed


def caption(params: dict[str, Any], *, strict_html: bool) -> ParsedText | None:
    """A media ``caption``: parsed, trimmed, at most 1024 long (None when there is none)."""
    return _formatted(
        params,
        text_key="caption",
        entities_key="caption_entities",
        limit=MAX_CAPTION_LENGTH,
        too_long="message caption is too long",
        strict_html=strict_html,
    )


def inline_keyboard(params: dict[str, Any]) -> dict[str, Any] | None:
    """Validate reply_markup; return the inline keyboard to store on the message."""
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        # Reply keyboards / remove / force_reply are accepted but not part of Message.
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            _check_button(button)
    if not any(rows):
        return None
    return copy.deepcopy(markup)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [name for name in _BUTTON_ACTIONS if button.get(name) not in (None, "")]
    if "callback_data" in button:
        data = button["callback_data"]
        if (
            not isinstance(data, str)
            or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise bad_request("BUTTON_DATA_INVALID")
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        # Telegram's own wording differs; fake-specific, the point is to fail loudly.
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields "
            f"must be used, got {actions}"
        )
    if "url" in actions:
        parts = urlsplit(str(button["url"]))
        if parts.scheme not in ("http", "https", "tg") or (
            parts.scheme != "tg" and not parts.hostname
        ):
            raise bad_request("BUTTON_URL_INVALID")


def photo_sizes(
    params: dict[str, Any], files: dict[str, bytes], bad_urls: Collection[str]
) -> list[dict[str, Any]]:
    """The PhotoSize list for a ``photo`` given as an upload, a URL or a file_id."""
    photo = params.get("photo")
    content: bytes | None = None
    if isinstance(photo, str) and photo.startswith("attach://"):
        content = files.get(photo.removeprefix("attach://"))
        if content is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    elif "photo" in files:
        content = files["photo"]
    if content is not None:
        file_id = "AgAfake" + hashlib.sha1(content).hexdigest()[:24]
    elif not isinstance(photo, str) or not photo:
        raise bad_request("there is no photo in the request")
    elif photo.startswith(("http://", "https://")):
        if photo in bad_urls:
            raise bad_request("failed to get HTTP URL content")
        file_id = "AgAfakeurl" + hashlib.sha1(photo.encode()).hexdigest()[:24]
    elif _FILE_ID_RE.fullmatch(photo):
        file_id = photo
    else:
        raise bad_request("wrong file identifier/HTTP URL specified")
    unique = hashlib.sha1(file_id.encode()).hexdigest()[:12]
    return [
        {"file_id": file_id + "_s", "file_unique_id": unique + "s", "width": 90, "height": 60},
        {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 853},
    ]
