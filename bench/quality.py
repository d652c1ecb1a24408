"""Quality of the news-understanding layer on the labelled development set.

Run: ``.venv/bin/python -m bench.quality [--errors] [--part v3] [--file other.jsonl]``
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digests.understanding import Analyzer, StoryIndex, Understanding, get_analyzer
from digests.understanding.stories import StoryModel
from tests.digests.understanding.devset import DEVSET_PATH, DevArticle, load_devset


@dataclass(frozen=True, slots=True)
class PR:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return (
            f"P={self.precision:.3f} R={self.recall:.3f} F1={self.f1:.3f} "
            f"(tp={self.tp} fp={self.fp} fn={self.fn})"
        )


@dataclass(slots=True)
class Report:
    districts: PR
    okrugs: PR
    topics: PR
    stories: PR
    errors: list[str] = field(default_factory=list)


def _pr(gold: Sequence[frozenset[str]], pred: Sequence[frozenset[str]]) -> PR:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    return PR(tp, fp, fn)


def cluster(
    articles: Sequence[DevArticle],
    results: Sequence[Understanding],
    model: StoryModel | None = None,
) -> list[int]:
    """Feed articles in publication order through a StoryIndex, as the bot would."""
    index = StoryIndex(model=model)
    story_of = [0] * len(articles)
    next_story = 1
    order = sorted(range(len(articles)), key=lambda i: articles[i].published)
    for i in order:
        a, u = articles[i], results[i]
        match = index.assign(u.story, a.published, a.url, source=a.feed)
        sid = match.story_id
        if sid is None:
            sid = next_story
            next_story += 1
        index.add(i, sid, u.story, a.published, url=a.url, source=a.feed)
        story_of[i] = sid
    return story_of


def pairwise(gold: Sequence[str], pred: Sequence[int]) -> PR:
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(gold)), 2):
        same_gold, same_pred = gold[i] == gold[j], pred[i] == pred[j]
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
    return PR(tp, fp, fn)


def evaluate(articles: Sequence[DevArticle], analyzer: Analyzer | None = None) -> Report:
    an = analyzer if analyzer is not None else get_analyzer("moscow")
    results = [an.understand(a.title, a.text) for a in articles]
    pred_d = [frozenset(u.districts) for u in results]
    pred_o = [frozenset(u.okrugs) for u in results]
    pred_t = [frozenset(u.topics) for u in results]
    stories = cluster(articles, results)
    report = Report(
        districts=_pr([a.districts for a in articles], pred_d),
        okrugs=_pr([a.okrugs for a in articles], pred_o),
        topics=_pr([a.topics for a in articles], pred_t),
        stories=pairwise([a.story for a in articles], stories),
    )
    for a, d, o, t in zip(articles, pred_d, pred_o, pred_t, strict=True):
        for what, gold, pred in (("districts", a.districts, d), ("okrugs", a.okrugs, o),
                                 ("topics", a.topics, t)):  # fmt: skip
            if gold != pred:
                report.errors.append(
                    f"{a.id} {what}: missing {sorted(gold - pred)} extra {sorted(pred - gold)}"
                )
    by_gold: dict[str, set[int]] = {}
    for a, s in zip(articles, stories, strict=True):
        by_gold.setdefault(a.story, set()).add(s)
    for g, ss in sorted(by_gold.items()):
        if len(ss) > 1:
            report.errors.append(f"story {g} split into {sorted(ss)}")
    by_pred: dict[int, set[str]] = {}
    for a, s in zip(articles, stories, strict=True):
        by_pred.setdefault(s, set()).add(a.story)
    for s, gs in sorted(by_pred.items()):
        if len(gs) > 1:
            report.errors.append(f"predicted story {s} merges {sorted(gs)}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", action="store_true", help="list every disagreement")
    parser.add_argument("--part", default="all",
                        help="evaluate only one part of the set (v1, v2, v3, ...)")  # fmt: skip
    parser.add_argument("--file", type=Path, default=DEVSET_PATH,
                        help="labelled JSONL set to evaluate (default: the devset)")  # fmt: skip
    args = parser.parse_args()
    articles = [a for a in load_devset(args.file) if args.part in ("all", a.part)]
    if not articles:
        parser.error(f"no articles of part {args.part!r} in {args.file}")
    report = evaluate(articles)
    print(
        f"{args.file.stem} ({args.part}): {len(articles)} articles, "
        f"{len({a.story for a in articles})} "
        f"stories, ~{sum(len(a.text.split()) for a in articles) / len(articles):.0f} words"
    )
    print(f"districts       {report.districts}")
    print(f"okrugs (all)    {report.okrugs}")
    print(f"topics micro    {report.topics}")
    print(f"stories pairs   {report.stories}")
    if args.errors:
        print("\n".join(report.errors))


if __name__ == "__main__":
    main()
