"""Resolving a place name typed by a user («в Хамовниках», «юзао», «Бутово») to districts
and okrugs (pure; no I/O besides the lazily loaded pymorphy3 dictionaries).

The steps, first hit wins:

1. exact lookup of the whole text (Russian or English name, abbreviation, slug);
2. generated case forms of every name (``word_forms`` of the gazetteer), hyphenated parts
   declined together or only the last one, and inverted word orders («Бутово Южное»);
3. pymorphy3 lemmas of the query compared with lemmas of the names («Новых Черёмушках»);
4. one distinctive word of a longer name («Бутово» → Северное / Южное Бутово: ambiguous);
5. small typos through :mod:`difflib` (one clear winner is accepted, otherwise the closest
   names are offered as suggestions).

A query that mentions «округ»/«okrug» prefers okrugs, one that mentions «район»/«district»
prefers districts («Северный» alone is both a district and an okrug).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from digests.region import Region, fold
from digests.understanding.places.gazetteer import word_forms

__all__ = ["Place", "PlaceKind", "Resolution", "resolve"]

PlaceKind = Literal["district", "okrug"]

MAX_AMBIGUOUS = 8
MAX_SUGGESTIONS = 5
# A typo is corrected silently only when the match is this close and has no rival.
_TYPO_ACCEPT = 0.85
_TYPO_MARGIN = 0.03
_TYPO_MIN_LENGTH = 6
_SUGGEST_CUTOFF = 0.6

_PUNCT_RE = re.compile(r"[^\w\s-]+")
_DASH_RE = re.compile(r"\s*[-‐‑‒–—]+\s*")

_PREPOSITIONS = frozenset(
    {"в", "во", "на", "из", "для", "по", "про", "у", "около", "in", "at", "the", "for", "of"}
)
_OKRUG_WORDS = frozenset(
    {
        "округ",
        "округа",
        "округе",
        "округу",
        "округом",
        "okrug",
        "административный",
        "административного",
        "административному",
        "административном",
        "административным",
        "administrative",
        "ао",
    }
)
_DISTRICT_WORDS = frozenset(
    {
        "район",
        "района",
        "районе",
        "району",
        "районом",
        "district",
        "поселение",
        "поселения",
        "поселении",
        "поселению",
        "поселением",
        "settlement",
        "муниципальный",
        "муниципального",
        "муниципальном",
    }
)


@dataclass(frozen=True, slots=True, order=True)
class Place:
    kind: PlaceKind
    slug: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a typed name refers to: one place, several (ask), or nothing (suggest)."""

    query: str
    exact: Place | None = None
    ambiguous: tuple[Place, ...] = ()
    suggestions: tuple[Place, ...] = ()

    @property
    def status(self) -> Literal["exact", "ambiguous", "suggestions", "unknown"]:
        if self.exact is not None:
            return "exact"
        if self.ambiguous:
            return "ambiguous"
        if self.suggestions:
            return "suggestions"
        return "unknown"


@dataclass(frozen=True, slots=True)
class _Query:
    words: tuple[str, ...]
    wants_okrug: bool
    wants_district: bool

    @property
    def key(self) -> str:
        return " ".join(self.words)


def _words(text: str) -> list[str]:
    """Folded words; hyphens separate words like spaces do."""
    cleaned = _PUNCT_RE.sub(" ", fold(text).replace("_", " "))
    return _DASH_RE.sub(" ", cleaned).split()


def _parse(text: str) -> _Query:
    words = _words(text)
    wants_okrug = any(w in _OKRUG_WORDS for w in words)
    wants_district = any(w in _DISTRICT_WORDS for w in words)
    kept = [w for w in words if w not in _OKRUG_WORDS and w not in _DISTRICT_WORDS]
    while kept and kept[0] in _PREPOSITIONS:
        kept.pop(0)
    return _Query(tuple(kept), wants_okrug, wants_district)


@dataclass
class _Index:
    full: dict[str, set[Place]] = field(default_factory=dict)  # all word forms of whole names
    partial: dict[str, set[Place]] = field(default_factory=dict)  # forms of single words
    names: dict[Place, list[tuple[str, ...]]] = field(default_factory=dict)  # base words

    def add_full(self, key: str, place: Place) -> None:
        self.full.setdefault(key, set()).add(place)

    def add_partial(self, key: str, place: Place) -> None:
        self.partial.setdefault(key, set()).add(place)


def _forms(word: str, russian: bool) -> frozenset[str]:
    return word_forms(word) | {word} if russian else frozenset({word})


def _is_russian(word: str) -> bool:
    return any("а" <= ch <= "я" for ch in word)


def _add_name(index: _Index, place: Place, name: str) -> None:
    words = tuple(_words(name))
    if not words:
        return
    index.names.setdefault(place, []).append(words)
    russian = _is_russian(name)
    per_word = [sorted(_forms(w, russian)) for w in words]
    orders = [per_word]
    if len(words) == 2:
        orders.append(per_word[::-1])  # «Бутово Северное», «Чертаново Южное» / «Южное ...»
    for order in orders:
        for combo in itertools.product(*order):
            index.add_full(" ".join(combo), place)
    if len(words) > 1:
        for forms in per_word:
            for form in forms:
                if len(form) >= 4:
                    index.add_partial(form, place)


@cache
def _index(region: Region) -> _Index:
    index = _Index()
    for okrug in region.okrugs:
        place = Place("okrug", okrug.slug)
        for name in (okrug.abbr, okrug.abbr_en, okrug.slug):
            index.add_full(" ".join(_words(name)), place)
        for name in (okrug.name_ru, okrug.name_en):
            stripped = " ".join(_parse(name).words)
            _add_name(index, place, stripped)
    for alias, slugs in region.names.typed_okrug_names.items():
        for slug in slugs:
            index.add_full(alias, Place("okrug", slug))
    for district in region.districts:
        place = Place("district", district.slug)
        for name in (district.name_ru, district.name_en, district.slug):
            _add_name(index, place, name)
    for settlement in region.former_settlements:
        for slug in settlement.districts:
            _add_name(index, Place("district", slug), settlement.name_ru)
    return index


def _lemma(word: str) -> str:
    if not _is_russian(word):
        return word
    from digests.understanding.morph import get_morph  # lazy: pymorphy3 loads its dictionaries once

    return get_morph().lemma(word)


@cache
def _lemma_index(region: Region) -> dict[tuple[str, ...], set[Place]]:
    result: dict[tuple[str, ...], set[Place]] = {}
    for place, names in _index(region).names.items():
        for words in names:
            lemmas = tuple(_lemma(w) for w in words)
            result.setdefault(lemmas, set()).add(place)
            if len(lemmas) == 2:
                result.setdefault(lemmas[::-1], set()).add(place)
    return result


def _prefer(query: _Query, places: Iterable[Place]) -> set[Place]:
    found = set(places)
    if query.wants_okrug and not query.wants_district:
        okrugs = {p for p in found if p.kind == "okrug"}
        return okrugs or found
    if query.wants_district and not query.wants_okrug:
        districts = {p for p in found if p.kind == "district"}
        return districts or found
    return found


def _order(region: Region, places: Iterable[Place]) -> tuple[Place, ...]:
    """Okrugs first in the region's order, then districts in the region's order."""
    okrug_rank = {o.slug: i for i, o in enumerate(region.okrugs)}
    district_rank = {d.slug: i for i, d in enumerate(region.districts)}

    def rank(p: Place) -> tuple[int, int]:
        if p.kind == "okrug":
            return (0, okrug_rank.get(p.slug, 0))
        return (1, district_rank.get(p.slug, 0))

    return tuple(sorted(set(places), key=rank))


def _answer(region: Region, text: str, places: set[Place]) -> Resolution:
    if len(places) == 1:
        return Resolution(text, exact=next(iter(places)))
    return Resolution(text, ambiguous=_order(region, places)[:MAX_AMBIGUOUS])


def resolve(text: str, region: Region) -> Resolution:
    """Resolve a typed district or okrug name (any case, ё/е, declined, small typos)."""
    query = _parse(text)
    if not query.words:
        return Resolution(text)
    # 1. exact names and abbreviations (the region's own lookups)
    exact: set[Place] = set()
    okrug = region.find_okrug(text) or region.find_okrug(query.key)
    if okrug is not None:
        exact.add(Place("okrug", okrug.slug))
    district = region.find_district(text.strip()) or region.find_district(query.key)
    if district is not None:
        exact.add(Place("district", district.slug))
    index = _index(region)
    # 2. generated case forms of whole names («Северный» is a district and an okrug)
    found = exact | index.full.get(query.key, set())
    if found:
        return _answer(region, text, _prefer(query, found))
    # 3. lemmas (forms the generator does not know)
    lemmas = tuple(_lemma(w) for w in query.words)
    by_lemma = _lemma_index(region).get(lemmas)
    if by_lemma:
        return _answer(region, text, _prefer(query, by_lemma))
    # 4. a distinctive part of a longer name; every word must match the same names
    partial: set[Place] | None = None
    for word in query.words:
        hits = index.partial.get(word) or index.partial.get(_lemma(word)) or set()
        partial = set(hits) if partial is None else partial & hits
    if partial:
        return _answer(region, text, _prefer(query, partial))
    # 5. typos
    return _fuzzy(region, text, query, index)


def _fuzzy(region: Region, text: str, query: _Query, index: _Index) -> Resolution:
    import difflib  # lazy: only typos need it, and the analyzer imports this package too

    key = query.key
    scored: dict[Place, float] = {}
    best_key_places: set[Place] = set()
    best_ratio = 0.0
    for table in (index.full, index.partial):
        for candidate in difflib.get_close_matches(key, table.keys(), n=12, cutoff=0.5):
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            places = _prefer(query, table[candidate])
            for place in places:
                scored[place] = max(scored.get(place, 0.0), ratio)
            if ratio > best_ratio:
                best_ratio, best_key_places = ratio, set(places)
    if not scored:
        return Resolution(text)
    # Short words (abbreviations: ЯНАО is not НАО) are never corrected silently.
    if best_ratio >= _TYPO_ACCEPT and len(key) >= _TYPO_MIN_LENGTH:
        rivals = {p for p, r in scored.items() if r >= best_ratio - _TYPO_MARGIN}
        if len(rivals) == 1:
            return Resolution(text, exact=next(iter(rivals)))
        if rivals == best_key_places:
            return Resolution(text, ambiguous=_order(region, rivals)[:MAX_AMBIGUOUS])
    ranked = sorted(
        (p for p, r in scored.items() if r >= _SUGGEST_CUTOFF),
        key=lambda p: (-scored[p], p.kind != "okrug", p.slug),
    )
    return Resolution(text, suggestions=tuple(ranked[:MAX_SUGGESTIONS]))
