"""Evidence that two similar articles report the same news, measured, not yet weighed.

Each piece is one function of what the two articles bring (:class:`.StoryFeatures` for the new
one, the index's stored facts for the other) and becomes a named feature value
(:data:`FEATURES`) that :mod:`.model` weighs:

* wording: estimated *containment* of the smaller text's shingles in the other (an edited copy
  keeps much of a release), and the IDF-weighted Dice of content terms (a rewrite keeps the
  names, streets, organisations and specific nouns);
* numbers in context (:mod:`.quantities`): words both texts count with a number in common
  («750 посещений» in both) and words they count with none in common («750» / «800
  посещений»); a number the other text has no count for (a local «в 12 центрах») is neither;
* places (:func:`place_relation`): a district or former settlement in common, or two texts
  about one different place each (the same template for Митино and for Жулебино). Disjoint
  places count against only then: a release naming ten parks and a copy about one district
  are not in conflict;
* the same feed: a paper does not republish its own news, but it does run template series.

The time gap is not a weighed feature: the index compares only articles within its window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from digests.understanding.stories.features import StoryFeatures
from digests.understanding.stories.quantities import by_word, conflicts

__all__ = [
    "FEATURES",
    "PLACE_APART",
    "PLACE_CONFLICT",
    "PLACE_SHARED",
    "PLACE_UNKNOWN",
    "Evidence",
    "Side",
    "compare",
    "number_agreement",
    "place_relation",
    "term_overlap",
]

PLACE_SHARED = "shared"  # a place in common
PLACE_CONFLICT = "conflict"  # each text is about one place, and they differ
PLACE_APART = "apart"  # disjoint, but one of them names several places: no evidence
PLACE_UNKNOWN = "unknown"  # one of them names no place (city-wide): no evidence


@dataclass(frozen=True, slots=True)
class Side:
    """Facts of one article needed to compare it with another."""

    districts: Collection[str]
    settlements: Collection[str]
    counted: Mapping[str, frozenset[str]]  # numbers by the word they count (quantities.by_word)
    source: str | None
    n_counted: int  # how many different words the text counts (``counted`` may hold fewer)

    @classmethod
    def of(cls, features: StoryFeatures, source: str | None = None) -> Side:
        counted = by_word(features.quantities)
        return cls(features.districts, features.settlements, counted, source, len(counted))


def _relation(a: Collection[str], b: Collection[str]) -> str:
    if not a or not b:
        return PLACE_UNKNOWN
    if not set(a).isdisjoint(b):
        return PLACE_SHARED
    if len(a) == 1 and len(b) == 1:
        return PLACE_CONFLICT
    return PLACE_APART


def place_relation(a: Side, b: Side) -> str:
    """How the places of two texts relate (one of the ``PLACE_*`` values). Places are compared
    at the finest level both texts name: «в поселении Роговское» and «в поселении
    Вороновское» are one district today but still two places."""
    if a.settlements and b.settlements:
        return _relation(a.settlements, b.settlements)
    return _relation(a.districts, b.districts)


def number_agreement(
    a: Mapping[str, frozenset[str]], b: Mapping[str, frozenset[str]]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Words both texts count: with a number in common, with none in common, and with numbers
    an order of magnitude apart (a part and its whole); each with its numbers («посещение
    750», «посещение 750 ≠ 800», «группа 14 ≠ 24000»)."""
    agree, clash, scale = conflicts(a, b)
    return tuple(agree), tuple(clash), tuple(scale)


def term_overlap(weight_a: float, weight_b: float, weight_shared: float) -> tuple[float, float]:
    """Weighted Dice of content terms (twice the weight of the shared terms over the weight of
    both texts' terms, each term weighted by its rarity in the index), and the weighted share
    of the smaller text's terms found in the other (a short copy keeps few of a long
    release's terms but most of its own)."""
    total = weight_a + weight_b
    smaller = min(weight_a, weight_b)
    dice = 2.0 * weight_shared / total if total > 0 else 0.0
    return dice, (min(1.0, weight_shared / smaller) if smaller > 0 else 0.0)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything measured about a pair of articles; :data:`FEATURES` turns it into numbers."""

    containment: float  # estimated share of the smaller text's shingles found in the other
    jaccard: float  # estimated Jaccard similarity of the shingles (shown, not weighed)
    term_overlap: float  # IDF-weighted Dice of content terms
    term_containment: float  # IDF-weighted share of the smaller text's terms in the other
    shared_terms: tuple[str, ...]  # the rarest shared content terms, rarest first (for people)
    numbers_agree: tuple[str, ...]  # words both count with a number in common
    numbers_conflict: tuple[str, ...]  # words both count with no number in common...
    numbers_apart: tuple[str, ...]  # ...unless an order of magnitude apart (part and whole)
    counted_words: int  # different words the text counting fewer counts
    places: str  # a PLACE_* value
    shared_places: tuple[str, ...]
    same_feed: bool
    hours_apart: float

    def features(self) -> dict[str, float]:
        return {name: fn(self) for name, fn in FEATURES.items()}


def compare(
    a: Side,
    b: Side,
    *,
    containment: float,
    jaccard: float,
    overlap: float,
    term_containment: float,
    shared_terms: tuple[str, ...],
    hours_apart: float,
) -> Evidence:
    """The evidence about a pair, given what the index measured of their wording."""
    agree, clash, scale = number_agreement(a.counted, b.counted)
    places = place_relation(a, b)
    shared: tuple[str, ...] = ()
    if places == PLACE_SHARED:
        finest = (a.settlements, b.settlements) if a.settlements and b.settlements else (
            a.districts, b.districts)  # fmt: skip
        shared = tuple(sorted(set(finest[0]) & set(finest[1])))
    return Evidence(
        containment=containment,
        jaccard=jaccard,
        term_overlap=overlap,
        term_containment=term_containment,
        shared_terms=shared_terms,
        numbers_agree=agree,
        numbers_conflict=clash,
        numbers_apart=scale,
        counted_words=min(a.n_counted, b.n_counted),
        places=places,
        shared_places=shared,
        same_feed=a.source is not None and a.source == b.source,
        hours_apart=hours_apart,
    )


def _verbatim(e: Evidence) -> float:
    """-log(1 - containment): grows without bound as a text approaches a verbatim copy."""
    return -math.log1p(-min(e.containment, 0.99))


# Feature name → its value for a pair. Counts enter as log(1 + n): the first agreeing number
# says more than the fifth. The model file names the features it weighs.
FEATURES: dict[str, Callable[[Evidence], float]] = {
    "containment": lambda e: e.containment,
    "term_overlap": lambda e: e.term_overlap,
    "term_containment": lambda e: e.term_containment,
    "numbers_agree": lambda e: math.log1p(len(e.numbers_agree)),
    "numbers_conflict": lambda e: math.log1p(len(e.numbers_conflict)),
    "numbers_apart": lambda e: math.log1p(len(e.numbers_apart)),
    # The share of the words the sparser text counts on which the two agree: a short copy
    # that keeps its three numbers agrees fully with a release that has fifteen.
    "numbers_share": lambda e: len(e.numbers_agree) / e.counted_words if e.counted_words else 0.0,
    "same_place": lambda e: float(e.places == PLACE_SHARED),
    "other_place": lambda e: float(e.places == PLACE_CONFLICT),
    "same_feed": lambda e: float(e.same_feed),
    # Interactions: a conflict in an otherwise copied text marks a template series.
    "conflict_in_copy": lambda e: math.log1p(len(e.numbers_conflict)) * e.containment,
    "other_place_in_copy": lambda e: float(e.places == PLACE_CONFLICT) * e.containment,
    "same_feed_in_copy": lambda e: float(e.same_feed) * e.containment,
    "conflict_in_verbatim": lambda e: math.log1p(len(e.numbers_conflict)) * _verbatim(e),
    "other_place_in_verbatim": lambda e: float(e.places == PLACE_CONFLICT) * _verbatim(e),
}
