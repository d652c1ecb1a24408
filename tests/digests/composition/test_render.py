from __future__ import annotations

import gettext
import html
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.support import Translations

from digests.composition.digest import Digest, DigestItem, DigestRequest, Section, StoryCandidate
from digests.composition.render import (
    MAX_MESSAGE_LENGTH,
    render_digest,
    render_empty,
    safe_href,
    trim_text,
    visible_length,
)
from digests.region import Region, load_region

END = datetime(2024, 11, 21, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
START = END - timedelta(days=1)

# The proposed Russian catalog for every msgid of digests/composition/render.py
# (3 plural forms for ru).
RU: dict[str | tuple[str, str], str | tuple[str, str, str]] = {
    "{district} district news · {date}": "Новости района {district} · {date}",
    "{okrug} news · {date}": "Новости {okrug} · {date}",
    "City news · {date}": "Новости города · {date}",
    "News for {places} · {date}": "Новости: {places} · {date}",
    ("{n} story", "{n} stories"): ("{n} новость", "{n} новости", "{n} новостей"),
    ("and {n} more", "and {n} more"): ("и ещё {n}", "и ещё {n}", "и ещё {n}"),
    "In your district": "В вашем районе",
    "In your districts": "В ваших районах",
    "In your okrug": "В округе",
    "In your okrugs": "В ваших округах",
    "Across the city": "По городу",
    ("also in {n} more source", "also in {n} more sources"): (
        "ещё в {n} источнике",
        "ещё в {n} источниках",
        "ещё в {n} источниках",
    ),
    ("and {n} more story did not fit", "and {n} more stories did not fit"): (
        "и ещё {n} новость не поместилась",
        "и ещё {n} новости не поместились",
        "и ещё {n} новостей не поместились",
    ),
    "Districts: /districts · topics: /topics · settings: /settings": (
        "Районы: /districts · темы: /topics · настройки: /settings"
    ),
    "Nothing new since your last digest.": "Со времени прошлой сводки ничего нового.",
    # Topic labels come from digests/understanding/topics.py; two are enough here.
    "Transport": "Транспорт",
    "Housing": "ЖКХ",
}
TOPIC_LABELS = {"transport": "Transport", "housing": "Housing"}


def russian() -> Translations:
    """A real compiled catalog, so plural forms go through gettext's own ru rule."""
    catalog = Catalog(locale="ru")
    for msgid, msgstr in RU.items():
        catalog.add(msgid, msgstr)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region("moscow")


def test_catalog_covers_every_msgid() -> None:
    source = Path(__file__).parents[3] / "digests" / "composition" / "render.py"
    found = {message for _, message, _, _ in extract_from_file("python", source)}
    assert found, "nothing extracted: msgids must stay visible to pybabel"
    assert found <= set(RU)


# --- a checker for the Telegram HTML subset we emit ----------------------------------------


class TelegramHTML(HTMLParser):
    ALLOWED: ClassVar[set[str]] = {"b", "i", "a"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._link_text: list[str] | None = None
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.errors.append(f"tag <{tag}>")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if [name for name, _ in attrs] != ["href"] or not re.match(r"https?://", href):
                self.errors.append(f"bad link {attrs}")
            if "a" in self.stack:
                self.errors.append("nested link")
            self._link_text = []
            self.links.append((href, ""))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> in {self.stack}")
            return
        self.stack.pop()
        if tag == "a" and self._link_text is not None:
            href, _ = self.links[-1]
            self.links[-1] = (href, "".join(self._link_text))
            self._link_text = None

    def handle_data(self, data: str) -> None:
        if self._link_text is not None:
            self._link_text.append(data)


def check_html(part: str) -> TelegramHTML:
    # Only &lt; &gt; &amp; &quot; and numeric entities are known to Telegram.
    bad_entities = re.findall(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", part)
    assert not bad_entities, part
    checker = TelegramHTML()
    checker.feed(part)
    checker.close()
    assert not checker.errors, (checker.errors, part)
    assert not checker.stack, f"unclosed {checker.stack}"
    return checker


# --- helpers -------------------------------------------------------------------------------


def make_story(story_id: int, **fields: object) -> StoryCandidate:
    base: dict[str, object] = {
        "title": f"Заголовок {story_id}",
        "url": f"https://example.com/{story_id}",
        "lead": "Короткий лид.",
        "available_at": START + timedelta(hours=1),
        "topics": ("transport",),
    }
    base.update(fields)
    return StoryCandidate(story_id=story_id, **base)  # type: ignore[arg-type]


def make_request(
    districts: tuple[str, ...] = ("khamovniki",), okrugs: tuple[str, ...] = (), lang: str = "ru"
) -> DigestRequest:
    return DigestRequest(
        districts=frozenset(districts),
        okrugs=frozenset(okrugs),
        topics=frozenset(),
        language=lang,
        period_start=START,
        period_end=END,
    )


def make_digest(
    stories: list[StoryCandidate],
    *,
    section: Section = Section.DISTRICT,
    omitted: int = 0,
    request: DigestRequest | None = None,
) -> Digest:
    items = tuple(
        DigestItem(
            story=s,
            section=section,
            districts=("khamovniki",) if section is Section.DISTRICT else (),
            okrugs=("tsao",) if section is Section.OKRUG else (),
            topics=s.topics,
        )
        for s in stories
    )
    return Digest(request=request or make_request(), items=items, omitted=omitted)


def render(digest: Digest, region: Region, **kwargs: object) -> list[str]:
    parts = render_digest(digest, russian(), region, TOPIC_LABELS, **kwargs)  # type: ignore[arg-type]
    for part in parts:
        check_html(part)
        assert visible_length(part) <= MAX_MESSAGE_LENGTH
    return parts


def visible(part: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", part))


# --- tests ---------------------------------------------------------------------------------


def test_russian_digest_layout(region: Region) -> None:
    stories = [
        make_story(1, source_count=3, topics=("transport", "housing")),
        make_story(2, topics=("housing",)),
    ]
    digest = Digest(
        request=make_request(),
        items=(
            DigestItem(stories[0], Section.DISTRICT, ("khamovniki",), (), stories[0].topics),
            DigestItem(stories[1], Section.OKRUG, (), ("tsao",), stories[1].topics),
        ),
        omitted=5,
    )
    [part] = render(digest, region)
    text = visible(part)
    assert text.startswith("Новости района Хамовники · 21 ноября\n2 новости\n")
    assert "<b>В вашем районе</b>" in part
    assert "<b>В округе</b>" in part
    assert text.index("В вашем районе") < text.index("Заголовок 1") < text.index("В округе")
    assert '<a href="https://example.com/1">Заголовок 1</a>' in part
    # One district: no point in naming it on every item.
    assert "<i>Транспорт, ЖКХ · ещё в 2 источниках</i>" in part
    assert "<i>📍 ЦАО · ЖКХ</i>" in part
    assert "и ещё 5 новостей не поместились" in text
    assert text.endswith("Районы: /districts · темы: /topics · настройки: /settings")


def test_english_with_null_translations(region: Region) -> None:
    digest = make_digest([make_story(1, source_count=2)], request=make_request(lang="en"))
    [part] = render_digest(digest, gettext.NullTranslations(), region, TOPIC_LABELS)
    check_html(part)
    text = visible(part)
    assert text.startswith("Khamovniki district news · November 21\n1 story\n")
    assert "In your district" in text
    assert "\nTransport · also in 1 more source" in text


def test_date_in_user_timezone_and_language(region: Region) -> None:
    late = datetime(2024, 11, 21, 22, 30, tzinfo=UTC)  # already the 22nd in Moscow
    digest = make_digest([make_story(1)])
    assert "22 ноября" in render(digest, region, now=late)[0]
    assert "21 ноября" in render(digest, region, now=late, tz=UTC)[0]
    english = make_digest([make_story(1)], request=make_request(lang="en"))
    part = render_digest(english, gettext.NullTranslations(), region, {}, now=late)[0]
    assert "November 22" in part


def test_compact_header_for_several_places(region: Region) -> None:
    request = make_request(districts=("khamovniki", "arbat", "mitino", "kurkino"), okrugs=("zao",))
    story = make_story(1, district_slugs=frozenset({"mitino", "arbat"}))
    item = DigestItem(story, Section.DISTRICT, ("arbat", "mitino"), (), ())
    [part] = render(Digest(request=request, items=(item,), omitted=0), region)
    assert "<i>📍 Арбат, Митино</i>" in part
    # Region order: Арбат, Хамовники (ЦАО), Куркино, Митино (СЗАО), then okrugs.
    assert visible(part).startswith("Новости: Арбат, Хамовники, Куркино и ещё 2 · 21 ноября")
    assert "В ваших районах" in part
    okrug_item = DigestItem(make_story(2), Section.OKRUG, (), ("tsao",), ())
    two_okrugs = make_request(districts=("khamovniki", "mitino"))
    [part] = render(Digest(request=two_okrugs, items=(okrug_item,), omitted=0), region)
    assert "<b>В ваших округах</b>" in part
    okrug_only = make_request(districts=(), okrugs=("szao",))
    assert visible(render(make_digest([make_story(1)], request=okrug_only), region)[0]).startswith(
        "Новости СЗАО · 21 ноября"
    )


@pytest.mark.parametrize(
    ("n", "count", "omitted"),
    [
        (1, "1 новость", "и ещё 1 новость не поместилась"),
        (3, "3 новости", "и ещё 3 новости не поместились"),
        (5, "5 новостей", "и ещё 5 новостей не поместились"),
        (21, "21 новость", "и ещё 21 новость не поместилась"),
    ],
)
def test_russian_plurals(region: Region, n: int, count: str, omitted: str) -> None:
    digest = make_digest([make_story(i) for i in range(n)], omitted=n)
    text = "\n".join(visible(p) for p in render(digest, region))
    assert f"\n{count}\n" in text
    assert omitted in text


@pytest.mark.parametrize(
    ("sources", "note"),
    [
        (1, None),
        (2, "ещё в 1 источнике"),
        (4, "ещё в 3 источниках"),
        (6, "ещё в 5 источниках"),
        (22, "ещё в 21 источнике"),
    ],
)
def test_also_in_n_sources_only_when_several(
    region: Region, sources: int, note: str | None
) -> None:
    [part] = render(make_digest([make_story(1, source_count=sources)]), region)
    if note is None:
        assert "источник" not in part
    else:
        assert note in part


def test_thousands_are_formatted_by_babel(region: Region) -> None:
    [part] = render(make_digest([make_story(1)], omitted=1234), region)
    assert "и ещё 1\xa0234 новости не поместились" in part


def test_escaping_of_feed_text_and_urls(region: Region) -> None:
    story = make_story(
        1,
        title="<script>alert(1)</script> & Co",
        url='https://example.com/a?q="x"&b=<1>',
        lead="Tom & Jerry <b>bold</b>",
    )
    [part] = render(make_digest([story]), region)
    assert "<script>" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in part
    assert 'href="https://example.com/a?q=&quot;x&quot;&amp;b=&lt;1&gt;"' in part
    assert "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt;" in part
    links = check_html(part).links
    assert links == [('https://example.com/a?q="x"&b=<1>', "<script>alert(1)</script> & Co")]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "ftp://example.com/",
        "/relative",
        "https://",
        "https://exa mple.com/",
        "data:text/html,<b>x</b>",
        "",
    ],
)
def test_unsafe_urls_are_not_linked(region: Region, url: str) -> None:
    assert safe_href(url) is None
    [part] = render(make_digest([make_story(1, url=url, title="Title")]), region)
    assert "<a " not in part
    assert "<b>Title</b>" in part


def test_long_digest_splits_between_items(region: Region) -> None:
    lead = "Очень длинный лид про важные события в районе. " * 40
    stories = [make_story(i, title=f"Новость номер {i}", lead=lead) for i in range(40)]
    half = len(stories) // 2
    digest = Digest(
        request=make_request(),
        items=tuple(
            DigestItem(s, Section.DISTRICT if i < half else Section.CITY, ("khamovniki",), (), ())
            for i, s in enumerate(stories)
        ),
        omitted=3,
    )
    parts = render(digest, region)
    assert len(parts) > 2
    titles: list[str] = []
    for part in parts:
        # Every part is self-contained HTML, and each item's link is whole in one part.
        titles += [text for _, text in check_html(part).links]
        # A continued section repeats its heading.
        assert re.match(r"<b>(Новости района|В вашем районе|По городу)", part)
    assert titles == [f"Новость номер {i}" for i in range(40)]
    assert "и ещё 3 новости не поместились" in parts[-1]
    # Leads were trimmed at a word boundary to about 300 characters.
    leads = [line for p in parts for line in visible(p).split("\n") if line.startswith("Очень")]
    assert len(leads) == 40
    assert all(len(line) <= 300 and line.endswith("…") for line in leads)
    assert all(not line.endswith(" …") for line in leads)


def test_item_too_long_alone_gets_a_shorter_lead(region: Region) -> None:
    lead = "слово " * 3000
    digest = make_digest([make_story(1, lead=lead), make_story(2, lead="short")])
    parts = render(digest, region, lead_limit=100_000)
    assert all(visible_length(p) <= MAX_MESSAGE_LENGTH - 96 for p in parts)
    assert "слово слово" in parts[0]  # shortened, not dropped
    assert [t for p in parts for _, t in check_html(p).links] == ["Заголовок 1", "Заголовок 2"]


def test_safety_margin_is_respected(region: Region) -> None:
    stories = [make_story(i, lead="лид " * 70) for i in range(30)]
    for max_length, margin in ((4096, 0), (1000, 100)):
        parts = render(make_digest(stories), region, max_length=max_length, safety_margin=margin)
        assert len(parts) > 1
        assert all(visible_length(p) <= max_length - margin for p in parts)


def test_empty_note(region: Region) -> None:
    empty = Digest(request=make_request(), items=(), omitted=0)
    note = render_empty(empty.request, russian(), region)
    check_html(note)
    assert visible(note).startswith("Новости района Хамовники · 21 ноября\n\nСо времени")
    assert render(empty, region) == [note]


def test_visible_length_counts_utf16_and_entities() -> None:
    assert visible_length('<a href="https://x.y/?a=&quot;">a&amp;b</a>') == 3
    assert visible_length("<i>📍 ы</i>") == 4  # the emoji is a surrogate pair


def test_trim_text() -> None:
    assert trim_text("  a   b  ", 10) == "a b"
    assert trim_text("один два три четыре", 12) == "один два…"
    assert trim_text("x" * 50, 10) == "x" * 9 + "…"
