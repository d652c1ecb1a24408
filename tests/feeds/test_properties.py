"""Property tests: arbitrary bytes and HTML never crash, hang or leak markup."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feeds.clean import clean_html, clean_title
from bot.feeds.errors import ParseError
from bot.feeds.normalize import canonical_url
from bot.feeds.poller import ingest_body

from .conftest import T0

MARKUP = re.compile(r"<[A-Za-z/!?]")
FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

TAGS = [
    "p",
    "div",
    "br",
    "img",
    "script",
    "style",
    "iframe",
    "a",
    "b",
    "span",
    "ul",
    "li",
    "figcaption",
    "svg",
    "!--",
    "![CDATA[",
    "?xml",
    "table",
    "td",
    "noscript",
    "title",
]
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
attr = st.tuples(
    st.sampled_from(["class", "src", "href", "id", "style", "data-src", "width"]),
    st.one_of(text, st.sampled_from(["share", "1", "/a.jpg", 'x"y', "<p>"])),
)


@st.composite
def html_fragments(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 6))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            attrs = "".join(f' {k}="{v}"' for k, v in draw(st.lists(attr, max_size=3)))
            parts.append(f"<{tag}{attrs}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "&amp;",
                            "&lt;p&gt;",
                            "&#60;b&#62;",
                            "&nbsp;",
                            "&bogus;",
                            "&#x110000;",
                            "&",
                            "<",
                            ">",
                            "\x00",
                        ]
                    )
                )
            )
        elif kind == 3:
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "Читайте также:",
                            "Фото: ТАСС",
                            "Яндекс.Метрика",
                            "Подписывайтесь на наш канал",
                            "\n\n",
                        ]
                    )
                )
            )
        else:
            parts.append(draw(text))
    return "".join(parts)


@FAST
@given(html_fragments())
def test_clean_html_never_leaks_markup(html: str) -> None:
    result = clean_html(html)
    assert not MARKUP.search(result.text)
    assert "\n\n\n" not in result.text
    assert result.text == result.text.strip()
    assert not MARKUP.search(clean_title(html))
    assert "\n" not in clean_title(html)


@FAST
@given(st.text(max_size=300))
def test_clean_arbitrary_text(s: str) -> None:
    assert not MARKUP.search(clean_html(s).text)
    assert not MARKUP.search(clean_title(s))


FEED_HEAD = '<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title>t</title>'


@st.composite
def feed_documents(draw: st.DrawFn) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        title = draw(html_fragments())
        body = draw(html_fragments())
        wrap = draw(st.booleans())
        desc = f"<![CDATA[{body}]]>" if wrap else body
        items.append(
            f"<item><title>{title}</title><link>{draw(text)}</link>"
            f"<description>{desc}</description><pubDate>{draw(text)}</pubDate></item>"
        )
    doc = FEED_HEAD.format(enc=draw(st.sampled_from(["utf-8", "windows-1251", "koi8-r", "x"])))
    doc += "".join(items)
    if draw(st.booleans()):
        doc += "</channel></rss>"
    raw = doc.encode("utf-8", "surrogatepass")
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


def _check_ingest(body: bytes) -> None:
    try:
        result = ingest_body(body, None, "https://e.ru/feed", T0)
    except ParseError:
        return
    for a in result.articles:
        assert not MARKUP.search(a.text) and not MARKUP.search(a.title)
        assert a.published_at <= T0
        assert a.url is None or a.url.startswith(("http://", "https://"))


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_parse_error(body: bytes) -> None:
    _check_ingest(body)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(feed_documents())
def test_random_feeds_only_raise_parse_error(body: bytes) -> None:
    _check_ingest(body)


@FAST
@given(st.text(max_size=200))
def test_canonical_url_never_raises(url: str) -> None:
    result = canonical_url(url, "https://e.ru/")
    assert result is None or result.startswith(("http://", "https://"))
