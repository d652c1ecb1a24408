"""/stats: the numbers for the admin, audited."""

from __future__ import annotations

from bot.storage import admin as repo
from tests.handlers.admin.conftest import AdminHarness
from tests.services.test_stats import seed


async def test_stats_command(h: AdminHarness) -> None:
    await seed(h.db, h.clock.now())
    [reply] = await h.send(h.admin, "/stats")
    assert "Users: 6 (active 4, paused 1, blocked 1)" in reply.body  # and the admin
    assert "Feeds: 3 (enabled 2, broken 1, paused 1)" in reply.body
    async with h.db.transaction() as conn:
        [entry] = await repo.list_audit(conn)
    assert entry.action == "stats.view" and entry.admin_id == 500
