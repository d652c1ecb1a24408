"""digests.understanding.places.names.resolve: each tricky way people type a district or okrug."""

from __future__ import annotations

import pytest

from digests.region import Region, load_region
from digests.understanding.places.names import Place, Resolution, resolve


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region("moscow")


def district(slug: str) -> Place:
    return Place("district", slug)


def okrug(slug: str) -> Place:
    return Place("okrug", slug)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # е instead of ё, lower case
        ("хорошево-мневники", district("khoroshyovo-mnyovniki")),
        ("ХОРОШЁВО-МНЁВНИКИ", district("khoroshyovo-mnyovniki")),
        # declined forms
        ("Хамовниках", district("khamovniki")),
        ("в Хамовниках", district("khamovniki")),
        ("Крылатского", district("krylatskoe")),
        ("Марьиной Роще", district("marina-roshcha")),
        ("в Тёплом Стане", district("tyoply-stan")),
        ("во Внукове", district("vnukovo")),
        ("Кузьминок", district("kuzminki")),
        ("Соколе", district("sokol")),
        # both parts of a hyphenated name declined, or only the last
        ("Хорошёва-Мнёвников", district("khoroshyovo-mnyovniki")),
        ("в Очакове-Матвеевском", district("ochakovo-matveevskoe")),
        ("в Тропарёво-Никулине", district("troparyovo-nikulino")),
        # a preposition and an indeclinable use
        ("в Куркино", district("kurkino")),
        # «район» around the name, adjective forms
        ("район Хамовники", district("khamovniki")),
        ("в Савёловском районе", district("savyolovsky")),
        # two-word names in either order
        ("Южное Бутово", district("yuzhnoe-butovo")),
        ("Бутово Южное", district("yuzhnoe-butovo")),
        ("в Южном Медведкове", district("yuzhnoe-medvedkovo")),
        # a distinctive part of a longer name
        ("Мнёвники", district("khoroshyovo-mnyovniki")),
        # okrug abbreviations and names
        ("юзао", okrug("yuzao")),
        ("ЦАО", okrug("tsao")),
        ("ЗелАО", okrug("zelao")),
        ("Зеленоград", okrug("zelao")),
        ("Северо-Западный АО", okrug("szao")),
        ("Центральный округ", okrug("tsao")),
        ("в Восточном округе", okrug("vao")),
        # English names and slugs
        ("Khamovniki", district("khamovniki")),
        ("Yuzhnoe Butovo", district("yuzhnoe-butovo")),
        ("South-Western Administrative Okrug", okrug("yuzao")),
        ("yuzhnoe-butovo", district("yuzhnoe-butovo")),
        # a former settlement leads to the district that replaced it
        ("Сосенское", district("kommunarka")),
        # small typos
        ("Хамовнеки", district("khamovniki")),
        ("Ховрено", district("khovrino")),
        ("Бибирего", district("bibirevo")),
    ],
)
def test_exact(region: Region, text: str, expected: Place) -> None:
    result = resolve(text, region)
    assert result.status == "exact", result
    assert result.exact == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Бутово", {district("severnoe-butovo"), district("yuzhnoe-butovo")}),
        ("в Бутове", {district("severnoe-butovo"), district("yuzhnoe-butovo")}),
        ("Butovo", {district("severnoe-butovo"), district("yuzhnoe-butovo")}),
        ("Медведково", {district("severnoe-medvedkovo"), district("yuzhnoe-medvedkovo")}),
        ("Бирюлёво", {district("biryulyovo-vostochnoe"), district("biryulyovo-zapadnoe")}),
        # a district and an okrug share the name
        ("Северный", {district("severny"), okrug("sao")}),
        ("Восточный", {district("vostochny"), okrug("vao")}),
        # ТиНАО is two okrugs
        ("ТиНАО", {okrug("nao"), okrug("tao")}),
    ],
)
def test_ambiguous(region: Region, text: str, expected: set[Place]) -> None:
    result = resolve(text, region)
    assert result.status == "ambiguous", result
    assert set(result.ambiguous) == expected


def test_context_word_decides_between_district_and_okrug(region: Region) -> None:
    assert resolve("Северный округ", region).exact == okrug("sao")
    assert resolve("район Северный", region).exact == district("severny")


def test_ambiguous_lists_okrugs_first_then_districts_in_region_order(region: Region) -> None:
    result = resolve("Северный", region)
    assert result.ambiguous == (okrug("sao"), district("severny"))


def test_unknown_word_gets_close_suggestions(region: Region) -> None:
    result = resolve("хамовн", region)
    assert result.status == "suggestions"
    assert result.suggestions[0] == district("khamovniki")
    assert len(result.suggestions) <= 5


@pytest.mark.parametrize("text", ["qwerty", "", "   ", "в", "!!!", "ХМАО"])
def test_nonsense_resolves_to_nothing(region: Region, text: str) -> None:
    result = resolve(text, region)
    assert result.exact is None
    assert not result.ambiguous
    assert result.status in ("unknown", "suggestions")


def test_other_regions_abbreviations_do_not_match(region: Region) -> None:
    for text in ("ХМАО", "ЯНАО", "ЕАО"):
        assert resolve(text, region).exact is None, text


def test_resolution_keeps_the_query() -> None:
    assert Resolution("x").status == "unknown"
    assert resolve("Хамовники", load_region("moscow")).query == "Хамовники"
