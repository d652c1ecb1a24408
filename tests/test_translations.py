"""The gettext catalogs match the code: every marked string is in ru and en, translated in ru
(plural forms included), placeholders agree, and the compiled .mo files are up to date.

Strings are extracted in memory with babel's API and the same keywords as the Makefile should
use: aiogram's ``_``/``__`` take one argument (gettext) or three (ngettext).
Failures are reported per source file, so it is clear whose strings are missing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SOURCE_DIRS = ("bot", "handlers", "digests")
LANGUAGES = ("ru", "en")
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_": {1: (1,), None: (1, 2)},
    "__": {1: (1,), None: (1, 2)},
    "N_": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-zA-Z_][a-zA-Z0-9_]*)[^{}]*\}(?!\})")

MsgId = str | tuple[str, ...]


@cache
def extracted() -> dict[str, dict[MsgId, int]]:
    """{source file: {msgid: line}}; plural msgids are (singular, plural) tuples."""
    found: dict[str, dict[MsgId, int]] = defaultdict(dict)
    for directory in SOURCE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            msgid: MsgId = tuple(message) if isinstance(message, (list, tuple)) else message
            if msgid:
                found[f"{directory}/{filename}"].setdefault(msgid, lineno)
    return dict(found)


@cache
def catalog(lang: str) -> Catalog:
    with open(LOCALES / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _key(msgid: MsgId) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


SOURCE_FILES = sorted(extracted())


def test_extraction_finds_the_handlers_strings() -> None:
    # Guards against keyword specs that silently drop one-argument _() calls.
    assert any(f.startswith("handlers/") for f in SOURCE_FILES)
    assert sum(len(extracted()[f]) for f in SOURCE_FILES if f.startswith("handlers/")) > 100


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("source", SOURCE_FILES)
def test_every_string_is_in_the_catalog(source: str, lang: str) -> None:
    cat = catalog(lang)
    missing = [
        f"line {line}: {msgid!r}"
        for msgid, line in extracted()[source].items()
        if cat.get(_key(msgid)) is None
    ]
    assert not missing, f"{len(missing)} string(s) of {source} missing from {lang} catalog " + (
        "(run the pybabel extract/update commands):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("source", SOURCE_FILES)
def test_russian_translations_are_complete(source: str) -> None:
    cat = catalog("ru")
    problems = []
    for msgid, line in extracted()[source].items():
        message = cat.get(_key(msgid))
        if message is None:
            continue  # reported by test_every_string_is_in_the_catalog
        strings = _strings(message)
        if message.fuzzy or not all(strings):
            problems.append(f"line {line}: untranslated {msgid!r}")
            continue
        if isinstance(msgid, tuple) and len(strings) != cat.num_plurals:
            problems.append(f"line {line}: {len(strings)} plural forms for {msgid!r}")
        expected = _placeholders(_key(msgid))
        for text in strings:
            if _placeholders(text) != expected:
                problems.append(f"line {line}: placeholders differ in {text!r} for {msgid!r}")
    assert not problems, f"ru catalog, strings of {source}:\n" + "\n".join(problems)


def test_english_plurals_have_both_forms() -> None:
    cat = catalog("en")
    incomplete = [
        message.id
        for message in cat
        if message.id and message.pluralizable and not all(_strings(message))
    ]
    assert not incomplete, incomplete


def test_russian_plural_rule_has_three_forms() -> None:
    assert catalog("ru").num_plurals == 3
    assert catalog("en").num_plurals == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_is_not_older_than_source(lang: str) -> None:
    directory = LOCALES / lang / "LC_MESSAGES"
    po, mo = directory / "messages.po", directory / "messages.mo"
    assert mo.exists(), f"{mo} is missing: run pybabel compile -d locales -D messages"
    assert mo.stat().st_mtime >= po.stat().st_mtime, (
        f"{mo} is older than {po}: run pybabel compile -d locales -D messages"
    )


def test_russian_plurals_in_the_compiled_catalog() -> None:
    ru = Translations.load(str(LOCALES), ["ru"], "messages")
    singular, plural = "📍 You follow {n} place:", "📍 You follow {n} places:"
    forms = {n: ru.ngettext(singular, plural, n).format(n=n) for n in (1, 2, 5, 11, 21, 22)}
    assert forms[1] == forms[21].replace("21", "1")
    assert forms[2] == forms[22].replace("22", "2")
    assert forms[5] == forms[11].replace("11", "5")
    assert (
        len({forms[1].replace("1", "#"), forms[2].replace("2", "#"), forms[5].replace("5", "#")})
        == 3
    )
