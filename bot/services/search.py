"""Search: recent stories containing every word (in any grammatical form), in the
resident's districts or everywhere, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.storage import Database
from bot.storage import users as users_repo
from bot.storage.search import SearchHit, search_stories
from bot.storage.users import Subscriptions
from digests.region import Region
from digests.understanding import lemmas_for_search

__all__ = ["PAGE_SIZE", "SEARCH_WINDOW", "SearchHit", "SearchResults", "SearchService"]

SEARCH_WINDOW = timedelta(days=7)
PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results. ``everywhere`` is the scope searched; ``can_narrow`` tells
    whether the resident follows places the search could be limited to."""

    words: str
    page: int
    everywhere: bool
    can_narrow: bool
    total: int  # over all pages
    hits: tuple[SearchHit, ...]

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * PAGE_SIZE < self.total


def covered_districts(subs: Subscriptions, region: Region) -> set[str]:
    """The districts followed directly or through their okrug."""
    covered = set(subs.districts)
    for okrug in subs.okrugs:
        covered.update(d.slug for d in region.districts_of(okrug))
    return covered


class SearchService:
    def __init__(self, db: Database, region: Region, clock: Clock) -> None:
        self.db = db
        self.region = region
        self.clock = clock

    async def search(
        self, user_id: int, words: str, *, page: int = 0, everywhere: bool = False
    ) -> SearchResults:
        """Stories of the last week containing ``words``; in the resident's districts unless
        ``everywhere`` (or they follow none)."""
        terms = lemmas_for_search(words).split()
        async with self.db.transaction() as conn:
            subs = await users_repo.get_subscriptions(conn, user_id)
            everywhere = everywhere or subs.is_empty
            found = await search_stories(
                conn,
                terms,
                since=self.clock.now() - SEARCH_WINDOW,
                districts=None if everywhere else covered_districts(subs, self.region),
                limit=PAGE_SIZE,
                offset=page * PAGE_SIZE,
            )
        return SearchResults(words, page, everywhere, not subs.is_empty, found.total, found.hits)
