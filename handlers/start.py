"""/start: welcome, interface language, deep links and the guided set-up.

The set-up is one message edited in place: districts → topics → delivery time → summary.
Deep links ``/start d_<district>`` and ``/start o_<okrug>`` subscribe first.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.accounts import AccountService, User
from bot.services.preferences import Change, PreferenceService
from bot.services.subscriptions import Subscriptions, SubscriptionService
from digests.region import Region, fold
from digests.understanding import Place
from handlers.callbacks import Flow, SetupAction, SetupCb
from handlers.common import has_user, place_name, render, send, stale
from handlers.views import (
    PAGE_SIZE,
    View,
    okrug_page_view,
    okrugs_view,
    skipped_view,
    welcome_markup,
    welcome_text,
)

__all__ = ["parse_start_payload", "router", "setup_first_view"]


def parse_start_payload(payload: str, region: Region) -> Place | None:
    """``d_<district-slug>`` or ``o_<okrug-slug>``; None when it is not one of ours."""
    kind, sep, slug = payload.strip().partition("_")
    if not sep or not slug:
        return None
    if kind == "d":
        try:
            return Place("district", region.district(slug).slug)
        except KeyError:
            return None
    if kind == "o":
        try:
            return Place("okrug", region.okrug(slug).slug)
        except KeyError:
            return None
    return None


def setup_first_view(region: Region, subs: Subscriptions, lang: str, place: Place | None) -> View:
    """The first set-up screen: the okrug of a deep-linked district, else the okrug list."""
    if place is not None and place.kind == "district":
        district = region.district(place.slug)
        siblings = sorted(region.districts_of(district.okrug), key=lambda d: fold(d.name(lang)))
        page = [d.slug for d in siblings].index(district.slug) // PAGE_SIZE
        return okrug_page_view(region, subs, lang, Flow.SETUP, district.okrug, page)
    return okrugs_view(region, subs, lang, Flow.SETUP)


router = Router(name="start")
router.message.filter(has_user)
router.callback_query.filter(has_user)


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    user: User,
    user_created: bool,
    accounts: AccountService,
    region: Region,
) -> None:
    lang = user.language
    place: Place | None = None
    if command.args:
        place = parse_start_payload(command.args, region)
        if place is None:
            await message.answer(
                _(
                    "Sorry, this link does not point to a district I know, "
                    "so I have not subscribed you to anything. Let's start normally."
                )
            )
    started = await accounts.start(user, place)
    subscribed = ""
    if place is not None:
        subscribed = _("✅ You are subscribed to {place}.").format(
            place=place_name(region, place, lang)
        )
    if started.resumed:
        await message.answer(_("▶️ Welcome back! Deliveries are on again."))
    if place is not None and not user_created:
        await message.answer(
            subscribed + "\n" + _("All your districts: /districts. Settings: /settings.")
        )
        return
    text = welcome_text(lang)
    if subscribed:
        text += "\n\n" + subscribed
    await message.answer(text, reply_markup=welcome_markup(lang))
    await send(message, setup_first_view(region, started.profile.subscriptions, lang, place))


@router.callback_query(SetupCb.filter())
async def setup_action(
    callback: CallbackQuery,
    callback_data: SetupCb,
    user: User,
    preferences: PreferenceService,
    subscriptions: SubscriptionService,
    region: Region,
    i18n: I18n,
) -> None:
    if callback_data.action is SetupAction.LANGUAGE:
        lang = callback_data.value
        if lang not in ("ru", "en"):
            await stale(callback)
            return
        await preferences.change(user.id, Change(language=lang))
        with i18n.use_locale(lang):
            await callback.answer(
                _("Language: English") if lang == "en" else _("Language: Russian")
            )
            await render(callback, welcome_text(lang), welcome_markup(lang))
        return
    # skip set-up
    subs = await subscriptions.get(user.id)
    await callback.answer()
    await render(callback, *skipped_view(user, region, subs, user.language))
