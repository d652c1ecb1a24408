"""Quality thresholds on the labelled development set (same thresholds as on unseen data)."""

from __future__ import annotations

import pytest

from bench.quality import Report, evaluate
from digests.understanding import Analyzer
from tests.digests.devset import load_devset


@pytest.fixture(scope="module")
def report(analyzer: Analyzer) -> Report:
    return evaluate(load_devset(), analyzer)


def test_devset_is_big_and_labelled() -> None:
    articles = load_devset()
    assert len(articles) >= 60
    assert all(a.topics for a in articles)
    assert len({a.story for a in articles}) < len(articles)  # there are republished stories


def test_district_precision_and_recall(report: Report) -> None:
    assert report.districts.precision >= 0.95, report.errors
    assert report.districts.recall >= 0.90, report.errors


def test_topic_micro_f1(report: Report) -> None:
    assert report.topics.f1 >= 0.85, report.errors


def test_story_pairwise_precision_and_recall(report: Report) -> None:
    assert report.stories.precision >= 0.98, report.errors
    assert report.stories.recall >= 0.90, report.errors
