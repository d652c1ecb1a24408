from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, inspect, select

from bot.storage import Database, schema
from bot.storage.database import alembic_config, in_metadata

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_name": in_metadata})
    return list(compare_metadata(context, schema.metadata))


async def test_migrations_match_the_schema(any_db: Database) -> None:
    async with any_db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_is_idempotent_and_records_head(any_db: Database) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    await any_db.upgrade()
    assert await any_db.current_revision() == head


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_each_old_revision_upgrades_to_head_without_losing_rows(sqlite_url: str) -> None:
    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    for revision in reversed(revisions):  # oldest first
        database = Database(sqlite_url.replace(".sqlite3", f"-{revision}.sqlite3"))
        await database.upgrade(revision)
        async with database.transaction() as conn:
            await conn.execute(
                insert(schema.feeds).values(id=1, url="https://example.org/rss", title="Paper")
            )
            await conn.execute(
                insert(schema.users).values(id=7, chat_id=7, created_at=NOW, updated_at=NOW)
            )
            await conn.execute(
                insert(schema.articles).values(
                    id=1,
                    feed_id=1,
                    identity="g1",
                    url="https://example.org/1",
                    canonical_url="https://example.org/1",
                    title="T",
                    content_hash="h",
                    published_at=NOW,
                    fetched_at=NOW,
                )
            )
        await database.upgrade()
        async with database.transaction() as conn:
            assert (await conn.execute(select(schema.feeds.c.url))).scalars().all() == [
                "https://example.org/rss"
            ]
            assert (await conn.execute(select(schema.users.c.id))).scalars().all() == [7]
            published = (await conn.execute(select(schema.articles.c.published_at))).scalar_one()
            assert published == NOW
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert set(schema.metadata.tables) <= tables
        await database.close()
