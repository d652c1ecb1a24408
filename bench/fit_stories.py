"""Fit the same-story model on labelled development pairs and write its weights.

Run: ``.venv/bin/python -m bench.fit_stories [--dry-run] [--errors] [--features a,b,...]``

Pairs: every article of the development sets (the corpus's dev part and the two older sets) is
fed in publication order through a :class:`StoryIndex`; each candidate the index proposes for
it (near-duplicates and articles sharing its rare words; the time window is lifted here, so
that template series published a week apart teach what tells them apart) is a labelled pair,
and so is every near-miss pair of the corpus. Labels come from the sets' ``story`` fields. The
corpus has few word-for-word templates, so each article also meets its *template twins* (one
count changed; another district's name) as other news; twins are trained on, never tested on.

Fitting: L2-regularised logistic regression (Newton's method, numpy) with each weight held to
its side (:data:`SIGNS`: agreement never counts against a merge, a conflict never for it).
The L2 strength: leave-one-writer-out (the corpus's two writers, and this project's older
sets as a third) log-loss, the strongest within one standard error of the best. The threshold:
the lowest probability from which on the pairwise precision of story-grouped cross-validation
stays at or above 0.98 (stories linked by near misses form one group; a pair is tested only in
a fold holding both its groups and trained on only when neither is in it, so the copies of one
story never sit on both sides; folds drawn ``--repeats`` times, out-of-fold probabilities
averaged). It also prints the clustering of each writer's articles by a model fitted on the
other writers: how the method fares on writing it has not seen.

The held-out corpus (tests/data/corpus/heldout.jsonl) is never read here.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.quality import PR, cluster, pairwise
from digests.region import fold, load_region
from digests.understanding import Analyzer, StoryFeatures, StoryIndex, get_analyzer
from digests.understanding.stories.evidence import PLACE_CONFLICT
from digests.understanding.stories.model import MODEL_PATH, StoryModel
from digests.understanding.summary import clean_text
from tests.digests.understanding.devset import DevArticle, load_devset

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
DEV_FILES = (DATA / "corpus" / "dev.jsonl", DATA / "devset.jsonl", DATA / "heldout.jsonl")
HELDOUT_FILE = DATA / "corpus" / "heldout.jsonl"
FEATURES = (
    "containment",
    "term_overlap",
    "term_containment",
    "numbers_agree",
    "numbers_conflict",
    "same_place",
    "other_place",
    "same_feed",
    "conflict_in_verbatim",
    "other_place_in_verbatim",
)
# The side each piece of evidence may weigh on, whatever the data: agreement never counts
# against a merge, a conflict never for it.
SIGNS = {
    "containment": +1, "term_overlap": +1, "term_containment": +1, "numbers_agree": +1,
    "same_place": +1, "numbers_conflict": -1, "other_place": -1, "same_feed": -1,
    "conflict_in_verbatim": -1, "other_place_in_verbatim": -1, "numbers_apart": -1,
    "conflict_in_copy": -1, "other_place_in_copy": -1, "same_feed_in_copy": -1,
    "numbers_share": +1,
}  # fmt: skip
MIN_PRECISION = 0.98
L2_GRID = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
WINDOW_HOURS = 72.0  # the index's window: pairs farther apart are never weighed at run time

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Pair:
    dataset: str
    a: str  # article ids, ``a`` the later one
    b: str
    story_a: str
    story_b: str
    same: bool
    near_miss: bool
    hours_apart: float
    x: tuple[float, ...]  # FEATURES values
    twin: bool = False  # a made-up template twin: trained on, never tested on


def collect_pairs(
    path: Path, analyzer: Analyzer, features: Sequence[str], *, twins: bool = True
) -> list[Pair]:
    """Candidate pairs as the index proposes them, plus the near misses, with their evidence;
    with ``twins``, also each article against its template twins (:func:`template_twins`)."""
    if path.resolve() == HELDOUT_FILE.resolve():
        raise SystemExit("the held-out corpus is for evaluation only: it is never fitted on")
    articles = load_devset(path)
    results = [analyzer.understand(a.title, a.text).story for a in articles]
    index = StoryIndex(window=timedelta(days=3650))
    order = sorted(range(len(articles)), key=lambda i: articles[i].published)
    pairs: list[Pair] = []
    for i in order:
        a, f = articles[i], results[i]
        others = set(index.candidates(f, a.published))
        near = {
            j for j in index_ids(index)
            if articles[j].id in a.near_miss_of or a.id in articles[j].near_miss_of
        }  # fmt: skip
        for j in sorted(others | near):
            b = articles[j]
            e = index.explain(f, a.published, j, source=a.feed).evidence
            values = e.features()
            pair = Pair(
                dataset=path.stem, a=a.id, b=b.id, story_a=a.story, story_b=b.story,
                same=a.story == b.story, near_miss=j in near, hours_apart=e.hours_apart,
                x=tuple(values[name] for name in features),
            )  # fmt: skip
            pairs.append(pair)
        index.add(i, i, f, a.published, url=a.url, source=a.feed)
        if twins:
            for kind, twin in template_twins(a, f, analyzer):
                e = index.explain(twin, a.published + timedelta(hours=1), i, source="twin").evidence
                if not (e.numbers_conflict or e.places == PLACE_CONFLICT):
                    continue  # the change did not reach the evidence: nothing to learn
                values = e.features()
                pairs.append(Pair(
                    dataset=path.stem, a=f"{a.id}~{kind}", b=a.id, story_a=f"{a.story}~{kind}",
                    story_b=a.story, same=False, near_miss=True, hours_apart=e.hours_apart,
                    x=tuple(values[name] for name in features), twin=True,
                ))  # fmt: skip
    return pairs


_NUMBER = re.compile(r"(?<![\d,.])(\d{1,5})(?![\d,.:])")
# Districts whose names read the same in every case («в Ясенево», «жителей Ясенево»).
_OTHER_PLACES = ("Ясенево", "Строгино", "Бибирево", "Марьино")
_NAMES = {d.slug: d.name_ru for d in load_region("moscow").districts}


def template_twins(
    article: DevArticle, features: StoryFeatures, analyzer: Analyzer
) -> list[tuple[str, StoryFeatures]]:
    """The near misses a template series makes of an article, which the corpus has few of
    word for word: the same text with one count changed (every «750» made «1050»), and the
    same text about another district (its name replaced). Both are other news."""
    out: list[tuple[str, StoryFeatures]] = []
    counted = {number for word, number in features.quantities if word and word != "год"}
    for match in _NUMBER.finditer(article.text):
        number = match.group(1)
        if number in counted and int(number) >= 3:
            other = str(int(number) + max(1, int(number) * 2 // 5))
            text = re.sub(rf"(?<![\d,.]){number}(?![\d,.:])", other, article.text)
            out.append(("number", analyzer.understand(article.title, text).story))
            break
    if len(features.districts) == 1 and not features.settlements:
        body = clean_text(article.text)
        (place,) = features.districts
        spans = [
            (e.start, e.end) for e in analyzer.explain("", body).district_evidence
            if e.accepted and e.kind == "district" and e.target == place
        ]  # fmt: skip
        own = fold(_NAMES[place])
        name = next(n for n in _OTHER_PLACES if fold(n) != own and fold(n) not in fold(body))
        for start, end in sorted(spans, reverse=True):
            body = body[:start] + name + body[end:]
        if spans:
            out.append(("place", analyzer.understand(article.title, body).story))
    return out


def index_ids(index: StoryIndex) -> list[int]:
    return list(index._entries)


def candidate_recall(path: Path, analyzer: Analyzer) -> tuple[int, int]:
    """Articles that have an earlier copy of their story within the window, and how many of
    them the index proposes at least one such copy for (with the run-time window)."""
    articles = load_devset(path)
    results = [analyzer.understand(a.title, a.text).story for a in articles]
    index = StoryIndex()
    order = sorted(range(len(articles)), key=lambda i: articles[i].published)
    need = found = 0
    for i in order:
        a = articles[i]
        window = index.window
        if any(
            articles[j].story == a.story and abs(articles[j].published - a.published) <= window
            for j in index_ids(index)
        ):
            need += 1
            found += any(
                articles[j].story == a.story for j in index.candidates(results[i], a.published)
            )
        index.add(i, i, results[i], a.published, url=a.url, source=a.feed)
    return need, found


def fit_logistic(
    x: Floats, y: Floats, l2: float, signs: Sequence[int] | None = None
) -> tuple[float, Floats]:
    """Intercept and weights of an L2-regularised logistic regression (the intercept is not
    penalised), by Newton's method. ``signs`` (+1, -1 or 0 per feature) constrains weights
    to a sign: a feature whose weight comes out on the wrong side is fixed at zero and the rest
    refitted, until every weight respects its sign."""
    n_features = x.shape[1]
    free = np.ones(n_features, bool)
    while True:
        intercept, w = _newton(x[:, free], y, l2)
        weights = np.zeros(n_features)
        weights[free] = w
        if signs is None:
            return intercept, weights
        wrong = [k for k in np.flatnonzero(free) if signs[k] * weights[k] < 0]
        if not wrong:
            return intercept, weights
        # The most wrong first: fixing one weight moves the others.
        worst = max(wrong, key=lambda k: abs(weights[k]))
        free[worst] = False


def _newton(x: Floats, y: Floats, l2: float) -> tuple[float, Floats]:
    x1 = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x1.shape[1])
    penalty = l2 * np.eye(x1.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x1 @ w)))
        gradient = x1.T @ (p - y) + penalty @ w
        hessian = x1.T @ (x1 * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return float(w[0]), w[1:]


def predict(intercept: float, weights: Floats, x: Floats) -> Floats:
    out: Floats = 1.0 / (1.0 + np.exp(-(intercept + x @ weights)))
    return out


def story_groups(pairs: Sequence[Pair]) -> dict[str, str]:
    """Story → its group: stories linked by a near miss are one group."""
    parent: dict[str, str] = {}

    def find(s: str) -> str:
        parent.setdefault(s, s)
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for p in pairs:
        find(p.story_a), find(p.story_b)
        if p.near_miss:
            parent[find(p.story_a)] = find(p.story_b)
    return {s: find(s) for s in parent}


def writer_of(dataset: str, article_id: str) -> str:
    """Who wrote an article: each writer of the corpus has an id prefix («da», «db»); the
    older sets were written by this project, by one hand."""
    return f"{dataset}:{article_id[:2]}" if dataset == "dev" else "project"


def leave_writer_out(pairs: Sequence[Pair], l2: float, signs: Sequence[int]) -> Floats:
    """Each pair's probability from a model fitted on the other writers' pairs only."""
    x = np.array([p.x for p in pairs])
    y = np.array([p.same for p in pairs], float)
    wa = [writer_of(p.dataset, p.a) for p in pairs]
    wb = [writer_of(p.dataset, p.b) for p in pairs]
    out = np.full(len(pairs), np.nan)
    for writer in sorted(set(wa)):
        test = np.array([a == b == writer and not p.twin
                         for a, b, p in zip(wa, wb, pairs, strict=True)])  # fmt: skip
        train = np.array([a != writer and b != writer for a, b in zip(wa, wb, strict=True)])
        intercept, weights = fit_logistic(x[train], y[train], l2, signs)
        out[test] = predict(intercept, weights, x[test])
    return out


def clustering_by_writer(
    pairs: Sequence[Pair],
    features: Sequence[str],
    l2: float,
    threshold: float,
    analyzer: Analyzer,
    signs: Sequence[int],
) -> list[tuple[str, PR]]:
    """Pairwise P/R of the clustering (as bench.quality runs it) of each writer's articles,
    with a model fitted only on the other writers' pairs: how the method fares on a writer
    it has never seen."""
    x = np.array([p.x for p in pairs])
    y = np.array([p.same for p in pairs], float)
    wa = [writer_of(p.dataset, p.a) for p in pairs]
    wb = [writer_of(p.dataset, p.b) for p in pairs]
    out: list[tuple[str, PR]] = []
    for path in DEV_FILES:
        articles = load_devset(path)
        by_writer: dict[str, list[DevArticle]] = {}
        for a in articles:
            by_writer.setdefault(writer_of(path.stem, a.id), []).append(a)
        for writer, own in by_writer.items():
            train = np.array([a != writer and b != writer for a, b in zip(wa, wb, strict=True)])
            intercept, weights = fit_logistic(x[train], y[train], l2, signs)
            model = StoryModel(tuple(features), tuple(map(float, weights)), intercept, threshold)
            results = [analyzer.understand(a.title, a.text) for a in own]
            stories = cluster(own, results, model)
            out.append((f"{writer} ({path.stem})", pairwise([a.story for a in own], stories)))
    return out


def cross_validate(
    pairs: Sequence[Pair],
    l2: float,
    signs: Sequence[int],
    *,
    folds: int = 5,
    repeats: int = 20,
    seed: int = 13,
) -> Floats:
    """Each pair's mean out-of-fold probability (NaN if no fold ever held both its groups)."""
    x = np.array([p.x for p in pairs])
    y = np.array([p.same for p in pairs], float)
    group_of = story_groups(pairs)
    groups = sorted(set(group_of.values()))
    twins = np.array([p.twin for p in pairs])
    ga = [group_of[p.story_a] for p in pairs]
    gb = [group_of[p.story_b] for p in pairs]
    total = np.zeros(len(pairs))
    count = np.zeros(len(pairs))
    rng = random.Random(seed)
    for _ in range(repeats):
        shuffled = groups[:]
        rng.shuffle(shuffled)
        fold_of = {g: k % folds for k, g in enumerate(shuffled)}
        fa = np.array([fold_of[g] for g in ga])
        fb = np.array([fold_of[g] for g in gb])
        for k in range(folds):
            train = (fa != k) & (fb != k)
            test = (fa == k) & (fb == k) & ~twins
            if not test.any():
                continue
            intercept, weights = fit_logistic(x[train], y[train], l2, signs)
            total[test] += predict(intercept, weights, x[test])
            count[test] += 1
    with np.errstate(invalid="ignore"):
        out: Floats = total / count
    return out


def precision_recall(probs: Floats, labels: Floats, threshold: float) -> tuple[float, float]:
    chosen = probs >= threshold
    tp = float(np.sum(chosen & (labels == 1)))
    fp = float(np.sum(chosen & (labels == 0)))
    fn = float(np.sum(~chosen & (labels == 1)))
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def choose_threshold(probs: Floats, labels: Floats, min_precision: float) -> float:
    """The lowest threshold (on a 0.01 grid) from which on precision stays ≥ min_precision."""
    chosen = 0.99
    for t in np.arange(0.99, 0.049, -0.01):
        if precision_recall(probs, labels, float(t))[0] < min_precision:
            break
        chosen = float(t)
    return round(chosen, 2)


def pair_losses(probs: Floats, labels: Floats) -> Floats:
    """Log-loss of each tested pair (NaN probabilities: untested, left out)."""
    tested = ~np.isnan(probs)
    p = np.clip(probs[tested], 1e-6, 1 - 1e-6)
    y = labels[tested]
    out: Floats = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return out


def log_loss(probs: Floats, labels: Floats) -> float:
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the model")
    parser.add_argument("--repeats", type=int, default=20, help="cross-validation repeats")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--errors", action="store_true",
                        help="list the pairs cross-validation gets wrong")  # fmt: skip
    parser.add_argument("--features", help="comma-separated features to weigh (to compare)")
    parser.add_argument("--no-twins", action="store_true",
                        help="leave out the template twins (to compare)")  # fmt: skip
    args = parser.parse_args()
    features = tuple(args.features.split(",")) if args.features else FEATURES

    analyzer = get_analyzer("moscow")
    pairs: list[Pair] = []
    for path in DEV_FILES:
        pairs.extend(collect_pairs(path, analyzer, features, twins=not args.no_twins))
        need, found = candidate_recall(path, analyzer)
        print(
            f"{path.relative_to(DATA)}: candidate recall {found}/{need} "
            f"(articles with an earlier copy in the window that the index proposes)"
        )
    labels = np.array([p.same for p in pairs], float)
    within = np.array([p.hours_apart <= WINDOW_HOURS for p in pairs])
    print(
        f"pairs: {len(pairs)} ({int(labels.sum())} same story, {int((1 - labels).sum())} not; "
        f"{sum(p.near_miss and not p.twin for p in pairs)} near misses, "
        f"{sum(p.twin for p in pairs)} template twins; {int(within.sum())} within "
        f"{WINDOW_HOURS:.0f} h)"
    )

    # The regularisation for a writer the model has not seen: the strongest whose
    # leave-writer-out log-loss is within one standard error of the best (the one-standard-
    # error rule: among models the data cannot tell apart, the simplest).
    signs = [SIGNS[name] for name in features]
    by_writer = {l2: leave_writer_out(pairs, l2, signs) for l2 in L2_GRID}
    losses = {l2: pair_losses(cv, labels) for l2, cv in by_writer.items()}
    best = min(losses, key=lambda k: float(losses[k].mean()))
    bound = float(losses[best].mean() + losses[best].std() / np.sqrt(len(losses[best])))
    l2 = max(k for k, v in losses.items() if float(v.mean()) <= bound)
    print("leave-writer-out log-loss by L2: "
          + ", ".join(f"{k:g}: {float(v.mean()):.4f}" for k, v in losses.items())
          + f"; best {best:g}, within one standard error up to {bound:.4f}: {l2:g}")  # fmt: skip
    # The threshold: story-grouped cross-validation, the copies of one story never on both
    # sides of a fold.
    cv = cross_validate(pairs, l2, signs, repeats=args.repeats)
    tested = ~np.isnan(cv)
    threshold = choose_threshold(cv[tested], labels[tested], MIN_PRECISION)
    p, r = precision_recall(cv[tested], labels[tested], threshold)
    print(
        f"L2 {l2:g}, threshold {threshold:.2f}: story-grouped {args.repeats}×5-fold "
        f"cross-validated pairwise P={p:.3f} R={r:.3f} over {int(tested.sum())} pairs"
    )
    m = tested & within
    pw, rw = precision_recall(cv[m], labels[m], threshold)
    print(f"  within {WINDOW_HOURS:.0f} h: P={pw:.3f} R={rw:.3f} over {int(m.sum())} pairs")
    by_writer_cv = by_writer[l2]
    tw = ~np.isnan(by_writer_cv)
    pl, rl = precision_recall(by_writer_cv[tw], labels[tw], threshold)
    print(f"leave-writer-out at that threshold: P={pl:.3f} R={rl:.3f} over {int(tw.sum())} pairs")
    writers = [writer_of(pair.dataset, pair.a) for pair in pairs]
    for writer in dict.fromkeys(writers):
        m = tw & np.array([w == writer for w in writers])
        pn, rn = precision_recall(by_writer_cv[m], labels[m], threshold)
        print(f"  {writer:<10} P={pn:.3f} R={rn:.3f} over {int(m.sum())} pairs")
    print("clustering each writer's articles with the model fitted on the other writers:")
    for writer, report in clustering_by_writer(pairs, features, l2, threshold, analyzer, signs):
        print(f"  {writer:<22} stories pairs {report}")
    if args.errors:
        for k in np.argsort(-np.nan_to_num(cv)):
            pair = pairs[k]
            if tested[k] and (cv[k] >= threshold) != pair.same:
                kind = "false merge" if pair.same is False else "missed"
                values = ", ".join(f"{n} {v:.2f}" for n, v in zip(features, pair.x, strict=True))
                print(f"  {kind} {pair.dataset} {pair.a}–{pair.b} p={cv[k]:.2f}: {values}")

    x = np.array([pair.x for pair in pairs])
    intercept, weights = fit_logistic(x, labels, l2, signs)
    model = StoryModel(features, tuple(round(float(w), 4) for w in weights),
                       round(intercept, 4), threshold)  # fmt: skip
    print(f"intercept {model.intercept:+.3f}; " + ", ".join(
        f"{n} {w:+.3f}" for n, w in zip(model.features, model.weights, strict=True)))  # fmt: skip
    if args.dry_run:
        return
    args.out.write_text(
        model.to_json(
            fitted_by="python -m bench.fit_stories",
            training={
                "sets": [str(path.relative_to(DATA)) for path in DEV_FILES],
                "pairs": len(pairs),
                "same_story": int(labels.sum()),
                "l2": l2,
                "story_grouped_cv": {"precision": round(p, 4), "recall": round(r, 4)},
                "leave_writer_out": {"precision": round(pl, 4), "recall": round(rl, 4)},
            },
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
