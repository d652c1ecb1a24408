"""Admin work outside handlers: who is an admin, broadcast progress messages, feed health
notifications and the statistics text.

The app calls :func:`update_broadcast_progress` every few seconds (and/or passes
:func:`progress_hook` to the sender as ``on_outcome``) and :func:`notify_feed_health` after
each poll cycle. :func:`format_stats` serves /stats and ``newsbot stats`` alike.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import CopyMessage, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import InlineKeyboardMarkup, Message, MessageId
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import translator
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage import users as users_repo
from bot.storage.outbox import OutboxRow
from digests.i18n import Translator
from digests.region import load_region

__all__ = [
    "BroadcastCb",
    "admin_ids",
    "format_stats",
    "is_admin",
    "notify_feed_health",
    "payload_method",
    "progress_hook",
    "progress_text",
    "send_payload",
    "update_broadcast_progress",
]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 3.0  # seconds between edits of one progress message
QUIET_MIN = timedelta(days=1)
QUIET_MAX = timedelta(days=7)


class BroadcastCb(CallbackData, prefix="ab"):
    """Broadcast buttons. a: stop = ask to stop, halt = confirm, keep = don't stop;
    i: the broadcast id."""

    a: str
    i: int


# -- admins ------------------------------------------------------------------------------


async def is_admin(db: Database, settings: Settings, user_id: int) -> bool:
    """ADMIN_IDS, or added at run time by another admin."""
    if user_id in settings.admin_ids:
        return True
    async with db.transaction() as conn:
        return await repo.stored_admin(conn, user_id)


async def admin_ids(db: Database, settings: Settings) -> set[int]:
    """Every admin: ADMIN_IDS and run-time admins."""
    async with db.transaction() as conn:
        stored = await repo.list_admins(conn)
    return set(settings.admin_ids) | {user_id for user_id, _by, _since in stored}


async def _profiles(db: Database, user_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """user id -> (language, timezone) for the users we know."""
    if not user_ids:
        return {}
    async with db.transaction() as conn:
        return await users_repo.profiles(conn, user_ids)


# -- payloads ----------------------------------------------------------------------------

_METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "copyMessage": CopyMessage,
}


def payload_method(payload: Mapping[str, Any], chat_id: int) -> TelegramMethod[Any]:
    """The Bot API call an outbox payload describes, for ``chat_id`` (as the sender does)."""
    params = dict(payload)
    cls = _METHODS[params.pop("method", "sendMessage")]
    params.pop("chat_id", None)
    return cls.model_validate({"chat_id": chat_id, **params})


async def send_payload(bot: Bot, chat_id: int, payload: Mapping[str, Any]) -> int:
    """Send a payload now (a preview); returns the message id. Telegram's errors propagate."""
    result = await bot(payload_method(payload, chat_id))
    if isinstance(result, Message | MessageId):
        return result.message_id
    raise TypeError(f"unexpected result {type(result).__name__}")


# -- broadcast progress ------------------------------------------------------------------


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
    kb.button(text=t.gettext("⏹ Stop"), callback_data=BroadcastCb(a="stop", i=broadcast_id))
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
    profiles = await _profiles(db, {b.admin_id for b in active})
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


# -- feed health -------------------------------------------------------------------------


def _quiet_after(recent: int, window: timedelta = timedelta(days=30)) -> timedelta:
    """How long without articles is unusual for a feed that published ``recent`` in
    ``window``: three average gaps, within one and seven days."""
    if recent <= 0:
        return QUIET_MIN
    gap = window / recent
    return min(QUIET_MAX, max(QUIET_MIN, gap * 3))


async def notify_feed_health(
    bot: Bot, db: Database, clock: Clock, admin_ids: Collection[int]
) -> list[tuple[int, str]]:
    """Tell admins, once per transition, that a feed broke, recovered, or went quiet.

    ``admin_ids`` are ADMIN_IDS; run-time admins are added from the database. Returns the
    (feed id, event) pairs notified: broken, recovered, quiet.
    """
    now = clock.now()
    from bot.storage import feeds as feeds_repo

    async with db.transaction() as conn:
        feeds = {f.id: f for f in await feeds_repo.list_feeds(conn)}
        states = await repo.feed_notification_state(conn)
        activity = await repo.feed_activity(conn, now)
        stored = await repo.list_admins(conn)
    recipients = set(admin_ids) | {user_id for user_id, _by, _since in stored}
    events: list[tuple[int, str]] = []
    updates: list[tuple[int, dict[str, datetime | None]]] = []
    for feed_id, enabled, broken, broken_notified, quiet_notified in states:
        if broken and broken_notified is None and enabled:
            events.append((feed_id, "broken"))
            updates.append((feed_id, {"broken_notified_at": now}))
        elif not broken and broken_notified is not None:
            events.append((feed_id, "recovered"))
            updates.append((feed_id, {"broken_notified_at": None}))
        act = activity.get(feed_id)
        if act is None or act.last_article_at is None or not enabled or broken:
            continue
        silent = now - act.last_article_at
        if quiet_notified is None and silent >= _quiet_after(act.recent):
            events.append((feed_id, "quiet"))
            updates.append((feed_id, {"quiet_notified_at": now}))
        elif quiet_notified is not None and act.last_article_at > quiet_notified:
            updates.append((feed_id, {"quiet_notified_at": None}))  # publishing again
    if updates:
        async with db.transaction() as conn:
            for feed_id, values in updates:
                await repo.set_feed_notified(conn, feed_id, **values)
    if not events or not recipients:
        return events
    profiles = await _profiles(db, recipients)
    for admin in sorted(recipients):
        lang = profiles.get(admin, ("ru", ""))[0]
        t = translator(lang)
        lines = [
            _feed_event_text(t, feeds[feed_id], event, activity.get(feed_id), now)
            for feed_id, event in events
            if feed_id in feeds
        ]
        try:
            await bot.send_message(admin, "\n\n".join(lines))
        except TelegramAPIError as exc:
            log.warning("cannot notify admin %s about feed health: %s", admin, exc)
    return events


def _feed_event_text(
    t: Translator,
    feed: Any,
    event: str,
    activity: repo.FeedActivity | None,
    now: datetime,
) -> str:
    _ = t.gettext
    name = html.escape(feed.title or feed.url)
    if event == "broken":
        text = _("🔴 Feed #{id} «{name}» is broken: {error}")
        return text.format(id=feed.id, name=name, error=html.escape(feed.last_error or "?"))
    if event == "recovered":
        return _("🟢 Feed #{id} «{name}» works again.").format(id=feed.id, name=name)
    days = 0.0
    if activity is not None and activity.last_article_at is not None:
        days = (now - activity.last_article_at).total_seconds() / 86400
    return _("🟡 Feed #{id} «{name}» has published nothing for {days} days.").format(
        id=feed.id, name=name, days=f"{days:.1f}"
    )


# -- statistics --------------------------------------------------------------------------


def format_stats(stats: repo.Stats, t: Translator, lang: str = "ru") -> str:
    """/stats and ``newsbot stats`` as plain text (no HTML tags; escape-free)."""
    _ = t.gettext
    region = load_region()
    lines = [
        _("📊 Statistics"),
        "",
        _("Users: {total} (active {active}, paused {paused}, blocked {blocked})").format(
            total=stats.users_total,
            active=stats.users_active,
            paused=stats.users_paused,
            blocked=stats.users_blocked,
        ),
        _("New this week: {n}").format(n=stats.users_new_week),
        _("With subscriptions: {n}").format(n=stats.subscribed_users),
    ]
    if stats.per_okrug:
        lines.append(_("Okrug subscribers:"))
        for slug, n in sorted(stats.per_okrug.items(), key=lambda kv: (-kv[1], kv[0])):
            try:
                name = region.okrug(slug).short(lang)
            except KeyError:
                name = slug
            lines.append(f"  {name}: {n}")
    if stats.top_districts:
        lines.append(_("Top districts:"))
        for slug, n in stats.top_districts:
            try:
                name = region.district(slug).name(lang)
            except KeyError:
                name = slug
            lines.append(f"  {name}: {n}")
    lines += [
        "",
        _("Last 24 hours:"),
        _("  digests built: {n}, messages sent: {sent}").format(
            n=stats.digests_day, sent=stats.sent("digest")
        ),
        _("  broadcasts: {n}, messages sent: {sent}").format(
            n=stats.broadcasts_day, sent=stats.sent("broadcast")
        ),
    ]
    if stats.failures_day:
        shown = ", ".join(f"{reason} {n}" for reason, n in stats.failures_day.items())
        lines.append(_("  not delivered: {reasons}").format(reasons=shown))
    lines += [
        _("Queue: {n}").format(n=stats.queue_length),
        _("Feeds: {total} (enabled {enabled}, broken {broken}, paused {paused})").format(
            total=stats.feeds_total,
            enabled=stats.feeds_enabled,
            broken=stats.feeds_broken,
            paused=stats.feeds_paused,
        ),
    ]
    return "\n".join(lines)
