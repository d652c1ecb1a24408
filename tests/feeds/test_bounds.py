"""Every number, date, size and encoding name read from a feed or a header is bounded.

Each case here crashed, hung or was stored as nonsense before (issue 15's audit).
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds.errors import FetchError, HTTPStatusError, ParseError
from bot.feeds.fetch import MAX_HEADER_SECONDS, Fetcher
from bot.feeds.normalize import (
    EARLIEST_DATE,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
)
from bot.feeds.parse import MAX_ENTRIES, MAX_MARKUP, parse_feed_bytes, parse_ttl, text_encoding
from bot.feeds.poller import MAX_FEED_TITLE_CHARS, PollStatus, ingest_body

from .conftest import T0, Env, make_policy

RUSSIAN = (
    "В районе Хорошёво-Мнёвники открылась новая поликлиника, в ней принимают терапевты, "
    "педиатры и хирурги. Жители давно просили построить её рядом с метро."
)


def rss(
    *,
    encoding: str = "utf-8",
    channel: str = "<title>Газета</title>",
    item: str = "<title>Новость</title><link>https://szao.example/1</link>",
    items: int = 1,
) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>{channel}'
        + "".join(f"<item>{item.replace('{n}', str(n))}</item>" for n in range(items))
        + "</channel></rss>"
    )


# --- <ttl> ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "minutes"),
    [("²", None), ("9" * 5000, None), ("-5", None), ("0", None), ("1e3", None), ("٣٠", None),
     (" 45 ", 45), ("99999", 7 * 24 * 60)],
)  # fmt: skip
def test_ttl_is_digits_within_a_week_or_ignored(ttl: str, minutes: int | None) -> None:
    body = rss(channel=f"<title>t</title><ttl>{ttl}</ttl>").encode()
    assert parse_feed_bytes(body).ttl_minutes == minutes
    assert parse_ttl(ttl) == minutes


# --- charset names -------------------------------------------------------------------------

NOT_CHARSETS = ["hex", "rot13", "base64", "zlib", "bz2", "uu", "quopri", "undefined",
                "unicode_escape", "idna", "punycode", "x" * 300]  # fmt: skip


@pytest.mark.parametrize("name", NOT_CHARSETS)
def test_names_that_are_not_text_encodings_are_ignored(name: str) -> None:
    assert text_encoding(name) is None


@pytest.mark.parametrize("name", NOT_CHARSETS)
@pytest.mark.parametrize("where", ["declaration", "http"])
def test_feed_declaring_a_non_text_encoding_is_decoded_by_its_bytes(name: str, where: str) -> None:
    declared = name if where == "declaration" else "utf-8"
    doc = rss(encoding=declared, item=f"<title>Поликлиника</title><description>{RUSSIAN}"
              "</description><link>https://szao.example/1</link>")  # fmt: skip
    for body in (doc.encode("utf-8"), doc.encode("cp1251")):
        if where == "declaration" and name == "x" * 300:
            body = body.replace(b"x" * 300, b"x" * 300)  # never matched as a declaration
        result = ingest_body(body, name if where == "http" else None, "https://e.ru/", T0)
        [article] = result.articles
        assert article.title == "Поликлиника"
        assert "Хорошёво-Мнёвники" in article.text


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date",
    ["0001-01-01T00:00:00", "1000-06-01T10:00:00Z", "Sat, 01 Jan 1000 00:00:00 GMT",
     "1969-12-31T23:59:59Z", "1800-01-01", "9999-12-31T23:59:59+14:00",
     "Fri, 31 Dec 9999 23:59:59 -1200", "2025-01-06T10:00:00+23:59", "9" * 5000],
)  # fmt: skip
def test_dates_far_out_of_range_fall_back_to_the_fetch_time(date: str) -> None:
    body = rss(item=f"<title>x</title><link>https://a.example/1</link><pubDate>{date}</pubDate>")
    [article] = ingest_body(body.encode(), None, "https://a.example/", T0).articles
    assert article.published_at == T0


def test_a_plausible_date_is_kept() -> None:
    body = rss(item="<title>x</title><link>https://a.example/1</link>"
               "<pubDate>Mon, 06 Jan 2025 10:00:00 +0300</pubDate>")  # fmt: skip
    [article] = ingest_body(body.encode(), None, "https://a.example/", T0).articles
    assert article.published_at == datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
    assert article.published_at > EARLIEST_DATE


# --- sizes ---------------------------------------------------------------------------------


def test_huge_fields_are_cut_to_their_limits() -> None:
    long_words = ("слово " * 200_000).strip()  # 1.2 MB of text
    body = rss(
        channel=f"<title>{'Газета ' * 100_000}</title>",
        item=(
            f"<title>{long_words}</title><description>{long_words}</description>"
            f"<guid>{'g' * 100_000}</guid><link>https://a.example/{'p' * 100_000}</link>"
            f"<author>{'a' * 100_000}</author><category>{'c' * 100_000}</category>"
        ),
    ).encode()
    result = ingest_body(body, None, "https://a.example/", T0)
    [article] = result.articles
    assert len(result.title) <= MAX_FEED_TITLE_CHARS
    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("…")
    assert len(article.text) <= MAX_TEXT_CHARS and article.text.startswith("слово слово")
    assert len(article.identity) < 100  # a hash stands for an overlong guid
    assert article.url is None  # a link longer than MAX_URL_CHARS is no usable link
    assert article.author is not None and len(article.author) <= 200
    assert all(len(c) <= 200 for c in article.categories)


@pytest.mark.parametrize(
    ("element", "cdata"),
    [("author", False), ("dc:creator", False), ("author", True), ("managingEditor", False),
     ("webMaster", False)],
)  # fmt: skip
def test_author_fields_are_cut_before_feedparser_reads_them(element: str, cdata: bool) -> None:
    # feedparser's e-mail regex is quadratic on such runs: 30,000 characters took 10 s.
    name = "Иван Петров" + "a.b-" * 7_500
    text = f"<![CDATA[{name}]]>" if cdata else name
    where = "channel" if element in ("managingEditor", "webMaster") else "item"
    field = f"<{element}>{text}</{element}>"
    body = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>t</title>{field if where == 'channel' else ''}"
        f"<item><title>x</title>{field if where == 'item' else ''}</item></channel></rss>"
    )
    result = ingest_body(body.encode(), None, "https://a.example/", T0)
    [article] = result.articles
    if where == "item":
        assert article.author is not None and article.author.startswith("Иван Петровa.b-a.b-")
        assert len(article.author.encode()) <= 300


def test_long_guids_keep_distinct_identities() -> None:
    body = rss(item="<title>x{n}</title><guid>" + "g" * 600 + "{n}</guid>", items=2).encode()
    result = ingest_body(body, None, "https://a.example/", T0)
    assert len({a.identity for a in result.articles}) == 2


def test_url_limit_is_the_canonical_url_limit() -> None:
    ok = "https://a.example/" + "p" * (MAX_URL_CHARS - 100)
    body = rss(item=f"<title>x</title><link>{ok}</link>").encode()
    [article] = ingest_body(body, None, "https://a.example/", T0).articles
    assert article.url == ok


def test_entries_beyond_the_limit_are_counted_not_read() -> None:
    body = rss(item="<title>n{n}</title><guid>{n}</guid>", items=MAX_ENTRIES + 50).encode()
    result = ingest_body(body, None, "https://a.example/", T0)
    assert len(result.articles) == MAX_ENTRIES
    assert result.warning is not None and f"first {MAX_ENTRIES} of {MAX_ENTRIES + 50}" in (
        result.warning
    )


def test_pathological_markup_is_refused_before_parsing() -> None:
    # The reproduction: a title of raw <b> tags (19 MB there; the count is what matters).
    body = rss(channel="<title>" + "<b>" * (MAX_MARKUP + 1) + "</title>").encode()
    with pytest.raises(ParseError, match="too much markup"):
        parse_feed_bytes(body)
    escaped = rss(item="<title>x</title><description>" + "&lt;b&gt;" * (MAX_MARKUP + 1)
                  + "</description>")  # fmt: skip
    with pytest.raises(ParseError, match="too much markup"):
        parse_feed_bytes(escaped.encode())


# --- headers -------------------------------------------------------------------------------

FEED = rss(item=f"<title>Поликлиника</title><description>{RUSSIAN}</description>"
           "<link>https://szao.example/1</link>")  # fmt: skip


@pytest.fixture
async def raw_server() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """Answers GET /NAME with the raw bytes registered under NAME (headers as sent)."""
    answers: dict[str, bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        name = request.split(b" ")[1].decode().strip("/")
        writer.write(answers[name])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", answers
    server.close()
    await server.wait_closed()


def answer(status: str, headers: bytes, body: bytes = b"") -> bytes:
    return f"HTTP/1.1 {status}\r\nConnection: close\r\n".encode() + headers + b"\r\n" + body


@pytest.mark.parametrize(
    "content_length",
    [b"-1", b"abc", b"99999999999999999999999999", b"136, 136", b"\xb2"],
)
async def test_nonsense_content_length_is_a_clear_fetch_error(
    raw_server: tuple[str, dict[str, bytes]], content_length: bytes
) -> None:
    base, answers = raw_server
    answers["f"] = answer("200 OK", b"Content-Length: " + content_length + b"\r\n", b"<rss/>")
    async with Fetcher(make_policy()) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(base + "/f")
    assert str(info.value).startswith("invalid HTTP response: ")
    assert "\n" not in str(info.value) and base not in str(info.value)


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [(b"\xc2\xb2", None), (b"9" * 5000, None), (b"-5", None), (b"1e308", None),
     (b"Fri, 31 Dec 9999 23:59:59 GMT", MAX_HEADER_SECONDS), (b"120", 120.0),
     (b"99999999", MAX_HEADER_SECONDS)],
)  # fmt: skip
async def test_retry_after_is_bounded(
    raw_server: tuple[str, dict[str, bytes]], retry_after: bytes, seconds: float | None
) -> None:
    base, answers = raw_server
    answers["f"] = answer("429 Too Many Requests", b"Retry-After: " + retry_after + b"\r\n")
    async with Fetcher(make_policy()) as fetcher:
        with pytest.raises(HTTPStatusError) as info:
            await fetcher.fetch(base + "/f")
    assert info.value.status == 429
    assert info.value.retry_after == seconds


@pytest.mark.parametrize(
    ("cache_control", "max_age"),
    [(b"max-age=99999999999999999999", None), (b"max-age=\xc2\xb2", None),
     (b"max-age=9999999999", MAX_HEADER_SECONDS), (b"public, max-age=600", 600.0)],
)  # fmt: skip
async def test_max_age_is_bounded(
    raw_server: tuple[str, dict[str, bytes]], cache_control: bytes, max_age: float | None
) -> None:
    base, answers = raw_server
    body = FEED.encode()
    answers["f"] = answer(
        "200 OK",
        b"Cache-Control: " + cache_control + b"\r\nContent-Length: %d\r\n" % len(body),
        body,
    )
    async with Fetcher(make_policy()) as fetcher:
        result = await fetcher.fetch(base + "/f")
    assert result.max_age == max_age


@pytest.mark.parametrize("charset", [b"hex", b"zlib", b"undefined", b"rot13", b"u" * 5000])
async def test_content_type_charset_that_is_no_encoding_is_ignored(
    raw_server: tuple[str, dict[str, bytes]], charset: bytes
) -> None:
    base, answers = raw_server
    body = gzip.compress(FEED.encode("cp1251").replace(b'"utf-8"', b'"windows-1251"'))
    answers["f"] = answer(
        "200 OK",
        b"Content-Type: application/rss+xml; charset=" + charset + b"\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(body),
        body,
    )
    async with Fetcher(make_policy()) as fetcher:
        result = await fetcher.fetch(base + "/f")
    assert result.charset is None
    assert result.body is not None
    [article] = ingest_body(result.body, result.charset, result.url, T0).articles
    assert "Хорошёво-Мнёвники" in article.text


# --- through the poller --------------------------------------------------------------------


async def test_poller_stores_a_feed_with_hostile_metadata(env: Env) -> None:
    body = rss(
        encoding="hex",
        channel=f"<title>Газета</title><ttl>{'9' * 5000}</ttl>",
        item=f"<title>Поликлиника</title><description>{RUSSIAN}</description>"
        "<link>https://szao.example/1</link><pubDate>0001-01-01T00:00:00</pubDate>",
    ).encode("cp1251")
    url = env.server.set_feed("hostile", body, "application/rss+xml; charset=zlib")
    feed = env.store.add_feed(url, poll_interval=timedelta(minutes=30))

    report = await env.poller.poll_one(feed, T0)

    assert report.status is PollStatus.OK, report.error
    [stored] = env.store.stored(feed.feed_id)
    assert stored.article.published_at == T0
    assert "Хорошёво-Мнёвники" in stored.article.text
    outcome = env.store.last_outcome(feed.feed_id)
    assert outcome.ttl_minutes is None and outcome.feed_title == "Газета"


def test_control_characters_never_reach_identities_or_urls() -> None:
    # PostgreSQL refuses NUL in text: one such link failed the whole feed there.
    from bot.feeds.normalize import article_identity, canonical_url

    assert canonical_url("https://a.example/x\x00y\x1b") == "https://a.example/x%00y%1B"
    assert article_identity("same\x00", None, "t", None) == "guid:same"
    assert article_identity("\x00", "https://a.example/1", "t", None) == "url:https://a.example/1"
