"""Which districts and okrugs of a region an article is about.

:class:`DistrictTagger` finds the region's names in a text (:mod:`.gazetteer`), keeps those
spoken of as places here (:mod:`.disambiguation`), maps former settlements to the districts
that replaced them, and records every decision as :class:`Evidence` so that ``explain`` can
show it. Lemmas are used only for the words *around* a name (район, метро, суд, шоссе...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digests.region import Region
from digests.understanding.morph import Morph, Tokens, fold_text, tokenize
from digests.understanding.places.disambiguation import Disambiguator
from digests.understanding.places.gazetteer import Gazetteer, Match

__all__ = ["DistrictResult", "DistrictTagger", "Evidence"]


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


class DistrictTagger:
    def __init__(self, region: Region, morph: Morph | None = None) -> None:
        """``morph`` expands context words into all their forms; without it a simpler
        built-in declension is used (good enough for tests of the name rules)."""
        self._region = region
        self._gazetteer = Gazetteer(region)
        self._context = Disambiguator(region.names, self._gazetteer, morph)

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
        gazetteer, context = self._gazetteer, self._context
        matches = gazetteer.find(tokens)
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
        for ab in gazetteer.abbreviations(text):
            if ab.company:
                if want_evidence:
                    why = f"company «{ab.text}»"
                    for slug in ab.okrugs:
                        evidence.append(
                            Evidence("okrug", slug, ab.text, ab.start, ab.end, False, why)
                        )
                continue
            for slug in ab.okrugs:
                okrugs_mentioned.setdefault(slug)
                if want_evidence:
                    evidence.append(
                        Evidence("okrug", slug, ab.text, ab.start, ab.end, True, "abbreviation")
                    )

        cued: dict[int, bool] = {}  # match index → has district context (for lists)
        place_matches: list[tuple[int, Match]] = []
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
                if context.okrug_head_follows(tokens, m.last):
                    okrugs_mentioned.setdefault(m.pattern.target)
                    note("okrug", m.pattern.target, m.first, m.last, True, "«… округ»")
                    continue
                # «Северный» without «округ» may still be a district: rematch as such.
                place = gazetteer.rematch_as_place(tokens, m)
                if place is None:
                    continue
                matches[idx] = m = place
            place_matches.append((idx, m))
            cued[idx] = context.has_cue(tokens, m)

        for idx, m in place_matches:
            kind, slug = m.pattern.kind, m.pattern.target
            # Plain names are checked only for what follows («Головинский суд»): a station
            # or park named after an unambiguous district lies in that district anyway.
            amb = m.pattern.ambiguity
            neg = context.negative(tokens, m, check_before=amb is not None)
            if neg is not None:
                note(kind, slug, m.first, m.last, False, f"not a district: {neg}")
                continue
            cue = cued[idx] or context.list_cue(tokens, matches, cued, idx)
            if amb is None:  # most names: no call into the context rules
                ok, why = True, "name" + (" with district context" if cue else "")
            else:
                ok, why = context.judge(amb, cue, doc_words)
            note(kind, slug, m.first, m.last, ok, why)
            if not ok:
                continue
            if kind == "district":
                districts.setdefault(slug)
                certain.add(slug)
            else:
                s = gazetteer.settlements[slug]
                settlements.setdefault(slug)
                main = s.districts[0]
                districts.setdefault(main)
                if s.certain:
                    certain.add(main)
                if want_evidence:
                    mapping = "certain" if s.certain else "uncertain"
                    note("district", main, m.first, m.last, True, f"{mapping} successor of {slug}")
            for sib in gazetteer.ellipsis_siblings(tokens, m):
                districts.setdefault(sib)
                certain.add(sib)
                note("district", sib, m.first, m.last, True, "coordinated name")

        from_districts = dict.fromkeys(gazetteer.district_okrug[d] for d in districts)
        return DistrictResult(
            districts=tuple(districts),
            okrugs_from_districts=tuple(from_districts),
            okrugs_mentioned=tuple(okrugs_mentioned),
            uncertain=tuple(d for d in districts if d not in certain),
            settlements=tuple(settlements),
            evidence=tuple(evidence),
        )
