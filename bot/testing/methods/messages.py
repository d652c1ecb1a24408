"""Sending: sendMessage, sendPhoto, copyMessage, forwardMessage; and getChat, sendChatAction."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.testing import validation
from bot.testing.errors import bad_request
from bot.testing.methods.base import ApiRequest, Handler, find_message, new_outgoing
from bot.testing.records import StoredMessage

__all__ = ["METHODS"]


def get_chat(request: ApiRequest) -> dict[str, Any]:
    chat = request.chat(check_access=False)
    return {
        **chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def send_chat_action(request: ApiRequest) -> bool:
    request.chat()
    return True


def _chat_for_send(request: ApiRequest) -> dict[str, Any]:
    """The target chat of a send, after the access and flood checks."""
    chat = request.chat()
    request.state.flood.check(
        request.token, int(chat["id"]), chat["type"] == "private", time.monotonic()
    )
    return chat


def _reply_to(request: ApiRequest, chat_id: int) -> StoredMessage | None:
    params = request.params
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        target_chat = reply.get("chat_id", chat_id)
        allow_missing = bool(reply.get("allow_sending_without_reply"))
    elif params.get("reply_to_message_id") is not None:
        message_id = params.get("reply_to_message_id")
        target_chat = chat_id
        allow_missing = bool(params.get("allow_sending_without_reply"))
    else:
        return None
    target = request.state.find_message(int(target_chat), int(message_id or 0))
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target


def _commit(request: ApiRequest, message: StoredMessage) -> StoredMessage:
    request.state.store_message(message)
    request.state.flood.note(request.token, message.chat_id, time.monotonic())
    return message


def send_message(request: ApiRequest) -> dict[str, Any]:
    chat = _chat_for_send(request)
    params = request.params
    parsed = validation.text(params, strict_html=request.strict_html)
    markup = validation.inline_keyboard(params)
    reply_to = _reply_to(request, int(chat["id"]))
    message = new_outgoing(request, chat, "sendMessage")
    message.text = parsed.text
    message.entities = parsed.entities
    message.raw_text = str(params["text"])
    message.parse_mode = params.get("parse_mode")
    message.reply_markup = markup
    message.reply_to = reply_to
    preview = params.get("link_preview_options")
    message.link_preview_options = preview if isinstance(preview, dict) else None
    return _commit(request, message).to_api()


def send_photo(request: ApiRequest) -> dict[str, Any]:
    chat = _chat_for_send(request)
    params = request.params
    sizes = validation.photo_sizes(params, request.files, request.state.bad_urls)
    caption = validation.caption(params, strict_html=request.strict_html)
    markup = validation.inline_keyboard(params)
    reply_to = _reply_to(request, int(chat["id"]))
    message = new_outgoing(request, chat, "sendPhoto")
    message.photo = sizes
    if caption is not None:
        message.caption = caption.text
        message.caption_entities = caption.entities
    message.raw_text = params.get("caption")
    message.parse_mode = params.get("parse_mode")
    message.reply_markup = markup
    message.reply_to = reply_to
    return _commit(request, message).to_api()


def _source(request: ApiRequest, missing: str) -> StoredMessage:
    source_chat = request.chat("from_chat_id", check_access=False)
    return find_message(
        request.state, int(source_chat["id"]), request.params.get("message_id"), missing
    )


def copy_message(request: ApiRequest) -> dict[str, Any]:
    chat = _chat_for_send(request)
    params = request.params
    source = _source(request, "message to copy not found")
    markup = validation.inline_keyboard(params)
    message = new_outgoing(request, chat, "copyMessage")
    message.text = source.text
    message.entities = copy.deepcopy(source.entities)
    message.photo = copy.deepcopy(source.photo)
    message.link_preview_options = source.link_preview_options
    if "caption" in params and source.photo is not None:
        caption = validation.caption(params, strict_html=request.strict_html)
        message.caption = caption.text if caption else None
        message.caption_entities = caption.entities if caption else []
    else:
        message.caption = source.caption
        message.caption_entities = copy.deepcopy(source.caption_entities)
    message.reply_markup = markup
    message.reply_to = _reply_to(request, int(chat["id"]))
    _commit(request, message)
    return {"message_id": message.message_id}


def forward_message(request: ApiRequest) -> dict[str, Any]:
    chat = _chat_for_send(request)
    source = _source(request, "message to forward not found")
    if source.protect_content:
        raise bad_request("message can't be forwarded")
    message = new_outgoing(request, chat, "forwardMessage")
    message.text = source.text
    message.entities = copy.deepcopy(source.entities)
    message.photo = copy.deepcopy(source.photo)
    message.caption = source.caption
    message.caption_entities = copy.deepcopy(source.caption_entities)
    if source.chat.get("type") == "channel":
        origin: dict[str, Any] = {
            "type": "channel",
            "chat": dict(source.chat),
            "message_id": source.message_id,
            "date": source.date,
        }
    else:
        origin = {"type": "user", "sender_user": dict(source.sender), "date": source.date}
    message.forward_origin = origin
    return _commit(request, message).to_api()


METHODS: dict[str, Handler] = {
    "getchat": get_chat,
    "sendchataction": send_chat_action,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
}
