"""Statistics: users, subscriptions, deliveries of the last day, the queue and feed health;
the same numbers for /stats and ``newsbot stats``."""

from __future__ import annotations

from bot.clock import Clock
from bot.storage import Database
from bot.storage import admin as repo
from bot.storage.admin import Stats
from digests.i18n import Translator
from digests.region import Region

__all__ = ["Stats", "StatsService", "format_stats"]


class StatsService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def collect(self) -> Stats:
        async with self.db.transaction() as conn:
            return await repo.collect_stats(conn, self.clock.now())

    async def view(self, admin_id: int) -> Stats:
        """The statistics an admin looks at (audited)."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            stats = await repo.collect_stats(conn, now)
            await repo.audit(conn, admin_id, "stats.view", now)
        return stats


def format_stats(stats: Stats, t: Translator, lang: str = "ru", *, region: Region) -> str:
    """/stats and ``newsbot stats`` as plain text (no HTML tags; escape-free)."""
    _ = t.gettext
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
