"""Quality of the news-understanding layer on labelled sets.

Run: ``.venv/bin/python -m bench.quality [--errors]`` for the corpus of issue 13, its
development and held-out parts side by side with the gap between them; ``--file SET.jsonl
[--part v3]`` for one labelled set. ``--errors`` lists the disagreements of development sets
only: the held-out part (tests/data/corpus/heldout.jsonl) is looked at in aggregate, never
article by article, so that nothing gets tuned to it.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digests.understanding import Analyzer, StoryIndex, Understanding, get_analyzer
from digests.understanding.stories import StoryModel
from tests.digests.understanding.devset import CORPUS_MAX_GAP, DevArticle, load_devset


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
    near_miss_pairs: int = 0  # labelled pairs of look-alike different news...
    near_misses_apart: int = 0  # ...that the clustering kept apart


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
    index = {a.id: i for i, a in enumerate(articles)}
    near = {
        tuple(sorted((a.id, other))) for a in articles for other in a.near_miss_of
        if other in index
    }  # fmt: skip
    report.near_miss_pairs = len(near)
    report.near_misses_apart = sum(stories[index[x]] != stories[index[y]] for x, y in near)
    return report


CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus"
DEV_PATH = CORPUS / "dev.jsonl"
HELDOUT_PATH = CORPUS / "heldout.jsonl"
MAX_GAP = CORPUS_MAX_GAP  # dev and held-out further apart than this: the method is over-fitted


def is_heldout(path: Path) -> bool:
    return path.resolve() == HELDOUT_PATH.resolve()


def summary_rows(articles: Sequence[DevArticle], report: Report) -> list[tuple[str, float]]:
    """(label, value) of one labelled set: its size, then every quality figure."""
    stories: dict[str, int] = {}
    for a in articles:
        stories[a.story] = stories.get(a.story, 0) + 1
    return [
        ("articles", len(articles)),
        ("stories", len(stories)),
        ("  of 2 or more articles", sum(n > 1 for n in stories.values())),
        ("near-miss pairs", report.near_miss_pairs),
        ("  kept apart", report.near_misses_apart),
        ("districts P", report.districts.precision),
        ("districts R", report.districts.recall),
        ("okrugs P", report.okrugs.precision),
        ("okrugs R", report.okrugs.recall),
        ("topics micro P", report.topics.precision),
        ("topics micro R", report.topics.recall),
        ("topics micro F1", report.topics.f1),
        ("stories pairwise P", report.stories.precision),
        ("stories pairwise R", report.stories.recall),
    ]


def side_by_side(dev: list[tuple[str, float]], heldout: list[tuple[str, float]]) -> list[str]:
    """Lines of a table: each figure for dev and held-out, and for quality figures the gap
    (flagged when over MAX_GAP)."""
    lines = [f"{'':<26}{'dev':>10}{'held-out':>10}{'gap':>8}"]
    for (label, d), (_, h) in zip(dev, heldout, strict=True):
        if isinstance(d, int) and isinstance(h, int):
            lines.append(f"{label:<26}{d:>10}{h:>10}")
            continue
        gap = abs(d - h)
        flag = f"  over {MAX_GAP}: over-fitted" if gap > MAX_GAP else ""
        lines.append(f"{label:<26}{d:>10.3f}{h:>10.3f}{gap:>8.3f}{flag}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", action="store_true",
                        help="list every disagreement (development sets only)")  # fmt: skip
    parser.add_argument("--part", default="all",
                        help="with --file: only one part of the set (v1, v2, v3, ...)")  # fmt: skip
    parser.add_argument("--file", type=Path,
                        help="one labelled JSONL set (default: the corpus)")  # fmt: skip
    args = parser.parse_args()
    if args.file is None:
        dev, heldout = load_devset(DEV_PATH), load_devset(HELDOUT_PATH)
        dev_report, heldout_report = evaluate(dev), evaluate(heldout)
        print(f"corpus of issue 13 ({CORPUS.name}/): development part beside the held-out part")
        print("\n".join(side_by_side(summary_rows(dev, dev_report),
                                     summary_rows(heldout, heldout_report))))  # fmt: skip
        if args.errors:
            print(f"\nerrors of {DEV_PATH.name} (the held-out part is never listed):")
            print("\n".join(dev_report.errors))
        return
    if args.errors and is_heldout(args.file):
        parser.error("--errors lists development sets only; the held-out part is looked at "
                     "in aggregate, never article by article")  # fmt: skip
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
    if report.near_miss_pairs:
        print(f"near misses     {report.near_misses_apart} of {report.near_miss_pairs} pairs "
              "kept apart")  # fmt: skip
    if args.errors:
        print("\n".join(report.errors))


if __name__ == "__main__":
    main()
