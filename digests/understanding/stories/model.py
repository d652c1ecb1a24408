"""The same-story score: a logistic regression over the evidence of :mod:`.evidence`.

``P(same story) = 1 / (1 + exp(-(intercept + Σ weight·feature)))``. The weights and the
threshold live in ``model.json`` next to this module, written by ``python -m
bench.fit_stories`` (which fits them on the labelled development pairs and picks the threshold
by cross-validation); nothing here is tuned by hand. Every score can say how much each piece
of evidence moved it (:class:`Score`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from digests.understanding.stories.evidence import FEATURES, Evidence

__all__ = ["MODEL_PATH", "Score", "StoryModel", "default_model"]

MODEL_PATH = Path(__file__).with_name("model.json")


@dataclass(frozen=True, slots=True)
class Score:
    """A probability with the contribution (weight × value) of every feature to its logit."""

    probability: float
    intercept: float
    contributions: tuple[tuple[str, float, float], ...]  # (feature, value, weight × value)

    @property
    def logit(self) -> float:
        return self.intercept + sum(c for _, _, c in self.contributions)


@dataclass(frozen=True, slots=True)
class StoryModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float  # probability at or above which a candidate is the same story

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"story model uses unknown features: {sorted(unknown)}")
        if len(self.features) != len(self.weights):
            raise ValueError("story model: one weight per feature")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"story model: threshold {self.threshold} outside (0, 1)")

    def values(self, evidence: Evidence) -> list[float]:
        """The model's features of a pair, in its order."""
        return [FEATURES[name](evidence) for name in self.features]

    def probability(self, values: Sequence[float]) -> float:
        """P(same story) from :meth:`values`."""
        z = self.intercept
        for weight, value in zip(self.weights, values, strict=True):
            z += weight * value
        return _sigmoid(z)

    def score(self, evidence: Evidence) -> Score:
        """The probability with every feature's contribution to it."""
        values = self.values(evidence)
        contributions = tuple(
            (name, value, weight * value)
            for name, weight, value in zip(self.features, self.weights, values, strict=True)
        )
        return Score(self.probability(values), self.intercept, contributions)

    def to_json(self, **extra: Any) -> str:
        data: dict[str, Any] = {
            "features": dict(zip(self.features, self.weights, strict=True)),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }
        data.update(extra)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> StoryModel:
        data = json.loads(text)
        weights: dict[str, float] = data["features"]
        return cls(
            features=tuple(weights),
            weights=tuple(float(w) for w in weights.values()),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@cache
def default_model() -> StoryModel:
    """The fitted model shipped with the code (``model.json``)."""
    return StoryModel.from_json(MODEL_PATH.read_text(encoding="utf-8"))
