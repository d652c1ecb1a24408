"""Which Moscow districts and okrugs an article is about.

Place names are matched as sequences of *generated word forms* rather than through pymorphy3
lemmas: the dictionary does not know most district names («Бутова» parses as a short
adjective, «Хорошёва» as a surname), while the declension of these names is regular enough
to generate («Митино» → митина, митину, митином, митине; «Кузьминки» → кузьминок, ...).
Lemmas are used only for the words *around* a name (район, метро, суд, шоссе...).

Names that are also a metro station, airport, park, street, court or another town are
"ambiguous": they count only with district context («район Сокол», «Таганского района»,
«управа района Аэропорт») or, for some, when the article has no sign of the other sense.
Every decision is recorded as :class:`Evidence` so that ``explain`` can show it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress

from digests.region import Region
from digests.understanding.morph import Morph, Tokens, fold_text, tokenize

__all__ = [
    "DistrictResult",
    "DistrictTagger",
    "Evidence",
    "word_forms",
]

# --- word-form generation -------------------------------------------------------------------

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


# --- context vocabulary (folded lemmas) ----------------------------------------------------

# A name right after one of these is spoken of as a district or settlement.
_CUE_BEFORE = frozenset({"район", "поселение", "поселок", "управа"})
# «муниципальный округ Сокол», «городской округ Троицк»
_CUE_OKRUG_QUALIFIERS = frozenset({"муниципальный", "городской"})
# «Таганского района», «в Басманном районе», «Роговского поселения»
_CUE_AFTER = frozenset({"район", "поселение"})
# The name is a station, airport, park, street...: «станция метро «Сокол»», «парк Сокольники».
_NEG_BEFORE = frozenset(
    {
        "метро",
        "станция",
        "платформа",
        "аэропорт",
        "аэродром",
        "вокзал",
        "мцд",
        "мцк",
        "парк",
        "лесопарк",
        "усадьба",
        "заповедник",
        "музей",
        "дворец",
        "улица",
        "шоссе",
        "проспект",
        "бульвар",
        "переулок",
        "проезд",
        "площадь",
        "набережная",
        "суд",
        "стадион",
        "рынок",
        "кладбище",
        "больница",
        "клиника",
        "тоннель",
    }
)
# «Басманный суд», «Ярославское шоссе», «Савёловский вокзал», «Рязанский проспект».
_NEG_AFTER = frozenset(
    {
        "суд",
        "шоссе",
        "проспект",
        "вокзал",
        "улица",
        "переулок",
        "бульвар",
        "проезд",
        "площадь",
        "набережная",
        "тупик",
        "вал",
        "мост",
        "тоннель",
        "монастырь",
        "кладбище",
        "рынок",
        "парк",
        "аэропорт",
        "направление",
        "линия",
        "депо",
        "станция",
    }
)


@dataclass(frozen=True, slots=True)
class _Ambiguity:
    """How a name that is also something else is accepted.

    ``needs_cue``: only with district context. Otherwise an uncued mention counts when the
    article contains none of ``other_sense`` lemmas (the park, airport, court... sense).
    ``veto``: lemmas that reject the name even with context (another city's district).
    """

    needs_cue: bool
    other_sense: frozenset[str] = frozenset()
    veto: frozenset[str] = frozenset()


_PARK = frozenset({"парк", "усадьба", "заповедник", "лесопарк", "музей", "дворец", "пруд"})
_STRICT = _Ambiguity(needs_cue=True)

# District slug → ambiguity; anything not listed is tagged on any mention.
_AMBIGUOUS_DISTRICTS: dict[str, _Ambiguity] = {
    # metro stations, airport, ordinary adjectives
    "sokol": _STRICT,
    "aeroport": _STRICT,
    "severny": _STRICT,
    "vostochny": _STRICT,
    "akademichesky": _STRICT,
    "donskoy": _STRICT,
    "nagorny": _STRICT,
    "begovoy": _STRICT,
    # stations, railway directions and highways
    "savyolovsky": _STRICT,
    "yaroslavsky": _STRICT,
    "ryazansky": _STRICT,
    "nizhegorodsky": _STRICT,
    "mozhaysky": _STRICT,
    "dmitrovsky": _STRICT,
    # streets
    "tverskoy": _STRICT,
    "arbat": _STRICT,
    "prospekt-vernadskogo": _STRICT,
    # courts
    "basmanny": _STRICT,
    # parks: the district sense is accepted when nothing in the article is about the park
    "sokolniki": _Ambiguity(False, _PARK),
    "izmaylovo": _Ambiguity(False, _PARK),
    "kuzminki": _Ambiguity(False, _PARK),
    "tsaritsyno": _Ambiguity(False, _PARK),
    "lefortovo": _Ambiguity(
        False, frozenset({"суд", "сизо", "изолятор", "арест", "тоннель", "парк", "обвиняемый"})
    ),
    "vnukovo": _Ambiguity(
        False,
        frozenset({"аэропорт", "самолет", "рейс", "авиакомпания", "аэродром", "вылет", "авиа"}),
    ),
    "kommunarka": _Ambiguity(
        False, frozenset({"больница", "клиника", "госпиталь", "стационар", "пациент", "врач"})
    ),
    "kryukovo": _Ambiguity(
        False, frozenset({"станция", "платформа", "электричка", "поезд", "вокзал", "мцд"})
    ),
    "troitsk": _Ambiguity(
        False, frozenset({"челябинский", "челябинск", "оренбургский", "башкортостан"})
    ),
    "krasnoselsky": _Ambiguity(
        True, veto=frozenset({"петербург", "санкт", "спб", "петербургский", "ленинградский"})
    ),
}

# Former settlements whose name is a common word or another object.
_AMBIGUOUS_SETTLEMENTS: dict[str, _Ambiguity] = {
    "moskovsky": _STRICT,
    "kievsky": _STRICT,
    "pervomayskoe": _STRICT,
    "voskresenskoe": _STRICT,
    "mosrentgen": _STRICT,
}
# Settlements that share their name with a district: the district entry handles them.
_SETTLEMENTS_AS_DISTRICTS = frozenset({"troitsk", "shcherbinka"})

# Okrug names without «административный округ».
_OKRUG_ALIASES: dict[str, tuple[str, ...]] = {
    "зеленоград": ("zelao",),
    "новая москва": ("nao", "tao"),
}
_OKRUG_HEAD = frozenset(
    word_forms("округ")
    | word_forms("административный")
    | {"округа", "округов", "округам", "округах", "административные", "административных"}
)
# Whole-token abbreviations, case-sensitive: «ХМАО», «ЯНАО», «ЕАО» never match.
_ABBR_RE = re.compile(
    r"(?<![\w-])(ЦАО|САО|СВАО|ВАО|ЮВАО|ЮАО|ЮЗАО|ЗАО|СЗАО|ЗелАО|ЗЕЛАО|НАО|ТАО|ТиНАО|ТИНАО)(?![\w-])"
)
_ABBR_OKRUGS: dict[str, tuple[str, ...]] = {
    "ЦАО": ("tsao",), "САО": ("sao",), "СВАО": ("svao",), "ВАО": ("vao",),
    "ЮВАО": ("yuvao",), "ЮАО": ("yuao",), "ЮЗАО": ("yuzao",), "ЗАО": ("zao",),
    "СЗАО": ("szao",), "ЗелАО": ("zelao",), "ЗЕЛАО": ("zelao",), "НАО": ("nao",),
    "ТАО": ("tao",), "ТиНАО": ("nao", "tao"), "ТИНАО": ("nao", "tao"),
}  # fmt: skip
# «ЗАО «Мосинжстрой»» is a joint-stock company, not the Western okrug.
_COMPANY_AFTER_RE = re.compile(r"\s*[«\"“„]")

# --- result types ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """One name occurrence and what was decided about it."""

    kind: str  # "district", "settlement" or "okrug"
    target: str  # district or okrug slug (settlements: the settlement slug)
    surface: str  # text as written
    start: int
    end: int
    accepted: bool
    reason: str

    def describe(self) -> str:
        verdict = "+" if self.accepted else "-"
        return f"{verdict} {self.kind} {self.target}: «{self.surface}» ({self.reason})"


@dataclass(frozen=True, slots=True)
class DistrictResult:
    districts: tuple[str, ...]  # district slugs in order of first accepted mention
    okrugs_from_districts: tuple[str, ...]
    okrugs_mentioned: tuple[str, ...]
    uncertain: tuple[str, ...]  # districts known only through an uncertain settlement mapping
    evidence: tuple[Evidence, ...] = field(default=())
    # former settlements named in the text (slugs), a finer level than districts: two
    # template texts about two settlements of one new district are still different places
    settlements: tuple[str, ...] = ()

    @property
    def okrugs(self) -> tuple[str, ...]:
        """All okrugs: mentioned ones, then those implied by districts."""
        seen = dict.fromkeys(self.okrugs_mentioned)
        seen.update(dict.fromkeys(self.okrugs_from_districts))
        return tuple(seen)


# --- the tagger -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: str  # "district" | "settlement" | "okrug-adj" | "okrug-alias"
    target: str
    parts: tuple[frozenset[str], ...]
    # for two-word "adjective + noun" names: the noun group key, adjective position, adj forms
    sibling_key: tuple[str, ...] | None = None
    adj_first: bool = True


@dataclass(slots=True)
class _Match:
    pattern: _Pattern
    first: int  # token index
    last: int  # inclusive


def _gap_is_join(gap: str) -> bool:
    """Tokens of one name are separated only by spaces or a hyphen."""
    return gap.strip(" -‐–—\u00a0") == "" and "\n" not in gap


def _gap_is_quote(gap: str) -> bool:
    return gap.strip(' «»"“”„\u00a0') == ""


class DistrictTagger:
    def __init__(self, region: Region, morph: Morph | None = None) -> None:
        """``morph`` expands context words into all their forms; without it a simpler
        built-in declension is used (good enough for tests of the name rules)."""
        self._region = region

        def expand(words: frozenset[str]) -> frozenset[str]:
            out: set[str] = set()
            for w in words:
                out |= morph.forms(w) if morph is not None else word_forms(w)
            return frozenset(out)

        self._cue_before = expand(_CUE_BEFORE)
        self._cue_after = expand(_CUE_AFTER)
        self._cue_qualifiers = expand(_CUE_OKRUG_QUALIFIERS)
        self._okrug_word = expand(frozenset({"округ"}))
        self._city_word = expand(frozenset({"город"}))
        self._rayon = expand(frozenset({"район"}))
        self._neg_before = expand(_NEG_BEFORE)
        self._neg_after = expand(_NEG_AFTER)
        self._court_qualifier = expand(frozenset({"районный", "межрайонный"}))
        self._senses = {
            key: (expand(a.other_sense), expand(a.veto))
            for key, a in (_AMBIGUOUS_DISTRICTS | _AMBIGUOUS_SETTLEMENTS).items()
        }
        self._district_okrug = {d.slug: d.okrug for d in region.districts}
        self._settlements = {s.slug: s for s in region.former_settlements}
        self._nominatives = {
            d.slug: " ".join(fold_text(d.name_ru).replace("-", " ").split())
            for d in region.districts
        }
        self._settlement_nominatives = {
            s.slug: " ".join(fold_text(s.name_ru).replace("-", " ").split())
            for s in region.former_settlements
        }
        patterns: list[_Pattern] = []
        for d in region.districts:
            patterns.extend(self._name_patterns("district", d.slug, d.name_ru))
        for s in region.former_settlements:
            if s.slug not in _SETTLEMENTS_AS_DISTRICTS:
                patterns.extend(self._name_patterns("settlement", s.slug, s.name_ru))
        for o in region.okrugs:
            adjective = o.name_ru.split(" ")[0]  # «Северо-Западный административный округ»
            parts = tuple(word_forms(p) for p in fold_text(adjective).split("-"))
            patterns.append(_Pattern("okrug-adj", o.slug, parts))
        for alias, slugs in _OKRUG_ALIASES.items():
            parts = tuple(word_forms(p) for p in alias.split(" "))
            patterns.append(_Pattern("okrug-alias", ",".join(slugs), parts))
        self._by_first: dict[str, list[_Pattern]] = {}
        for p in patterns:
            for form in p.parts[0]:
                self._by_first.setdefault(form, []).append(p)
        for lst in self._by_first.values():
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
    def _name_patterns(kind: str, slug: str, name: str) -> list[_Pattern]:
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
                    _Pattern(kind, slug, flat, noun, adj_first=adj_idx == 0),
                    _Pattern(kind, slug, inverted, noun, adj_first=adj_idx == 1),
                ]
        return [_Pattern(kind, slug, flat)]

    # -- matching --

    def _find(self, folded: str, tokens: Tokens) -> list[_Match]:
        matches: list[_Match] = []
        words = tokens.words
        n = len(words)
        by_first = self._by_first
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
                    if words[i + j] not in p.parts[j] or not _gap_is_join(tokens.gaps[i + j]):
                        ok = False
                        break
                if ok:
                    matches.append(_Match(p, i, i + k - 1))
                    nxt = i + k
                    break
        return matches

    def tag(
        self,
        text: str,
        tokens: Tokens | None = None,
        *,
        folded: str | None = None,
        want_evidence: bool = False,
    ) -> DistrictResult:
        """Tag one document. ``tokens`` (from :func:`digests.understanding.morph.tokenize` over
        ``fold_text(text)``) can be passed when the caller already has them."""
        if folded is None:
            folded = fold_text(text)
        if tokens is None:
            tokens = tokenize(folded)
        matches = self._find(folded, tokens)
        # Context words are matched by surface form, so only the set of words is needed
        # (built on first use: most articles have no ambiguous name).
        doc_words_: list[frozenset[str]] = []

        def doc_words() -> frozenset[str]:
            if not doc_words_:
                doc_words_.append(frozenset(tokens.words))
            return doc_words_[0]

        evidence: list[Evidence] = []
        districts: dict[str, None] = {}
        certain: set[str] = set()
        settlements: dict[str, None] = {}
        okrugs_mentioned: dict[str, None] = {}

        def note(kind: str, target: str, first: int, last: int, ok: bool, why: str) -> None:
            if want_evidence:
                s, e = tokens.start(first), tokens.end(last)
                evidence.append(Evidence(kind, target, text[s:e], s, e, ok, why))

        # Okrug abbreviations straight from the original text (case matters).
        # Every abbreviation ends in «АО»: a substring test spares the regex scan.
        for am in _ABBR_RE.finditer(text) if "АО" in text else ():
            abbr, a0, a1 = am.group(1), am.start(), am.end()
            if abbr == "ЗАО" and _COMPANY_AFTER_RE.match(text, a1):
                if want_evidence:
                    evidence.append(Evidence("okrug", "zao", abbr, a0, a1, False, "company «ЗАО»"))
                continue
            for slug in _ABBR_OKRUGS[abbr]:
                okrugs_mentioned.setdefault(slug)
                if want_evidence:
                    evidence.append(Evidence("okrug", slug, abbr, a0, a1, True, "abbreviation"))

        cued: dict[int, bool] = {}  # match index → has district context (for lists)
        place_matches: list[tuple[int, _Match]] = []
        # Names are proper nouns: «в районе аэропорта» or «северного» in lower case are
        # ordinary words («near the airport», «northern»).
        matches = [m for m in matches if text[tokens.start(m.first)].isupper()]
        for idx, m in enumerate(matches):
            kind = m.pattern.kind
            if kind == "okrug-alias":
                for slug in m.pattern.target.split(","):
                    okrugs_mentioned.setdefault(slug)
                    note("okrug", slug, m.first, m.last, True, "okrug name")
                continue
            if kind == "okrug-adj":
                if self._okrug_head_follows(tokens, m.last, folded):
                    okrugs_mentioned.setdefault(m.pattern.target)
                    note("okrug", m.pattern.target, m.first, m.last, True, "«… округ»")
                    continue
                # «Северный» without «округ» may still be a district: rematch as such.
                place = self._rematch_as_place(folded, tokens, m)
                if place is None:
                    continue
                matches[idx] = m = place
            place_matches.append((idx, m))
            cued[idx] = self._has_cue(folded, tokens, m)

        for idx, m in place_matches:
            kind, slug = m.pattern.kind, m.pattern.target
            amb = (
                _AMBIGUOUS_DISTRICTS.get(slug)
                if kind == "district"
                else _AMBIGUOUS_SETTLEMENTS.get(slug)
            )
            # Plain names are checked only for what follows («Головинский суд»): a station
            # or park named after an unambiguous district lies in that district anyway.
            neg = self._negative(folded, tokens, m, check_before=amb is not None)
            if neg is not None:
                note(kind, slug, m.first, m.last, False, f"not a district: {neg}")
                continue
            cue = cued[idx] or self._list_cue(folded, tokens, matches, cued, idx)
            if amb is None:
                ok, why = True, "name" + (" with district context" if cue else "")
            elif cue:
                vetoed = self._senses[slug][1] & doc_words()
                ok = not vetoed
                why = "district context" if ok else f"other city: {', '.join(sorted(vetoed))}"
            elif amb.needs_cue:
                ok, why = False, "ambiguous name without district context"
            else:
                other = self._senses[slug][0] & doc_words()
                ok = not other
                why = (
                    "ambiguous name, no sign of another sense"
                    if ok
                    else f"ambiguous name, other sense: {', '.join(sorted(other))}"
                )
            note(kind, slug, m.first, m.last, ok, why)
            if not ok:
                continue
            if kind == "district":
                districts.setdefault(slug)
                certain.add(slug)
            else:
                s = self._settlements[slug]
                settlements.setdefault(slug)
                main = s.districts[0]
                districts.setdefault(main)
                if s.certain:
                    certain.add(main)
                if want_evidence:
                    mapping = "certain" if s.certain else "uncertain"
                    note("district", main, m.first, m.last, True, f"{mapping} successor of {slug}")
            for sib in self._ellipsis_siblings(folded, tokens, m):
                districts.setdefault(sib)
                certain.add(sib)
                note("district", sib, m.first, m.last, True, "coordinated name")

        from_districts = dict.fromkeys(self._district_okrug[d] for d in districts)
        return DistrictResult(
            districts=tuple(districts),
            okrugs_from_districts=tuple(from_districts),
            okrugs_mentioned=tuple(okrugs_mentioned),
            uncertain=tuple(d for d in districts if d not in certain),
            settlements=tuple(settlements),
            evidence=tuple(evidence),
        )

    # -- context rules --

    def _okrug_head_follows(self, tokens: Tokens, last: int, folded: str) -> bool:
        """«Восточный округ», «Троицкий и Новомосковский административные округа»."""
        j = last + 1
        steps = 0
        while j < len(tokens.words) and steps < 6:
            t = tokens.words[j]
            if t in _OKRUG_HEAD:
                return True
            if "." in tokens.gaps[j]:
                return False
            if t == "и" or t in self._by_first:
                j += 1
                steps += 1
                continue
            return False
        return False

    def _rematch_as_place(self, folded: str, tokens: Tokens, m: _Match) -> _Match | None:
        for p in self._by_first.get(tokens.words[m.first], ()):
            if p.kind in ("district", "settlement"):
                k = len(p.parts)
                f = m.first
                if f + k <= len(tokens.words) and all(
                    tokens.words[f + j] in p.parts[j] and _gap_is_join(tokens.gaps[f + j])
                    for j in range(1, k)
                ):
                    return _Match(p, m.first, m.first + k - 1)
        return None

    @staticmethod
    def _prev_index(folded: str, tokens: Tokens, i: int) -> int | None:
        """Index of the token before ``i`` if only spaces or quotes separate them."""
        if i == 0:
            return None
        if not _gap_is_quote(tokens.gaps[i]):
            return None
        return i - 1

    @staticmethod
    def _next_index(folded: str, tokens: Tokens, i: int) -> int | None:
        if i + 1 >= len(tokens.words):
            return None
        if not _gap_is_quote(tokens.gaps[i + 1]):
            return None
        return i + 1

    def _has_cue(self, folded: str, tokens: Tokens, m: _Match) -> bool:
        p = self._prev_index(folded, tokens, m.first)
        if p is not None:
            w = tokens.words[p]
            # After «район» a district name stays in the nominative («в районе Сокол»);
            # «в районе Сокола» means "near Sokol" (the station).
            if w in self._cue_before and (w not in self._rayon or self._is_nominative(tokens, m)):
                return True
            if m.pattern.kind == "settlement" and w in self._city_word:
                return True
            if w in self._okrug_word:
                q = self._prev_index(folded, tokens, p)
                if q is not None and tokens.words[q] in self._cue_qualifiers:
                    return True
        n = self._next_index(folded, tokens, m.last)
        return n is not None and tokens.words[n] in self._cue_after

    def _is_nominative(self, tokens: Tokens, m: _Match) -> bool:
        target = m.pattern.target
        name = (
            self._nominatives.get(target, "")
            if m.pattern.kind == "district"
            else self._settlement_nominatives.get(target, "")
        )
        surface = " ".join(tokens.words[i] for i in range(m.first, m.last + 1))
        return surface == name or not name

    def _negative(
        self,
        folded: str,
        tokens: Tokens,
        m: _Match,
        *,
        check_before: bool,
    ) -> str | None:
        n = self._next_index(folded, tokens, m.last)
        if n is not None and tokens.words[n] in self._court_qualifier:
            n = self._next_index(folded, tokens, n)  # «Головинский районный суд»
        if n is not None and tokens.words[n] in self._neg_after:
            return f"followed by «{tokens.words[n]}»"
        if check_before:
            p = self._prev_index(folded, tokens, m.first)
            if p is not None and tokens.words[p] in self._neg_before:
                return f"after «{tokens.words[p]}»"
        return None

    def _list_cue(
        self,
        folded: str,
        tokens: Tokens,
        matches: Sequence[_Match],
        cued: dict[int, bool],
        idx: int,
    ) -> bool:
        """«районов Сокол, Аэропорт и Беговой»: context carries along a list of names."""
        j = idx
        while j > 0:
            prev, cur = matches[j - 1], matches[j]
            gap_tokens = cur.first - prev.last - 1
            gap = tokens.gaps[cur.first]
            comma = gap_tokens == 0 and "," in gap and gap.strip(' ,«»"') == ""
            conj = gap_tokens == 1 and tokens.words[prev.last + 1] == "и"
            if not (comma or conj):
                return False
            if prev.pattern.kind not in ("district", "settlement"):
                return False
            if cued.get(j - 1):
                return True
            j -= 1
        return False

    def _ellipsis_siblings(self, folded: str, tokens: Tokens, m: _Match) -> list[str]:
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
