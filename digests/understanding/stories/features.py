"""What an article brings to story matching: a MinHash signature of its body and its content
terms, both from lemmas.

* Signature: MinHash over shingles of content lemmas of the *body* (titles are rewritten
  freely), with hash functions derived from BLAKE2b so signatures are identical across
  processes and machines and can be stored (:meth:`StoryFeatures.to_bytes`).
* Content terms (:attr:`StoryFeatures.terms`): the body's lemmas without function words and
  generic news words, for the paraphrase channel of :mod:`.index`; with their hashes and the
  document-frequency slots the index counts them in.
* Numbers in context (:attr:`StoryFeatures.quantities`, :mod:`.quantities`): each number with
  the word it counts, so that two texts can agree or conflict on a count.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from digests.understanding.stories.quantities import CARDINALS, Quantity, quantities

__all__ = [
    "DF_BITS",
    "NUM_PERM",
    "U32",
    "U64",
    "Slots",
    "StoryFeatures",
    "StoryVocabulary",
    "similarity",
    "story_features",
]

NUM_PERM = 128
_SHINGLE = 2  # lemma bigrams: robust to reordered paragraphs and light rewording
# Version byte of the serialised form. 1: head, signature, string sections; 2: a length-prefixed
# block of content terms after the signature; 3 (written now): then a block of quantities.
_FORMAT_PLAIN, _FORMAT_TERMS, _FORMAT = 1, 2, 3

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
Slots = npt.NDArray[np.intp]  # indices into the document-frequency table


def _stable_u64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


# Multiply-shift hash family h(x) = (a·x + b mod 2^64) >> 32 with odd a: parameters come from
# BLAKE2b of fixed labels, never from a seeded RNG whose stream could change between versions.
_A: U64 = np.array([_stable_u64(b"minhash-a-%d" % i) | 1 for i in range(NUM_PERM)], np.uint64)
_B: U64 = np.array([_stable_u64(b"minhash-b-%d" % i) for i in range(NUM_PERM)], np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)
_MASK32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)

# Function words carry no story identity; dropping them makes shingles about content.
_STOPWORDS_TEXT = """и в во на с со по для о об обо к ко у за из от до а но что это как
    который также
    быть он она оно они мы вы я ты этот тот свой весь так же ли не ни то при под над через
    между или уже еще его ее их все чтобы если когда где там тут здесь можно нужно более
    менее очень самый такой каждый один их себя бы вот лишь только даже"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

# Words of nearly every city news item: they say nothing about *which* event a text is about.
# The index's own document frequencies down-weight common words anyway; this list matters while
# the index is small (start-up, tests) and keeps the inverted index free of huge posting lists.
# A region adds its own (the city's name: «москва», «москвич») in ``generic_words``.
_GENERIC_TEXT = """город городской район районный округ
    окружной административный житель человек год месяц неделя день время час
    сообщить рассказать отметить сказать заявить пояснить подчеркнуть добавить напомнить
    сообщаться новость новый большой другой первый второй последний ближайший
    работа работать проходить пройти провести проводить начать начаться стать мочь
    получить сделать иметь являться находиться появиться планировать
    мэр правительство департамент управа префектура
    также которые кроме около почти более менее тысяча миллион сто
    сегодня вчера завтра сейчас теперь ранее уже еще раз"""
_GENERIC = frozenset(_GENERIC_TEXT.split())

_NO_HASHES: U64 = np.zeros(0, np.uint64)
DF_BITS = 20  # document frequencies are counted in 2^20 hash slots (4 MiB)
_DF_MASK = np.uint64((1 << DF_BITS) - 1)

_word_hash_cache: dict[str, int] = {}


def _word_hash(lemma: str) -> int:
    h = _word_hash_cache.get(lemma)
    if h is None:
        h = _stable_u64(lemma.encode("utf-8"))
        if len(_word_hash_cache) > 500_000:
            _word_hash_cache.clear()
        _word_hash_cache[lemma] = h
    return h


def _word_hashes(words: list[str]) -> U64:
    """BLAKE2b-derived hashes of words; with a warm cache one C-level map, no Python loop."""
    try:
        values = list(map(_word_hash_cache.__getitem__, words))
    except KeyError:
        for w in set(words).difference(_word_hash_cache):
            _word_hash(w)
        try:
            values = list(map(_word_hash_cache.__getitem__, words))
        except KeyError:  # the bounded cache was cleared half-way
            values = list(map(_word_hash, words))
    return np.array(values, dtype=np.uint64)


@dataclass(frozen=True, slots=True, eq=False)
class StoryFeatures:
    """Everything needed to compare an article with others; storable as bytes."""

    signature: U32  # MinHash values, NUM_PERM × uint32
    n_shingles: int
    districts: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    length: int = 0  # characters of the cleaned body: "most complete" representative
    settlements: frozenset[str] = frozenset()  # former settlements named (finer than districts)
    terms: frozenset[str] = frozenset()  # content lemmas of the body, for paraphrases
    quantities: frozenset[Quantity] = frozenset()  # (counted word, number) pairs of the body
    # Derived from terms (never stored), in one order: the terms and their BLAKE2b hashes (a
    # deterministic tie-break when choosing anchors); computed here unless the caller has them.
    words: tuple[str, ...] = field(default=(), repr=False)
    hashes: U64 = field(default_factory=lambda: _NO_HASHES, repr=False)
    slots: Slots = field(init=False, repr=False)  # document-frequency slots of the hashes

    def __post_init__(self) -> None:
        if len(self.words) != len(self.terms) or len(self.hashes) != len(self.terms):
            words = list(self.terms)
            object.__setattr__(self, "words", tuple(words))
            object.__setattr__(self, "hashes", _word_hashes(words))
        object.__setattr__(self, "slots", (self.hashes & _DF_MASK).astype(np.intp))

    def to_bytes(self) -> bytes:
        """Deterministic little-endian encoding: version, counts, signature, then strings.

        Version 1: head, signature, string sections. Version 2 inserts ``<I`` byte length +
        the \\x1f-joined terms right after the signature; version 3 (written now) then a
        block of quantities the same way (``word\\x1dnumber`` each). The string sections stay
        last, so all versions share one reader.
        """
        extra = "\x1f".join(sorted(self.districts)) + "\x1e" + "\x1f".join(sorted(self.numbers))
        if self.settlements:  # optional third section: bytes without it keep the first layout
            extra += "\x1e" + "\x1f".join(sorted(self.settlements))
        head = struct.pack("<BII", _FORMAT, self.n_shingles, self.length)
        out = head + self.signature.astype("<u4").tobytes()
        for block in (
            "\x1f".join(sorted(self.terms)),
            "\x1f".join(sorted(f"{word}\x1d{number}" for word, number in self.quantities)),
        ):
            data = block.encode("utf-8")
            out += struct.pack("<I", len(data)) + data
        return out + extra.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> StoryFeatures:
        version, n_shingles, length = struct.unpack_from("<BII", data)
        if version not in (_FORMAT_PLAIN, _FORMAT_TERMS, _FORMAT):
            raise ValueError(f"unknown story signature format {version}")
        off = struct.calcsize("<BII")
        sig = np.frombuffer(data, dtype="<u4", count=NUM_PERM, offset=off).astype(np.uint32)
        off += 4 * NUM_PERM
        blocks: list[list[str]] = []
        for _ in range(version - 1):  # the length-prefixed blocks: terms, then quantities
            (size,) = struct.unpack_from("<I", data, off)
            off += 4
            blocks.append(data[off : off + size].decode("utf-8").split("\x1f") if size else [])
            off += size
        terms = frozenset(blocks[0]) if blocks else frozenset()
        pairs = (q.split("\x1d", 1) for q in blocks[1]) if len(blocks) > 1 else iter(())
        sections = data[off:].decode("utf-8").split("\x1e")
        districts_s, numbers_s = sections[0], sections[1]
        settlements_s = sections[2] if len(sections) > 2 else ""
        return cls(
            signature=sig,
            n_shingles=n_shingles,
            districts=frozenset(filter(None, districts_s.split("\x1f"))),
            numbers=frozenset(filter(None, numbers_s.split("\x1f"))),
            length=length,
            settlements=frozenset(filter(None, settlements_s.split("\x1f"))),
            terms=terms,
            quantities=frozenset((word, number) for word, number in pairs),
        )

    def similarity(self, other: StoryFeatures) -> tuple[float, float]:
        """Estimated (Jaccard, containment of the smaller in the larger)."""
        return similarity(self.signature, self.n_shingles, other.signature, other.n_shingles)


def similarity(sig_a: U32, a: int, sig_b: U32, b: int) -> tuple[float, float]:
    """Estimated (Jaccard, containment) of two texts by signature and number of shingles."""
    if a == 0 or b == 0:
        return 0.0, 0.0
    j = float(np.count_nonzero(sig_a == sig_b)) / NUM_PERM
    # |A∩B| = J·|A∪B| = J·(|A|+|B|)/(1+J)
    c = j * (a + b) / ((1.0 + j) * min(a, b))
    return j, min(c, 1.0)


def _is_term(lemma: str, generic: frozenset[str]) -> bool:
    """Content term: not a generic news word; one- and two-letter words are mostly initials and
    abbreviation debris, unless they are numbers («6 километров»)."""
    return lemma not in generic and (len(lemma) > 2 or lemma.isdigit())


_TABLE_LIMIT = 500_000  # distinct lemmas before the table starts afresh


class _LemmaTable:
    """Per-lemma facts computed once: an id per lemma, and by id its BLAKE2b hash and whether
    it is a stop word, a content term, a number in digits, or a token that may start a number
    (digits or a cardinal word, where :func:`.quantities.quantities` looks). One dict lookup
    per word of an article (then numpy indexing) replaces a lookup per word in several caches.

    Thread-safe enough for worker threads: readers look ids up first and read the arrays
    afterwards; a writer (under a lock) stores the facts of new lemmas, installing grown
    arrays, *before* publishing their ids, and a full table is replaced, never cleared."""

    __slots__ = ("digits", "generic", "hashes", "ids", "numeric", "stops", "terms", "words")

    def __init__(self, generic: frozenset[str], capacity: int = 4096) -> None:
        self.generic = generic
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.hashes: U64 = np.zeros(capacity, np.uint64)
        self.stops: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)
        self.terms: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)
        self.digits: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)
        self.numeric: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)

    def add(self, new: list[str]) -> None:
        n = len(self.words)
        if n + len(new) > len(self.hashes):
            size = max(2 * len(self.hashes), n + len(new))
            hashes: U64 = np.zeros(size, np.uint64)
            stops: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            terms: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            digits: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            numeric: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            hashes[:n], stops[:n] = self.hashes[:n], self.stops[:n]
            terms[:n], digits[:n], numeric[:n] = self.terms[:n], self.digits[:n], self.numeric[:n]
        else:
            hashes, stops, terms = self.hashes, self.stops, self.terms
            digits, numeric = self.digits, self.numeric
        for i, w in enumerate(new, n):
            hashes[i] = _stable_u64(w.encode("utf-8"))
            stops[i] = w in _STOPWORDS
            terms[i] = _is_term(w, self.generic)
            digits[i] = w.isdigit()
            numeric[i] = w[:1].isdigit() or w in CARDINALS
        self.words.extend(new)
        self.hashes, self.stops, self.terms = hashes, stops, terms
        self.digits, self.numeric = digits, numeric
        self.ids.update(zip(new, range(n, n + len(new)), strict=True))


class StoryVocabulary:
    """Which lemmas carry story identity: not function words, not generic news words (the
    language's, plus a region's ``generic_words`` such as the city's name). It keeps the lemma
    table of the articles it has seen; :meth:`features` computes an article's features."""

    def __init__(self, generic_words: Iterable[str] = ()) -> None:
        self.generic = _GENERIC | frozenset(generic_words)
        self._table = _LemmaTable(self.generic)
        self._lock = threading.Lock()

    def _lemma_ids(self, lemmas: Sequence[str]) -> tuple[_LemmaTable, npt.NDArray[np.intp]]:
        """Ids of lemmas in the table that holds them all; with a warm table one C-level map."""
        table = self._table
        try:
            return table, np.fromiter(map(table.ids.__getitem__, lemmas), np.intp, len(lemmas))
        except KeyError:
            pass
        with self._lock:
            table = self._table
            new = list(set(lemmas).difference(table.ids))
            if new:
                if len(table.words) + len(new) > _TABLE_LIMIT:
                    table = _LemmaTable(self.generic)
                    new = list(dict.fromkeys(lemmas))
                    table.add(new)
                    self._table = table
                else:
                    table.add(new)
        return table, np.fromiter(map(table.ids.__getitem__, lemmas), np.intp, len(lemmas))

    def features(
        self,
        lemmas: Sequence[str],
        *,
        districts: Iterable[str] = (),
        length: int = 0,
        settlements: Iterable[str] = (),
        words: Sequence[str] | None = None,
        gaps: Sequence[str] | None = None,
    ) -> StoryFeatures:
        """Features of an article body from its lemmas (numbers are kept as their digits); with
        the body's folded word tokens and the gaps before them (parallel to ``lemmas``) also its
        numbers in context."""
        return _features(
            self._lemma_ids(lemmas), lemmas, districts, length, settlements, words, gaps
        )


_LANGUAGE_ONLY = StoryVocabulary()


def story_features(
    lemmas: Sequence[str],
    *,
    districts: Iterable[str] = (),
    length: int = 0,
    settlements: Iterable[str] = (),
    words: Sequence[str] | None = None,
    gaps: Sequence[str] | None = None,
    vocabulary: StoryVocabulary | None = None,
) -> StoryFeatures:
    """Features of an article body from its lemmas (numbers are kept as their digits), with
    ``vocabulary`` (default: the language's generic words only; an Analyzer has its region's);
    with ``words`` and ``gaps`` also its numbers in context (:meth:`StoryVocabulary.features`)."""
    return (vocabulary or _LANGUAGE_ONLY).features(
        lemmas, districts=districts, length=length, settlements=settlements, words=words,
        gaps=gaps,
    )  # fmt: skip


def _features(
    found: tuple[_LemmaTable, npt.NDArray[np.intp]],
    lemmas: Sequence[str],
    districts: Iterable[str],
    length: int,
    settlements: Iterable[str],
    words: Sequence[str] | None,
    gaps: Sequence[str] | None,
) -> StoryFeatures:
    table, ids = found
    counted: frozenset[Quantity] = frozenset()
    if words is not None and gaps is not None:
        starts = np.flatnonzero(table.numeric[ids]).tolist()
        if starts:
            counted = quantities(words, gaps, lemmas, starts)
    ids = ids[~table.stops[ids]]  # content words, in order
    hashes = table.hashes[ids]
    words_of = table.words.__getitem__
    numbers = frozenset(map(words_of, ids[table.digits[ids]].tolist()))
    # Content terms, distinct, ordered by hash, with their hashes (as in the shingles): a sort
    # and a neighbour comparison, cheaper than np.unique's layers for a few hundred values.
    term_ids = ids[table.terms[ids]]
    term_hashes = table.hashes[term_ids]
    order = term_hashes.argsort()
    term_hashes = term_hashes[order]
    term_ids = term_ids[order]
    if len(term_hashes) > 1:
        keep = np.empty(len(term_hashes), np.bool_)
        keep[0] = True
        np.not_equal(term_hashes[1:], term_hashes[:-1], out=keep[1:])
        term_hashes, term_ids = term_hashes[keep], term_ids[keep]
    term_words = tuple(map(words_of, term_ids.tolist()))
    terms = frozenset(term_words)
    places, towns = frozenset(districts), frozenset(settlements)
    if len(ids) < _SHINGLE:
        sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint32)
        return StoryFeatures(
            sig, 0, places, numbers, length, towns, terms, counted, term_words, term_hashes
        )
    # Shingle hash: rolling combination of neighbouring word hashes (uint64 wraps around).
    sh = hashes[: len(hashes) - _SHINGLE + 1].copy()
    for k in range(1, _SHINGLE):
        sh *= _MIX
        sh += hashes[k : len(hashes) - _SHINGLE + 1 + k]
    sh ^= sh >> _SHIFT
    sh &= _MASK32
    # Sorting in place and counting distinct values is cheaper than np.unique; repeated
    # shingles do not change a minimum, so they may stay in the array.
    sh.sort()
    n_shingles = 1 + int(np.count_nonzero(sh[1:] != sh[:-1]))
    values = sh[:, None] * _A[None, :]
    values += _B[None, :]
    # >> 32 is monotonic, so it can be applied after the minimum (128 values, not n × 128).
    sig = (values.min(axis=0) >> _SHIFT).astype(np.uint32)
    return StoryFeatures(
        sig, n_shingles, places, numbers, length, towns, terms, counted, term_words, term_hashes
    )
