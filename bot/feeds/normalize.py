"""Canonical URLs, stable article identities, dates, and the normalized article record."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from bot.feeds.clean import clean_html, clean_title
from bot.feeds.parse import RawEntry

__all__ = [
    "MAX_CLOCK_SKEW",
    "NormalizedArticle",
    "article_identity",
    "canonical_url",
    "content_hash",
    "normalize_entry",
    "parse_date",
]

MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
# Dates before this are not news (a broken feed writes 0001-01-01): the fetch time is used.
EARLIEST_DATE: Final = datetime(1990, 1, 1, tzinfo=UTC)
_MAX_UTC_OFFSET: Final = timedelta(hours=14)  # the widest real zone offset (UTC+14)
# What is kept of one article: enough for any news item, bounded for storage and tagging.
MAX_TITLE_CHARS: Final = 500
MAX_TEXT_CHARS: Final = 50_000
MAX_URL_CHARS: Final = 2_000
_MAX_SHORT_CHARS: Final = 200  # author, category
# Identities are indexed: a longer guid or URL is represented by its hash.
_MAX_IDENTITY_CHARS: Final = 500
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_TRACKING_EXACT = frozenset({"yclid", "fbclid", "gclid", "_openstat", "from", "ref"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TITLE_FROM_TEXT_MAX = 120


@dataclass(frozen=True, slots=True)
class NormalizedArticle:
    """One feed item, cleaned and ready to store.

    ``identity`` is stable across polls and unique within one feed; ``content_hash`` changes
    exactly when the title or text changes (the store uses it to decide new/updated/unchanged).
    """

    identity: str
    url: str | None
    title: str
    text: str
    published_at: datetime  # aware, UTC
    image_url: str | None
    categories: tuple[str, ...]
    author: str | None
    content_hash: str


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n.startswith("utm_") or n in _TRACKING_EXACT


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Canonical form of an http(s) URL, or None if it is not one.

    Lowercases scheme and host, drops the default port, credentials, the fragment and tracking
    parameters (utm_*, yclid, fbclid, gclid, _openstat, from, ref), and sorts the rest.
    """
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        return None
    # Control characters are not part of a URL (and PostgreSQL refuses NUL): percent-encoded.
    url = _CONTROL_RE.sub(lambda m: f"%{ord(m.group()):02X}", url)
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    params = [p for p in parts.query.split("&") if p]
    kept = sorted(p for p in params if not _is_tracking(p.split("=", 1)[0]))
    canonical = urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))
    return canonical if len(canonical) <= MAX_URL_CHARS else None


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def content_hash(title: str, text: str) -> str:
    """Hash of what readers see; a change means the stored article must be updated."""
    return _sha(title, text)


def article_identity(guid: str | None, url: str | None, title: str, date_raw: str | None) -> str:
    """Stable key within a feed: the guid, else the canonical link, else title and date."""
    guid = guid.replace("\x00", "").strip() if guid else None
    if guid:
        return "guid:" + guid if len(guid) <= _MAX_IDENTITY_CHARS else "guid-hash:" + _sha(guid)
    if url:
        return "url:" + url if len(url) <= _MAX_IDENTITY_CHARS else "url-hash:" + _sha(url)
    return "hash:" + _sha(title, date_raw or "")[:40]


def parse_date(raw: str | None, fallback: datetime | None, tz: tzinfo) -> datetime | None:
    """Parse an RSS (RFC 822) or Atom (ISO 8601) date to aware UTC.

    A date without a zone is taken in ``tz`` (city papers write local time: the region's zone);
    ``fallback`` (feedparser's own parse, already UTC) is used when our parse fails. A date
    before :data:`EARLIEST_DATE` or with a zone offset beyond ±14 hours is no date at all.
    """
    dt: datetime | None = None
    if raw and len(raw) <= 200:
        s = raw.strip()
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError, OverflowError):
            try:
                dt = datetime.fromisoformat(re.sub(r"\s+", "T", s, count=1) if "T" not in s else s)
            except ValueError:
                dt = None
    fallback = fallback if fallback is not None and fallback >= EARLIEST_DATE else None
    if dt is None:
        return fallback
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        offset = dt.utcoffset()
        if offset is None or abs(offset) > _MAX_UTC_OFFSET:
            return None  # feedparser's reading of the same nonsense is no better
        dt = dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return fallback
    return dt if dt >= EARLIEST_DATE else fallback


def _cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ", limit // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def _title_from_text(text: str) -> str:
    first = text.split("\n", 1)[0]
    if len(first) <= _TITLE_FROM_TEXT_MAX:
        return first
    cut = first[:_TITLE_FROM_TEXT_MAX].rsplit(" ", 1)[0]
    return cut + "…"


def normalize_entry(
    entry: RawEntry,
    *,
    fetched_at: datetime,
    base_url: str | None = None,
    local_tz: tzinfo = UTC,
) -> NormalizedArticle | None:
    """Turn a parsed entry into an article; None if it has nothing to show (no title/text/link).
    A date without a zone is in ``local_tz`` (the region's time zone)."""
    cleaned = clean_html(entry.html)
    title = _cut(clean_title(entry.title), MAX_TITLE_CHARS)
    text = _cut(cleaned.text, MAX_TEXT_CHARS)
    link = canonical_url(entry.link, base_url) if entry.link else None
    if not title and text:
        title = _title_from_text(text)
    if not title and not text and not link:
        return None
    published = parse_date(entry.date_raw, entry.date_parsed, local_tz) or fetched_at
    if published > fetched_at + MAX_CLOCK_SKEW:
        published = fetched_at  # a date in the future would pin the item to the top forever
    image = entry.image_url or cleaned.image_url
    if image:
        base = entry.link or base_url or "https://invalid/"
        image = canonical_url(image, base)
    return NormalizedArticle(
        identity=article_identity(entry.guid, link, title, entry.date_raw),
        url=link,
        title=title,
        text=text,
        published_at=published,
        image_url=image,
        categories=tuple(
            c for c in (_cut(clean_title(c), _MAX_SHORT_CHARS) for c in entry.categories) if c
        ),
        author=_cut(clean_title(entry.author), _MAX_SHORT_CHARS) or None if entry.author else None,
        content_hash=content_hash(title, text),
    )
