"""The /broadcast dialog's pieces: the admin's message as an outbox payload (or why it cannot
be sent), the keyboards of the audience, time and priority steps, and audience labels."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.broadcasts import Audience
from digests.region import Region
from digests.understanding import TOPIC_NAMES
from handlers.admin.callbacks import BroadcastStep, BroadcastStepCb

__all__ = [
    "MAX_CAPTION",
    "MAX_TEXT",
    "audience_keyboard",
    "audience_label",
    "choice_keyboard",
    "okrug_keyboard",
    "payload_of",
]

MAX_TEXT = 4096
MAX_CAPTION = 1024


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def payload_of(message: Message) -> tuple[dict[str, Any] | None, str | None]:
    """The outbox payload for the admin's message, or the reason it cannot be sent."""
    origin = message.forward_origin
    if origin is not None:
        if origin.type != "channel":
            return None, _(
                "Forwarded messages are sent only from channels. Forward a channel post, "
                "or send the text or photo yourself."
            )
        return {
            "method": "copyMessage",
            "from_chat_id": message.chat.id,
            "message_id": message.message_id,
        }, None
    if message.photo:
        caption = message.caption or ""
        if _utf16_len(caption) > MAX_CAPTION:
            return None, _(
                "The caption is {n} characters long; Telegram allows {limit} under a photo. "
                "Shorten it, or send the text as a separate message."
            ).format(n=_utf16_len(caption), limit=MAX_CAPTION)
        payload: dict[str, Any] = {"method": "sendPhoto", "photo": message.photo[-1].file_id}
        if caption.strip():
            payload |= {"caption": message.html_text, "parse_mode": "HTML"}
        return payload, None
    if message.text is not None:
        if not message.text.strip():
            return None, _("The message is empty. Send the text of the announcement.")
        if _utf16_len(message.text) > MAX_TEXT:
            return None, _(
                "The text is {n} characters long; Telegram allows {limit}. Shorten it."
            ).format(n=_utf16_len(message.text), limit=MAX_TEXT)
        return {"method": "sendMessage", "text": message.html_text, "parse_mode": "HTML"}, None
    return None, _(
        "I can broadcast text (with formatting), a photo with a caption, or a post "
        "forwarded from a channel. Send one of those, or /cancel."
    )


def audience_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("👥 Everyone"),
        callback_data=BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="all"),
    )
    kb.button(
        text=_("🏙 Okrugs"),
        callback_data=BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="okrug"),
    )
    kb.button(
        text=_("🏘 Districts"),
        callback_data=BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="district"),
    )
    kb.button(
        text=_("🌐 Language"),
        callback_data=BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="language"),
    )
    kb.button(
        text=_("🗂 Topic"), callback_data=BroadcastStepCb(step=BroadcastStep.AUDIENCE, value="topic")
    )
    kb.button(text=_("✖ Cancel"), callback_data=BroadcastStepCb(step=BroadcastStep.CANCEL))
    kb.adjust(1, 2, 2, 1)
    return kb.as_markup()


def okrug_keyboard(region: Region, chosen: set[str], lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for okrug in region.okrugs:
        mark = "✅ " if okrug.slug in chosen else ""
        kb.button(
            text=mark + okrug.short(lang),
            callback_data=BroadcastStepCb(step=BroadcastStep.TOGGLE_OKRUG, value=okrug.slug),
        )
    kb.adjust(3)
    done = InlineKeyboardBuilder()
    done.button(text=_("Done"), callback_data=BroadcastStepCb(step=BroadcastStep.OKRUGS_DONE))
    done.button(text=_("✖ Cancel"), callback_data=BroadcastStepCb(step=BroadcastStep.CANCEL))
    kb.attach(done)
    return kb.as_markup()


def choice_keyboard(items: list[tuple[str, BroadcastStepCb]], width: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for text, data in items:
        kb.button(text=text, callback_data=data)
    kb.adjust(width)
    cancel = InlineKeyboardBuilder()
    cancel.button(text=_("✖ Cancel"), callback_data=BroadcastStepCb(step=BroadcastStep.CANCEL))
    kb.attach(cancel)
    return kb.as_markup()


def audience_label(audience: Audience, region: Region, lang: str) -> str:
    values = audience.values
    if audience.kind == "all":
        return _("everyone")
    if audience.kind == "okrug":
        names = ", ".join(region.okrug(v).short(lang) for v in values)
        return _("okrugs: {names}").format(names=names)
    if audience.kind == "district":
        names = ", ".join(region.district(v).name(lang) for v in values)
        return _("districts: {names}").format(names=names)
    if audience.kind == "language":
        return _("language: {lang}").format(lang=", ".join(values))
    names = ", ".join(_(TOPIC_NAMES[v]) for v in values)
    return _("topic: {names}").format(names=names)
