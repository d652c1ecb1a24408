"""Whether a candidate is the same story: the evidence weighed by the fitted model.

No single piece of evidence vetoes a merge. An okrug paper that republishes a city release
adds a local paragraph with numbers of its own, so "each text has a number the other lacks"
is common among true copies; what speaks against a merge is a *conflict*: the same counted
word with other numbers, two different places for texts about one place each, a paper's own
template series. :func:`judge` weighs all of it with :class:`.StoryModel` and keeps the
contributions, so that ``newsbot stories --explain`` and the tests see why.
"""

from __future__ import annotations

from dataclasses import dataclass

from digests.understanding.stories.evidence import (
    PLACE_APART,
    PLACE_CONFLICT,
    PLACE_SHARED,
    Evidence,
)
from digests.understanding.stories.model import Score, StoryModel, default_model

__all__ = ["MIN_SHARED_WORDS", "Judgement", "StoryMatch", "judge", "worth_weighing"]

MIN_SHARED_WORDS = 0.25  # unweighted Dice of content words below which a pair is not weighed


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """Result of :meth:`StoryIndex.assign`: the story to join, or None for a new story."""

    story_id: int | None
    article_id: int | None = None  # the stored article that matched
    jaccard: float = 0.0
    containment: float = 0.0
    reason: str = "no similar article"
    rejected: tuple[tuple[int, str], ...] = ()  # (article id, why not) for explain
    overlap: float = 0.0  # weighted overlap of content terms
    probability: float = 0.0  # the model's same-story probability for the matched article


@dataclass(frozen=True, slots=True)
class Judgement:
    """The evidence about a pair, the model that weighed it and the verdict."""

    evidence: Evidence
    model: StoryModel
    probability: float

    @property
    def threshold(self) -> float:
        return self.model.threshold

    @property
    def same(self) -> bool:
        return self.probability >= self.model.threshold

    @property
    def score(self) -> Score:
        """The probability with each feature's contribution (computed on demand)."""
        return self.model.score(self.evidence)

    def summary(self) -> str:
        """One line: the verdict, the score and the evidence that weighed most."""
        verdict = "same story" if self.same else "not the same story"
        strongest = sorted(self.score.contributions, key=lambda c: (-abs(c[2]), c[0]))[:3]
        why = ", ".join(f"{_describe(self.evidence, n)} {c:+.1f}" for n, _, c in strongest)
        return f"{verdict}: score {self.probability:.2f} (threshold {self.threshold:.2f}); {why}"

    def lines(self) -> list[str]:
        """Every piece of evidence with its contribution to the logit, for people."""
        e, score = self.evidence, self.score
        out = [
            f"score {self.probability:.3f} (threshold {self.threshold:.2f}): "
            + ("same story" if self.same else "not the same story"),
            f"  {'prior (intercept)':<64} {score.intercept:+7.2f}",
        ]
        for name, value, contribution in score.contributions:
            label = f"{_describe(e, name)} [{name} = {value:.2f}]"
            out.append(f"  {label:<64} {contribution:+7.2f}")
        out.append(f"  {'= logit':<64} {score.logit:+7.2f}")
        out.append(f"  hours apart: {e.hours_apart:.1f}; estimated Jaccard {e.jaccard:.2f}")
        return out


def _describe(e: Evidence, feature: str) -> str:
    """What a feature's value means for this pair, in words."""
    match feature:
        case "containment":
            return f"containment {e.containment:.2f}"
        case "term_overlap":
            terms = ", ".join(e.shared_terms[:5])
            return f"term overlap {e.term_overlap:.2f}" + (f" ({terms})" if terms else "")
        case "numbers_agree":
            return f"numbers agree: {'; '.join(e.numbers_agree) or 'none'}"
        case "numbers_conflict":
            return f"numbers conflict: {'; '.join(e.numbers_conflict) or 'none'}"
        case "numbers_apart":
            return f"numbers a part and its whole: {'; '.join(e.numbers_apart) or 'none'}"
        case "same_place" | "other_place":
            return {
                PLACE_SHARED: f"same place ({', '.join(e.shared_places)})",
                PLACE_CONFLICT: "one different place each",
                PLACE_APART: "different places, several in one text (no evidence)",
            }.get(e.places, "a text names no place (no evidence)")
        case "same_feed":
            return "same feed" if e.same_feed else "different feeds"
    return feature


def judge(evidence: Evidence, model: StoryModel | None = None) -> Judgement:
    """Weigh the evidence about a pair with the fitted model."""
    m = model if model is not None else default_model()
    return Judgement(evidence, m, m.probability(m.values(evidence)))


def worth_weighing(n_shared: int, n_terms: int, n_other_terms: int) -> bool:
    """Whether a candidate shares enough content words to be weighed at all: a cost guard
    before the full evidence (texts of one city's news share many words). Copies share more
    than a quarter of their content words (on the development pairs at least a third), and
    no development pair below it scores above 0.2."""
    total = n_terms + n_other_terms
    return total > 0 and 2 * n_shared >= MIN_SHARED_WORDS * total
