"""Whether two similar articles are one story: the thresholds and the vetoes.

* Near-duplicates (LSH candidates): estimated *containment* of the smaller text's shingles in
  the other (an edited copy that keeps 70% of a release is a copy even if the release is long).
* Paraphrases: an okrug paper that rewrites a release sentence by sentence shares few lemma
  bigrams with it, but keeps its *content words*: names, streets, organisations, numbers and
  specific nouns («Коломенское», «Гурьянова», «340», «планетарий»). A rewrite joins a story
  with an IDF-weighted Dice of content terms ≥ 0.40 *and* none of the vetoes *and* a shared
  number or place (or a Dice ≥ 0.55 without one).
* Vetoes: different districts, different former settlements, or each text having a number the
  other lacks. Template pieces («открыли площадку в Куркино» / «... в Щукино») share their
  wording, so in both channels only the vetoes keep them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from digests.understanding.stories.features import StoryFeatures

__all__ = [
    "CONTAINMENT",
    "MIN_TERMS",
    "StoryMatch",
    "anchored",
    "duplicate_objection",
    "paraphrase_objection",
    "shared_terms",
    "veto",
    "worth_weighing",
]

CONTAINMENT = 0.45  # estimated share of the smaller text's shingles found in the other
# Paraphrase channel.
TERM_OVERLAP = 0.40  # weighted Dice of content terms needed to call a rewrite the same story
TERM_OVERLAP_ALONE = 0.55  # ...or without a shared number or place
RAW_OVERLAP = 0.25  # unweighted Dice below which a candidate is not weighed at all
MIN_TERMS = 12  # fewer content words than this: too little to tell a paraphrase from a topic
MIN_SHARED = 6  # shared content words needed, whatever their weight


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """Result of :meth:`StoryIndex.assign`: the story to join, or None for a new story."""

    story_id: int | None
    article_id: int | None = None  # the stored article that matched
    jaccard: float = 0.0
    containment: float = 0.0
    reason: str = "no similar article"
    rejected: tuple[tuple[int, str], ...] = ()  # (article id, why not) for explain
    overlap: float = 0.0  # weighted overlap of content terms (paraphrase channel only)


def veto(
    a: StoryFeatures,
    b_districts: tuple[str, ...],
    b_numbers: tuple[str, ...],
    b_settlements: tuple[str, ...],
) -> str | None:
    """Evidence that two similar texts are different stories from one template (``b`` is an
    indexed article: its districts, numbers and settlements)."""
    if a.districts and b_districts and a.districts.isdisjoint(b_districts):
        return "different districts"
    # Places are compared at the finest level both texts name: «в поселении Роговское» and
    # «в поселении Вороновское» are one district today but still two places.
    if a.settlements and b_settlements and a.settlements.isdisjoint(b_settlements):
        return "different settlements"
    # Each text has a number the other lacks.
    if not a.numbers.issubset(b_numbers) and not a.numbers.issuperset(b_numbers):
        return "different numbers"
    return None


def anchored(
    a: StoryFeatures,
    b_districts: tuple[str, ...],
    b_numbers: tuple[str, ...],
    b_settlements: tuple[str, ...],
) -> bool:
    """Concrete common ground beyond wording: a shared number, district or settlement."""
    return not (
        a.numbers.isdisjoint(b_numbers) and a.districts.isdisjoint(b_districts)
        and a.settlements.isdisjoint(b_settlements)
    )  # fmt: skip


def shared_terms(terms: frozenset[str], other: tuple[str, ...]) -> frozenset[str]:
    """``terms & frozenset(other)`` with the result's iteration order (which fixes the order of
    a float sum over it) that ``terms & other_terms`` had when ``other`` holds the iteration
    order of the frozenset ``other_terms``: CPython builds an intersection by walking the
    smaller set (the right one on a tie) and inserting the members found in the larger."""
    if len(other) > len(terms):
        others = frozenset(other)
        return frozenset(filter(others.__contains__, terms))
    return frozenset(filter(terms.__contains__, other))


def duplicate_objection(
    a: StoryFeatures,
    containment: float,
    threshold: float,
    b_districts: tuple[str, ...],
    b_numbers: tuple[str, ...],
    b_settlements: tuple[str, ...],
) -> str | None:
    """Why a near-duplicate candidate is not the same story; None when it is."""
    if containment < threshold:
        return f"containment {containment:.2f} < {threshold:.2f}"
    why = veto(a, b_districts, b_numbers, b_settlements)
    return None if why is None else f"containment {containment:.2f} but {why}"


def worth_weighing(n_shared: int, n_terms: int, n_other_terms: int) -> bool:
    """Cheap unweighted Dice first: rewrites of one release share half their words."""
    return not (n_shared < MIN_SHARED or 2 * n_shared < RAW_OVERLAP * (n_terms + n_other_terms))


def paraphrase_objection(
    a: StoryFeatures,
    dice: float,
    b_districts: tuple[str, ...],
    b_numbers: tuple[str, ...],
    b_settlements: tuple[str, ...],
) -> str | None:
    """Why a rewrite with this weighted Dice of content terms is not the same story; None
    when it is."""
    if dice < TERM_OVERLAP:
        return f"term overlap {dice:.2f} < {TERM_OVERLAP:.2f}"
    why = veto(a, b_districts, b_numbers, b_settlements)
    if (
        why is None
        and dice < TERM_OVERLAP_ALONE
        and not anchored(a, b_districts, b_numbers, b_settlements)
    ):
        why = "no shared number or place"
    return None if why is None else f"term overlap {dice:.2f} but {why}"
