"""Changing what was sent: edits, deletions, and answers to button presses."""

from __future__ import annotations

import time
from typing import Any

from bot.testing import validation
from bot.testing.errors import bad_request
from bot.testing.methods.base import ApiRequest, Handler, find_message
from bot.testing.records import StoredMessage

__all__ = ["METHODS", "NOT_MODIFIED", "QUERY_TOO_OLD"]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def _editable(request: ApiRequest) -> StoredMessage:
    if request.params.get("inline_message_id"):
        raise bad_request("fake server does not support inline messages")
    chat = request.chat()
    message = find_message(
        request.state,
        int(chat["id"]),
        request.params.get("message_id"),
        "message to edit not found",
    )
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(message: StoredMessage, request: ApiRequest, **changes: Any) -> dict[str, Any]:
    message.snapshot()
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = int(time.time())
    request.state.notifier.notify()
    return message.to_api()


def edit_message_text(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    message = _editable(request)
    parsed = validation.text(params, strict_html=request.strict_html)
    # Omitting reply_markup in an edit removes the inline keyboard, as in Telegram.
    markup = validation.inline_keyboard(params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    if (parsed.text, parsed.entities, markup) == (
        message.text,
        message.entities,
        message.reply_markup,
    ):
        raise bad_request(NOT_MODIFIED)
    preview = params.get("link_preview_options")
    return _apply_edit(
        message,
        request,
        text=parsed.text,
        entities=parsed.entities,
        raw_text=str(params["text"]),
        parse_mode=params.get("parse_mode"),
        reply_markup=markup,
        link_preview_options=preview if isinstance(preview, dict) else None,
    )


def edit_message_caption(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    message = _editable(request)
    caption = validation.caption(params, strict_html=request.strict_html)
    markup = validation.inline_keyboard(params)
    if message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    new_text = caption.text if caption else None
    new_entities = caption.entities if caption else []
    if (new_text, new_entities, markup) == (
        message.caption,
        message.caption_entities,
        message.reply_markup,
    ):
        raise bad_request(NOT_MODIFIED)
    return _apply_edit(
        message,
        request,
        caption=new_text,
        caption_entities=new_entities,
        raw_text=params.get("caption"),
        parse_mode=params.get("parse_mode"),
        reply_markup=markup,
    )


def edit_message_reply_markup(request: ApiRequest) -> dict[str, Any]:
    message = _editable(request)
    markup = validation.inline_keyboard(request.params)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    return _apply_edit(message, request, reply_markup=markup)


def delete_message(request: ApiRequest) -> bool:
    chat = request.chat(check_access=False)
    message = find_message(
        request.state,
        int(chat["id"]),
        request.params.get("message_id"),
        "message to delete not found",
    )
    message.deleted = True
    request.state.notifier.notify()
    return True


def delete_messages(request: ApiRequest) -> bool:
    chat = request.chat(check_access=False)
    ids = request.params.get("message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        message = request.state.find_message(int(chat["id"]), int(message_id))
        if message is not None:
            message.deleted = True
    request.state.notifier.notify()
    return True


def answer_callback_query(request: ApiRequest) -> bool:
    params = request.params
    query = request.state.callback(str(params.get("callback_query_id", "")))
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    text = params.get("text")
    if isinstance(text, str) and len(text) > validation.MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = dict(params)
    request.state.notifier.notify()
    return True


METHODS: dict[str, Handler] = {
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "deletemessages": delete_messages,
    "answercallbackquery": answer_callback_query,
}
