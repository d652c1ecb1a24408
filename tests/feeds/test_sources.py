from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.feeds.errors import SourcesError
from bot.feeds.sources import (
    Binding,
    BindingKind,
    FeedSource,
    export_opml,
    import_opml,
    load_bundled_sources,
    load_sources,
    parse_binding,
    parse_sources_toml,
    sources_to_toml,
)
from digests.region import load_region

MOSCOW = load_region("moscow")


def test_bundled_list_has_only_verified_feeds() -> None:
    sources = load_bundled_sources()
    assert {s.url for s in sources} == {"https://www.mos.ru/rss", "https://szaopressa.ru/rss.xml"}
    by_url = {s.url: s for s in sources}
    assert by_url["https://www.mos.ru/rss"].binding == Binding(BindingKind.CITY)
    assert by_url["https://szaopressa.ru/rss.xml"].binding == Binding(BindingKind.OKRUG, "szao")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("city", Binding(BindingKind.CITY)),
        ("szao", Binding(BindingKind.OKRUG, "szao")),
        ("СЗАО", Binding(BindingKind.OKRUG, "szao")),
        ("okrug:ЮЗАО", Binding(BindingKind.OKRUG, "yuzao")),
        ("Хорошево-мневники", Binding(BindingKind.DISTRICT, "khoroshyovo-mnyovniki")),
        ("district:ХОРОШЁВО-МНЁВНИКИ", Binding(BindingKind.DISTRICT, "khoroshyovo-mnyovniki")),
    ],
)
def test_parse_binding(text: str, expected: Binding) -> None:
    assert parse_binding(text, MOSCOW) == expected


@pytest.mark.parametrize("text", ["", "ХМАО", "okrug:arbat", "district:szao", "city:x"])
def test_parse_binding_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_binding(text, MOSCOW)


def test_parse_toml_defaults() -> None:
    [s] = parse_sources_toml(
        '[[feed]]\nurl = "https://e.ru/feed/"\nbinding = "Арбат"\n', region=MOSCOW
    )
    assert s == FeedSource(
        url="https://e.ru/feed/",
        binding=Binding(BindingKind.DISTRICT, "arbat"),
        name="",
        language="ru",
        poll_interval=timedelta(minutes=30),
    )


def test_empty_file_means_no_feeds(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text("\n# nothing yet\n")
    assert load_sources(path, MOSCOW) == []
    path.write_text("")
    assert load_sources(path, MOSCOW) == []


OK_ENTRY = '[[feed]]\nurl = "https://a.ru"\nbinding = "city"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[feed]]\nbinding = "city"',
            "feed[0]: field 'url': expected a string with an http(s) URL (missing)",
        ),
        (
            '[[feed]]\nurl = "ftp://e.ru"\nbinding = "city"',
            "feed[0]: field 'url': expected an absolute http(s) URL, got 'ftp://e.ru'",
        ),
        (
            OK_ENTRY + '[[feed]]\nurl = "https://b.ru"\nbinding = "ХМАО"',
            "feed[1]: field 'binding': expected 'city', an okrug or a district",
        ),
        (
            OK_ENTRY + "poll_interval_minutes = 0",
            "feed[0]: field 'poll_interval_minutes': expected an integer from 1 to 10080, got 0",
        ),
        (OK_ENTRY + "language = 5", "feed[0]: field 'language': expected a language code"),
        (OK_ENTRY + "intreval = 5", "feed[0]: unknown field(s) intreval"),
        (
            OK_ENTRY + '[[feed]]\nurl = "https://A.ru/"\nbinding = "city"',
            "feed[1]: field 'url': expected a URL not listed before",
        ),
        ("[[feed]\n", "invalid TOML"),
        ("feeds = 1", "unknown top-level key(s) feeds"),
    ],
)
def test_toml_errors_name_file_entry_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "my-feeds.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SourcesError) as info:
        load_sources(path, MOSCOW)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(SourcesError, match="cannot read feed list"):
        load_sources("/nonexistent/feeds.toml", MOSCOW)


def test_opml_round_trip_and_toml_round_trip() -> None:
    sources = load_bundled_sources()
    assert import_opml(export_opml(sources), region=MOSCOW) == sources
    assert parse_sources_toml(sources_to_toml(sources), region=MOSCOW) == sources
    assert 'type="rss"' in export_opml(sources) and 'binding="okrug:szao"' in export_opml(sources)


def test_opml_from_a_feed_reader(tmp_path: Path) -> None:
    opml = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
  <outline text="Москва" title="Москва">
    <outline type="rss" text="mos.ru" title="mos.ru" xmlUrl="https://www.mos.ru/rss"
             htmlUrl="https://www.mos.ru/"/>
    <outline type="rss" text="СЗАО" xmlUrl="https://szaopressa.ru/rss.xml" binding="СЗАО"/>
  </outline>
</body></opml>"""
    with pytest.raises(SourcesError, match=r"outline\[0\]: field 'binding'"):
        import_opml(opml, origin="reader.opml", region=MOSCOW)
    sources = import_opml(opml, default_binding=Binding(BindingKind.CITY), region=MOSCOW)
    assert [(s.name, str(s.binding)) for s in sources] == [
        ("mos.ru", "city"),
        ("СЗАО", "okrug:szao"),
    ]
    path = tmp_path / "feeds.opml"
    path.write_text(export_opml(sources), encoding="utf-8")
    assert load_sources(path, MOSCOW) == sources


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("<opml><body>", "invalid OPML"),
        ("<rss/>", "expected an <opml> document"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><opml/>', "entity declarations"),
    ],
)
def test_opml_errors(data: str, message: str) -> None:
    with pytest.raises(SourcesError, match=message):
        import_opml(data, region=MOSCOW)
