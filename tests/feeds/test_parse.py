from __future__ import annotations

import pytest

from bot.feeds.errors import ParseError
from bot.feeds.parse import decode_feed, parse_feed_bytes

from .conftest import fixture_bytes

RU = "Жители района Щукино обсудили благоустройство дворов и парков."


@pytest.mark.parametrize(
    ("body", "http_charset", "expected"),
    [
        (RU.encode("cp1251"), None, "cp1251"),
        (RU.encode("koi8_r"), None, "koi8_r"),
        (RU.encode("utf-8"), "windows-1251", "utf-8"),
        (b'<?xml version="1.0" encoding="koi8-r"?>' + RU.encode("cp1251"), None, "cp1251"),
        (b'<?xml version="1.0" encoding="windows-1251"?>' + RU.encode("koi8_r"), None, "koi8_r"),
        (b'<?xml version="1.0" encoding="iso-8859-1"?>' + RU.encode("cp1251"), None, "cp1251"),
        (b'<?xml version="1.0" encoding="iso-8859-1"?>caf\xe9', None, "iso8859-1"),
        (b"\xef\xbb\xbf" + RU.encode("utf-8"), None, "utf-8"),
        (RU.encode("utf-16"), None, "utf-16"),
    ],
)
def test_decode_feed(body: bytes, http_charset: str | None, expected: str) -> None:
    text, encoding = decode_feed(body, http_charset)
    assert encoding == expected
    if "Щукино" in body.decode(encoding, "replace"):
        assert RU in text


def test_yandex_full_text_and_content_encoded() -> None:
    feed = parse_feed_bytes(fixture_bytes("rss20_full.xml"))
    skver, mitino = feed.entries[:2]
    assert skver.html.startswith("Полный текст о сквере")
    assert mitino.html.startswith("<p>Встреча прошла")
    assert feed.ttl_minutes == 45 and feed.version == "rss20"


def test_hopeless() -> None:
    for body in (b"", b"\x00\x01garbage", b"<html><body>nginx</body></html>", b"{}"):
        with pytest.raises(ParseError, match="not an RSS/Atom feed"):
            parse_feed_bytes(body)


def test_empty_but_valid_feed() -> None:
    feed = parse_feed_bytes(b'<rss version="2.0"><channel><title>t</title></channel></rss>')
    assert feed.entries == () and feed.title == "t"
