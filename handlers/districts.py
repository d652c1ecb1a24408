"""Districts: the okrug → district picker, /subscribe and /unsubscribe by name, /districts."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.accounts import User
from bot.services.subscriptions import SubscriptionService, is_subscribed
from digests.region import Region
from digests.understanding import Place, resolve
from handlers.callbacks import Flow, PickAction, PickCb, PlaceKind, SubAction, SubCb, SubReply
from handlers.common import has_user, place_name, render, send, stale
from handlers.views import (
    escape_user_text,
    okrug_page_view,
    okrugs_view,
    subscriptions_view,
    topics_view,
)

__all__ = ["places_keyboard", "router"]


def places_keyboard(
    region: Region, places: tuple[Place, ...] | list[Place], lang: str, action: SubAction
) -> InlineKeyboardMarkup:
    """One button per place: subscribe or unsubscribe."""
    kb = InlineKeyboardBuilder()
    for place in places:
        name = place_name(region, place, lang)
        if name is None:
            continue
        data = SubCb(action=action, kind=PlaceKind.of(place), slug=place.slug)
        kb.row(
            InlineKeyboardButton(
                text=("➕ " if action is SubAction.ADD else "❌ ") + name, callback_data=data.pack()
            )
        )
    return kb.as_markup()


def _place_from(kind: PlaceKind, slug: str, region: Region) -> Place | None:
    place = kind.place(slug)
    return place if place_name(region, place, "ru") is not None else None


router = Router(name="districts")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(Command("districts"))
async def list_districts(
    message: Message, user: User, subscriptions: SubscriptionService, region: Region
) -> None:
    subs = await subscriptions.get(user.id)
    await send(message, subscriptions_view(region, subs, user.language))


@router.message(Command("subscribe"))
async def subscribe(
    message: Message,
    command: CommandObject,
    user: User,
    subscriptions: SubscriptionService,
    region: Region,
) -> None:
    lang = user.language
    if not command.args or not command.args.strip():
        subs = await subscriptions.get(user.id)
        await send(message, okrugs_view(region, subs, lang, Flow.MENU))
        return
    query = escape_user_text(command.args)
    result = resolve(command.args, region)
    if result.exact is not None:
        place = result.exact
        name = place_name(region, place, lang)
        change = await subscriptions.subscribe(user.id, place)
        if change.changed:
            text = _("✅ You are subscribed to {place}.").format(place=name)
        else:
            text = _("You already follow {place}.").format(place=name)
        await message.answer(text + "\n" + _("All your districts: /districts"))
    elif result.ambiguous:
        await message.answer(
            _("«{query}» can mean several places. Which one?").format(query=query),
            reply_markup=places_keyboard(region, result.ambiguous, lang, SubAction.ADD),
        )
    elif result.suggestions:
        await message.answer(
            _("I don't know «{query}». Did you mean:").format(query=query),
            reply_markup=places_keyboard(region, result.suggestions, lang, SubAction.ADD),
        )
    else:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("📍 Choose from the list"), callback_data=PickCb(action=PickAction.OKRUGS))
        await message.answer(
            _("I don't know «{query}». Choose your district from the list:").format(query=query),
            reply_markup=kb.as_markup(),
        )


@router.message(Command("unsubscribe"))
async def unsubscribe(
    message: Message,
    command: CommandObject,
    user: User,
    subscriptions: SubscriptionService,
    region: Region,
) -> None:
    lang = user.language
    subs = await subscriptions.get(user.id)
    if not command.args or not command.args.strip():
        await send(message, subscriptions_view(region, subs, lang))
        return
    query = escape_user_text(command.args)
    result = resolve(command.args, region)
    candidates: tuple[Place, ...] = (
        (result.exact,) if result.exact is not None else result.ambiguous or result.suggestions
    )
    followed = [p for p in candidates if is_subscribed(subs, p)]
    if len(followed) == 1 and (result.exact is not None or result.ambiguous):
        place = followed[0]
        await subscriptions.unsubscribe(user.id, place)
        await message.answer(
            _("🗑 You are unsubscribed from {place}.").format(place=place_name(region, place, lang))
            + "\n"
            + _("All your districts: /districts")
        )
    elif followed:
        await message.answer(
            _("Which one do you want to unsubscribe from?"),
            reply_markup=places_keyboard(region, followed, lang, SubAction.REMOVE),
        )
    elif result.exact is not None:
        await message.answer(
            _("You don't follow {place}. Your districts: /districts").format(
                place=place_name(region, result.exact, lang)
            )
        )
    elif candidates:
        await message.answer(
            _("You don't follow «{query}». Your districts: /districts").format(query=query)
        )
    else:
        await message.answer(
            _("I don't know «{query}». Your districts: /districts").format(query=query)
        )


@router.callback_query(SubCb.filter())
async def change_subscription(
    callback: CallbackQuery,
    callback_data: SubCb,
    user: User,
    subscriptions: SubscriptionService,
    region: Region,
) -> None:
    lang = user.language
    place = _place_from(callback_data.kind, callback_data.slug, region)
    if place is None:
        await stale(callback)
        return
    name = place_name(region, place, lang)
    if callback_data.action is SubAction.ADD:
        change = await subscriptions.subscribe(user.id, place)
        text = (
            _("✅ You are subscribed to {place}.")
            if change.changed
            else _("You already follow {place}.")
        ).format(place=name)
    else:
        change = await subscriptions.unsubscribe(user.id, place)
        text = (
            _("🗑 You are unsubscribed from {place}.")
            if change.changed
            else _("You had already unsubscribed from {place}.")
        ).format(place=name)
    await callback.answer(text)
    if callback_data.reply is SubReply.LIST:
        await render(callback, *subscriptions_view(region, change.subscriptions, lang))
    else:
        await render(callback, text + "\n" + _("All your districts: /districts"))


@router.callback_query(PickCb.filter())
async def pick(
    callback: CallbackQuery,
    callback_data: PickCb,
    user: User,
    subscriptions: SubscriptionService,
    region: Region,
) -> None:
    lang = user.language
    data = callback_data
    okrug_slug = data.slug
    note: str | None = None
    if data.action is PickAction.DISTRICT:
        try:
            district = region.district(data.slug)
        except KeyError:
            await stale(callback)
            return
        okrug_slug = district.okrug
        change = await subscriptions.toggle(user.id, Place("district", district.slug))
        subs = change.subscriptions
        note = (_("Added: {place}") if change.subscribed else _("Removed: {place}")).format(
            place=district.name(lang)
        )
    elif data.action is PickAction.WHOLE_OKRUG:
        try:
            okrug = region.okrug(data.slug)
        except KeyError:
            await stale(callback)
            return
        change = await subscriptions.toggle(user.id, Place("okrug", okrug.slug))
        subs = change.subscriptions
        note = (_("Added: {place}") if change.subscribed else _("Removed: {place}")).format(
            place=okrug.name(lang)
        )
    else:
        if data.action is PickAction.OKRUG and data.slug not in {o.slug for o in region.okrugs}:
            await stale(callback)
            return
        subs = await subscriptions.get(user.id)
    await callback.answer(note)
    if data.action is PickAction.OKRUGS:
        await render(callback, *okrugs_view(region, subs, lang, data.flow))
    elif data.action is PickAction.DONE:
        if data.flow is Flow.SETUP:
            await render(callback, *topics_view(subs, Flow.SETUP))
        else:
            await render(callback, *subscriptions_view(region, subs, lang))
    else:
        await render(
            callback, *okrug_page_view(region, subs, lang, data.flow, okrug_slug, data.page)
        )
