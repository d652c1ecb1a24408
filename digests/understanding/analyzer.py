"""One call that turns an article into everything the bot needs to know about it.

``Analyzer.understand(title, text)`` is pure and CPU-bound: callers in an event loop run it in
a worker thread or process. The :class:`Analyzer` of a region holds the expensive parts
(pymorphy3, the gazetteer, the lexicon) and is created once per process and region
(:func:`get_analyzer`) or injected.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from digests.region import Region, load_region
from digests.understanding.morph import Morph, fold_text, get_morph, tokenize
from digests.understanding.places import DistrictResult, DistrictTagger, Evidence
from digests.understanding.stories import StoryFeatures, StoryVocabulary
from digests.understanding.summary import clean_text, lead
from digests.understanding.topics import TopicClassifier, TopicResult

__all__ = [
    "Analyzer",
    "Explanation",
    "Understanding",
    "get_analyzer",
    "lemmas_for_search",
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
    def __init__(self, region: Region, morph: Morph | None = None) -> None:
        self.region = region
        self.morph = morph if morph is not None else get_morph()
        self.districts = DistrictTagger(region, self.morph)
        self.topics = TopicClassifier(lemmatize=self.morph.lemma)
        self.stories = StoryVocabulary(region.names.generic_words)

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
        features = self.stories.features(
            lemmas[split:],
            districts=places.districts,
            settlements=places.settlements,
            length=len(body),
            words=tokens.words[split:],
            gaps=tokens.gaps[split:],
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
        return _lemmas(self.morph, text)


def _lemmas(morph: Morph, text: str) -> str:
    return " ".join(morph.lemmas(tokenize(fold_text(text)).words))


_analyzers: dict[str | Path, Analyzer] = {}
_lock = threading.Lock()


def get_analyzer(city: str | Path) -> Analyzer:
    """The process-wide analyzer of a region (see :func:`digests.region.load_region`),
    created on first use (~0.2 s, ~30 MB)."""
    analyzer = _analyzers.get(city)
    if analyzer is None:
        with _lock:
            analyzer = _analyzers.get(city)
            if analyzer is None:
                analyzer = _analyzers[city] = Analyzer(load_region(city))
    return analyzer


def lemmas_for_search(text: str) -> str:
    """Space-joined lemmas of a text, with the process-wide lemmatiser (no region needed)."""
    return _lemmas(get_morph(), text)
