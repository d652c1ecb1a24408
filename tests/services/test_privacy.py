from __future__ import annotations

from sqlalchemy import func, select

from bot.services import ServiceSet
from bot.services.privacy import account_stamp
from bot.storage import Database, outbox
from bot.storage import schema as s
from digests.understanding import Place


async def test_stored_data_is_the_user_and_their_subscriptions(services: ServiceSet) -> None:
    user, _ = await services.accounts.ensure(1, 1, "ru")
    await services.subscriptions.subscribe(1, Place("okrug", "szao"))
    stored = await services.privacy.stored_data(user)
    assert stored.user == user and stored.subscriptions.okrugs == {"szao"}


async def test_delete_needs_the_accounts_own_stamp(services: ServiceSet, db: Database) -> None:
    user, _ = await services.accounts.ensure(1, 1, "ru")
    await services.subscriptions.subscribe(1, Place("district", "arbat"))
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn,
            [outbox.OutboxMessage("k1", 1, {"method": "sendMessage", "text": "x"}, user_id=1)],
            user.created_at,
        )
    assert not await services.privacy.delete_account(user, account_stamp(user) + 1)
    assert await services.accounts.get(1) is not None

    assert await services.privacy.delete_account(user, account_stamp(user))
    assert await services.accounts.get(1) is None
    async with db.transaction() as conn:
        left = [
            await conn.scalar(select(func.count()).select_from(table))
            for table in (s.subscriptions, s.outbox)
        ]
    assert left == [0, 0]
