"""The list of configured feeds: a TOML file (bundled or the operator's) and OPML import/export.

TOML format::

    [[feed]]
    name = "Северо-Западные вести"          # optional, shown to admins
    url = "https://szaopressa.ru/rss.xml"   # http(s) only
    binding = "szao"                        # okrug or district (slug/abbr/name), or "city"
    language = "ru"                         # optional, default "ru"
    poll_interval_minutes = 30              # optional, default 30

``binding`` may be written with an explicit kind ("okrug:szao", "district:khoroshyovo-mnyovniki")
when a bare name would be ambiguous. OPML uses the RSS convention (``<outline type="rss"
xmlUrl="..." text="..."/>``) plus our ``binding`` attribute (and the standard ``language``).
"""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from bot.feeds.errors import SourcesError
from digests.region import Region, fold, load_region

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "Binding",
    "BindingKind",
    "FeedSource",
    "export_opml",
    "import_opml",
    "load_bundled_sources",
    "load_sources",
    "parse_binding",
    "parse_sources_toml",
    "sources_to_toml",
]

DEFAULT_POLL_INTERVAL: Final = timedelta(minutes=30)
_MIN_POLL_MINUTES: Final = 1
_MAX_POLL_MINUTES: Final = 7 * 24 * 60
_KNOWN_KEYS: Final = frozenset({"name", "url", "binding", "language", "poll_interval_minutes"})
# An OPML feed list is small and flat; these bound what a hostile file can cost.
MAX_OPML_BYTES: Final = 5_000_000
MAX_OPML_DEPTH: Final = 50
MAX_OPML_OUTLINES: Final = 10_000


class BindingKind(StrEnum):
    CITY = "city"
    OKRUG = "okrug"
    DISTRICT = "district"


@dataclass(frozen=True, slots=True)
class Binding:
    """What part of the city a feed is about."""

    kind: BindingKind
    slug: str | None = None  # okrug or district slug; None for the whole city

    def __str__(self) -> str:
        return self.kind.value if self.slug is None else f"{self.kind.value}:{self.slug}"


CITY: Final = Binding(BindingKind.CITY)


@dataclass(frozen=True, slots=True)
class FeedSource:
    url: str
    binding: Binding
    name: str = ""
    language: str = "ru"
    poll_interval: timedelta = DEFAULT_POLL_INTERVAL


def parse_binding(text: str, region: Region) -> Binding:
    """Resolve "city", an okrug or a district of ``region`` (slug, abbreviation or name;
    ё/case-insensitive), or the city's own name.

    Raises ValueError with the reason.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty binding")
    kind, sep, rest = raw.partition(":")
    if sep and kind.strip().lower() in ("okrug", "district", "city"):
        k = kind.strip().lower()
        value = rest.strip()
        if k == "city":
            if value:
                raise ValueError("'city' takes no slug")
            return CITY
        if k == "okrug":
            okrug = region.find_okrug(value)
            if okrug is None:
                raise ValueError(f"unknown okrug {value!r}")
            return Binding(BindingKind.OKRUG, okrug.slug)
        district = region.find_district(value)
        if district is None:
            raise ValueError(f"unknown district {value!r}")
        return Binding(BindingKind.DISTRICT, district.slug)
    if fold(raw) in ("city", region.slug, fold(region.name_ru), fold(region.name_en)):
        return CITY
    okrug = region.find_okrug(raw)
    district = region.find_district(raw)
    if okrug is not None and district is not None and okrug.slug != district.slug:
        raise ValueError(
            f"{raw!r} is both an okrug and a district: write 'okrug:{okrug.slug}' or "
            f"'district:{district.slug}'"
        )
    if okrug is not None:
        return Binding(BindingKind.OKRUG, okrug.slug)
    if district is not None:
        return Binding(BindingKind.DISTRICT, district.slug)
    raise ValueError(f"{raw!r} is not 'city', a {region.name_en} okrug or a district")


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an absolute http(s) URL, got {url!r}")
    return url


def _source_from_fields(fields: dict[str, Any], where: str, region: Region) -> FeedSource:
    def fail(field: str, expected: str) -> SourcesError:
        return SourcesError(f"{where}: field {field!r}: expected {expected}")

    unknown = sorted(set(fields) - _KNOWN_KEYS)
    if unknown:
        raise SourcesError(
            f"{where}: unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    url = fields.get("url")
    if not isinstance(url, str):
        raise fail(
            "url", "a string with an http(s) URL" + ("" if url is not None else " (missing)")
        )
    try:
        url = _check_url(url)
    except ValueError as exc:
        raise fail("url", str(exc)) from None
    binding_raw = fields.get("binding")
    if not isinstance(binding_raw, str):
        raise fail(
            "binding",
            "a string: 'city', an okrug (e.g. 'szao') or a district slug/name"
            + ("" if binding_raw is not None else " (missing)"),
        )
    try:
        binding = parse_binding(binding_raw, region)
    except ValueError as exc:
        raise fail("binding", f"'city', an okrug or a district ({exc})") from None
    name = fields.get("name", "")
    if not isinstance(name, str):
        raise fail("name", "a string")
    language = fields.get("language", "ru")
    if not (isinstance(language, str) and 2 <= len(language) <= 8 and language.isalpha()):
        raise fail("language", f"a language code like 'ru' or 'en', got {language!r}")
    interval = fields.get("poll_interval_minutes", int(DEFAULT_POLL_INTERVAL.total_seconds() // 60))
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int)
        or not _MIN_POLL_MINUTES <= interval <= _MAX_POLL_MINUTES
    ):
        raise fail(
            "poll_interval_minutes",
            f"an integer from {_MIN_POLL_MINUTES} to {_MAX_POLL_MINUTES}, got {interval!r}",
        )
    return FeedSource(
        url=url,
        binding=binding,
        name=name.strip(),
        language=language.lower(),
        poll_interval=timedelta(minutes=interval),
    )


def _check_duplicates(sources: Sequence[FeedSource], origin: str) -> None:
    seen: dict[str, int] = {}
    for i, s in enumerate(sources):
        key = s.url.lower().rstrip("/")
        if key in seen:
            raise SourcesError(
                f"{origin}: feed[{i}]: field 'url': expected a URL not listed before, "
                f"{s.url!r} is already feed[{seen[key]}]"
            )
        seen[key] = i


def parse_sources_toml(text: str, origin: str = "<string>", *, region: Region) -> list[FeedSource]:
    """Parse a feed list in TOML (bindings in ``region``). Empty text means no feeds. Raises
    SourcesError."""
    if not text.strip():
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{origin}: invalid TOML: {exc}") from None
    extra = sorted(set(data) - {"feed"})
    if extra:
        raise SourcesError(f"{origin}: unknown top-level key(s) {', '.join(extra)}; use [[feed]]")
    feeds = data.get("feed", [])
    if not isinstance(feeds, list):
        raise SourcesError(f"{origin}: 'feed' must be an array of tables ([[feed]])")
    sources: list[FeedSource] = []
    for i, entry in enumerate(feeds):
        where = f"{origin}: feed[{i}]"
        if not isinstance(entry, dict):
            raise SourcesError(f"{where}: expected a table")
        sources.append(_source_from_fields(entry, where, region))
    _check_duplicates(sources, origin)
    return sources


def load_sources(path: str | Path, region: Region) -> list[FeedSource]:
    """Load the operator's feed file (``FEEDS_FILE``): TOML, or OPML if it ends in .opml/.xml;
    bindings are okrugs and districts of ``region``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SourcesError(f"{p}: cannot read feed list: {exc.strerror or exc}") from None
    if p.suffix.lower() in (".opml", ".xml"):
        return import_opml(data, origin=str(p), region=region)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{p}: not UTF-8 ({exc})") from None
    return parse_sources_toml(text, origin=str(p), region=region)


def load_bundled_sources() -> list[FeedSource]:
    """The Moscow feed list shipped with the bot (bot/feeds/moscow.toml)."""
    text = resources.files("bot.feeds").joinpath("moscow.toml").read_text("utf-8")
    return parse_sources_toml(text, origin="bot/feeds/moscow.toml", region=load_region("moscow"))


# --- OPML -----------------------------------------------------------------------------------


def _iter_outlines(body: ET.Element, origin: str) -> Iterator[ET.Element]:
    """Outlines in document order, without recursion; SourcesError beyond the bounds."""
    stack: list[tuple[Iterator[ET.Element], int]] = [(iter(body), 1)]
    seen = 0
    while stack:
        children, depth = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if child.tag != "outline":
            continue
        seen += 1
        if seen > MAX_OPML_OUTLINES:
            raise SourcesError(f"{origin}: more than {MAX_OPML_OUTLINES} outlines")
        if depth > MAX_OPML_DEPTH:
            raise SourcesError(f"{origin}: outlines nested deeper than {MAX_OPML_DEPTH} levels")
        yield child
        stack.append((iter(child), depth + 1))


def import_opml(
    data: bytes | str,
    origin: str = "<opml>",
    default_binding: Binding | None = None,
    *,
    region: Region,
) -> list[FeedSource]:
    """Read feeds from OPML; outlines without ``xmlUrl`` (folders) are skipped.

    An outline without our ``binding`` attribute gets ``default_binding``; if that is None too,
    it is an error (we would not know which part of the city the feed is about).
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if not data.strip():
        return []
    if len(data) > MAX_OPML_BYTES:
        raise SourcesError(f"{origin}: OPML larger than {MAX_OPML_BYTES} bytes")
    try:
        # No DTD at all: entity tricks (billion laughs, external entities) have no place here.
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SourcesError(
            f"{origin}: OPML with a DTD or entity declarations is not accepted "
            f"({type(exc).__name__})"
        ) from None
    except (ET.ParseError, RecursionError, ValueError) as exc:
        raise SourcesError(f"{origin}: invalid OPML: {exc}") from None
    if root.tag != "opml":
        raise SourcesError(f"{origin}: expected an <opml> document, got <{root.tag}>")
    body = root.find("body")
    if body is None:
        raise SourcesError(f"{origin}: OPML has no <body>")
    sources: list[FeedSource] = []
    index = 0
    for outline in _iter_outlines(body, origin):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if not url:
            continue
        where = f"{origin}: outline[{index}]"
        index += 1
        kind = (outline.get("type") or "rss").lower()
        if kind not in ("rss", "atom"):
            raise SourcesError(f"{where}: attribute 'type': expected 'rss', got {kind!r}")
        fields: dict[str, Any] = {"url": url}
        binding = outline.get("binding")
        if binding is not None:
            fields["binding"] = binding
        elif default_binding is not None:
            fields["binding"] = str(default_binding)
        name = outline.get("title") or outline.get("text")
        if name:
            fields["name"] = name
        if outline.get("language"):
            fields["language"] = outline.get("language")
        interval = outline.get("pollIntervalMinutes")
        if interval is not None:
            try:
                fields["poll_interval_minutes"] = int(interval)
            except ValueError:
                fields["poll_interval_minutes"] = interval
        sources.append(_source_from_fields(fields, where, region))
    _check_duplicates(sources, origin)
    return sources


def export_opml(sources: Sequence[FeedSource], title: str = "District news feeds") -> str:
    """OPML 2.0 with one ``type="rss"`` outline per feed, plus ``binding`` and the interval."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for s in sources:
        attrs = {
            "type": "rss",
            "text": s.name or s.url,
            "xmlUrl": s.url,
            "binding": str(s.binding),
            "language": s.language,
            "pollIntervalMinutes": str(int(s.poll_interval.total_seconds() // 60)),
        }
        if s.name:
            attrs["title"] = s.name
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def sources_to_toml(sources: Sequence[FeedSource]) -> str:
    """Write feeds in the FEEDS_FILE TOML format (e.g. after importing OPML)."""
    blocks = []
    for s in sources:
        lines = ["[[feed]]"]
        if s.name:
            lines.append(f"name = {_toml_str(s.name)}")
        lines += [
            f"url = {_toml_str(s.url)}",
            f"binding = {_toml_str(str(s.binding))}",
            f"language = {_toml_str(s.language)}",
            f"poll_interval_minutes = {int(s.poll_interval.total_seconds() // 60)}",
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
