from __future__ import annotations

from bot.services import ServiceSet
from bot.services.admins import Removal
from bot.storage import Database
from bot.storage import admin as admin_repo

CONFIGURED = 500  # ADMIN_IDS in the test settings


async def audit_log(db: Database) -> list[tuple[int, str, dict[str, object]]]:
    async with db.transaction() as conn:
        entries = await admin_repo.list_audit(conn)
    return [(e.admin_id, e.action, e.details) for e in reversed(entries)]


async def test_admins_from_the_configuration_and_added_at_run_time(
    services: ServiceSet, db: Database
) -> None:
    admins = services.admins
    assert await admins.is_admin(CONFIGURED)
    assert not await admins.is_admin(777)
    assert not await admins.add(CONFIGURED, by=CONFIGURED)  # already one

    assert await admins.add(777, by=CONFIGURED)
    assert not await admins.add(777, by=CONFIGURED)
    assert await admins.is_admin(777)
    assert await admins.all_ids() == {CONFIGURED, 777}
    listing = await admins.listing()
    assert listing.configured == (CONFIGURED,)
    assert [(a.user_id, a.added_by) for a in listing.added] == [(777, CONFIGURED)]

    assert await admins.remove(CONFIGURED, by=777) is Removal.CONFIGURED
    assert await admins.remove(777, by=CONFIGURED) is Removal.REMOVED
    assert await admins.remove(777, by=CONFIGURED) is Removal.NOT_ADMIN
    assert not await admins.is_admin(777)
    assert await audit_log(db) == [
        (CONFIGURED, "admin.add", {"user_id": 777}),
        (CONFIGURED, "admin.remove", {"user_id": 777}),
    ]


async def test_audit(services: ServiceSet, db: Database) -> None:
    await services.admins.audit(CONFIGURED, "feed.check", url="https://example.ru/rss")
    assert await audit_log(db) == [(CONFIGURED, "feed.check", {"url": "https://example.ru/rss"})]
