"""HTML to clean plain text, with news-site boilerplate removed.

Uses only the stdlib ``html.parser``: it is tolerant of broken markup and never raises on
garbage. Boilerplate (related-links blocks, photo credits, counters, "subscribe" calls) is
removed because downstream tagging would otherwise see district names in unrelated headlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

__all__ = ["CleanResult", "clean_html", "clean_title", "strip_boilerplate"]

# Content of these elements is never article text.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "iframe", "object", "embed", "svg", "math", "template",
        "head", "title", "form", "button", "select", "textarea", "figcaption", "video", "audio",
        "canvas", "map", "nav", "aside",
    }
)  # fmt: skip
_VOID_TAGS = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    }
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "main", "blockquote", "pre",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "td", "th",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "figure", "address", "center",
    }
)  # fmt: skip
# class/id fragments of share buttons, related-post and subscription widgets.
_WIDGET_RE = re.compile(
    r"share|social|sharedaddy|addtoany|ya-share|likes?\b|subscribe|related|yarpp|"
    r"jp-relatedposts|advert|banner|counter|comments?\b",
    re.IGNORECASE,
)
# Counters and tracking pixels are never the article image.
_PIXEL_HOST_RE = re.compile(
    r"mc\.yandex|top-fwz1\.mail\.ru|top\.mail\.ru|counter\.yadro|liveinternet|"
    r"top100|googletagmanager|google-analytics|facebook\.com/tr",
    re.IGNORECASE,
)
_TAGLIKE_RE = re.compile(
    r"</?[A-Za-z][^<>]{0,500}>|<!--.*?-->|<![^<>]{0,500}>|<\?[^<>]{0,500}>", re.S
)
_LOOKS_HTML_RE = re.compile(r"<[A-Za-z/!?]")
_LT_RE = re.compile(r"<(?=[A-Za-z/!?])")
_SPACES_RE = re.compile(r"[ \t\f\v\r\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_MANY_NL_RE = re.compile(r"\n{3,}")
_BR = "\x01"  # placeholder: <br> survives the collapsing of source newlines
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class CleanResult:
    text: str
    image_url: str | None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.image_url: str | None = None
        # Stack of tag names currently being skipped (outermost first); while non-empty,
        # text is dropped. Nested same-name tags are counted so the right end tag ends the skip.
        self._skip_tag: str | None = None
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if tag == "img":
            self._maybe_image(attrs)
            return
        if tag == "br":
            self.parts.append(_BR)
            return
        if tag in _SKIP_TAGS or (tag not in _VOID_TAGS and self._is_widget(attrs)):
            if tag not in _VOID_TAGS:
                self._skip_tag = tag
                self._skip_depth = 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <div/> style self-closing tags open nothing.
        if self._skip_tag is None:
            if tag == "img":
                self._maybe_image(attrs)
            elif tag == "br":
                self.parts.append(_BR)
            elif tag in _BLOCK_TAGS:
                self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._skip_tag is None:
            self.parts.append(data.replace("\x00", "").replace(_BR, ""))

    @staticmethod
    def _is_widget(attrs: list[tuple[str, str | None]]) -> bool:
        for name, value in attrs:
            if value and name in ("class", "id") and _WIDGET_RE.search(value):
                return True
        return False

    def _maybe_image(self, attrs: list[tuple[str, str | None]]) -> None:
        if self.image_url is not None:
            return
        a = {k: v for k, v in attrs if v is not None}
        if a.get("width") in ("0", "1") or a.get("height") in ("0", "1"):
            return
        src = a.get("src") or a.get("data-src") or a.get("data-lazy-src") or ""
        src = src.strip()
        if not src or src.startswith("data:") or _PIXEL_HOST_RE.search(src):
            return
        self.image_url = src


def _normalise_ws(text: str) -> str:
    text = _CTRL_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _MANY_NL_RE.sub("\n\n", text).strip()


def _neutralise_markup(text: str) -> str:
    # Entity-decoded text can contain markup again ("&lt;script&gt;"); it must not reach
    # messages as tags. Remove tag-like runs, then defuse any "<x" left over.
    for _ in range(3):
        new = _TAGLIKE_RE.sub(" ", text)
        if new == text:
            break
        text = new
    return _LT_RE.sub("< ", text)


def _html_to_text(html: str) -> tuple[str, str | None]:
    if not _LOOKS_HTML_RE.search(html):
        # Plain text (mos.ru descriptions): its newlines are meaningful.
        text = unescape(html).replace("\r\n", "\n").replace("\r", "\n")
        text = re.sub(r"\n[ \t]*\n", "\n\n", text)
        return text, None
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but never let odd input escape
        pass
    text = "".join(parser.parts)
    # Inside HTML, source newlines are just whitespace; structure came from the tags.
    text = re.sub(r"[ \t\r]*\n(?!\n)[ \t\r]*", " ", text.replace("\n\n", "\x00"))
    text = text.replace("\x00", "\n\n").replace(_BR, "\n")
    return text, parser.image_url


# --- boilerplate ---------------------------------------------------------------------------

# Phrases that start a boilerplate tail: from the match to the end of the line is dropped when
# the tail is short. They must be at a line start or after a sentence end.
_TAIL_PATTERNS = [
    r"читайте\s+(?:также|еще|ещё|нас)",
    r"смотрите\s+также",
    r"по\s+теме\s*:",
    r"(?:фото(?:графия|графии)?|фото\s+и\s+видео|видео|иллюстрация|автор\s+фото)\s*[:：—–-]",
    r"фото\s*[:—–-]",
    r"источник(?:\s+фото)?\s*[:—–-]",
    r"(?:подписывайтесь|подпишитесь)\s+на\s+(?:наш|нас|канал|телеграм|telegram)",
    r"(?:наш|мы\s+в)\s+(?:телеграм|telegram)[- ]?канал",
    r"следите\s+за\s+(?:нашими\s+)?новостями\s+в",
]
_TAIL_RE = re.compile(
    r"(?:^|(?<=[.!?…»\"”)])\s+)(?:" + "|".join(_TAIL_PATTERNS) + r")",
    re.IGNORECASE | re.MULTILINE,
)
_TAIL_MAX = 400
# Cheap substring pre-check: the look-behind regex above is slow to run on every line.
_TAIL_STEMS = (
    "читайте", "смотрите", "по теме", "фото", "видео", "иллюстрац", "источник", "подпис", "подпиш",
    "telegram", "телеграм", "следите",
)  # fmt: skip
_COUNTER_RE = re.compile(
    r"яндекс\.\s*метрика|рейтинг@mail\.ru|top\.mail\.ru|liveinternet|счетчик|счётчик",
    re.IGNORECASE,
)
_READ_ALSO_RE = re.compile(
    r"^\s*(?:читайте\s+(?:также|еще|ещё)|смотрите\s+также|по\s+теме)\b", re.IGNORECASE
)
# A headline in a related-links block: short, single line, not ending like a sentence.
_HEADLINE_MAX = 200


def _is_headline(par: str) -> bool:
    return bool(par) and "\n" not in par and len(par) <= _HEADLINE_MAX and not par.endswith(".")


def strip_boilerplate(text: str) -> str:
    """Remove related-links blocks, credits, counters and subscription calls from clean text."""
    out: list[str] = []
    skipping_headlines = False
    for par in text.split("\n\n"):
        if skipping_headlines:
            if _is_headline(par):
                continue
            skipping_headlines = False
        header_only = False
        lines: list[str] = []
        for line in par.split("\n"):
            if len(line) <= 120 and _COUNTER_RE.search(line):
                continue
            low = line.lower()
            m = _TAIL_RE.search(line) if any(x in low for x in _TAIL_STEMS) else None
            if m and len(line) - m.start() <= _TAIL_MAX:
                tail = line[m.start() :].strip()
                if _READ_ALSO_RE.match(tail) and not _READ_ALSO_RE.sub("", tail).strip(" :—–-"):
                    # «Читайте также:» alone introduces a list of headlines that follows.
                    header_only = True
                line = line[: m.start()].rstrip()
            if line:
                lines.append(line)
        if header_only:
            skipping_headlines = True
        if lines:
            out.append("\n".join(lines))
    return "\n\n".join(out)


def clean_html(html: str, *, strip_site_boilerplate: bool = True) -> CleanResult:
    """Convert an HTML fragment (or plain text) to clean text; keep the first image URL.

    Never raises; the result contains no markup: paragraphs are separated by a blank line.
    """
    if not html:
        return CleanResult("", None)
    text, image = _html_to_text(html)
    text = _normalise_ws(_neutralise_markup(_CTRL_RE.sub("", text)))
    if strip_site_boilerplate:
        text = strip_boilerplate(text)
    # Final guard: nothing above can create "<x", but this is what keeps markup out for sure.
    return CleanResult(_LT_RE.sub("< ", text), image)


def clean_title(raw: str) -> str:
    """Title text: tags stripped, entities decoded (also double-escaped ones), one line."""
    if not raw:
        return ""
    text = raw
    for _ in range(2):  # RSS titles are often escaped twice ("&amp;amp;")
        if "&" not in text:
            break
        text = unescape(text)
    if _LOOKS_HTML_RE.search(text):
        text, _ = _html_to_text(text)
    text = _neutralise_markup(_CTRL_RE.sub("", text))
    return _LT_RE.sub("< ", " ".join(text.split()))
