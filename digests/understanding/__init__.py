"""Understanding one article: which places it is about, its topics, a short lead, and the
features that tell whether it is a copy of a story already seen.

:class:`Analyzer` (:func:`get_analyzer` for the process-wide one) is the entry point; the
:class:`StoryIndex` groups copies of one story; :func:`resolve` reads a place name a user
typed. Behind them: :mod:`.morph` (tokens and lemmas), :mod:`.places` (districts and okrugs
in a text, typed names), :mod:`.topics`, :mod:`.summary`, :mod:`.stories` (copies of one
story) and :mod:`.analyzer` (the facade).
"""

from digests.understanding.analyzer import (
    Analyzer,
    Explanation,
    Understanding,
    get_analyzer,
    lemmas_for_search,
)
from digests.understanding.places import Place, PlaceKind, Resolution, resolve
from digests.understanding.stories import (
    StoryFeatures,
    StoryIndex,
    StoryMatch,
    StoryUpdate,
    story_features,
)
from digests.understanding.topics import TOPIC_NAMES, TOPICS

__all__ = [
    "TOPICS",
    "TOPIC_NAMES",
    "Analyzer",
    "Explanation",
    "Place",
    "PlaceKind",
    "Resolution",
    "StoryFeatures",
    "StoryIndex",
    "StoryMatch",
    "StoryUpdate",
    "Understanding",
    "get_analyzer",
    "lemmas_for_search",
    "resolve",
    "story_features",
]
