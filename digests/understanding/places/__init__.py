"""Places in text: which districts and okrugs of a region an article is about, and what place
a user means by a name they typed.

- :mod:`.gazetteer`: the region's names as word forms, found in a tokenised text;
- :mod:`.disambiguation`: whether a name is spoken of as a district here (context words,
  other senses such as a metro station or a park);
- :mod:`.matcher`: :class:`DistrictTagger`, which puts both together with evidence;
- :mod:`.names`: :func:`resolve` for names typed by users («в Хамовниках», «юзао»).
"""

from digests.understanding.places.gazetteer import word_forms
from digests.understanding.places.matcher import DistrictResult, DistrictTagger, Evidence
from digests.understanding.places.names import Place, PlaceKind, Resolution, resolve

__all__ = [
    "DistrictResult",
    "DistrictTagger",
    "Evidence",
    "Place",
    "PlaceKind",
    "Resolution",
    "resolve",
    "word_forms",
]
