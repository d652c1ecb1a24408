"""The names of a region's places as they appear in Russian text, and finding them.

Place names are matched as sequences of *generated word forms* rather than through pymorphy3
lemmas: the dictionary does not know most district names («Бутова» parses as a short
adjective, «Хорошёва» as a surname), while the declension of these names is regular enough
to generate («Митино» → митина, митину, митином, митине; «Кузьминки» → кузьминок, ...).

:class:`Gazetteer` holds the patterns of every district, former settlement and okrug name of
a region and finds them in a tokenised text; whether a match counts is decided in
:mod:`.disambiguation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress

from digests.region import Ambiguity, FormerSettlement, Region
from digests.understanding.morph import Tokens, fold_text

__all__ = [
    "Gazetteer",
    "Match",
    "Pattern",
    "gap_is_join",
    "word_forms",
]

_HUSHING = ("к", "г", "х", "ж", "ш", "ч", "щ")


def _adj_forms(w: str) -> set[str]:
    """Singular forms of a folded adjective (masc/neut/fem), enough for place names."""
    stem, end = w[:-2], w[-2:]
    i_ = "и" if stem.endswith(_HUSHING) else "ы"
    if end in ("ый", "ий", "ой", "ое", "ее"):
        return {w, stem + "ого", stem + "ому", stem + i_ + "м", stem + "ом", stem + "ое"}
    if end in ("ая", "яя"):
        return {w, stem + "ой", stem + "ую", stem + "ою"}
    return {w}


def word_forms(word: str) -> frozenset[str]:
    """Case forms of one folded name word («митино» → митина, митину, митином, митине)."""
    w = fold_text(word)
    if len(w) < 3:
        return frozenset({w})
    if w.endswith(("ый", "ий", "ой", "ое", "ее", "ая", "яя")):
        return frozenset(_adj_forms(w))
    if w.endswith("ого"):  # genitive attribute such as «Вернадского»: never changes
        return frozenset({w})
    forms = {w}
    last = w[-1]
    if last == "о":
        stem = w[:-1]
        forms |= {stem + e for e in ("а", "у", "ом", "е")}
    elif last == "е" and w.endswith("ье"):  # Замоскворечье
        stem = w[:-1]
        forms |= {stem + e for e in ("я", "ю", "ем")}
    elif last == "и":  # plural: Хамовники, Кузьминки, Фили
        stem = w[:-1]
        forms |= {stem + e for e in ("ов", "ей", "ам", "ям", "ами", "ями", "ах", "ях")}
        if stem.endswith("к"):  # fleeting vowel: Кузьминок, Черёмушек
            forms |= {stem[:-1] + "ок", stem[:-1] + "ек"}
    elif last == "а":
        stem = w[:-1]
        i_ = "и" if stem.endswith(_HUSHING) else "ы"
        forms |= {stem + e for e in (i_, "е", "у", "ой", "ою")}
    elif last == "я":
        stem = w[:-1]
        forms |= {stem + e for e in ("и", "е", "ю", "ей")}
    elif last not in "аеиоуыэюяй":  # consonant: Сокол, Арбат, Троицк, Стан
        forms |= {w + e for e in ("а", "у", "ом", "е")}
    return frozenset(forms)


def _is_adjective(word: str) -> bool:
    return fold_text(word).endswith(("ый", "ий", "ой", "ое", "ее", "ая", "яя"))


# A company's name in quotes after its legal form: «ЗАО «Мосинжстрой»» is no okrug.
_COMPANY_AFTER_RE = re.compile(r"\s*[«\"“„]")


@dataclass(frozen=True, slots=True)
class Pattern:
    kind: str  # "district" | "settlement" | "okrug-adj" | "okrug-alias"
    target: str
    parts: tuple[frozenset[str], ...]
    # for two-word "adjective + noun" names: the noun group key, adjective position, adj forms
    sibling_key: tuple[str, ...] | None = None
    adj_first: bool = True
    # how a district or settlement name is also something else (names.json), if it is
    ambiguity: Ambiguity | None = None


@dataclass(slots=True)
class Match:
    pattern: Pattern
    first: int  # token index
    last: int  # inclusive


def gap_is_join(gap: str) -> bool:
    """Tokens of one name are separated only by spaces or a hyphen."""
    return gap.strip(" -‐–—\u00a0") == "" and "\n" not in gap


def _common_suffix(words: Iterable[str]) -> str:
    suffix: str | None = None
    for w in words:
        suffix = w if suffix is None else suffix
        while not w.endswith(suffix):
            suffix = suffix[1:]
    return suffix or ""


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """An okrug abbreviation found in the original text («СЗАО»)."""

    text: str
    start: int
    end: int
    okrugs: tuple[str, ...]  # okrug slugs («ТиНАО» is two)
    company: bool  # «ЗАО «Мосинжстрой»»: a company's legal form, not the okrug


class Gazetteer:
    """Name patterns of a region's districts, former settlements and okrugs."""

    def __init__(self, region: Region) -> None:
        names = region.names
        # Whole-token abbreviations, case-sensitive: «ХМАО», «ЯНАО», «ЕАО» never match.
        self._abbreviations = dict(names.okrug_abbreviations)
        self._companies = names.company_abbreviations
        alternatives = "|".join(map(re.escape, sorted(self._abbreviations, key=len, reverse=True)))
        self._abbr_re = re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")
        # What every abbreviation ends with (Moscow: «АО»): a substring test spares the scan.
        self._abbr_suffix = _common_suffix(self._abbreviations)
        self.district_okrug = {d.slug: d.okrug for d in region.districts}
        self.settlements: dict[str, FormerSettlement] = {
            s.slug: s for s in region.former_settlements
        }
        self._nominatives = {
            d.slug: " ".join(fold_text(d.name_ru).replace("-", " ").split())
            for d in region.districts
        }
        self._settlement_nominatives = {
            s.slug: " ".join(fold_text(s.name_ru).replace("-", " ").split())
            for s in region.former_settlements
        }
        patterns: list[Pattern] = []
        for d in region.districts:
            amb = names.ambiguous_districts.get(d.slug)
            patterns.extend(self._name_patterns("district", d.slug, d.name_ru, amb))
        for s in region.former_settlements:
            if s.slug not in names.settlements_named_as_districts:
                amb = names.ambiguous_settlements.get(s.slug)
                patterns.extend(self._name_patterns("settlement", s.slug, s.name_ru, amb))
        for o in region.okrugs:
            adjective = o.name_ru.split(" ")[0]  # «Северо-Западный административный округ»
            parts = tuple(word_forms(p) for p in fold_text(adjective).split("-"))
            patterns.append(Pattern("okrug-adj", o.slug, parts))
        for alias, slugs in names.okrug_names.items():
            parts = tuple(word_forms(p) for p in alias.split(" "))
            patterns.append(Pattern("okrug-alias", ",".join(slugs), parts))
        self.by_first: dict[str, list[Pattern]] = {}
        for p in patterns:
            for form in p.parts[0]:
                self.by_first.setdefault(form, []).append(p)
        for lst in self.by_first.values():
            # Longest first; on a tie «Восточный» is tried as an okrug before the district.
            lst.sort(key=lambda p: (-len(p.parts), p.kind != "okrug-adj"))
        # noun group → {adjective form: (kind, slug)} for «Северного и Южного Бутова»
        self._siblings: dict[tuple[str, ...], dict[str, str]] = {}
        for p in patterns:
            if p.sibling_key is not None:
                adj_part = p.parts[0] if p.adj_first else p.parts[-1]
                forms = self._siblings.setdefault(p.sibling_key, {})
                for f in adj_part:
                    forms[f] = p.target

    @staticmethod
    def _name_patterns(kind: str, slug: str, name: str, amb: Ambiguity | None) -> list[Pattern]:
        groups = [fold_text(g).split("-") for g in name.split(" ")]
        flat = tuple(word_forms(w) for g in groups for w in g)
        if len(groups) == 2 and (len(groups[0]) == 1 or len(groups[1]) == 1):
            adj_idx = next(
                (i for i, g in enumerate(groups) if len(g) == 1 and _is_adjective(g[0])), None
            )
            if adj_idx is not None and not all(_is_adjective(w) for w in groups[1 - adj_idx]):
                noun = tuple(groups[1 - adj_idx])
                inverted = tuple(word_forms(w) for g in reversed(groups) for w in g)
                return [
                    Pattern(kind, slug, flat, noun, adj_first=adj_idx == 0, ambiguity=amb),
                    Pattern(kind, slug, inverted, noun, adj_first=adj_idx == 1, ambiguity=amb),
                ]
        return [Pattern(kind, slug, flat, ambiguity=amb)]

    def abbreviations(self, text: str) -> Iterator[Abbreviation]:
        """Okrug abbreviations in the original text (case matters)."""
        if not self._abbreviations or self._abbr_suffix not in text:
            return
        for am in self._abbr_re.finditer(text):
            abbr, a0, a1 = am.group(1), am.start(), am.end()
            company = abbr in self._companies and _COMPANY_AFTER_RE.match(text, a1) is not None
            yield Abbreviation(abbr, a0, a1, self._abbreviations[abbr], company)

    def find(self, tokens: Tokens) -> list[Match]:
        matches: list[Match] = []
        words = tokens.words
        n = len(words)
        by_first = self.by_first
        # First pass in C: positions of tokens that can start a name. Most tokens cannot,
        # and the pattern work below runs only at these few positions.
        starts = compress(range(n), map(by_first.__contains__, words))
        nxt = 0  # tokens before this index belong to an earlier match
        for i in starts:
            if i < nxt:
                continue
            for p in by_first[words[i]]:
                k = len(p.parts)
                if i + k > n:
                    continue
                ok = True
                for j in range(1, k):
                    if words[i + j] not in p.parts[j] or not gap_is_join(tokens.gaps[i + j]):
                        ok = False
                        break
                if ok:
                    matches.append(Match(p, i, i + k - 1))
                    nxt = i + k
                    break
        return matches

    def rematch_as_place(self, tokens: Tokens, m: Match) -> Match | None:
        for p in self.by_first.get(tokens.words[m.first], ()):
            if p.kind in ("district", "settlement"):
                k = len(p.parts)
                f = m.first
                if f + k <= len(tokens.words) and all(
                    tokens.words[f + j] in p.parts[j] and gap_is_join(tokens.gaps[f + j])
                    for j in range(1, k)
                ):
                    return Match(p, m.first, m.first + k - 1)
        return None

    def is_nominative(self, tokens: Tokens, m: Match) -> bool:
        target = m.pattern.target
        name = (
            self._nominatives.get(target, "")
            if m.pattern.kind == "district"
            else self._settlement_nominatives.get(target, "")
        )
        surface = " ".join(tokens.words[i] for i in range(m.first, m.last + 1))
        return surface == name or not name

    def ellipsis_siblings(self, tokens: Tokens, m: Match) -> list[str]:
        """«Северного и Южного Бутова», «Бирюлёво Восточное и Западное»."""
        p = m.pattern
        if p.sibling_key is None:
            return []
        siblings = self._siblings.get(p.sibling_key, {})
        out: list[str] = []
        step = -1 if p.adj_first else 1
        i = m.first if p.adj_first else m.last
        while True:
            k = i + step  # neighbouring token: «и» or the next adjective after a comma
            if not 0 <= k < len(tokens.words):
                break
            hi = i if step < 0 else k  # the later of the two neighbouring tokens
            if tokens.words[k] in ("и", "или"):
                j = k + step
            elif tokens.gaps[hi].strip() == ",":
                j = k
            else:
                break
            if not 0 <= j < len(tokens.words):
                break
            sib = siblings.get(tokens.words[j])
            if sib is None or sib == p.target or sib in out:
                break
            out.append(sib)
            i = j
        return out
