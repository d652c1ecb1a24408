"""Whether a matched name is spoken of as a district here, from the words around it.

Names that are also a metro station, airport, park, street, court or another town are
"ambiguous": they count only with district context («район Сокол», «Таганского района»,
«управа района Аэропорт») or, for some, when the article has no sign of the other sense.
Context words are Russian lemmas, compared by surface form: :class:`Disambiguator` expands
them into all their forms once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from digests.region import Ambiguity, PlaceNames
from digests.understanding.morph import Morph, Tokens
from digests.understanding.places.gazetteer import Gazetteer, Match, word_forms

__all__ = ["Disambiguator"]

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


_OKRUG_HEAD = frozenset(
    word_forms("округ")
    | word_forms("административный")
    | {"округа", "округов", "округам", "округах", "административные", "административных"}
)


def _gap_is_quote(gap: str) -> bool:
    return gap.strip(' «»"“”„\u00a0') == ""


def _prev_index(tokens: Tokens, i: int) -> int | None:
    """Index of the token before ``i`` if only spaces or quotes separate them."""
    if i == 0:
        return None
    if not _gap_is_quote(tokens.gaps[i]):
        return None
    return i - 1


def _next_index(tokens: Tokens, i: int) -> int | None:
    if i + 1 >= len(tokens.words):
        return None
    if not _gap_is_quote(tokens.gaps[i + 1]):
        return None
    return i + 1


class Disambiguator:
    """The context rules of one region's names, with context words in all their forms."""

    def __init__(self, names: PlaceNames, gazetteer: Gazetteer, morph: Morph | None = None) -> None:
        """``morph`` expands context words into all their forms; without it a simpler
        built-in declension is used (good enough for tests of the name rules)."""
        self._gazetteer = gazetteer

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
        # Ambiguity → its other-sense and veto words in all their forms.
        self._senses = {
            a: (expand(a.other_sense), expand(a.veto))
            for a in (*names.ambiguous_districts.values(), *names.ambiguous_settlements.values())
        }

    def judge(
        self, amb: Ambiguity, cue: bool, doc_words: Callable[[], frozenset[str]]
    ) -> tuple[bool, str]:
        """Whether an ambiguous name (not negated by its neighbours) counts, and why;
        ``doc_words`` gives the words of the whole text (computed on first use). A name that
        is not ambiguous always counts."""
        if cue:
            vetoed = self._senses[amb][1] & doc_words()
            ok = not vetoed
            return ok, "district context" if ok else f"other city: {', '.join(sorted(vetoed))}"
        if amb.needs_context:
            return False, "ambiguous name without district context"
        other = self._senses[amb][0] & doc_words()
        ok = not other
        why = (
            "ambiguous name, no sign of another sense"
            if ok
            else f"ambiguous name, other sense: {', '.join(sorted(other))}"
        )
        return ok, why

    def okrug_head_follows(self, tokens: Tokens, last: int) -> bool:
        """«Восточный округ», «Троицкий и Новомосковский административные округа»."""
        j = last + 1
        steps = 0
        while j < len(tokens.words) and steps < 6:
            t = tokens.words[j]
            if t in _OKRUG_HEAD:
                return True
            if "." in tokens.gaps[j]:
                return False
            if t == "и" or t in self._gazetteer.by_first:
                j += 1
                steps += 1
                continue
            return False
        return False

    def has_cue(self, tokens: Tokens, m: Match) -> bool:
        p = _prev_index(tokens, m.first)
        if p is not None:
            w = tokens.words[p]
            # After «район» a district name stays in the nominative («в районе Сокол»);
            # «в районе Сокола» means "near Sokol" (the station).
            if w in self._cue_before and (
                w not in self._rayon or self._gazetteer.is_nominative(tokens, m)
            ):
                return True
            if m.pattern.kind == "settlement" and w in self._city_word:
                return True
            if w in self._okrug_word:
                q = _prev_index(tokens, p)
                if q is not None and tokens.words[q] in self._cue_qualifiers:
                    return True
        n = _next_index(tokens, m.last)
        return n is not None and tokens.words[n] in self._cue_after

    def negative(
        self,
        tokens: Tokens,
        m: Match,
        *,
        check_before: bool,
    ) -> str | None:
        n = _next_index(tokens, m.last)
        if n is not None and tokens.words[n] in self._court_qualifier:
            n = _next_index(tokens, n)  # «Головинский районный суд»
        if n is not None and tokens.words[n] in self._neg_after:
            return f"followed by «{tokens.words[n]}»"
        if check_before:
            p = _prev_index(tokens, m.first)
            if p is not None and tokens.words[p] in self._neg_before:
                return f"after «{tokens.words[p]}»"
        return None

    def list_cue(
        self,
        tokens: Tokens,
        matches: Sequence[Match],
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
