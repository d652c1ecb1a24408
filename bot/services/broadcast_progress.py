"""Broadcast progress: the admin's progress message (sent, blocked, failed, remaining, time
left) edited while a broadcast is sent, with its stop button, and the final report.

The scheduler calls :func:`update_broadcast_progress` every few seconds, and the sender
calls the :func:`progress_hook` after broadcast messages.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.i18n import translator
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage import users as users_repo
from bot.storage.outbox import OutboxRow
from digests.i18n import Translator

__all__ = [
    "PROGRESS_INTERVAL",
    "BroadcastCb",
    "StopButton",
    "progress_hook",
    "progress_markup",
    "progress_text",
    "update_broadcast_progress",
]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 3.0  # seconds between edits of one progress message


class StopButton(StrEnum):
    ASK = "stop"  # «Stop»: ask to confirm
    CONFIRM = "halt"  # «Yes, stop it»
    KEEP = "keep"  # «Keep sending»


class BroadcastCb(CallbackData, prefix="ab"):
    """The buttons of a broadcast's progress message."""

    action: StopButton
    broadcast_id: int


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(
    broadcast: repo.Broadcast,
    progress: repo.BroadcastProgress,
    t: Translator,
    now: datetime,
    *,
    timezone: str = "Europe/Moscow",
    final_state: str | None = None,
) -> str:
    """The progress (or, with ``final_state`` done/stopped, the final report) of a broadcast."""
    _ = t.gettext
    state = final_state or broadcast.state
    if state == "done":
        head = _("✅ Broadcast #{id} finished.")
    elif state == "stopped":
        head = _("⏹ Broadcast #{id} stopped.")
    elif state == "scheduled" and broadcast.send_at is not None and broadcast.send_at > now:
        local = broadcast.send_at.astimezone(ZoneInfo(timezone))
        head = _("🕒 Broadcast #{id} is scheduled for {when}.").replace(
            "{when}", local.strftime("%d.%m %H:%M")
        )
    else:
        head = _("📣 Broadcast #{id} is being sent…")
    lines = [
        head.format(id=broadcast.id),
        _("Recipients: {n}").format(n=broadcast.recipients),
        _("Sent: {n}").format(n=progress.sent),
        _("Blocked the bot or gone: {n}").format(n=progress.blocked),
        _("Failed: {n}").format(n=progress.failed),
    ]
    if state in ("done", "stopped"):
        if progress.stopped:
            lines.append(_("Not sent (stopped): {n}").format(n=progress.stopped))
        if progress.queued:
            lines.append(_("Still in flight: {n}").format(n=progress.queued))
        return "\n".join(lines)
    lines.append(_("Remaining: {n}").format(n=progress.queued))
    first, last = progress.first_sent_at, progress.last_sent_at
    if progress.queued and first is not None and last is not None and progress.sent > 1:
        elapsed = (last - first).total_seconds()
        if elapsed > 0:
            rate = (progress.sent - 1) / elapsed
            lines.append(
                _("Estimated time left: {time}").format(time=_duration(progress.queued / rate))
            )
    return "\n".join(lines)


def progress_markup(broadcast_id: int, t: Translator) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=t.gettext("⏹ Stop"),
        callback_data=BroadcastCb(action=StopButton.ASK, broadcast_id=broadcast_id),
    )
    return kb.as_markup()


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    try:
        await bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            log.info("cannot edit progress message %s: %s", message_id, exc.message)
    except TelegramAPIError as exc:
        log.warning("cannot edit progress message %s: %s", message_id, exc)


async def update_broadcast_progress(
    bot: Bot,
    db: Database,
    clock: Clock,
    *,
    min_interval: float = PROGRESS_INTERVAL,
    only: int | None = None,
) -> int:
    """Edit the progress messages of active broadcasts whose numbers changed (at most once
    per ``min_interval`` seconds each), and finish those with nothing queued any more: their
    progress message becomes the final report and the admin gets a report message.

    Returns how many messages were edited or sent. Safe to call often and concurrently with
    the sender; call it every few seconds from the scheduler.
    """
    now = clock.now()
    async with db.transaction() as conn:
        active = [b for b in await repo.active_broadcasts(conn) if only in (None, b.id)]
        progress = await repo.progress_of(conn, [b.id for b in active])
    if not active:
        return 0
    async with db.transaction() as conn:
        profiles = await users_repo.profiles(conn, {b.admin_id for b in active})
    touched = 0
    for broadcast in active:
        lang, tz = profiles.get(broadcast.admin_id, ("ru", "Europe/Moscow"))
        t = translator(lang)
        numbers = progress[broadcast.id]
        due = broadcast.send_at is None or broadcast.send_at <= now
        if numbers.queued == 0 and due:
            async with db.transaction() as conn:
                finished = await repo.finish_broadcast(conn, broadcast.id, now)
                text = progress_text(broadcast, numbers, t, now, timezone=tz, final_state="done")
                if finished:
                    await repo.save_progress(conn, broadcast.id, text, now)
            if not finished:
                continue  # stopped meanwhile: the stop handler reported it
            if broadcast.progress_chat_id and broadcast.progress_message_id:
                await _edit(
                    bot, broadcast.progress_chat_id, broadcast.progress_message_id, text, None
                )
            with suppress(TelegramAPIError):
                await bot.send_message(broadcast.progress_chat_id or broadcast.admin_id, text)
            touched += 1
            continue
        state = "sending" if due else "scheduled"
        view = dataclasses.replace(broadcast, state=state)
        text = progress_text(view, numbers, t, now, timezone=tz)
        if text == broadcast.progress_text and state == broadcast.state:
            continue
        recent = (
            broadcast.progress_at is not None
            and (now - broadcast.progress_at).total_seconds() < min_interval
        )
        if recent and state == broadcast.state:
            continue
        async with db.transaction() as conn:
            await repo.save_progress(conn, broadcast.id, text, now, state=state)
        if broadcast.progress_chat_id and broadcast.progress_message_id:
            await _edit(
                bot,
                broadcast.progress_chat_id,
                broadcast.progress_message_id,
                text,
                progress_markup(broadcast.id, t),
            )
            touched += 1
    return touched


def progress_hook(
    bot: Bot, db: Database, clock: Clock, *, min_interval: float = 1.0
) -> Callable[[OutboxRow, Any], Awaitable[None]]:
    """An ``on_outcome`` callback for the sender: refreshes progress after broadcast rows,
    at most once per ``min_interval`` seconds (the periodic call catches the rest)."""
    last = -float("inf")

    async def on_outcome(row: OutboxRow, outcome: Any) -> None:
        # ``outcome`` is bot.delivery.sender.Outcome; only finished rows change the numbers.
        nonlocal last
        if row.broadcast_id is None or not getattr(outcome, "final", True):
            return
        if time.monotonic() - last < min_interval:
            return
        last = time.monotonic()
        await update_broadcast_progress(bot, db, clock, min_interval=min_interval)

    return on_outcome
