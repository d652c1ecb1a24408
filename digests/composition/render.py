"""Rendering a built digest as Telegram HTML messages (pure: no I/O).

We emit only a tiny subset of Telegram HTML — ``<b>``, ``<i>`` and ``<a href="...">`` — and
escape every piece of feed text, so the visible length of a message can be computed exactly
by stripping our own tags and unescaping entities (:func:`visible_length`). Messages are split
only between items, so a tag or link is never cut; an item too long on its own gets a shorter
lead (then title) instead.

Every user-visible string goes through the :class:`~digests.i18n.Translator` with an English
msgid; dates and numbers go through Babel in the digest's language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from babel.numbers import format_decimal

from digests.composition.digest import Digest, DigestItem, DigestRequest, Section
from digests.i18n import N_, Translator
from digests.region import Region

__all__ = [
    "DEFAULT_LEAD_LIMIT",
    "DEFAULT_SAFETY_MARGIN",
    "MAX_MESSAGE_LENGTH",
    "render_digest",
    "render_empty",
    "safe_href",
    "trim_text",
    "visible_length",
]

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit, in UTF-16 code units after entity parsing
DEFAULT_SAFETY_MARGIN = 96
DEFAULT_LEAD_LIMIT = 300
TITLE_LIMIT = 250
MAX_PLACE_MARKERS = 3
MAX_TOPIC_MARKERS = 2

_BLOCK_SEPARATOR = "\n\n"
_TAG_RE = re.compile(r"<[^>]*>")
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")

_SECTION_HEADINGS: dict[Section, tuple[str, str]] = {
    # (one district, several districts): the okrug and city headings do not vary.
    Section.DISTRICT: (N_("In your district"), N_("In your districts")),
    Section.OKRUG: (N_("In your okrug"), N_("In your okrugs")),
    Section.CITY: (N_("Across the city"), N_("Across the city")),
}


# --- helpers -------------------------------------------------------------------------------


def visible_length(message: str) -> int:
    """Length of our own HTML as Telegram counts it: tags dropped, entities decoded, UTF-16.

    Exact for what this module emits (all text escaped, so ``<`` only opens our tags).
    """
    text = html.unescape(_TAG_RE.sub("", message))
    return len(text.encode("utf-16-le")) // 2


def _text(value: str) -> str:
    # quote=False: Telegram knows only &lt; &gt; &amp; &quot;, and text needs no quotes escaped.
    return html.escape(value, quote=False)


def safe_href(url: str) -> str | None:
    """The URL escaped for an ``href`` attribute, or None if it must not become a link.

    Only absolute http(s) URLs pass; whitespace or control characters disqualify a URL rather
    than being "repaired", since a feed that emits them is not to be trusted with a link.
    """
    url = url.strip()
    if not url or _UNSAFE_URL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return html.escape(url, quote=False).replace('"', "&quot;")


def trim_text(text: str, limit: int) -> str:
    """Collapse whitespace and cut to at most ``limit`` characters at a word boundary, with «…».

    Works on plain text before escaping, so an entity can never be cut in half.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit - 1) // 2:  # a very long word is cut mid-word rather than dropped
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


@lru_cache(maxsize=32)  # languages are few, but they come from user data
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@lru_cache(maxsize=4096)
def _number(n: int, locale: Locale) -> str:
    return format_decimal(n, locale=locale)


@dataclass(frozen=True, slots=True)
class _Context:
    tr: Translator
    locale: Locale
    lang: str
    region: Region
    topic_labels: Mapping[str, str]

    def number(self, n: int) -> str:
        return _number(n, self.locale)

    def counted(self, template: str, n: int) -> str:
        """Fill ``{n}`` of an already ngettext-ed template with the Babel-formatted count.

        Callers write ``ctx.tr.ngettext(...)`` literally so pybabel extracts the msgids.
        """
        return template.format(n=self.number(n))

    def district_name(self, slug: str) -> str:
        try:
            return self.region.district(slug).name(self.lang)
        except KeyError:
            return slug

    def okrug_short(self, slug: str) -> str:
        try:
            return self.region.okrug(slug).short(self.lang)
        except KeyError:
            return slug


def _context(
    translator: Translator, lang: str, region: Region, topic_labels: Mapping[str, str]
) -> _Context:
    return _Context(translator, _locale(lang), lang, region, topic_labels)


# --- blocks --------------------------------------------------------------------------------


def _header(
    ctx: _Context,
    request: DigestRequest,
    when: datetime,
    tz: tzinfo,
    count: int | None,
) -> str:
    date = format_skeleton("MMMMd", when.astimezone(tz).date(), locale=ctx.locale)
    districts = sorted(request.districts, key=_region_order(ctx.region))
    okrugs = sorted(request.okrugs, key=_region_order(ctx.region))
    if len(districts) == 1 and not okrugs:
        title = ctx.tr.gettext("{district} district news · {date}").format(
            district=ctx.district_name(districts[0]), date=date
        )
    elif len(okrugs) == 1 and not districts:
        title = ctx.tr.gettext("{okrug} news · {date}").format(
            okrug=ctx.okrug_short(okrugs[0]), date=date
        )
    elif not districts and not okrugs:
        title = ctx.tr.gettext("City news · {date}").format(date=date)
    else:
        names = [ctx.district_name(d) for d in districts] + [ctx.okrug_short(o) for o in okrugs]
        title = ctx.tr.gettext("News for {places} · {date}").format(
            places=_compact_list(ctx, names), date=date
        )
    lines = [f"<b>{_text(title)}</b>"]
    if count is not None:
        lines.append(_text(ctx.counted(ctx.tr.ngettext("{n} story", "{n} stories", count), count)))
    return "\n".join(lines)


@cache
def _region_order(region: Region) -> Callable[[str], tuple[int, str]]:
    order = {d.slug: i for i, d in enumerate(region.districts)}
    order.update({o.slug: i for i, o in enumerate(region.okrugs)})
    return lambda slug: (order.get(slug, len(order)), slug)


def _compact_list(ctx: _Context, names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_PLACE_MARKERS])
    rest = len(names) - MAX_PLACE_MARKERS
    if rest > 0:
        shown += " " + ctx.counted(ctx.tr.ngettext("and {n} more", "and {n} more", rest), rest)
    return shown


def _heading(ctx: _Context, section: Section, request: DigestRequest) -> str:
    one, many = _SECTION_HEADINGS[section]
    if section is Section.DISTRICT:
        several = len(request.districts) > 1 or bool(request.okrugs)
    else:
        districts = (ctx.region.find_district(slug) for slug in request.districts)
        okrugs = set(request.okrugs) | {d.okrug for d in districts if d is not None}
        several = len(okrugs) > 1
    return f"<b>{_text(ctx.tr.gettext(many if several else one))}</b>"


def _markers(ctx: _Context, item: DigestItem, *, single_district: bool) -> str:
    parts: list[str] = []
    # Matched districts for district news, the okrug for okrug news; city news has no place.
    # A user with a single district knows where their district news is from.
    places = [] if single_district else [ctx.district_name(d) for d in item.districts]
    places = places or [ctx.okrug_short(o) for o in item.okrugs]
    if places:
        parts.append("📍 " + _compact_list(ctx, places))
    known = [t for t in item.topics if t in ctx.topic_labels][:MAX_TOPIC_MARKERS]
    labels = [ctx.tr.gettext(ctx.topic_labels[t]) for t in known]
    if labels:
        parts.append(", ".join(labels))
    others = item.story.source_count - 1
    if others > 0:
        template = ctx.tr.ngettext("also in {n} more source", "also in {n} more sources", others)
        parts.append(ctx.counted(template, others))
    return " · ".join(parts)


def _item(
    ctx: _Context,
    item: DigestItem,
    *,
    single_district: bool,
    lead_limit: int,
    title_limit: int = TITLE_LIMIT,
    markers: bool = True,
) -> str:
    title = _text(trim_text(item.story.title, title_limit) or "…")
    href = safe_href(item.story.url)
    lines = [f'<a href="{href}">{title}</a>' if href is not None else f"<b>{title}</b>"]
    lead = trim_text(item.story.lead, lead_limit) if lead_limit > 0 else ""
    if lead:
        lines.append(_text(lead))
    if markers:
        text = _markers(ctx, item, single_district=single_district)
        if text:
            lines.append(f"<i>{_text(text)}</i>")
    return "\n".join(lines)


def _fit_item(
    ctx: _Context, item: DigestItem, budget: int, lead_limit: int, *, single_district: bool
) -> tuple[str, int]:
    """The item and its visible length: at full length if it fits ``budget``, else with a
    shorter lead, then a shorter title, then without markers."""
    one = single_district
    block = _item(ctx, item, single_district=one, lead_limit=lead_limit)
    size = visible_length(block)
    limit = lead_limit
    while size > budget and limit > 0:
        limit = limit // 2 if limit > 20 else 0
        block = _item(ctx, item, single_district=one, lead_limit=limit)
        size = visible_length(block)
    title_limit = TITLE_LIMIT
    while size > budget and title_limit > 20:
        title_limit //= 2
        block = _item(ctx, item, single_district=one, lead_limit=0, title_limit=title_limit)
        size = visible_length(block)
    if size > budget:
        block = _item(
            ctx, item, single_district=one, lead_limit=0, title_limit=title_limit, markers=False
        )
        size = visible_length(block)
    return block, size


def _footer(ctx: _Context, omitted: int) -> str:
    lines = []
    if omitted > 0:
        template = ctx.tr.ngettext(
            "and {n} more story did not fit", "and {n} more stories did not fit", omitted
        )
        text = ctx.counted(template, omitted)
        lines.append(f"<i>{_text(text)}</i>")
    lines.append(
        _text(ctx.tr.gettext("Districts: /districts · topics: /topics · settings: /settings"))
    )
    return "\n".join(lines)


# --- public --------------------------------------------------------------------------------


def render_digest(
    digest: Digest,
    translator: Translator,
    region: Region,
    topic_labels: Mapping[str, str],
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    max_length: int = MAX_MESSAGE_LENGTH,
    safety_margin: int = DEFAULT_SAFETY_MARGIN,
    lead_limit: int = DEFAULT_LEAD_LIMIT,
) -> list[str]:
    """Telegram-HTML message parts for a digest, each at most ``max_length - safety_margin``
    visible characters; the language is the request's.

    ``topic_labels`` maps topic slugs to English labels (msgids), translated here. The header
    date is ``now`` (default: the end of the period) in ``tz`` (default: the region's zone).
    An empty digest renders as the «nothing new» note; whether to send it is the caller's
    decision (:func:`digests.composition.digest.should_send`).
    """
    request = digest.request
    if digest.is_empty:
        return [render_empty(request, translator, region, now=now, tz=tz)]
    ctx = _context(translator, request.language, region, topic_labels)
    zone = tz if tz is not None else ZoneInfo(region.timezone)
    budget = max_length - safety_margin
    if budget < 200:
        raise ValueError("max_length - safety_margin is too small for a digest item")
    header = _header(ctx, request, now or request.period_end, zone, len(digest.items))

    single_district = len(request.districts) == 1 and not request.okrugs
    sep = visible_length(_BLOCK_SEPARATOR)
    header_size = visible_length(header)
    headings: dict[Section, tuple[str, int]] = {}
    for sec in Section:
        heading = _heading(ctx, sec, request) + "\n"
        headings[sec] = (heading, visible_length(heading))

    parts: list[str] = []
    current: list[str] = [header]
    used = header_size
    section: Section | None = None

    def flush() -> None:
        nonlocal current, used
        if current:
            parts.append(_BLOCK_SEPARATOR.join(current))
        current, used = [], 0

    for item in digest.items:
        heading, heading_size = headings[item.section]
        new_section = item.section is not section
        section = item.section
        # Small enough to share a part with the header and its heading: the first item must.
        item_budget = budget - header_size - heading_size - 2 * sep
        block, size = _fit_item(ctx, item, item_budget, lead_limit, single_district=single_district)
        if new_section:
            block, size = heading + block, heading_size + size
        if current and used + sep + size > budget:
            flush()
            if not new_section:
                # Repeat the heading so a continued part still says where its news is from.
                block, size = heading + block, heading_size + size
        used += (sep if current else 0) + size
        current.append(block)

    footer = _footer(ctx, digest.omitted)
    size = visible_length(footer)
    if current and used + sep + size > budget:
        flush()
    current.append(footer)
    flush()
    return parts


def render_empty(
    request: DigestRequest,
    translator: Translator,
    region: Region,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The «nothing new» note, for users who asked to get it instead of silence."""
    ctx = _context(translator, request.language, region, {})
    zone = tz if tz is not None else ZoneInfo(region.timezone)
    header = _header(ctx, request, now or request.period_end, zone, None)
    note = _text(translator.gettext("Nothing new since your last digest."))
    return _BLOCK_SEPARATOR.join([header, note, _footer(ctx, 0)])


def html_to_text(message: str) -> str:
    """Plain text of a message we rendered (for terminals and logs), links kept as «title (url)»."""
    linked = re.sub(
        r'<a href="([^"]*)">(.*?)</a>', lambda m: f"{m.group(2)} ({m.group(1)})", message
    )
    return html.unescape(re.sub(r"<[^>]+>", "", linked))
