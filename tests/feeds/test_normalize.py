from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.feeds.normalize import (
    article_identity,
    canonical_url,
    content_hash,
    normalize_entry,
    parse_date,
)
from bot.feeds.parse import RawEntry

from .conftest import T0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://Example.COM:443/a/b?utm_source=x&b=2&a=1#frag",
            "https://example.com/a/b?a=1&b=2",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        (
            "https://e.ru/n?yclid=1&fbclid=2&gclid=3&_openstat=4&from=rss&ref=tg&UTM_Medium=5&id=7",
            "https://e.ru/n?id=7",
        ),
        ("https://e.ru/n?q=%D0%BC%D0%B8%D1%80&a", "https://e.ru/n?a&q=%D0%BC%D0%B8%D1%80"),
        ("https://user:pw@e.ru/x", "https://e.ru/x"),
        ("ftp://e.ru/x", None),
        ("javascript:alert(1)", None),
        ("", None),
        ("http://[::1", None),
    ],
)
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_resolves_relative() -> None:
    assert canonical_url("/n/1?from=x", "https://E.ru/feed/") == "https://e.ru/n/1"


def test_identity_prefers_guid_then_link_then_hash() -> None:
    assert article_identity(" g1 ", "https://e.ru/a", "T", None) == "guid:g1"
    assert article_identity(None, "https://e.ru/a", "T", None) == "url:https://e.ru/a"
    h1 = article_identity(None, None, "Title", "Mon, 06 Jan 2025 10:00:00 +0300")
    assert h1.startswith("hash:")
    assert h1 == article_identity("", None, "Title", "Mon, 06 Jan 2025 10:00:00 +0300")
    assert h1 != article_identity(None, None, "Title", None)


def test_content_hash_tracks_title_and_text() -> None:
    assert content_hash("a", "b") == content_hash("a", "b")
    assert content_hash("a", "b") != content_hash("a", "c")
    assert content_hash("ab", "") != content_hash("a", "b")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 06 Jan 2025 10:00:00 +0300", datetime(2025, 1, 6, 7, 0, tzinfo=UTC)),
        ("Mon, 06 Jan 2025 10:00:00 GMT", datetime(2025, 1, 6, 10, 0, tzinfo=UTC)),
        ("2025-01-06T10:00:00Z", datetime(2025, 1, 6, 10, 0, tzinfo=UTC)),
        ("2025-01-06T10:00:00+03:00", datetime(2025, 1, 6, 7, 0, tzinfo=UTC)),
        # No zone: Moscow papers mean Moscow time.
        ("2025-01-06 10:00:00", datetime(2025, 1, 6, 7, 0, tzinfo=UTC)),
        ("not a date", None),
    ],
)
def test_parse_date(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw, None, ZoneInfo("Europe/Moscow")) == expected


def test_a_date_without_zone_is_in_the_given_local_zone() -> None:
    assert parse_date("2025-01-06 10:00:00", None, ZoneInfo("Asia/Yekaterinburg")) == datetime(
        2025, 1, 6, 5, 0, tzinfo=UTC
    )
    assert parse_date("2025-01-06 10:00:00", None, UTC) == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    entry = _entry(date_raw="2025-01-06 10:00:00")
    local = normalize_entry(entry, fetched_at=T0, local_tz=ZoneInfo("Asia/Yekaterinburg"))
    assert local is not None and local.published_at == datetime(2025, 1, 6, 5, 0, tzinfo=UTC)


def _entry(**kw: object) -> RawEntry:
    base: dict[str, object] = {
        "guid": None,
        "link": "https://e.ru/a",
        "title": "Заголовок",
        "html": "<p>Текст</p>",
        "date_raw": None,
        "date_parsed": None,
        "image_url": None,
        "categories": (),
        "author": None,
    }
    base.update(kw)
    return RawEntry(**base)  # type: ignore[arg-type]


def test_dates_missing_and_future() -> None:
    assert normalize_entry(_entry(), fetched_at=T0).published_at == T0  # type: ignore[union-attr]
    soon = T0 + timedelta(minutes=3)
    within_skew = normalize_entry(_entry(date_raw=soon.isoformat()), fetched_at=T0)
    assert within_skew is not None and within_skew.published_at == soon
    later = (T0 + timedelta(hours=2)).isoformat()
    assert normalize_entry(_entry(date_raw=later), fetched_at=T0).published_at == T0  # type: ignore[union-attr]


def test_fallback_date_from_feedparser() -> None:
    fp = datetime(2024, 5, 1, tzinfo=UTC)
    a = normalize_entry(_entry(date_raw="1 мая 2024", date_parsed=fp), fetched_at=T0)
    assert a is not None and a.published_at == fp


def test_empty_entry_is_skipped_and_title_from_text() -> None:
    assert normalize_entry(_entry(link=None, title="", html=""), fetched_at=T0) is None
    a = normalize_entry(
        _entry(title="", html="<p>Первая строка текста.</p><p>Дальше</p>"), fetched_at=T0
    )
    assert a is not None and a.title == "Первая строка текста."


def test_image_and_title_cleaning() -> None:
    a = normalize_entry(
        _entry(title="  A &amp;amp; <i>B</i>\n C ", html='<img src="//cdn.e.ru/i.jpg?utm_x=1">T'),
        fetched_at=T0,
    )
    assert a is not None
    assert a.title == "A & B C"
    assert a.image_url == "https://cdn.e.ru/i.jpg"
