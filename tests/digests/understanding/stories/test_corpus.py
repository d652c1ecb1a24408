"""Story grouping on the corpus of issue 13 (tests/data/corpus/): its development part and its
held-out part, written blind. The held-out figures are only ever looked at in aggregate:
failure messages here name figures, never articles.

The targets are named once, in tests/digests/understanding/devset.py. Where the held-out part
does not reach them yet, the target is an expected failure (strict: it fails the day the
target is met, so that it becomes a plain test) and a floor at today's figure keeps it from
getting worse.
"""

from __future__ import annotations

import pytest

from bench.quality import DEV_PATH, HELDOUT_PATH, Report, evaluate
from digests.understanding.analyzer import Analyzer
from tests.digests.understanding.devset import (
    CORPUS_MAX_GAP,
    CORPUS_STORY_PRECISION,
    CORPUS_STORY_RECALL,
    load_devset,
)

# Held-out figures of the model in digests/understanding/stories/model.json (P 0.927,
# R 0.908), floors just under them. Issue 13's held-out targets are not met: open.
HELDOUT_PRECISION_FLOOR = 0.92
HELDOUT_RECALL_FLOOR = 0.90


@pytest.fixture(scope="module")
def dev(analyzer: Analyzer) -> Report:
    return evaluate(load_devset(DEV_PATH), analyzer)


@pytest.fixture(scope="module")
def heldout(analyzer: Analyzer) -> Report:
    return evaluate(load_devset(HELDOUT_PATH), analyzer)


def test_dev_stories_meet_the_targets(dev: Report) -> None:
    precision, recall = dev.stories.precision, dev.stories.recall
    assert precision >= CORPUS_STORY_PRECISION, dev.errors
    assert recall >= CORPUS_STORY_RECALL, dev.errors


def test_dev_near_misses_are_kept_apart(dev: Report) -> None:
    assert dev.near_miss_pairs >= 20
    assert dev.near_misses_apart == dev.near_miss_pairs, dev.errors


@pytest.mark.xfail(strict=True, reason="held-out story figures below issue 13's targets")
def test_heldout_stories_meet_the_targets(heldout: Report) -> None:
    precision, recall = heldout.stories.precision, heldout.stories.recall
    assert precision >= CORPUS_STORY_PRECISION, f"held-out precision {precision:.3f}"
    assert recall >= CORPUS_STORY_RECALL, f"held-out recall {recall:.3f}"


@pytest.mark.xfail(strict=True, reason="held-out figures more than 0.05 below the dev ones")
def test_dev_and_heldout_stories_are_close(dev: Report, heldout: Report) -> None:
    for what in ("precision", "recall"):
        gap = abs(getattr(dev.stories, what) - getattr(heldout.stories, what))
        assert gap <= CORPUS_MAX_GAP, f"{what}: dev and held-out {gap:.3f} apart"


def test_heldout_stories_do_not_get_worse(heldout: Report) -> None:
    precision, recall = heldout.stories.precision, heldout.stories.recall
    assert precision >= HELDOUT_PRECISION_FLOOR, f"held-out precision {precision:.3f}"
    assert recall >= HELDOUT_RECALL_FLOOR, f"held-out recall {recall:.3f}"
