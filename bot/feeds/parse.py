"""Decode and parse feed bytes with feedparser into plain, picklable records.

Everything here is synchronous and CPU-bound: call it from a worker thread or process (the
poller does), never directly on the event loop.

Russian sites still serve windows-1251 and KOI8-R, often with a wrong or missing declaration, so
the bytes are decoded here (declared encoding, HTTP charset, UTF-8, then a Cyrillic letter
statistics guess) and feedparser gets a UTF-8 document with a matching declaration.
"""

from __future__ import annotations

import codecs
import re
import time
from calendar import timegm
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import feedparser

from bot.feeds.errors import ParseError

__all__ = [
    "MAX_ENTRIES",
    "MAX_MARKUP",
    "ParsedFeed",
    "RawEntry",
    "decode_feed",
    "parse_feed_bytes",
    "parse_ttl",
    "text_encoding",
]

_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_XML_DECL_ANY_RE = re.compile(rb"^\s*<\?xml[^>]*\?>")
_UTF_FAMILY = ("utf-8", "utf-16", "utf-32")
# Single-byte Cyrillic encodings that decode any byte soup "successfully".
_CYRILLIC_CANDIDATES = ("cp1251", "koi8_r")
# Most frequent Russian letters (~60% of letters in running text).
_FREQUENT = frozenset("оеаинтсрвлкмдпуяы")
_ENCODING_NAME_RE = re.compile(r"[A-Za-z0-9._:-]{1,40}")
# Text codecs that are not character sets: they decode escapes, host names or nothing at all.
_NOT_CHARSETS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "utf-7"}
)
# feedparser's cost grows with the number of elements (about 5 µs each, more when nested in
# a title): 19 MB of "<b>" takes minutes. Real feeds have a few thousand; this refuses the
# pathological ones before parsing. Escaped markup ("&lt;b&gt;") is parsed again as HTML.
MAX_MARKUP: Final = 100_000
# feedparser looks for an e-mail address in author fields with a regex that is quadratic in
# the length of a run of name characters (20,000 of them take seconds): their text is cut.
_AUTHOR_TAG_RE = re.compile(
    rb"<(?:[A-Za-z0-9_.-]{1,40}:)?(?:author|creator|managingEditor|webMaster)(?:\s[^<>]{0,2000})?>",
    re.IGNORECASE,
)
_MAX_AUTHOR_BYTES = 300
# Items read per feed: a feed is a list of recent news, not an archive.
MAX_ENTRIES: Final = 1_000
# <ttl> in minutes: at most a week (the poller caps intervals lower anyway).
MAX_TTL_MINUTES: Final = 7 * 24 * 60
_TTL_RE = re.compile(r"[0-9]{1,7}")
# Raw strings are cut before cleaning so that one huge field cannot cost much.
_MAX_RAW_TITLE = 10_000
_MAX_RAW_HTML = 1_000_000
_MAX_RAW_SHORT = 2_000  # author, category
_MAX_RAW_URL = 10_000  # guid, link, image URL: longer ones are dropped, not cut
_MAX_CATEGORIES = 30


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed item as found in the document (HTML not yet cleaned)."""

    guid: str | None
    link: str | None
    title: str
    html: str  # best available body: yandex:full-text, content:encoded/Atom content, summary
    date_raw: str | None
    date_parsed: datetime | None  # feedparser's parse of the same date, UTC
    image_url: str | None  # from enclosure / media:content / media:thumbnail
    categories: tuple[str, ...]
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str | None
    version: str  # feedparser's: rss20, rss10, atom10, ...
    encoding: str  # what the bytes were decoded as
    ttl_minutes: int | None
    warning: str | None  # recoverable problem (feedparser "bozo") that still yielded entries
    entries: tuple[RawEntry, ...]


def text_encoding(name: str | None) -> str | None:
    """The codec name for a declared charset, or None when it is not a usable text encoding
    (unknown, a bytes-to-bytes codec such as hex or zlib, or one like ``undefined``)."""
    if not name or not _ENCODING_NAME_RE.fullmatch(name.strip()):
        return None
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        return None
    # CodecInfo._is_text_encoding is how str.decode itself tells "hex" and "rot13" apart.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return None if info.name.replace("_", "-") in _NOT_CHARSETS else info.name


def _decode(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeError, LookupError, ValueError):  # any codec failure: try the next one
        return None


def parse_ttl(raw: str | None) -> int | None:
    """A feed's ``<ttl>`` in minutes: ASCII digits only, 1 to a week; anything else is None."""
    if raw is None:
        return None
    text = raw.strip()
    if not _TTL_RE.fullmatch(text):
        return None
    minutes = int(text)
    return min(minutes, MAX_TTL_MINUTES) if minutes > 0 else None


def _cut_author_fields(doc: bytes) -> bytes:
    """The document with the text of every author-like element cut to _MAX_AUTHOR_BYTES."""
    out: list[bytes] = []
    pos = 0
    for m in _AUTHOR_TAG_RE.finditer(doc):
        start = m.end()
        if start < pos:
            continue
        if doc.startswith(b"<![CDATA[", start):
            start += len(b"<![CDATA[")
            end = doc.find(b"]]>", start)
        else:
            end = doc.find(b"<", start)
        end = len(doc) if end < 0 else end
        if end - start > _MAX_AUTHOR_BYTES:
            cut = start + _MAX_AUTHOR_BYTES
            while cut > start and doc[cut] & 0xC0 == 0x80:  # not inside a UTF-8 character
                cut -= 1
            out += [doc[pos:cut]]
            pos = end
    if not out:
        return doc
    out.append(doc[pos:])
    return b"".join(out)


def _markup_count(body: bytes) -> int:
    return body.count(b"<") + body.count(b"&lt;") + body.count(b"&#60;") + body.count(b"&#x3c;")


def _cyrillic_score(text: str) -> float:
    """How much ``text`` looks like Russian: share of lowercase and frequent letters.

    Wrong single-byte decodings turn lowercase Cyrillic into uppercase or punctuation, so
    for mis-decoded text this is far lower than for the right one.
    """
    letters = lower = frequent = 0
    for ch in text:
        if "\u0400" <= ch <= "\u04ff":
            letters += 1
            if ch.islower():
                lower += 1
                if ch in _FREQUENT:
                    frequent += 1
    if letters == 0:
        return 0.0
    return (lower + frequent) / (2 * letters)


def _high_bytes_sample(body: bytes, limit: int = 20000) -> bytes:
    # The statistics only need non-ASCII bytes; sampling keeps big feeds cheap.
    return bytes(b for b in body[: limit * 4] if b >= 0x80)[:limit]


def _guess_cyrillic(body: bytes) -> tuple[str, float]:
    sample = _high_bytes_sample(body)
    best, best_score = "cp1251", -1.0
    for enc in _CYRILLIC_CANDIDATES:
        score = _cyrillic_score(sample.decode(enc, "replace"))
        if score > best_score:
            best, best_score = enc, score
    return best, best_score


def decode_feed(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode feed bytes to text; return (text, encoding used). Never raises."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace"), "utf-16"
    m = _XML_DECL_RE.match(body[:512])
    declared = text_encoding(m.group(1).decode("ascii")) if m else None
    has_high = any(b >= 0x80 for b in body)
    if not has_high:
        return body.decode("ascii"), declared or "utf-8"
    utf8_ok = True
    try:
        as_utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8_ok = False
        as_utf8 = ""
    for enc in (declared, text_encoding(http_charset)):
        if enc is None:
            continue
        if enc.startswith(_UTF_FAMILY):
            if enc == "utf-8" and utf8_ok:
                return as_utf8, "utf-8"
            if enc != "utf-8" and (decoded := _decode(body, enc)) is not None:
                return decoded, enc
            continue
        if utf8_ok:
            # Valid non-ASCII UTF-8 is practically never a single-byte text: the declaration lies.
            break
        single_byte = _decode(body, enc)
        if single_byte is None:
            continue
        if enc in _CYRILLIC_CANDIDATES:
            guess, score = _guess_cyrillic(body)
            if guess == enc or score < 0.5:
                return single_byte, enc
            continue  # declared one Cyrillic code page, the bytes look like the other
        # A Western code page: accept unless the bytes read as convincing Russian.
        guess, score = _guess_cyrillic(body)
        if score < 0.75:
            return single_byte, enc
        return body.decode(guess, "replace"), guess
    if utf8_ok:
        return as_utf8, "utf-8"
    guess, score = _guess_cyrillic(body)
    if score >= 0.5:
        return body.decode(guess, "replace"), guess
    return body.decode("utf-8", "replace"), "utf-8"


def _as_utf8_document(text: str) -> bytes:
    # Re-declare so feedparser does not second-guess our decoding.
    text = text.lstrip("\ufeff")
    raw = text.encode("utf-8", "replace")
    m = _XML_DECL_ANY_RE.match(raw)
    if m:
        raw = b'<?xml version="1.0" encoding="utf-8"?>' + raw[m.end() :]
    return raw


def _struct_to_dt(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _best_html(entry: Mapping[str, Any]) -> str:
    full = _str(entry.get("yandex_full-text"))
    if full:
        return full
    contents = entry.get("content")
    if isinstance(contents, list):
        values = [c.get("value") for c in contents if isinstance(c, Mapping)]
        best = max((v for v in values if isinstance(v, str)), key=len, default="")
        if best.strip():
            return best
    return _str(entry.get("summary")) or _str(entry.get("description")) or ""


def _entry_image(entry: Mapping[str, Any]) -> str | None:
    for enc in entry.get("enclosures") or ():
        if isinstance(enc, Mapping):
            href = _str(enc.get("href")) or _str(enc.get("url"))
            kind = str(enc.get("type") or "")
            if href and (kind.startswith("image/") or (not kind and _looks_image(href))):
                return href.strip()
    for key in ("media_content", "media_thumbnail"):
        for media in entry.get(key) or ():
            if isinstance(media, Mapping):
                url = _str(media.get("url"))
                medium = str(media.get("medium") or media.get("type") or "image")
                if url and (medium.startswith("image") or _looks_image(url)):
                    return url.strip()
    return None


def _looks_image(url: str) -> bool:
    return bool(re.search(r"\.(?:jpe?g|png|gif|webp|avif)(?:\?|$)", url, re.IGNORECASE))


def _cut(value: str | None, limit: int = _MAX_RAW_SHORT) -> str | None:
    return value[:limit] if value is not None else None


def _whole(value: str | None, limit: int = _MAX_RAW_URL) -> str | None:
    """A value that means nothing when cut (a URL, a guid): kept whole or dropped."""
    return value if value is not None and len(value) <= limit else None


def _raw_entry(entry: dict[str, Any]) -> RawEntry:
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning.
    date_raw = _str(dict.get(entry, "published")) or _str(dict.get(entry, "updated"))
    date_parsed = _struct_to_dt(dict.get(entry, "published_parsed")) or _struct_to_dt(
        dict.get(entry, "updated_parsed")
    )
    cats: list[str] = []
    for tag in entry.get("tags") or ():
        term = tag.get("term") if isinstance(tag, Mapping) else None
        if isinstance(term, str) and term.strip() and len(cats) < _MAX_CATEGORIES:
            cats.append(term[:_MAX_RAW_SHORT])
    return RawEntry(
        guid=_whole(_str(entry.get("id"))),
        link=_whole(_str(entry.get("link"))),
        title=(_str(entry.get("title")) or "")[:_MAX_RAW_TITLE],
        html=_best_html(entry)[:_MAX_RAW_HTML],
        date_raw=_cut(date_raw, 200),
        date_parsed=date_parsed,
        image_url=_whole(_entry_image(entry)),
        categories=tuple(cats),
        author=_cut(_str(entry.get("author"))),
    )


def parse_feed_bytes(body: bytes, http_charset: str | None = None) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes. Raises ParseError (only) for hopeless input.

    Every value read from the document is bounded: at most :data:`MAX_ENTRIES` items, long
    fields cut, a ``<ttl>`` that is not a sane number ignored.
    """
    markup = _markup_count(body)
    if markup > MAX_MARKUP:
        raise ParseError(f"too much markup: {markup} tags, at most {MAX_MARKUP} are read")
    text, encoding = decode_feed(body, http_charset)
    doc = _cut_author_fields(_as_utf8_document(text))
    try:
        # Sanitising and URL resolution are off: we only ever keep plain text, and they
        # halve feedparser's speed.
        result = feedparser.parse(
            doc,
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser bugs on odd input must not escape
        raise ParseError(f"feed parser failed: {type(exc).__name__}: {exc}") from None
    entries = result.get("entries") or []
    version = str(result.get("version") or "")
    problem = result.get("bozo_exception") if result.get("bozo") else None
    warning = f"{type(problem).__name__}: {problem}"[:300] if problem is not None else None
    if not entries and not version:
        raise ParseError(f"not an RSS/Atom feed ({warning or 'no feed elements found'})")
    feed = result.get("feed") or {}
    if len(entries) > MAX_ENTRIES:
        extra = f"only the first {MAX_ENTRIES} of {len(entries)} items are read"
        warning = f"{warning}; {extra}" if warning else extra
    raw_entries: list[RawEntry] = []
    for entry in entries[:MAX_ENTRIES]:
        if isinstance(entry, dict):
            try:
                raw_entries.append(_raw_entry(entry))
            except Exception:  # one odd entry must not lose the others
                continue
    return ParsedFeed(
        title=(_str(feed.get("title")) or "")[:_MAX_RAW_TITLE],
        link=_whole(_str(feed.get("link"))),
        version=version[:40],
        encoding=encoding,
        ttl_minutes=parse_ttl(_str(feed.get("ttl"))),
        warning=warning,
        entries=tuple(raw_entries),
    )
