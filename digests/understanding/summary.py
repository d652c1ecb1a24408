"""A short clean lead for each article: one or two sentences, at most ~300 characters.

Okrug papers and agencies wrap the news in boilerplate: a dateline («МОСКВА, 12 ноября —»),
photo credits («Фото: mos.ru»), «Читайте также» links. :func:`clean_text` removes it (the
same cleaned text feeds story signatures, so credits do not make unrelated articles similar),
and :func:`lead` cuts at a sentence boundary found by razdel.
"""

from __future__ import annotations

import re

from razdel import sentenize

__all__ = ["clean_text", "lead"]

_MONTHS = (
    r"(?:январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|"
    r"сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья])"
)
# «МОСКВА, 12 ноября —», «Москва, 12 ноября 2024 года –», «ЗЕЛЕНОГРАД, 3 марта. —»
_DATELINE_RE = re.compile(
    r"^\s*[А-ЯЁ][А-ЯЁа-яё\- ]{1,40}[,.]\s*\d{1,2}\s+" + _MONTHS
    + r"(?:\s+\d{4}(?:\s*(?:г\.|года))?)?\s*[.,]?\s*(?:[—–-]+|\.)\s*",
    re.IGNORECASE,
)  # fmt: skip
# Whole lines of boilerplate.
_BOILERPLATE_LINE_RE = re.compile(
    r"^\s*(?:фото|фотографии|видео|источник|автор фото|иллюстрация|читайте также|"
    r"подписывайтесь|подробнее|реклама)\b[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
# A credit at the end of a line: «... открыли сквер. Фото: пресс-служба префектуры»
# (anchored on the word, not on leading spaces: an unanchored \s* would be retried everywhere)
_TRAILING_CREDIT_RE = re.compile(r"(?:Фото|Видео|Источник)\s*[:—–-][^\n]*$", re.MULTILINE)
_BOILERPLATE_KEYS = (
    "фото", "видео", "источник", "иллюстрация", "читайте", "подписывайтесь", "подробнее",
    "реклама",
)  # fmt: skip
_SPACE_RE = re.compile(r"[ \t\u00a0]+")
_MIN_SENTENCE = 20  # shorter "sentences" are usually captions or fragments


def clean_text(text: str) -> str:
    """Text without dateline, photo credits and link boilerplate; whitespace normalised."""
    low = text.lower()
    # Cheap substring checks first: most texts have no boilerplate and the regexes would
    # otherwise be tried at every position.
    if any(k in low for k in _BOILERPLATE_KEYS):
        text = _BOILERPLATE_LINE_RE.sub("", text)
        text = _TRAILING_CREDIT_RE.sub("", text)
    text = _DATELINE_RE.sub("", text, count=1)
    out: list[str] = []
    for line in text.splitlines():
        # The regex substitution costs a call per space: only lines that need it pay for it.
        if "  " in line or "\t" in line or "\u00a0" in line:
            line = _SPACE_RE.sub(" ", line)
        line = line.strip()
        if line:
            out.append(line)
    return "\n".join(out)


def lead(text: str, title: str = "", max_chars: int = 300, *, cleaned: bool = False) -> str:
    """One or two first sentences of the cleaned text, cut at a sentence boundary.

    A first sentence that repeats the title is skipped; a single sentence longer than
    ``max_chars`` is cut at a word boundary with an ellipsis. Pass ``cleaned=True`` when
    ``text`` already went through :func:`clean_text`.
    """
    body = text if cleaned else clean_text(text)
    # razdel is the slow part: a lead never needs more than the beginning.
    window = body[: max_chars * 2 + 200]
    title_key = _key(title)
    chosen: list[str] = []
    total = 0
    for sent in sentenize(window):
        s = " ".join(sent.text.split())
        if len(s) < _MIN_SENTENCE or (title_key and _key(s) == title_key):
            continue
        if not chosen:
            chosen.append(s)
            total = len(s)
            if total >= max_chars * 0.6:
                break
            continue
        if total + 1 + len(s) <= max_chars and sent.stop < len(window):
            chosen.append(s)
        break
    if not chosen:
        return _cut(" ".join(body.split()), max_chars)
    result = " ".join(chosen)
    return result if len(result) <= max_chars else _cut(result, max_chars)


def _key(s: str) -> str:
    return re.sub(r"\W+", " ", s.casefold()).strip()


def _cut(s: str, max_chars: int) -> str:
    if len(s) <= max_chars:
        return s
    cut = s[: max_chars - 1]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—–-") + "…"
