"""A city's administrative geography and how its places are named in the news.

A region is a folder: ``region.json`` (the city, its okrugs, districts and abolished
settlements, its time zone) and optionally ``names.json`` (how those places appear in text:
okrug abbreviations and other names, names that are also something else, the city's own
generic words). Bundled cities live in ``digests/data/<city>/``; :func:`load_region` takes a
bundled city's name or the path of such a folder, so another city is another folder of data.

Lookups accept Russian names, English names, abbreviations and slugs, ignoring case and ё/е.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = [
    "Ambiguity",
    "District",
    "FormerSettlement",
    "Okrug",
    "PlaceNames",
    "Region",
    "RegionError",
    "fold",
    "load_region",
]

_BUNDLED_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class RegionError(ValueError):
    """Region data that cannot be found or does not make sense; the message says why."""


def fold(text: str) -> str:
    """Case- and ё-insensitive key: 'Хорошёво-Мнёвники' -> 'хорошево-мневники'."""
    return " ".join(text.casefold().replace("ё", "е").split())


@dataclass(frozen=True, slots=True)
class Okrug:
    slug: str
    abbr: str
    abbr_en: str
    name_ru: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ru

    def short(self, lang: str) -> str:
        return self.abbr_en if lang == "en" else self.abbr


@dataclass(frozen=True, slots=True)
class District:
    slug: str
    name_ru: str
    name_en: str
    okrug: str  # okrug slug

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ru


@dataclass(frozen=True, slots=True)
class FormerSettlement:
    """A settlement abolished in a reform (New Moscow, 2024) and the districts that replaced it.

    ``districts[0]`` is the main successor; ``certain`` is False where the mapping is a best
    guess rather than something seen in a public source.
    """

    slug: str
    name_ru: str
    former_okrug: str
    districts: tuple[str, ...]
    certain: bool


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """A place name that is also something else (a metro station, a park, a court...).

    ``needs_context``: it counts only with district context («район Сокол»). Otherwise an
    uncued mention counts when the article contains none of the ``other_sense`` lemmas.
    ``veto``: lemmas that reject the name even with context (another city's district).
    """

    needs_context: bool = False
    other_sense: frozenset[str] = frozenset()
    veto: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlaceNames:
    """How the region's places are written in news and typed by users (``names.json``)."""

    # Whole-token, case-sensitive abbreviations in text → okrug slugs: each okrug's own
    # ``abbr`` plus variants («ЗЕЛАО») and abbreviations of several okrugs («ТиНАО»).
    okrug_abbreviations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Abbreviations that are also a company's legal form: «ЗАО «Мосинжстрой»» is no okrug.
    company_abbreviations: frozenset[str] = frozenset()
    # Okrug names in text without «административный округ» (folded): «зеленоград».
    okrug_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Extra names users type for okrugs (folded): «центр», «new moscow».
    typed_okrug_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Former settlements named like a district: the district's name covers them.
    settlements_named_as_districts: frozenset[str] = frozenset()
    ambiguous_districts: Mapping[str, Ambiguity] = field(default_factory=dict)
    ambiguous_settlements: Mapping[str, Ambiguity] = field(default_factory=dict)
    # Lemmas in nearly every news item of this city («москва», «москвич»): no story identity.
    generic_words: frozenset[str] = frozenset()


@dataclass(frozen=True, eq=False)
class Region:
    slug: str
    name_ru: str
    name_en: str
    timezone: str  # IANA zone: local time of the feeds, default for new users
    okrugs: tuple[Okrug, ...]
    districts: tuple[District, ...]
    former_settlements: tuple[FormerSettlement, ...]
    names: PlaceNames = field(default_factory=PlaceNames)
    _okrug_keys: dict[str, Okrug] = field(init=False, repr=False, compare=False)
    _district_keys: dict[str, District] = field(init=False, repr=False, compare=False)
    _okrug_by_slug: dict[str, Okrug] = field(init=False, repr=False, compare=False)
    _district_by_slug: dict[str, District] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        okrug_keys: dict[str, Okrug] = {}
        for o in self.okrugs:
            for key in (o.slug, o.abbr, o.abbr_en, o.name_ru, o.name_en):
                okrug_keys[fold(key)] = o
        district_keys: dict[str, District] = {}
        for d in self.districts:
            for key in (d.slug, d.name_ru, d.name_en):
                district_keys[fold(key)] = d
        object.__setattr__(self, "_okrug_keys", okrug_keys)
        object.__setattr__(self, "_district_keys", district_keys)
        object.__setattr__(self, "_okrug_by_slug", {o.slug: o for o in self.okrugs})
        object.__setattr__(self, "_district_by_slug", {d.slug: d for d in self.districts})

    def okrug(self, slug: str) -> Okrug:
        """The okrug with this slug; KeyError if there is none."""
        return self._okrug_by_slug[slug]

    def district(self, slug: str) -> District:
        """The district with this slug; KeyError if there is none."""
        return self._district_by_slug[slug]

    def find_okrug(self, text: str) -> Okrug | None:
        """Exact lookup by abbreviation (СЗАО), slug, or full name in Russian or English."""
        return self._okrug_keys.get(fold(text))

    def find_district(self, text: str) -> District | None:
        """Exact lookup by Russian name, English name or slug (case- and ё-insensitive)."""
        return self._district_keys.get(fold(text))

    def districts_of(self, okrug_slug: str) -> tuple[District, ...]:
        return tuple(d for d in self.districts if d.okrug == okrug_slug)


@cache
def load_region(city: str | Path) -> Region:
    """Load a region: a bundled city by name («moscow») or a folder holding ``region.json``
    (and optionally ``names.json``). Cached: regions are immutable. Raises RegionError."""
    folder: Traversable = Path(city)
    if isinstance(city, str) and _BUNDLED_NAME.match(city):
        bundled_folder = resources.files("digests.data").joinpath(city)
        if bundled_folder.joinpath("region.json").is_file():
            folder = bundled_folder
    if not folder.joinpath("region.json").is_file():
        bundled = sorted(p.name for p in resources.files("digests.data").iterdir() if p.is_dir())
        raise RegionError(f"no region {str(city)!r} (bundled: {', '.join(bundled)})")
    where = str(city)
    try:
        raw = json.loads(folder.joinpath("region.json").read_text("utf-8"))
        names_file = folder.joinpath("names.json")
        names = json.loads(names_file.read_text("utf-8")) if names_file.is_file() else {}
        return _region(raw, names)
    except (ValueError, KeyError, TypeError) as exc:
        raise RegionError(f"region {where}: {exc}") from None


def _region(raw: dict[str, Any], names: dict[str, Any]) -> Region:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # lazy: only loading checks a zone

    city = raw["city"]
    try:
        ZoneInfo(city["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RegionError(f"unknown time zone {city['timezone']!r}") from None
    okrugs = tuple(Okrug(**o) for o in raw["okrugs"])
    districts = tuple(District(**d) for d in raw["districts"])
    settlements = tuple(
        FormerSettlement(
            slug=s["slug"],
            name_ru=s["name_ru"],
            former_okrug=s["former_okrug"],
            districts=tuple(s["districts"]),
            certain=s["certain"],
        )
        for s in raw.get("former_settlements", ())
    )
    okrug_slugs = {o.slug for o in okrugs}
    district_slugs = {d.slug for d in districts}
    settlement_slugs = {s.slug for s in settlements}
    for d in districts:
        _known("okrug", d.okrug, okrug_slugs)
    for s in settlements:
        for slug in s.districts:
            _known("district", slug, district_slugs)
    return Region(
        slug=city["slug"],
        name_ru=city["name_ru"],
        name_en=city["name_en"],
        timezone=city["timezone"],
        okrugs=okrugs,
        districts=districts,
        former_settlements=settlements,
        names=_place_names(names, okrugs, okrug_slugs, district_slugs, settlement_slugs),
    )


_NAMES_KEYS = frozenset(
    {
        "about",
        "okrug_abbreviations",
        "company_abbreviations",
        "okrug_names",
        "typed_okrug_names",
        "settlements_named_as_districts",
        "ambiguous_districts",
        "ambiguous_settlements",
        "generic_words",
    }
)
_AMBIGUITY_KEYS = frozenset({"needs_context", "other_sense", "veto", "why"})


def _place_names(
    raw: dict[str, Any],
    okrugs: tuple[Okrug, ...],
    okrug_slugs: set[str],
    district_slugs: set[str],
    settlement_slugs: set[str],
) -> PlaceNames:
    unknown = set(raw) - _NAMES_KEYS
    if unknown:
        raise RegionError(f"names.json: unknown keys {sorted(unknown)}")

    def okrug_map(key: str) -> dict[str, tuple[str, ...]]:
        out = {name: tuple(slugs) for name, slugs in raw.get(key, {}).items()}
        for slugs in out.values():
            for slug in slugs:
                _known("okrug", slug, okrug_slugs)
        return out

    def ambiguities(key: str, known: set[str], kind: str) -> dict[str, Ambiguity]:
        out: dict[str, Ambiguity] = {}
        for slug, spec in raw.get(key, {}).items():
            _known(kind, slug, known)
            unknown = set(spec) - _AMBIGUITY_KEYS
            if unknown:
                raise RegionError(f"names.json: {key}.{slug}: unknown keys {sorted(unknown)}")
            out[slug] = Ambiguity(
                needs_context=bool(spec.get("needs_context", False)),
                other_sense=frozenset(spec.get("other_sense", ())),
                veto=frozenset(spec.get("veto", ())),
            )
        return out

    abbreviations = {o.abbr: (o.slug,) for o in okrugs} | okrug_map("okrug_abbreviations")
    companies = frozenset(raw.get("company_abbreviations", ()))
    if not companies <= abbreviations.keys():
        raise RegionError("names.json: company_abbreviations must be okrug abbreviations")
    as_districts = frozenset(raw.get("settlements_named_as_districts", ()))
    for slug in as_districts:
        _known("former settlement", slug, settlement_slugs)
    return PlaceNames(
        okrug_abbreviations=abbreviations,
        company_abbreviations=companies,
        okrug_names={fold(k): v for k, v in okrug_map("okrug_names").items()},
        typed_okrug_names={fold(k): v for k, v in okrug_map("typed_okrug_names").items()},
        settlements_named_as_districts=as_districts,
        ambiguous_districts=ambiguities("ambiguous_districts", district_slugs, "district"),
        ambiguous_settlements=ambiguities(
            "ambiguous_settlements", settlement_slugs, "former settlement"
        ),
        generic_words=frozenset(fold(w) for w in raw.get("generic_words", ())),
    )


def _known(kind: str, slug: str, known: set[str]) -> None:
    if slug not in known:
        raise RegionError(f"unknown {kind} {slug!r}")
