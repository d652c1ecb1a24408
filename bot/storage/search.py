"""Full-text search of recent stories over lemmatised text (FTS5 or PostgreSQL tsvector)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import schema as s

__all__ = ["SearchHit", "SearchPage", "search_stories"]


@dataclass(frozen=True, slots=True)
class SearchHit:
    story_id: int
    title: str
    url: str
    summary: str
    published_at: datetime
    source_count: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    total: int  # stories matching, over all pages


def _fts5_query(terms: Sequence[str]) -> str:
    # Every term quoted: user words can't inject FTS5 syntax (AND, NEAR, column filters).
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _matches(conn: AsyncConnection, terms: Sequence[str]) -> ColumnElement[bool]:
    a = s.articles
    if conn.dialect.name == "sqlite":
        ids = text("SELECT rowid FROM article_search WHERE article_search MATCH :q").bindparams(
            q=_fts5_query(terms)
        )
        return a.c.id.in_(ids.columns(literal_column("rowid")))
    # plainto_tsquery ANDs plain words and has no operators a user could inject.
    return func.to_tsvector("simple", a.c.search_lemmas).op("@@")(
        func.plainto_tsquery("simple", " ".join(terms))
    )


async def search_stories(
    conn: AsyncConnection,
    terms: Sequence[str],
    *,
    since: datetime,
    districts: Collection[str] | None,
    limit: int = 5,
    offset: int = 0,
) -> SearchPage:
    """Stories with an article since ``since`` containing every term (lemmas), newest first.

    ``districts`` limits the search to stories tagged with one of them; None searches all.
    """
    terms = [t for t in terms if t.strip()]
    if not terms:
        return SearchPage((), 0)
    a, st = s.articles, s.stories
    conditions = [a.c.published_at >= since, a.c.story_id.is_not(None), _matches(conn, terms)]
    if districts is not None:
        tagged = select(s.article_districts.c.article_id).where(
            s.article_districts.c.district.in_(list(districts))
        )
        conditions.append(a.c.id.in_(tagged))
    matching = (
        select(a.c.story_id, func.max(a.c.published_at).label("latest"))
        .where(and_(*conditions))
        .group_by(a.c.story_id)
        .subquery()
    )
    total = await conn.scalar(select(func.count()).select_from(matching)) or 0
    rep = s.articles.alias("rep")
    rows = await conn.execute(
        select(st.c.id, rep.c.title, rep.c.url, rep.c.summary, matching.c.latest, st.c.source_count)
        .join(matching, matching.c.story_id == st.c.id)
        .join(rep, rep.c.id == st.c.representative_article_id)
        .order_by(matching.c.latest.desc(), st.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return SearchPage(tuple(SearchHit(*row) for row in rows), int(total))
