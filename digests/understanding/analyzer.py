"""One call that turns an article into everything the bot needs to know about it.

``understand(title, text)`` is pure and CPU-bound: callers in an event loop run it in a worker
thread. The :class:`Analyzer` holds the expensive parts (pymorphy3, the gazetteer, the
lexicon) and is created once per process (:func:`get_analyzer`) or injected.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from digests.region import Region, load_region
from digests.understanding.morph import Morph, fold_text, get_morph, tokenize
from digests.understanding.places import DistrictResult, DistrictTagger, Evidence
from digests.understanding.stories import StoryFeatures, story_features
from digests.understanding.summary import clean_text, lead
from digests.understanding.topics import TopicClassifier, TopicResult

__all__ = [
    "Analyzer",
    "Explanation",
    "Understanding",
    "explain",
    "get_analyzer",
    "lemmas_for_search",
    "understand",
]


@dataclass(frozen=True, slots=True, eq=False)
class Understanding:
    districts: tuple[str, ...]  # district slugs the article is about
    okrugs_from_districts: tuple[str, ...]  # okrugs of those districts
    okrugs_mentioned: tuple[str, ...]  # okrugs named in the text («СЗАО», «в Зеленограде»)
    uncertain_districts: tuple[str, ...]  # known only via an uncertain settlement mapping
    topics: tuple[str, ...]  # 0–3 topic slugs, best first (0 only for near-empty text)
    summary: str  # clean lead, ≤ ~300 characters
    search_lemmas: str  # space-joined lemmas of title and text, for a full-text index
    story: StoryFeatures  # for StoryIndex; ``story.to_bytes()`` to store

    @property
    def okrugs(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.okrugs_mentioned)
        seen.update(dict.fromkeys(self.okrugs_from_districts))
        return tuple(seen)


@dataclass(frozen=True, slots=True, eq=False)
class Explanation:
    understanding: Understanding
    district_evidence: tuple[Evidence, ...]
    topic_scores: dict[str, float]
    topic_words: dict[str, list[tuple[str, float]]]

    def render(self) -> str:
        """Human-readable lines for ``newsbot tag --explain``."""
        u = self.understanding
        lines = [
            f"districts: {', '.join(u.districts) or '—'}",
            f"okrugs mentioned: {', '.join(u.okrugs_mentioned) or '—'}",
            f"okrugs from districts: {', '.join(u.okrugs_from_districts) or '—'}",
        ]
        if u.uncertain_districts:
            lines.append(f"uncertain districts: {', '.join(u.uncertain_districts)}")
        lines.append("place evidence:")
        lines.extend(f"  {e.describe()}" for e in self.district_evidence)
        lines.append(f"topics: {', '.join(u.topics) or '—'}")
        for topic, score in sorted(self.topic_scores.items(), key=lambda kv: -kv[1]):
            mark = "+" if topic in u.topics else " "
            words = ", ".join(f"{w} {pts:g}" for w, pts in self.topic_words.get(topic, [])[:8])
            lines.append(f"  {mark} {topic} {score:g}: {words}")
        lines.append(f"summary: {u.summary}")
        return "\n".join(lines)


class Analyzer:
    def __init__(self, region: Region | None = None, morph: Morph | None = None) -> None:
        self.region = region if region is not None else load_region()
        self.morph = morph if morph is not None else get_morph()
        self.districts = DistrictTagger(self.region, self.morph)
        self.topics = TopicClassifier(lemmatize=self.morph.lemma)

    def _analyse(
        self, title: str, text: str, *, want_evidence: bool
    ) -> tuple[Understanding, DistrictResult, TopicResult]:
        body = clean_text(text)
        title = " ".join(title.split())
        # One pass over title and body; the blank line keeps names from joining across them.
        full = f"{title}\n\n{body}" if title else body
        folded = fold_text(full)
        tokens = tokenize(folded)
        lemmas = self.morph.lemmas(tokens.words)
        split = len(tokenize(fold_text(title))) if title else 0
        places = self.districts.tag(full, tokens, folded=folded, want_evidence=want_evidence)
        topics = self.topics.classify(lemmas[:split], lemmas[split:], explain=want_evidence)
        features = story_features(
            lemmas[split:],
            districts=places.districts,
            settlements=places.settlements,
            length=len(body),
        )
        understanding = Understanding(
            districts=places.districts,
            okrugs_from_districts=places.okrugs_from_districts,
            okrugs_mentioned=places.okrugs_mentioned,
            uncertain_districts=places.uncertain,
            topics=topics.topics,
            summary=lead(body, title, cleaned=True),
            search_lemmas=" ".join(lemmas),
            story=features,
        )
        return understanding, places, topics

    def understand(self, title: str, text: str) -> Understanding:
        return self._analyse(title, text, want_evidence=False)[0]

    def explain(self, title: str, text: str) -> Explanation:
        u, places, topics = self._analyse(title, text, want_evidence=True)
        return Explanation(u, places.evidence, topics.scores, topics.contributions)

    def lemmas_for_search(self, text: str) -> str:
        """Space-joined lemmas («школы» → «школа»), for indexing and for search queries."""
        return " ".join(self.morph.lemmas(tokenize(fold_text(text)).words))


_analyzer: Analyzer | None = None
_lock = threading.Lock()


def get_analyzer() -> Analyzer:
    """The process-wide analyzer, created on first use (~0.2 s, ~30 MB)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                _analyzer = Analyzer()
    return _analyzer


def understand(title: str, text: str) -> Understanding:
    return get_analyzer().understand(title, text)


def explain(title: str, text: str) -> Explanation:
    return get_analyzer().explain(title, text)


def lemmas_for_search(text: str) -> str:
    return get_analyzer().lemmas_for_search(text)
