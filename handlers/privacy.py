"""/privacy, /mydata and /deletemydata (with confirmation)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_datetime

from bot.services.accounts import User
from bot.services.privacy import PrivacyService, account_stamp
from digests.region import Region
from handlers.callbacks import PrivacyAction, PrivacyCb
from handlers.common import has_user, render, stale
from handlers.views import places_text, schedule_text, topics_text

__all__ = ["privacy_text", "router"]


def privacy_text() -> str:
    return "\n\n".join(
        (
            _("🔒 <b>What I store</b>"),
            _(
                "• your Telegram user id and chat id, to send you messages;\n"
                "• your language, time zone, delivery time and mode, pause and "
                "«nothing new» choices;\n"
                "• the districts, okrugs and topics you chose;\n"
                "• when you started and when you last got a digest."
            ),
            _(
                "I do not store your name, username, phone number or the messages you send. "
                "Your data is used only to send you news and is never shared."
            ),
            _("See it: /mydata. Delete it: /deletemydata."),
        )
    )


router = Router(name="privacy")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(Command("privacy"))
async def show_privacy(message: Message) -> None:
    await message.answer(privacy_text())


@router.message(Command("mydata"))
async def show_my_data(
    message: Message, user: User, privacy: PrivacyService, region: Region
) -> None:
    lang = user.language
    stored = await privacy.stored_data(user)
    user, subs = stored.user, stored.subscriptions

    def when(value: datetime | None) -> str:
        if value is None:
            return _("never")
        return format_datetime(value, "d MMMM y, HH:mm", tzinfo=None, locale=lang) + " UTC"

    lines = [
        _("🗂 <b>Your data</b>"),
        "",
        _("User id: {id}").format(id=user.id),
        _("Chat id: {id}").format(id=user.chat_id),
        _("Language: {language}").format(language=user.language),
        _("Time zone: {timezone}").format(timezone=user.timezone),
        _("Delivery: {schedule}").format(schedule=schedule_text(user, lang)),
        _("«Nothing new» note: {state}").format(state=_("on") if user.notify_empty else _("off")),
        _("Districts: {places}").format(places=places_text(region, subs, lang)),
        _("Topics: {topics}").format(topics=topics_text(subs)),
        _("Started: {when}").format(when=when(user.created_at)),
        _("Last digest: {when}").format(when=when(user.last_digest_at)),
        "",
        _("Delete all of it: /deletemydata"),
    ]
    await message.answer("\n".join(lines))


@router.message(Command("deletemydata"))
async def ask_delete(message: Message, user: User) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🗑 Yes, delete everything"),
        callback_data=PrivacyCb(action=PrivacyAction.DELETE, stamp=account_stamp(user)),
    )
    kb.button(text=_("Cancel"), callback_data=PrivacyCb(action=PrivacyAction.CANCEL))
    kb.adjust(1)
    await message.answer(
        _("Delete all your data: subscriptions, topics and settings? This cannot be undone."),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(PrivacyCb.filter())
async def confirm_delete(
    callback: CallbackQuery, callback_data: PrivacyCb, user: User, privacy: PrivacyService
) -> None:
    if callback_data.action is PrivacyAction.CANCEL:
        await callback.answer()
        await render(callback, _("Cancelled: nothing was deleted."))
        return
    if not await privacy.delete_account(user, callback_data.stamp):
        # The button belongs to an account that was already deleted (and recreated).
        await stale(callback, show_alert=True)
        return
    await callback.answer(_("Deleted"))
    await render(
        callback,
        _(
            "🗑 All your data is deleted. I will not send you anything.\n\n"
            "If you write to me again, I will start afresh: send /start."
        ),
    )
