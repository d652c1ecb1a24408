"""The per-article record of the story index (:mod:`.index`), and its fields.

One plain tuple of atomic values (ints, strings, a datetime, tuples of strings, numpy
arrays), never an object with a __dict__ or slots and no sets or lists. CPython's collector
stops tracking such a tuple, so a full collection does not walk several containers per
indexed article (with 20,000 articles it stalled the event loop).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from digests.understanding.stories.features import U32, Slots

__all__ = [
    "ANCHOR_TERMS",
    "DISTRICTS",
    "LENGTH",
    "N_SHINGLES",
    "PUBLISHED",
    "QUANTITIES",
    "SETTLEMENTS",
    "SIGNATURE",
    "SLOTS",
    "SOURCE",
    "STORY",
    "TERMS",
    "URL",
    "Entry",
]

Entry = tuple[
    int,  # story id (the caller's)
    datetime,  # published
    str | None,  # canonical URL
    str | None,  # source (feed)
    int,  # length of the cleaned body
    int,  # n_shingles
    U32,  # MinHash signature
    tuple[str, ...],  # districts, sorted
    str,  # numbers by the word they count, packed (quantities.pack)
    tuple[str, ...],  # settlements, sorted
    tuple[str, ...],  # content terms, in the iteration order of the features' frozenset
    Slots,  # document-frequency slots of the content terms
    tuple[str, ...],  # anchors: terms under which the article is in the posting lists
]
STORY: Final = 0
PUBLISHED: Final = 1
URL: Final = 2
SOURCE: Final = 3
LENGTH: Final = 4
N_SHINGLES: Final = 5
SIGNATURE: Final = 6
DISTRICTS: Final = 7
QUANTITIES: Final = 8
SETTLEMENTS: Final = 9
TERMS: Final = 10
SLOTS: Final = 11
ANCHOR_TERMS: Final = 12
