from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from bot.storage import Database, schema
from bot.storage.search import search_stories

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def seed(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(insert(schema.feeds).values(id=1, url="https://p.example/rss"))
        rows = [
            (1, "школа открыться после ремонт", "kurkino", NOW - timedelta(hours=1)),
            (2, "школа получить новый стадион", "shchukino", NOW - timedelta(hours=2)),
            (3, "в парк открыться каток", "kurkino", NOW - timedelta(hours=3)),
            (4, "школа открыться давно", "kurkino", NOW - timedelta(days=10)),
        ]
        for n, lemmas, district, published in rows:
            await conn.execute(
                insert(schema.stories).values(
                    id=n,
                    representative_article_id=n,
                    first_published_at=published,
                    last_article_at=published,
                    created_at=published,
                )
            )
            await conn.execute(
                insert(schema.articles).values(
                    id=n,
                    feed_id=1,
                    identity=f"g{n}",
                    url=f"https://p.example/{n}",
                    canonical_url=f"https://p.example/{n}",
                    title=f"T{n}",
                    content_hash="h",
                    published_at=published,
                    fetched_at=published,
                    story_id=n,
                    search_lemmas=lemmas,
                )
            )
            await conn.execute(
                insert(schema.article_districts).values(article_id=n, district=district)
            )


async def test_search_matches_all_terms_in_scope_and_window(any_db: Database) -> None:
    await seed(any_db)
    since = NOW - timedelta(days=7)
    async with any_db.transaction() as conn:
        everywhere = await search_stories(conn, ["школа"], since=since, districts=None)
        assert [h.story_id for h in everywhere.hits] == [1, 2] and everywhere.total == 2
        mine = await search_stories(conn, ["школа"], since=since, districts={"kurkino"})
        assert [h.story_id for h in mine.hits] == [1]
        both = await search_stories(conn, ["открыться", "школа"], since=since, districts=None)
        assert [h.story_id for h in both.hits] == [1]
        page2 = await search_stories(
            conn, ["открыться"], since=since, districts=None, limit=1, offset=1
        )
        assert [h.story_id for h in page2.hits] == [3] and page2.total == 2


async def test_search_follows_edits_and_ignores_query_syntax(any_db: Database) -> None:
    await seed(any_db)
    since = NOW - timedelta(days=7)
    async with any_db.transaction() as conn:
        await conn.execute(
            update(schema.articles)
            .where(schema.articles.c.id == 3)
            .values(search_lemmas="в парк открыться школа")
        )
        hits = await search_stories(conn, ["школа"], since=since, districts={"kurkino"})
        assert [h.story_id for h in hits.hits] == [1, 3]
        # Query syntax in user words is taken as plain words, never as operators.
        for hostile in (['"', "OR", "*"], ["NEAR(школа"]):
            result = await search_stories(conn, hostile, since=since, districts=None)
            assert result.total == 0
        # Operator characters are punctuation: «школа:*» is the plain word, «&|!» nothing.
        plain = await search_stories(conn, ["школа"], since=since, districts=None)
        noisy = await search_stories(conn, ["школа:*", "&|!"], since=since, districts=None)
        assert noisy.total == plain.total == 3
