"""Quality thresholds on the labelled development set (same thresholds as on unseen data)."""

from __future__ import annotations

import pytest

from bench.quality import Report, evaluate
from digests.understanding.analyzer import Analyzer
from tests.digests.understanding.devset import (
    MIN_DISTRICT_PRECISION,
    MIN_DISTRICT_RECALL,
    MIN_STORY_PRECISION,
    MIN_STORY_RECALL,
    MIN_TOPIC_F1,
    load_devset,
)


@pytest.fixture(scope="module")
def report(analyzer: Analyzer) -> Report:
    return evaluate(load_devset(), analyzer)


def test_devset_is_big_and_labelled() -> None:
    articles = load_devset()
    assert len(articles) >= 60
    assert all(a.topics for a in articles)
    assert len({a.story for a in articles}) < len(articles)  # there are republished stories


def test_district_precision_and_recall(report: Report) -> None:
    assert report.districts.precision >= MIN_DISTRICT_PRECISION, report.errors
    assert report.districts.recall >= MIN_DISTRICT_RECALL, report.errors


def test_topic_micro_f1(report: Report) -> None:
    assert report.topics.f1 >= MIN_TOPIC_F1, report.errors


def test_story_pairwise_precision_and_recall(report: Report) -> None:
    assert report.stories.precision >= MIN_STORY_PRECISION, report.errors
    assert report.stories.recall >= MIN_STORY_RECALL, report.errors
