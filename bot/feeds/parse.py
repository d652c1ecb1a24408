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
from typing import Any

import feedparser

from bot.feeds.errors import ParseError

__all__ = ["ParsedFeed", "RawEntry", "decode_feed", "parse_feed_bytes"]

_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_XML_DECL_ANY_RE = re.compile(rb"^\s*<\?xml[^>]*\?>")
_UTF_FAMILY = ("utf-8", "utf-16", "utf-32")
# Single-byte Cyrillic encodings that decode any byte soup "successfully".
_CYRILLIC_CANDIDATES = ("cp1251", "koi8_r")
# Most frequent Russian letters (~60% of letters in running text).
_FREQUENT = frozenset("оеаинтсрвлкмдпуяы")


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


def _norm_encoding(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


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
    declared = _norm_encoding(m.group(1).decode("ascii")) if m else None
    has_high = any(b >= 0x80 for b in body)
    if not has_high:
        return body.decode("ascii"), declared or "utf-8"
    utf8_ok = True
    try:
        as_utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8_ok = False
        as_utf8 = ""
    for enc in (declared, _norm_encoding(http_charset)):
        if enc is None:
            continue
        if enc.startswith(_UTF_FAMILY):
            if enc == "utf-8" and utf8_ok:
                return as_utf8, "utf-8"
            if enc != "utf-8":
                try:
                    return body.decode(enc), enc
                except UnicodeDecodeError:
                    pass
            continue
        if utf8_ok:
            # Valid non-ASCII UTF-8 is practically never a single-byte text: the declaration lies.
            break
        try:
            text = body.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc in _CYRILLIC_CANDIDATES:
            guess, score = _guess_cyrillic(body)
            if guess == enc or score < 0.5:
                return text, enc
            continue  # declared one Cyrillic code page, the bytes look like the other
        # A Western code page: accept unless the bytes read as convincing Russian.
        guess, score = _guess_cyrillic(body)
        if score < 0.75:
            return text, enc
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


def _raw_entry(entry: dict[str, Any]) -> RawEntry:
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning.
    date_raw = _str(dict.get(entry, "published")) or _str(dict.get(entry, "updated"))
    date_parsed = _struct_to_dt(dict.get(entry, "published_parsed")) or _struct_to_dt(
        dict.get(entry, "updated_parsed")
    )
    cats: list[str] = []
    for tag in entry.get("tags") or ():
        term = tag.get("term") if isinstance(tag, Mapping) else None
        if isinstance(term, str) and term.strip():
            cats.append(term)
    return RawEntry(
        guid=_str(entry.get("id")),
        link=_str(entry.get("link")),
        title=_str(entry.get("title")) or "",
        html=_best_html(entry),
        date_raw=date_raw,
        date_parsed=date_parsed,
        image_url=_entry_image(entry),
        categories=tuple(cats),
        author=_str(entry.get("author")),
    )


def parse_feed_bytes(body: bytes, http_charset: str | None = None) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes. Raises ParseError (only) for hopeless input."""
    text, encoding = decode_feed(body, http_charset)
    doc = _as_utf8_document(text)
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
    ttl: int | None = None
    ttl_raw = _str(feed.get("ttl"))
    if ttl_raw and ttl_raw.strip().isdigit():
        ttl = int(ttl_raw.strip())
    raw_entries: list[RawEntry] = []
    for entry in entries:
        if isinstance(entry, dict):
            try:
                raw_entries.append(_raw_entry(entry))
            except Exception:  # one odd entry must not lose the others
                continue
    return ParsedFeed(
        title=_str(feed.get("title")) or "",
        link=_str(feed.get("link")),
        version=version,
        encoding=encoding,
        ttl_minutes=ttl,
        warning=warning,
        entries=tuple(raw_entries),
    )
