"""The okrug → district picker and the list of one's subscriptions."""

from __future__ import annotations

import math

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.subscriptions import Subscriptions
from digests.region import Region, fold
from handlers.callbacks import (
    Flow,
    PickAction,
    PickCb,
    PlaceKind,
    SetupAction,
    SetupCb,
    SubAction,
    SubCb,
    SubReply,
)
from handlers.views.text import OFF, ON, View, flow_done, places_text

__all__ = ["PAGE_SIZE", "okrug_page_view", "okrugs_view", "subscriptions_view"]

PAGE_SIZE = 10  # districts per page of an okrug


def okrugs_view(region: Region, subs: Subscriptions, lang: str, flow: Flow) -> View:
    legend = "\n".join(
        f"<b>{okrug.short(lang)}</b> — {okrug.name(lang)}" for okrug in region.okrugs
    )
    text = "\n\n".join(
        (
            _("📍 <b>Your districts</b>\nChoose an okrug, then tick your districts."),
            legend,
            _("Selected: {places}").format(places=places_text(region, subs, lang)),
        )
    )
    kb = InlineKeyboardBuilder()
    for okrug in region.okrugs:
        label = okrug.short(lang)
        count = sum(1 for d in region.districts_of(okrug.slug) if d.slug in subs.districts)
        if okrug.slug in subs.okrugs:
            label = f"{ON} {label}"
        elif count:
            label = f"{label} · {count}"
        kb.button(
            text=label, callback_data=PickCb(action=PickAction.OKRUG, slug=okrug.slug, flow=flow)
        )
    kb.adjust(3)
    kb.row(
        InlineKeyboardButton(
            text=flow_done(flow), callback_data=PickCb(action=PickAction.DONE, flow=flow).pack()
        )
    )
    if flow is Flow.SETUP:
        kb.row(
            InlineKeyboardButton(
                text=_("Skip set-up"), callback_data=SetupCb(action=SetupAction.SKIP).pack()
            )
        )
    return text, kb.as_markup()


def okrug_page_view(
    region: Region, subs: Subscriptions, lang: str, flow: Flow, okrug_slug: str, page: int
) -> View:
    okrug = region.okrug(okrug_slug)
    districts = sorted(region.districts_of(okrug_slug), key=lambda d: fold(d.name(lang)))
    pages = max(1, math.ceil(len(districts) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = districts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    whole = okrug_slug in subs.okrugs
    lines = [f"📍 <b>{okrug.name(lang)}</b>", _("Tick your districts.")]
    if whole:
        lines.append(_("You follow the whole okrug: news from all its districts."))
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    kb = InlineKeyboardBuilder()
    kb.row(
        InlineKeyboardButton(
            text=f"{ON if whole else OFF} " + _("Whole okrug"),
            callback_data=PickCb(
                action=PickAction.WHOLE_OKRUG, slug=okrug_slug, page=page, flow=flow
            ).pack(),
        )
    )
    row: list[InlineKeyboardButton] = []
    for district in shown:
        mark = ON if district.slug in subs.districts else OFF
        row.append(
            InlineKeyboardButton(
                text=f"{mark} {district.name(lang)}",
                callback_data=PickCb(
                    action=PickAction.DISTRICT, slug=district.slug, page=page, flow=flow
                ).pack(),
            )
        )
        if len(row) == 2:
            kb.row(*row)
            row = []
    if row:
        kb.row(*row)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(
                    text="‹ " + _("Back"),
                    callback_data=PickCb(
                        action=PickAction.OKRUG, slug=okrug_slug, page=page - 1, flow=flow
                    ).pack(),
                )
            )
        if page < pages - 1:
            nav.append(
                InlineKeyboardButton(
                    text=_("More") + " ›",
                    callback_data=PickCb(
                        action=PickAction.OKRUG, slug=okrug_slug, page=page + 1, flow=flow
                    ).pack(),
                )
            )
        kb.row(*nav)
    kb.row(
        InlineKeyboardButton(
            text="« " + _("Okrugs"),
            callback_data=PickCb(action=PickAction.OKRUGS, flow=flow).pack(),
        ),
        InlineKeyboardButton(
            text=flow_done(flow), callback_data=PickCb(action=PickAction.DONE, flow=flow).pack()
        ),
    )
    return "\n".join(lines), kb.as_markup()


def subscriptions_view(region: Region, subs: Subscriptions, lang: str) -> View:
    kb = InlineKeyboardBuilder()
    places: list[tuple[PlaceKind, str, str]] = []  # (kind, slug, name)
    for okrug in region.okrugs:
        if okrug.slug in subs.okrugs:
            places.append((PlaceKind.OKRUG, okrug.slug, okrug.name(lang)))
    districts = [d for d in region.districts if d.slug in subs.districts]
    for district in sorted(districts, key=lambda d: fold(d.name(lang))):
        places.append((PlaceKind.DISTRICT, district.slug, district.name(lang)))
    if not places:
        text = _(
            "📍 You have not chosen any districts yet, so you get city-wide news.\n\n"
            "Add one with the button below or type /subscribe <i>name</i>, "
            "for example /subscribe Khamovniki."
        )
    else:
        count = len(places)
        header = ngettext("📍 You follow {n} place:", "📍 You follow {n} places:", count).format(
            n=count
        )
        bullets = [f"• {name}" for _kind, _slug, name in places]
        text = "\n".join([header, *bullets, "", _("Tap a name below to unsubscribe from it.")])
        for kind, slug, name in places:
            kb.row(
                InlineKeyboardButton(
                    text=f"❌ {name}",
                    callback_data=SubCb(
                        action=SubAction.REMOVE,
                        kind=kind,
                        slug=slug,
                        reply=SubReply.LIST,
                    ).pack(),
                )
            )
    kb.row(
        InlineKeyboardButton(
            text=_("➕ Add districts"), callback_data=PickCb(action=PickAction.OKRUGS).pack()
        )
    )
    return text, kb.as_markup()
