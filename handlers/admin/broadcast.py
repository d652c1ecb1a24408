"""/broadcast: a guided flow (FSM) from the message to the confirmed, queued broadcast.

Steps: message (validated by sending the preview: what Telegram refuses is caught here) →
audience (with the number of recipients) → time (now, or HH:MM in the admin's time zone) →
priority → summary → confirm. Sending goes through the outbox like digests.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.services.accounts import User
from bot.services.broadcasts import Audience, BroadcastService, send_preview
from digests.region import Region
from digests.understanding import TOPIC_NAMES, TOPICS, resolve
from handlers.admin.broadcast_views import (
    audience_keyboard,
    audience_label,
    choice_keyboard,
    okrug_keyboard,
    payload_of,
)
from handlers.admin.callbacks import BroadcastStep, BroadcastStepCb
from handlers.common import render, stale
from handlers.parsing import parse_send_time

__all__ = ["BroadcastFlow", "router"]


class BroadcastFlow(StatesGroup):
    content = State()
    audience = State()
    districts = State()
    time = State()
    priority = State()
    confirm = State()


router = Router(name="admin-broadcast")
flow_states = StateFilter(*BroadcastFlow.__all_states__)


@router.message(Command("cancel"), flow_states)
async def cancel_flow(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Broadcast cancelled. Nothing was sent."))


@router.message(Command("broadcast"))
async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(BroadcastFlow.content)
    await message.answer(
        _(
            "📣 New broadcast. Send the message for residents: text (formatting is "
            "kept), a photo with a caption, or forward a post from a channel.\n"
            "/cancel to stop."
        )
    )


@router.message(BroadcastFlow.content, F.text.startswith("/"))
async def command_in_content(message: Message) -> None:
    await message.answer(
        _("Send the message to broadcast, or /cancel to stop the broadcast first.")
    )


@router.message(BroadcastFlow.content)
async def got_content(message: Message, state: FSMContext, bot: Bot) -> None:
    payload, problem = payload_of(message)
    if payload is None:
        await message.answer(problem or "")
        return
    try:
        preview_id = await send_preview(bot, message.chat.id, payload)
    except TelegramBadRequest as exc:
        await message.answer(
            _(
                "Telegram refused this message: {error}\nFix it and send it again, or /cancel."
            ).format(error=html.quote(exc.message))
        )
        return
    await state.update_data(payload=payload, preview_id=preview_id)
    await state.set_state(BroadcastFlow.audience)
    await message.answer(
        _("☝️ This is how residents will see it.\n\nWho should receive it?"),
        reply_markup=audience_keyboard(),
    )


async def audience_chosen(
    target: Message | CallbackQuery,
    state: FSMContext,
    broadcasts: BroadcastService,
    region: Region,
    user: User,
    audience: Audience,
) -> None:
    count = await broadcasts.count(audience)
    label = audience_label(audience, region, user.language)
    if count == 0:
        await state.set_state(BroadcastFlow.audience)
        text = _("Nobody matches this audience ({audience}). Choose another:").format(
            audience=label
        )
        await _show(target, text, audience_keyboard())
        return
    await state.update_data(audience=audience.to_json(), count=count)
    await state.set_state(BroadcastFlow.time)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("▶️ Now"), callback_data=BroadcastStepCb(step=BroadcastStep.NOW))
    kb.button(text=_("✖ Cancel"), callback_data=BroadcastStepCb(step=BroadcastStep.CANCEL))
    text = _(
        "Audience: {audience}. Recipients now: {n}.\n\n"
        "When to send? Press «Now», or send a time as HH:MM (today, or tomorrow if "
        "it has passed; «tomorrow HH:MM» also works), time zone {tz}."
    ).format(audience=label, n=count, tz=user.timezone)
    await _show(target, text, kb.as_markup())


@router.callback_query(
    BroadcastFlow.audience, BroadcastStepCb.filter(F.step == BroadcastStep.AUDIENCE)
)
async def choose_audience(
    callback: CallbackQuery,
    callback_data: BroadcastStepCb,
    state: FSMContext,
    broadcasts: BroadcastService,
    region: Region,
    user: User,
) -> None:
    kind = callback_data.value
    await callback.answer()
    if kind == "all":
        await audience_chosen(callback, state, broadcasts, region, user, Audience("all"))
    elif kind == "okrug":
        await state.update_data(okrugs=[])
        await render(
            callback,
            _("Choose okrugs, then press «Done»:"),
            okrug_keyboard(region, set(), user.language),
        )
    elif kind == "district":
        await state.set_state(BroadcastFlow.districts)
        await render(
            callback,
            _("Send district names separated by commas, e.g. «Хамовники, Арбат»."),
        )
    elif kind == "language":
        items = [
            ("🇷🇺 Русский", BroadcastStepCb(step=BroadcastStep.LANGUAGE, value="ru")),
            ("🇬🇧 English", BroadcastStepCb(step=BroadcastStep.LANGUAGE, value="en")),
        ]
        await render(callback, _("Which interface language?"), choice_keyboard(items, 2))
    elif kind == "topic":
        items = [
            (_(TOPIC_NAMES[t]), BroadcastStepCb(step=BroadcastStep.TOPIC, value=t)) for t in TOPICS
        ]
        await render(
            callback,
            _("Which topic? Residents who get all topics are included."),
            choice_keyboard(items, 2),
        )


@router.callback_query(
    BroadcastFlow.audience, BroadcastStepCb.filter(F.step == BroadcastStep.TOGGLE_OKRUG)
)
async def toggle_okrug(
    callback: CallbackQuery,
    callback_data: BroadcastStepCb,
    state: FSMContext,
    region: Region,
    user: User,
) -> None:
    slug = callback_data.value
    if slug not in {o.slug for o in region.okrugs}:
        await stale(callback)
        return
    data = await state.get_data()
    chosen = set(data.get("okrugs", []))
    chosen ^= {slug}
    await state.update_data(okrugs=sorted(chosen))
    await callback.answer()
    await render(
        callback,
        _("Choose okrugs, then press «Done»:"),
        okrug_keyboard(region, chosen, user.language),
    )


@router.callback_query(
    BroadcastFlow.audience, BroadcastStepCb.filter(F.step == BroadcastStep.OKRUGS_DONE)
)
async def okrugs_done(
    callback: CallbackQuery,
    state: FSMContext,
    broadcasts: BroadcastService,
    region: Region,
    user: User,
) -> None:
    chosen = tuple((await state.get_data()).get("okrugs", []))
    if not chosen:
        await callback.answer(_("Choose at least one okrug."), show_alert=True)
        return
    await callback.answer()
    await audience_chosen(callback, state, broadcasts, region, user, Audience("okrug", chosen))


@router.callback_query(
    BroadcastFlow.audience,
    BroadcastStepCb.filter(F.step.in_({BroadcastStep.LANGUAGE, BroadcastStep.TOPIC})),
)
async def value_chosen(
    callback: CallbackQuery,
    callback_data: BroadcastStepCb,
    state: FSMContext,
    broadcasts: BroadcastService,
    region: Region,
    user: User,
) -> None:
    value = callback_data.value
    if callback_data.step is BroadcastStep.LANGUAGE and value in ("ru", "en"):
        audience = Audience("language", (value,))
    elif callback_data.step is BroadcastStep.TOPIC and value in TOPICS:
        audience = Audience("topic", (value,))
    else:
        await stale(callback)
        return
    await callback.answer()
    await audience_chosen(callback, state, broadcasts, region, user, audience)


@router.message(BroadcastFlow.districts, F.text)
async def got_districts(
    message: Message, state: FSMContext, broadcasts: BroadcastService, region: Region, user: User
) -> None:
    if (message.text or "").startswith("/"):
        await message.answer(_("Send district names separated by commas, or /cancel."))
        return
    found: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[,;\n]+", message.text or ""):
        name = part.strip()
        if not name:
            continue
        district = region.find_district(name)
        if district is None:
            exact = resolve(name, region).exact
            if exact is not None and exact.kind == "district":
                district = region.district(exact.slug)
        if district is None:
            unknown.append(name)
        elif district.slug not in found:
            found.append(district.slug)
    if unknown or not found:
        await message.answer(
            _("I don't know these districts: {names}. Send the names again.").format(
                names=", ".join(f"«{html.quote(n)}»" for n in unknown) or "—"
            )
        )
        return
    await state.set_state(BroadcastFlow.audience)
    await audience_chosen(
        message, state, broadcasts, region, user, Audience("district", tuple(found))
    )


async def time_chosen(
    target: Message | CallbackQuery, state: FSMContext, send_at: datetime | None
) -> None:
    await state.update_data(send_at=send_at.isoformat() if send_at else None)
    await state.set_state(BroadcastFlow.priority)
    items = [
        (_("Normal"), BroadcastStepCb(step=BroadcastStep.PRIORITY, value="n")),
        (
            _("⚡ Urgent (ahead of digests)"),
            BroadcastStepCb(step=BroadcastStep.PRIORITY, value="u"),
        ),
    ]
    await _show(target, _("Priority?"), choice_keyboard(items, 1))


@router.callback_query(BroadcastFlow.time, BroadcastStepCb.filter(F.step == BroadcastStep.NOW))
async def send_now(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await time_chosen(callback, state, None)


@router.message(BroadcastFlow.time, F.text)
async def got_time(message: Message, state: FSMContext, clock: Clock, user: User) -> None:
    text = message.text or ""
    if text.strip().lower() in ("now", "сейчас"):
        await time_chosen(message, state, None)
        return
    when = parse_send_time(text, clock.now(), user.timezone)
    if when is None:
        await message.answer(
            _("Send the time as HH:MM (e.g. 18:30 or «tomorrow 09:00»), or press «Now».")
        )
        return
    await time_chosen(message, state, when)


@router.callback_query(
    BroadcastFlow.priority, BroadcastStepCb.filter(F.step == BroadcastStep.PRIORITY)
)
async def choose_priority(
    callback: CallbackQuery,
    callback_data: BroadcastStepCb,
    state: FSMContext,
    broadcasts: BroadcastService,
    region: Region,
    user: User,
) -> None:
    if callback_data.value not in ("n", "u"):
        await stale(callback)
        return
    urgent = callback_data.value == "u"
    await state.update_data(urgent=urgent)
    await state.set_state(BroadcastFlow.confirm)
    data = await state.get_data()
    audience = Audience.from_json(data["audience"])
    count = await broadcasts.count(audience)
    when = (
        datetime.fromisoformat(data["send_at"])
        .astimezone(ZoneInfo(user.timezone))
        .strftime("%d.%m.%Y %H:%M")
        if data.get("send_at")
        else _("now")
    )
    text = _(
        "Ready to broadcast the message above.\n\n"
        "Audience: {audience}\nRecipients: {n}\nWhen: {when}\nPriority: {priority}\n\n"
        "Send it?"
    ).format(
        audience=audience_label(audience, region, user.language),
        n=count,
        when=when,
        priority=_("urgent") if urgent else _("normal"),
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send"), callback_data=BroadcastStepCb(step=BroadcastStep.SEND))
    kb.button(text=_("✖ Cancel"), callback_data=BroadcastStepCb(step=BroadcastStep.CANCEL))
    await callback.answer()
    await render(callback, text, kb.as_markup())


@router.callback_query(BroadcastFlow.confirm, BroadcastStepCb.filter(F.step == BroadcastStep.SEND))
async def confirm(
    callback: CallbackQuery,
    state: FSMContext,
    broadcasts: BroadcastService,
    user: User,
    bot: Bot,
) -> None:
    data = await state.get_data()
    await state.clear()
    await callback.answer(_("Queued"))
    await render(callback, _("✅ Confirmed."))
    progress = await bot.send_message(user.chat_id, _("📣 Queuing the broadcast…"))
    broadcast = await broadcasts.create(
        admin_id=user.id,
        payload=data["payload"],
        audience=Audience.from_json(data["audience"]),
        send_at=datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None,
        urgent=bool(data.get("urgent")),
        progress_chat_id=user.chat_id,
        progress_message_id=progress.message_id,
    )
    if broadcast.recipients == 0:
        await progress.edit_text(_("Nobody matches this audience any more; nothing was sent."))
        return
    await broadcasts.show_progress(bot, broadcast.id)


@router.message(StateFilter(BroadcastFlow.audience, BroadcastFlow.priority, BroadcastFlow.confirm))
async def use_buttons(message: Message) -> None:
    await message.answer(_("Use the buttons above, or /cancel."))


@router.callback_query(BroadcastStepCb.filter(F.step == BroadcastStep.CANCEL), flow_states)
async def cancel_button(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await callback.answer()
    await render(callback, _("Broadcast cancelled. Nothing was sent."))


@router.callback_query(BroadcastStepCb.filter())
async def out_of_step(callback: CallbackQuery) -> None:
    await stale(callback)


# -- the progress message's stop button -------------------------------------------


async def _show(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    if isinstance(target, CallbackQuery):
        await render(target, text, markup)
    else:
        await target.answer(text, reply_markup=markup)
