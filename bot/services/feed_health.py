"""Feed health notices: admins are told, once per transition, that a feed broke, recovered
or went quiet. Runs after each poll cycle."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from aiogram import Bot, html
from aiogram.exceptions import TelegramAPIError

from bot.clock import Clock
from bot.i18n import translator
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage import feeds as feeds_repo
from bot.storage import users as users_repo
from bot.storage.feeds import Feed
from digests.i18n import Translator

__all__ = ["notify_feed_health"]

log = logging.getLogger(__name__)

QUIET_MIN = timedelta(days=1)
QUIET_MAX = timedelta(days=7)


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
    async with db.transaction() as conn:
        profiles = await users_repo.profiles(conn, recipients)
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
    feed: Feed,
    event: str,
    activity: repo.FeedActivity | None,
    now: datetime,
) -> str:
    _ = t.gettext
    name = html.quote(feed.title or feed.url)
    if event == "broken":
        text = _("🔴 Feed #{id} «{name}» is broken: {error}")
        return text.format(id=feed.id, name=name, error=html.quote(feed.last_error or "?"))
    if event == "recovered":
        return _("🟢 Feed #{id} «{name}» works again.").format(id=feed.id, name=name)
    days = 0.0
    if activity is not None and activity.last_article_at is not None:
        days = (now - activity.last_article_at).total_seconds() / 86400
    return _("🟡 Feed #{id} «{name}» has published nothing for {days} days.").format(
        id=feed.id, name=name, days=f"{days:.1f}"
    )
