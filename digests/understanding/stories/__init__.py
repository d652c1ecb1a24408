"""Near-duplicate and rewritten copies of one news item grouped into stories.

The same release republished by several papers (rewritten headline, reordered or edited
paragraphs, a local paragraph added) must become one story; template pieces that differ in
substance («открыли площадку в Куркино» / «... в Щукино») must not.

- :mod:`.features`: what an article brings (MinHash signature, content terms, numbers in
  context), storable;
- :mod:`.quantities`: numbers with the words they count;
- :mod:`.index`: the in-memory index of recent articles, which finds candidates (LSH bands for
  near-duplicates, posting lists of rare words for rewrites); :mod:`.entry` its per-article
  record;
- :mod:`.evidence`: what is measured about a pair (wording, numbers, places, feed), and
  :mod:`.weigher`, which measures it from the index's records;
- :mod:`.model`, :mod:`.decision`: the fitted same-story score and its explanation.
"""

from digests.understanding.stories.decision import Judgement, StoryMatch, judge
from digests.understanding.stories.evidence import Evidence
from digests.understanding.stories.features import (
    NUM_PERM,
    StoryFeatures,
    StoryVocabulary,
    story_features,
)
from digests.understanding.stories.index import StoryIndex, StoryUpdate
from digests.understanding.stories.model import StoryModel, default_model

__all__ = [
    "NUM_PERM",
    "Evidence",
    "Judgement",
    "StoryFeatures",
    "StoryIndex",
    "StoryMatch",
    "StoryModel",
    "StoryUpdate",
    "StoryVocabulary",
    "default_model",
    "judge",
    "story_features",
]
