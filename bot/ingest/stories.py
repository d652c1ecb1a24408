"""Articles → stories: :class:`StoryAssigner` groups stored articles into stories with the
in-memory :class:`StoryIndex`, kept in step with the database (rebuilt from stored signatures
at start-up; a rolled-back transaction takes its articles back out)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import Database
from bot.storage import articles as repo
from digests.understanding import StoryFeatures, StoryIndex, Understanding

__all__ = ["NewArticle", "StoryAssigner"]


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A stored article whose understanding is ready, waiting for its story."""

    article_id: int
    feed_id: int
    url: str
    published_at: datetime
    understanding: Understanding


class _Pause:
    """Yields to the event loop when a synchronous stretch has run for ``budget`` seconds.

    Story matching costs up to a millisecond per article against a full index; a batch of
    100 must not hold the loop for longer than one budget at a time. The index must not change
    under a paused batch: :class:`DatabaseFeedStore` holds its lock around it, and
    :func:`tag_pending` runs between poll cycles.
    """

    def __init__(self, budget: float = 0.005) -> None:
        self.budget = budget
        self.since = time.perf_counter()

    async def maybe(self) -> None:
        if time.perf_counter() - self.since >= self.budget:
            await asyncio.sleep(0)
            self.since = time.perf_counter()


class StoryAssigner:
    """Groups articles into stories with a :class:`StoryIndex` kept in step with the DB."""

    def __init__(self, index: StoryIndex | None = None) -> None:
        self.index = index or StoryIndex()
        self._uncommitted: list[int] = []
        self._exclusive = asyncio.Lock()  # one transaction at a time touches the index

    @asynccontextmanager
    async def transaction(self, db: Database) -> AsyncIterator[AsyncConnection]:
        """A database transaction whose story assignments leave the index if it rolls back
        (its article ids may later be given to other articles)."""
        async with self._exclusive:
            self._uncommitted = []
            try:
                async with db.transaction() as conn:
                    yield conn
            except BaseException:
                for article_id in self._uncommitted:
                    self.index.remove(article_id)
                raise
            finally:
                self._uncommitted = []

    async def warm(self, conn: AsyncConnection, now: datetime) -> int:
        """Load the recent window of stored signatures; how many articles were loaded."""
        rows = await repo.recent_signatures(conn, now - self.index.window)
        for row in rows:
            self.index.add(
                row.article_id,
                row.story_id,
                StoryFeatures.from_bytes(row.signature),
                row.published_at,
                url=row.canonical_url or None,
                source=str(row.feed_id),
            )
        return len(rows)

    async def store(
        self, conn: AsyncConnection, items: Sequence[NewArticle], now: datetime, *, replace: bool
    ) -> None:
        """Assign each article to a story (new or existing) and save its tags.

        Run it inside :meth:`transaction`, so that the index follows the database if the
        transaction rolls back.
        """
        self._uncommitted.extend(item.article_id for item in items)
        provisional: dict[int, list[NewArticle]] = {}
        chosen: dict[int, int] = {}  # article id -> story id (negative: not created yet)
        pause = _Pause()
        for n, item in enumerate(items, start=1):
            features = item.understanding.story
            match = self.index.assign(
                features, item.published_at, item.url or None, source=str(item.feed_id)
            )
            story_id = match.story_id if match.story_id is not None else -n
            if story_id < 0:
                provisional[story_id] = []
            if story_id in provisional:
                provisional[story_id].append(item)
            self.index.add(
                item.article_id,
                story_id,
                features,
                item.published_at,
                url=item.url or None,
                source=str(item.feed_id),
            )
            chosen[item.article_id] = story_id
            await pause.maybe()
        real_ids = await repo.create_stories(
            conn,
            [(members[0].article_id, members[0].published_at) for members in provisional.values()],
            now,
        )
        renamed = dict(zip(provisional, real_ids, strict=True))
        for temp_id, real_id in renamed.items():
            self.index.rename_story(temp_id, real_id)
        touched: dict[int, datetime] = {}
        for item in items:
            story_id = renamed.get(chosen[item.article_id], chosen[item.article_id])
            chosen[item.article_id] = story_id
            touched[story_id] = max(touched.get(story_id, item.published_at), item.published_at)
        await repo.update_stories(
            conn,
            [
                (story_id, representative, max(1, len(self.index.sources(story_id))), latest)
                for story_id, latest in touched.items()
                if (representative := self.index.representative(story_id)) is not None
            ],
        )
        await repo.save_taggings(
            conn,
            [repo.Tagging(i.article_id, i.understanding, chosen[i.article_id]) for i in items],
            now,
            replace=replace,
        )
