"""Region data: the bundled city, a city from a folder, and data that does not make sense."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from digests.region import Ambiguity, RegionError, load_region

TOWN: dict[str, Any] = {
    "city": {"slug": "town", "name_ru": "Город", "name_en": "Town", "timezone": "Asia/Omsk"},
    "okrugs": [
        {"slug": "west", "abbr": "ЗО", "abbr_en": "WO", "name_ru": "Западный округ", "name_en": "W"}
    ],
    "districts": [{"slug": "port", "name_ru": "Порт", "name_en": "Port", "okrug": "west"}],
}


def write_city(folder: Path, region: dict[str, Any], names: dict[str, Any] | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "region.json").write_text(json.dumps(region, ensure_ascii=False), "utf-8")
    if names is not None:
        (folder / "names.json").write_text(json.dumps(names, ensure_ascii=False), "utf-8")
    return folder


def test_moscow_comes_with_its_place_names() -> None:
    moscow = load_region("moscow")
    assert (moscow.slug, moscow.timezone, len(moscow.districts)) == ("moscow", "Europe/Moscow", 132)
    names = moscow.names
    # Each okrug's own abbreviation, plus the variants and the two-okrug «ТиНАО».
    assert names.okrug_abbreviations["СЗАО"] == ("szao",)
    assert names.okrug_abbreviations["ТиНАО"] == ("nao", "tao")
    assert names.company_abbreviations == {"ЗАО"}
    assert names.okrug_names["новая москва"] == ("nao", "tao")
    assert names.typed_okrug_names["центр"] == ("tsao",)
    assert names.settlements_named_as_districts == {"troitsk", "shcherbinka"}
    assert names.ambiguous_districts["sokol"] == Ambiguity(needs_context=True)
    assert "суд" in names.ambiguous_districts["lefortovo"].other_sense
    assert "петербург" in names.ambiguous_districts["krasnoselsky"].veto
    assert names.ambiguous_settlements["moskovsky"].needs_context
    assert {"москва", "москвич"} <= names.generic_words


def test_a_city_from_a_folder(tmp_path: Path) -> None:
    folder = write_city(tmp_path / "town", TOWN)
    town = load_region(folder)
    assert load_region(str(folder)).districts == town.districts
    assert town.find_district("порт") == town.district("port")
    assert town.find_okrug("зо") == town.okrug("west")
    # Without names.json: the okrugs' own abbreviations, nothing ambiguous.
    assert town.names.okrug_abbreviations == {"ЗО": ("west",)}
    assert not town.names.ambiguous_districts and not town.names.generic_words


def test_an_unknown_city_lists_the_bundled_ones() -> None:
    with pytest.raises(RegionError, match=r"no region 'atlantis' \(bundled: moscow\)"):
        load_region("atlantis")


@pytest.mark.parametrize(
    ("change", "names", "message"),
    [
        ({"timezone": "Moon/Base"}, None, "unknown time zone 'Moon/Base'"),
        ({"okrug": "east"}, None, "unknown okrug 'east'"),
        (None, {"ambiguous_districts": {"harbour": {"needs_context": True}}}, "district 'harbour'"),
        (
            None,
            {"ambiguous_districts": {"port": {"needs_kontext": True}}},
            "keys ['needs_kontext']",
        ),
        (None, {"okrug_names": {"запад": ["east"]}}, "unknown okrug 'east'"),
        (None, {"company_abbreviations": ["ООО"]}, "must be okrug abbreviations"),
        (None, {"typo": []}, "unknown keys ['typo']"),
    ],
)
def test_data_that_does_not_make_sense_is_refused(
    tmp_path: Path, change: dict[str, str] | None, names: dict[str, Any] | None, message: str
) -> None:
    region = json.loads(json.dumps(TOWN))
    if change and "timezone" in change:
        region["city"]["timezone"] = change["timezone"]
    if change and "okrug" in change:
        region["districts"][0]["okrug"] = change["okrug"]
    folder = write_city(tmp_path / "broken", region, names)
    with pytest.raises(RegionError, match=re.escape(message)):
        load_region(folder)
