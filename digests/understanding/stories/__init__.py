"""Near-duplicate clustering of articles into stories.

The same release republished by several papers (rewritten headline, reordered or edited
paragraphs) must become one story; template pieces that differ in substance («открыли
площадку в Куркино» / «... в Щукино») must not.

- :mod:`.features`: what an article brings (MinHash signature, content terms), storable;
- :mod:`.index`: the in-memory index of recent articles, which finds candidates (LSH bands for
  near-duplicates, posting lists of rare words for paraphrases);
- :mod:`.decision`: whether a candidate is the same story (containment, term overlap, vetoes).
"""

from digests.understanding.stories.decision import StoryMatch
from digests.understanding.stories.features import (
    NUM_PERM,
    StoryFeatures,
    StoryVocabulary,
    story_features,
)
from digests.understanding.stories.index import StoryIndex, StoryUpdate

__all__ = [
    "NUM_PERM",
    "StoryFeatures",
    "StoryIndex",
    "StoryMatch",
    "StoryUpdate",
    "StoryVocabulary",
    "story_features",
]
