"""Throughput of tagging + clustering on one core, and start-up cost.

Run: ``.venv/bin/python -m bench.understanding [--n 3000]``
Articles are generated (≈300 words, from a vocabulary of news sentences with district names,
numbers and a share of republished copies), so the figure does not depend on the devset.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
import tracemalloc
from datetime import datetime, timedelta


def _pool() -> tuple[list[str], list[str]]:
    """Sentences and words of the devset: realistic vocabulary and sentence shapes."""
    from razdel import sentenize

    from tests.digests.understanding.devset import load_devset

    sentences: list[str] = []
    for a in load_devset():
        sentences.extend(s.text for s in sentenize(a.text))
    words = sorted({w for s in sentences for w in s.split()})
    return sentences, words


DISTRICTS = [
    "Куркино",
    "Митино",
    "Строгино",
    "Щукино",
    "Марьино",
    "Люблино",
    "Хамовники",
    "Тропарёво-Никулино",
    "Хорошёво-Мнёвники",
    "Южное Бутово",
    "Бирюлёво Западное",
]


def make_articles(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """~300-word articles: devset sentences with a third of the words replaced at random
    (so articles are not accidental near-duplicates), district names and numbers, plus 20%
    republished copies with shuffled sentences."""
    rnd = random.Random(seed)
    sentences, vocab = _pool()
    out: list[tuple[str, str]] = []
    for i in range(n):
        if i and rnd.random() < 0.2:
            title, text = out[rnd.randrange(len(out))]
            parts = text.split(". ")
            rnd.shuffle(parts)
            out.append(("Копия: " + title, ". ".join(parts)))
            continue
        words: list[str] = []
        while len(words) < 300:
            for w in rnd.choice(sentences).split():
                r = rnd.random()
                words.append(
                    w
                    if r > 0.33
                    else rnd.choice(vocab)
                    if r > 0.05
                    else rnd.choice(DISTRICTS)
                    if r > 0.02
                    else str(rnd.randint(2, 9999))
                )
        out.append((" ".join(words[:10]), " ".join(words[:300])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.process_time()
    from digests.region import load_region
    from digests.understanding import Analyzer, StoryIndex
    from digests.understanding.morph import Morph

    t1 = time.process_time()
    analyzer = Analyzer(load_region("moscow"))
    t2 = time.process_time()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"start-up: imports {(t1 - t0) * 1000:.0f} ms + Analyzer() {(t2 - t1) * 1000:.0f} ms; "
        f"max RSS +{(rss1 - rss0) / 1024:.1f} MiB"
    )
    tracemalloc.start()  # a second analyzer, traced: its own memory without import noise
    Analyzer(load_region("moscow"), morph=Morph())
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  one more Analyzer (own MorphAnalyzer): {current / 2**20:.1f} MiB held, "
        f"peak {peak / 2**20:.1f} MiB (tracemalloc)"
    )

    articles = make_articles(args.n)
    words = sum(len(t.split()) for _, t in articles) / len(articles)
    # Cold pass fills the lemma cache, as the first minutes of a running bot would.
    t = time.process_time()
    for title, text in articles[:500]:
        analyzer.understand(title, text)
    cold = time.process_time() - t
    print(
        f"cold cache: {500 / cold:.0f} articles/s over the first 500 "
        f"(cache now {analyzer.morph.cache_size} words)"
    )

    gc.collect()
    index = StoryIndex()
    base = datetime(2025, 11, 1)
    t_understand = t_cluster = 0.0
    stories = 0
    for i, (title, text) in enumerate(articles):
        a = time.process_time()
        u = analyzer.understand(title, text)
        b = time.process_time()
        published = base + timedelta(minutes=i)
        m = index.assign(u.story, published)
        sid = m.story_id
        if sid is None:
            sid = stories = stories + 1
        index.add(i, sid, u.story, published)
        c = time.process_time()
        t_understand += b - a
        t_cluster += c - b
    total = t_understand + t_cluster
    rate = len(articles) / total
    print(
        f"warm: {len(articles)} articles of ~{words:.0f} words: {rate:.0f} articles/s "
        f"(target 1000/s: ratio {rate / 1000:.2f})"
    )
    print(
        f"  understand {t_understand / len(articles) * 1e6:.0f} µs/article, "
        f"clustering {t_cluster / len(articles) * 1e6:.0f} µs/article "
        f"({t_cluster / total:.0%} of time); {stories} stories, index {len(index)} articles"
    )

    # Per-stage split on a sample, to show where the time goes.
    from digests.understanding.morph import fold_text, tokenize
    from digests.understanding.summary import clean_text, lead

    sample = articles[:1000]
    stages: dict[str, float] = {}

    def timed(name: str, fn: object) -> None:
        t = time.process_time()
        for title, text in sample:
            fn(title, text)  # type: ignore[operator]
        stages[name] = (time.process_time() - t) / len(sample) * 1e6

    morph = analyzer.morph
    timed("clean+tokenize", lambda _t, x: tokenize(fold_text(clean_text(x))))
    timed("+lemmas", lambda _t, x: morph.lemmas(tokenize(fold_text(x)).words))
    timed("districts", lambda _t, x: analyzer.districts.tag(x))
    lem = [morph.lemmas(tokenize(fold_text(x)).words) for _, x in sample]
    it = iter(lem * 2)
    timed("topics", lambda _t, _x: analyzer.topics.classify([], next(it)))
    it2 = iter(lem * 2)
    timed("minhash", lambda _t, _x: analyzer.stories.features(next(it2)))
    timed("summary", lambda t, x: lead(x, t))
    print("  stages (µs/article): " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
