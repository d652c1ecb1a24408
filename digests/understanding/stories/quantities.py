"""Numbers in context: each number of a text with the word it counts or names.

«на 750 посещений» is ``("посещение", "750")``, «с 18 по 28 марта» gives ``("март", "18")`` and
``("март", "28")``, «школа № 2120» ``("школа", "2120")``, «1,2 миллиона кубометров»
``("кубометр", "1200000")``, «семь пожаров» ``("пожар", "7")``. Two texts *conflict* on a word
when both count it and share none of its numbers (750 vs 800 посещений, 14 vs 21 марта); a
number whose word the other text never counts (a local «в 12 центрах») is neither agreement
nor conflict.

Works on the folded word tokens of a text, the gaps between them (punctuation decides where a
phrase ends) and their lemmas; pure and cheap: only the neighbourhood of numbers is looked at.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence

__all__ = [
    "CARDINALS",
    "CLOCK",
    "IDENTIFIER",
    "Quantity",
    "by_word",
    "conflicts",
    "pack",
    "quantities",
    "unpack",
]

Quantity = tuple[str, str]  # (lemma of the counted or named word, the number's canonical form)
# Marks a number that names a thing rather than counts it («школа № 2120», «дом 12»,
# «Лазарева, 26»), so that «№школа 2120» and «школа 12» (twelve schools) stay apart.
IDENTIFIER = "№"
CLOCK = "время"  # the word of clock times («с 23:00»)

# Cardinal number words (lemmas) read as numbers; «один» is left out («один из», «одна школа»
# say nothing about a count), ordinals too (dates and grades come as digits).
CARDINALS = {
    "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8,
    "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13,
    "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40,
    "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900, "полтора": 1.5,
    "оба": 2, "двое": 2, "трое": 3, "четверо": 4, "пятеро": 5,
}  # fmt: skip
_MULTIPLIERS = {
    "тысяча": 1_000, "тыс": 1_000, "миллион": 1_000_000, "млн": 1_000_000,
    "миллиард": 1_000_000_000, "млрд": 1_000_000_000,
}  # fmt: skip
# Words joining numbers that share the counted word: «14 и 15 марта», «с 18 по 28 марта».
_LINKS = frozenset({"-", "–", ",", "/"})  # «7–9 марта», «2026/27», «12, 14 и 16»
_JOINERS = frozenset({"и", "или", "по", "до", "а", "также"})
# Words a number after them names, not counts: «дом 12», «школа № 2120», «маршрут 37».
_NAMED_BY_TEXT = """дом корпус корп строение стр владение вл школа гимназия лицей колледж
    поликлиника больница сад детсад маршрут автобус трамвай троллейбус линия подъезд этаж
    квартира кабинет участок павильон зал вход выход площадка мкр микрорайон квартал"""
_NAMED_BY = frozenset(_NAMED_BY_TEXT.split())
# Words between a number and what it counts: «около 300 человек», «до 15 тысяч».
_SKIP_TEXT = """в во на с со по для о об к ко у за из от до около более менее свыше почти
    примерно порядка больше меньше не ни уже еще всего лишь только также и а или же"""
_SKIP = frozenset(_SKIP_TEXT.split())
# Punctuation after which a phrase is over: the counted word is not looked for beyond it.
_HARD = frozenset(".;:!?()«»\"„“”—\n")
_ADJ_ENDINGS = (
    "ых", "их", "ым", "им", "ыми", "ими", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его",
    "ому", "ему", "ой", "ей", "ую", "юю", "ый", "ий",
)  # fmt: skip
# «1-й», «5-го», «10-м»: an ordinal's ending after a hyphen, not a word it counts.
_ORDINAL_ENDINGS = frozenset(
    {"й", "я", "е", "го", "му", "м", "х", "ми", "ый", "ая", "ое", "ой", "ого", "ому", "ым"}
)
_LOOKAHEAD = 4  # tokens after a number searched for the word it counts


def _hard(gap: str) -> bool:
    return not _HARD.isdisjoint(gap)


def _adjective(word: str, lemma: str) -> bool:
    """An adjective-looking token («новых» → «новый») between a number and its noun."""
    return lemma.endswith(("ый", "ий", "ой")) and word.endswith(_ADJ_ENDINGS)


def _canonical(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _number_at(
    words: Sequence[str], gaps: Sequence[str], lemmas: Sequence[str], i: int
) -> tuple[str, float | None, int] | None:
    """The number starting at token ``i``: (canonical text, value or None for a clock time,
    index after it), or None when token ``i`` starts no number."""
    n = len(words)
    w = words[i]
    if w.isdigit():
        j = i + 1
        if j < n and words[j].isdigit():
            gap = gaps[j]
            if gap == ":" and len(words[j]) == 2:  # 23:00
                return f"{int(w)}:{words[j]}", None, j + 1
            if gap in (",", "."):  # 1,2 or 1.5
                return "", float(f"{w}.{words[j]}"), j + 1
        value = float(w)
        # «12 000» and «1 200 000»: groups of three digits after one of at most three.
        while j < n and len(w) <= 3 and gaps[j] in (" ", "\xa0") and len(words[j]) == 3 \
                and words[j].isdigit():  # fmt: skip
            value = value * 1000 + float(words[j])
            j += 1
        return "", value, j
    cardinal = CARDINALS.get(lemmas[i])
    if cardinal is None:
        return None
    value, j = float(cardinal), i + 1
    # «двадцать пять», «сто двадцать»: a bigger cardinal followed by a smaller one.
    while j < n and not _hard(gaps[j]) and (more := CARDINALS.get(lemmas[j])) is not None \
            and more < value and more >= 1:  # fmt: skip
        value += more
        j += 1
    return "", value, j


def quantities(
    words: Sequence[str], gaps: Sequence[str], lemmas: Sequence[str], starts: Iterable[int]
) -> frozenset[Quantity]:
    """Every number of a text with the lemma of the word it counts or names. ``words``,
    ``gaps`` (the text before each word) and ``lemmas`` are parallel; ``starts`` are the
    positions, in order, of the tokens that may begin a number (digits, cardinal words)."""
    out: set[Quantity] = set()
    n = len(words)
    i = 0
    for start in starts:
        if start < i:  # already part of the number or phrase before
            continue
        i = start
        # A run of numbers joined by «и», «по», «–», «,»: they share one counted word.
        run: list[tuple[str, float | None]] = []
        while i < n:
            found = _number_at(words, gaps, lemmas, i)
            if found is None:
                break
            text, value, i = found
            run.append((text, value))
            if i < n and gaps[i].strip() in _LINKS and _starts_number(words, lemmas, i):
                continue
            if _joined(words, gaps, lemmas, i):
                i += 1
                continue
            break
        if not run:
            i = start + 1
            continue
        context, scale, i = _counted(words, gaps, lemmas, start, i)
        for text, value in run:
            if value is None:
                out.add((CLOCK, text))
            else:
                out.add((context, _canonical(value * scale)))
    return frozenset(out)


def _joined(words: Sequence[str], gaps: Sequence[str], lemmas: Sequence[str], i: int) -> bool:
    """Token ``i`` is «и», «по», «до»... between two numbers of one phrase."""
    return (
        i + 1 < len(words) and lemmas[i] in _JOINERS and not _hard(gaps[i])
        and not _hard(gaps[i + 1]) and _starts_number(words, lemmas, i + 1)
    )  # fmt: skip


def _starts_number(words: Sequence[str], lemmas: Sequence[str], i: int) -> bool:
    return words[i][0].isdigit() or lemmas[i] in CARDINALS


def _counted(
    words: Sequence[str], gaps: Sequence[str], lemmas: Sequence[str], start: int, end: int
) -> tuple[str, float, int]:
    """The word a run of numbers (tokens ``start`` to ``end``) counts or names, the multiplier
    applied to them («тысяч») and where scanning goes on."""
    before = start - 1
    if before >= 0 and not _hard(gaps[start]) and (
        "№" in gaps[start] or lemmas[before] in _NAMED_BY
    ):
        return IDENTIFIER + lemmas[before], 1.0, end
    scale = 1.0
    j = end
    n = len(words)
    if j < n and gaps[j] in ("-", "–") and words[j] in _ORDINAL_ENDINGS:  # «1-й класс»
        j += 1
    while j < n and j < end + _LOOKAHEAD and not _hard(gaps[j]):
        lemma = lemmas[j]
        if lemma in _MULTIPLIERS:
            scale *= _MULTIPLIERS[lemma]
        elif lemma in _SKIP or _adjective(words[j], lemma):
            pass
        elif words[j][0].isdigit():
            break
        else:
            return lemma, scale, j + 1
        j += 1
    # Nothing counted after it: a house number after a street («Лазарева, 26»), a bare number.
    if before >= 0 and gaps[start].strip() in ("", ",") and not words[before][0].isdigit() \
            and lemmas[before] not in _SKIP:  # fmt: skip
        return IDENTIFIER + lemmas[before], scale, end
    return "", scale, end


def by_word(quantities: Iterable[Quantity]) -> dict[str, frozenset[str]]:
    """Numbers grouped by the word they count; bare numbers (no word) are left out: without a
    word there is nothing to compare them with."""
    grouped: dict[str, set[str]] = {}
    for word, number in quantities:
        if word:
            grouped.setdefault(word, set()).add(number)
    return {word: frozenset(numbers) for word, numbers in grouped.items()}


def pack(quantities: Iterable[Quantity]) -> str:
    """Quantities with a word as one string («word\\x1dnumber\\x1f...», sorted): one
    untracked object per indexed article instead of a set of tuples."""
    return "\x1f".join(sorted([word + "\x1d" + number for word, number in quantities if word]))


def unpack(packed: str, wanted: Container[str]) -> tuple[dict[str, frozenset[str]], int]:
    """The numbers of :func:`pack` by the word they count, for the words in ``wanted`` only,
    and how many different words the packed text counts."""
    grouped: dict[str, set[str]] = {}
    words = 0
    previous = None
    if packed:
        for item in packed.split("\x1f"):
            word, _, number = item.partition("\x1d")
            if word != previous:  # sorted: a word's numbers are together
                words += 1
                previous = word
            if word in wanted:
                grouped.setdefault(word, set()).add(number)
    return {word: frozenset(numbers) for word, numbers in grouped.items()}, words


def conflicts(
    a: Mapping[str, frozenset[str]], b: Mapping[str, frozenset[str]]
) -> tuple[list[str], list[str], list[str]]:
    """Words both texts count (:func:`by_word`), described for people, each list sorted:

    * agreeing: a number in common, «посещение 750»;
    * conflicting: each text has a number for the word that the other lacks, of comparable
      size: «посещение 750 ≠ 800», «метр 9, 270 ≠ 9, 210» (a copy that only *adds* numbers
      for a word, «центр 240» and «центр 240, 12», does not conflict);
    * apart: such numbers, but an order of magnitude apart, «группа 14 ≠ 24000»: more likely
      a district's share of a city-wide count than another version of it.

    A word can agree and conflict at once («метр 9» agrees, «270 ≠ 210» conflicts)."""
    agree: list[str] = []
    clash: list[str] = []
    scale: list[str] = []
    for word in sorted(a.keys() & b.keys()):
        mine, theirs = a[word], b[word]
        common = mine & theirs
        if common:
            agree.append(f"{word} {', '.join(sorted(common, key=_order))}")
        only_mine, only_theirs = mine - theirs, theirs - mine
        if not only_mine or not only_theirs:
            continue
        ours = ", ".join(sorted(mine, key=_order))
        described = f"{word} {ours} ≠ {', '.join(sorted(theirs, key=_order))}"
        # A part and its whole are counts: a name («школа № 1», «№ 7») is never part of one.
        count = not word.startswith(IDENTIFIER)
        (scale if count and _apart(only_mine, only_theirs) else clash).append(described)
    return agree, clash, scale


_MAGNITUDE = 5.0  # a part this many times smaller than a whole (an okrug: a twelfth of the city)


def _apart(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    """Every number of one set is at least an order of magnitude from every number of the
    other (clock times are never apart)."""
    try:
        xs = [float(v) for v in mine]
        ys = [float(v) for v in theirs]
    except ValueError:
        return False
    return all(
        x > 0 and y > 0 and max(x, y) >= _MAGNITUDE * min(x, y) for x in xs for y in ys
    )


def _order(number: str) -> tuple[int, str]:
    return len(number), number
