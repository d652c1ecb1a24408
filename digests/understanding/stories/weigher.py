"""Weighing one new article against indexed ones (:mod:`.index`): the evidence of
:mod:`.evidence` measured from the index's records, and judged by the model."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from datetime import datetime

import numpy as np
import numpy.typing as npt

from digests.understanding.stories import entry as fields
from digests.understanding.stories.decision import Judgement, judge, worth_weighing
from digests.understanding.stories.evidence import Side, compare, term_overlap
from digests.understanding.stories.features import Slots, StoryFeatures, similarity
from digests.understanding.stories.model import StoryModel
from digests.understanding.stories.quantities import unpack

__all__ = ["Weigher"]

_SHOWN_TERMS = 6  # shared terms named in the evidence

Idf = Callable[[Slots], npt.NDArray[np.float64]]


class Weigher:
    """Weighs one new article against indexed ones; the new article's term weights and its
    numbers by word are computed once, on first use."""

    __slots__ = ("_side", "entries", "features", "idf", "model", "published", "rarity",
                 "source", "weight")  # fmt: skip

    def __init__(
        self,
        entries: Mapping[int, fields.Entry],
        rarity: Idf,
        model: StoryModel,
        features: StoryFeatures,
        published: datetime,
        source: str | None,
    ) -> None:
        self.entries = entries
        self.rarity = rarity  # IDF of document-frequency slots in the index
        self.model = model
        self.features = features
        self.published = published
        self.source = source
        self._side: Side | None = None
        self.idf: dict[str, float] = {}
        self.weight = 0.0

    @property
    def side(self) -> Side:
        if self._side is None:
            self._side = Side.of(self.features, self.source)
        return self._side

    def worth(self, article_id: int) -> bool:
        """Whether the two texts share enough words to be weighed at all (a cheap count)."""
        terms = self.entries[article_id][fields.TERMS]
        shared = len(self.features.terms.intersection(terms))
        return worth_weighing(shared, len(self.features.terms), len(terms))

    def judge(self, article_id: int, *, described: bool = False) -> Judgement:
        """The verdict on the pair; ``described`` also names the rarest shared terms."""
        f = self.features
        entry = self.entries[article_id]
        signature, n_shingles = entry[fields.SIGNATURE], entry[fields.N_SHINGLES]
        j, c = similarity(f.signature, f.n_shingles, signature, n_shingles)
        if not self.idf and f.terms:
            weights = self.rarity(f.slots)
            self.idf = dict(zip(f.words, weights.tolist(), strict=True))
            self.weight = float(weights.sum())
        idf = self.idf
        shared = f.terms.intersection(entry[fields.TERMS])
        weight_b = float(self.rarity(entry[fields.SLOTS]).sum())
        # fsum: exact whatever the order in which the set yields the shared terms.
        overlap, covered = term_overlap(
            self.weight, weight_b, math.fsum(map(idf.__getitem__, shared))
        )
        rare: tuple[str, ...] = ()
        if described:
            rare = tuple(heapq.nsmallest(_SHOWN_TERMS, shared, key=lambda t: (-idf[t], t)))
        side = self.side
        counted, n_counted = unpack(entry[fields.QUANTITIES], side.counted)
        other = Side(
            entry[fields.DISTRICTS], entry[fields.SETTLEMENTS], counted, entry[fields.SOURCE],
            n_counted,
        )  # fmt: skip
        hours = abs((self.published - entry[fields.PUBLISHED]).total_seconds()) / 3600.0
        evidence = compare(
            side, other, containment=c, jaccard=j, overlap=overlap,
            term_containment=covered, shared_terms=rare, hours_apart=hours,
        )  # fmt: skip
        return judge(evidence, self.model)
