"""Feeds → articles → stories, on the database side: what the poller found is stored and
grouped into stories here.

- :mod:`bot.ingest.store`: :class:`DatabaseFeedStore`, the poller's storage (articles, their
  understanding and story in one transaction per feed poll; batched poll outcomes), and
  :func:`ingest_file` for a feed saved on disk;
- :mod:`bot.ingest.stories`: :class:`StoryAssigner`, the in-memory story index kept in step
  with the database;
- :mod:`bot.ingest.understanding`: the poller's ``understand`` callables and
  :func:`tag_pending` for articles stored without understanding.
"""

from bot.ingest.store import DatabaseFeedStore, ingest_file
from bot.ingest.stories import NewArticle, StoryAssigner
from bot.ingest.understanding import tag_pending, understand_article, understand_in_worker

__all__ = [
    "DatabaseFeedStore",
    "NewArticle",
    "StoryAssigner",
    "ingest_file",
    "tag_pending",
    "understand_article",
    "understand_in_worker",
]
