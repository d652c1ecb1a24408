"""The city's administrative geography: okrugs, districts and abolished settlements.

A region is a data file in ``digests/data/<slug>.json``; adding a city means adding a file.
Lookups accept Russian names, English names, abbreviations and slugs, ignoring case and ё/е.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

__all__ = [
    "District",
    "FormerSettlement",
    "Okrug",
    "Region",
    "fold",
    "load_region",
]


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
    """A New Moscow settlement abolished in 2024 and the districts that replaced it.

    ``districts[0]`` is the main successor; ``certain`` is False where the mapping is a best
    guess rather than something seen in a public source.
    """

    slug: str
    name_ru: str
    former_okrug: str
    districts: tuple[str, ...]
    certain: bool


@dataclass(frozen=True, eq=False)
class Region:
    slug: str
    name_ru: str
    name_en: str
    timezone: str
    okrugs: tuple[Okrug, ...]
    districts: tuple[District, ...]
    former_settlements: tuple[FormerSettlement, ...]
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
def load_region(slug: str = "moscow") -> Region:
    """Load a bundled region by slug (cached: regions are immutable)."""
    raw = json.loads(resources.files("digests.data").joinpath(f"{slug}.json").read_text("utf-8"))
    city = raw["city"]
    return Region(
        slug=city["slug"],
        name_ru=city["name_ru"],
        name_en=city["name_en"],
        timezone=city["timezone"],
        okrugs=tuple(Okrug(**o) for o in raw["okrugs"]),
        districts=tuple(District(**d) for d in raw["districts"]),
        former_settlements=tuple(
            FormerSettlement(
                slug=s["slug"],
                name_ru=s["name_ru"],
                former_okrug=s["former_okrug"],
                districts=tuple(s["districts"]),
                certain=s["certain"],
            )
            for s in raw["former_settlements"]
        ),
    )
