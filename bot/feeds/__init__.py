"""Feed ingestion: feed lists, fetching, parsing, cleaning and the poller.

The storage layer implements :class:`FeedStore`; everything else is here.
"""

from bot.feeds.errors import FeedError, FetchError, ParseError, SourcesError
from bot.feeds.fetch import Fetcher, FetchPolicy, FetchResult
from bot.feeds.normalize import NormalizedArticle, canonical_url
from bot.feeds.poller import (
    ArticleRecord,
    FeedState,
    FeedStore,
    FetchOutcome,
    Poller,
    PollReport,
    PollStatus,
    UpsertResult,
)
from bot.feeds.schedule import FeedHealth, HealthEvent
from bot.feeds.sources import (
    Binding,
    BindingKind,
    FeedSource,
    export_opml,
    import_opml,
    load_bundled_sources,
    load_sources,
)

__all__ = [
    "ArticleRecord",
    "Binding",
    "BindingKind",
    "FeedError",
    "FeedHealth",
    "FeedSource",
    "FeedState",
    "FeedStore",
    "FetchError",
    "FetchOutcome",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "HealthEvent",
    "NormalizedArticle",
    "ParseError",
    "PollReport",
    "PollStatus",
    "Poller",
    "SourcesError",
    "UpsertResult",
    "canonical_url",
    "export_opml",
    "import_opml",
    "load_bundled_sources",
    "load_sources",
]
