"""Near-duplicate clustering of articles into stories.

The same release republished by several papers (rewritten headline, reordered or edited
paragraphs) must become one story; template pieces that differ in substance («открыли
площадку в Куркино» / «... в Щукино») must not.

* Signature: MinHash over shingles of content lemmas of the *body* (titles are rewritten
  freely), with hash functions derived from BLAKE2b so signatures are identical across
  processes and machines and can be stored (:meth:`StoryFeatures.to_bytes`).
* Candidates: LSH banding, so an insertion or lookup costs O(bands), not O(articles).
* Decision: estimated *containment* (an edited copy that keeps 70% of a release is a copy
  even if the release is long), vetoed by different districts or different numbers.
* Paraphrases: an okrug paper that rewrites a release sentence by sentence shares few lemma
  bigrams with it, but keeps its *content words*: names, streets, organisations, numbers and
  specific nouns («Коломенское», «Гурьянова», «340», «планетарий»). A second channel, tried
  when the first finds nothing, compares the sets of content lemmas
  (:attr:`StoryFeatures.terms`, generic news words dropped), each word weighted by its rarity
  among the articles of the window (IDF from the index's own document frequencies, counted in
  a fixed hash table). Candidates come from an inverted index of each article's rarest words
  ("anchors", a few short posting lists, ties broken by hash so that two texts pick the same
  shared words), so a lookup costs O(anchors), not O(articles). A rewrite joins a story with
  a weighted Dice ≥ 0.40 *and* none of the vetoes above *and* a shared number or place (or a
  Dice ≥ 0.55 without one). Template pieces share their wording, so in both channels only the
  vetoes keep them apart.

Story ids are the caller's (database rows): :meth:`StoryIndex.assign` says which existing
story an article belongs to, the caller creates a row if needed, then :meth:`StoryIndex.add`.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import ge
from typing import Final, cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "NUM_PERM",
    "StoryFeatures",
    "StoryIndex",
    "StoryMatch",
    "StoryUpdate",
    "story_features",
]

NUM_PERM = 128
_BANDS = 42  # 42 bands × 3 rows (126 of 128 values): a pair at Jaccard 0.3 is found ~70%
_ROWS = 3
_SHINGLE = 2  # lemma bigrams: robust to reordered paragraphs and light rewording
_CONTAINMENT = 0.45  # estimated share of the smaller text's shingles found in the other
_FORMAT = 1  # version byte of the serialised form without content terms (still written)
_FORMAT_TERMS = 2  # version 1 layout plus a length-prefixed block of content terms
# Paraphrase channel.
_TERM_OVERLAP = 0.40  # weighted Dice of content terms needed to call a rewrite the same story
_TERM_OVERLAP_ALONE = 0.55  # ...or without a shared number or place
_RAW_OVERLAP = 0.25  # unweighted Dice below which a candidate is not weighed at all
_COMMON = 64  # posting lists longer than this (common words) give no candidates
_MIN_TERMS = 12  # fewer content words than this: too little to tell a paraphrase from a topic
_MIN_SHARED = 6  # shared content words needed, whatever their weight
_ANCHORS = 24  # an article's rarest terms in the posting lists, and looked up for candidates
_ANCHOR_HITS = 5  # a candidate must be found through at least this many of them
_MAX_EXAMINED = 6  # candidates (most anchors first) compared at all...
_MAX_SCORED = 4  # ...and weighed
_IDF_PRIOR = 10  # pseudo-articles in the IDF: log((N + prior) / (df + 1)) stays positive

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

# Words of nearly every Moscow news item: they say nothing about *which* event a text is about.
# The index's own document frequencies down-weight common words anyway; this list matters while
# the index is small (start-up, tests) and keeps the inverted index free of huge posting lists.
_GENERIC_TEXT = """москва московский столица столичный город городской район районный округ
    окружной административный житель москвич человек год месяц неделя день время час
    сообщить рассказать отметить сказать заявить пояснить подчеркнуть добавить напомнить
    сообщаться новость новый большой другой первый второй последний ближайший
    работа работать проходить пройти провести проводить начать начаться стать мочь
    получить сделать иметь являться находиться появиться планировать
    мэр правительство департамент управа префектура
    также которые кроме около почти более менее тысяча миллион сто
    сегодня вчера завтра сейчас теперь ранее уже еще раз"""
_GENERIC = frozenset(_GENERIC_TEXT.split())

_ID_DTYPE = np.dtype("<i8")  # article ids packed in bytes (LSH buckets, posting lists)
_ID_SIZE = _ID_DTYPE.itemsize
_pack_id = struct.Struct("<q").pack


def _unpack_ids(packed: bytes) -> list[int]:
    return cast(list[int], np.frombuffer(packed, _ID_DTYPE).tolist())


def _without(packed: bytes, article_id: int) -> bytes:
    """Packed ids without ``article_id``."""
    ids = np.frombuffer(packed, _ID_DTYPE)
    return cast(bytes, ids[ids != article_id].tobytes())


# Bucket keys: rows of [band number, the band's _ROWS values] viewed as one opaque value.
_BAND_TEMPLATE: U32 = np.zeros((_BANDS, 1 + _ROWS), np.uint32)
_BAND_TEMPLATE[:, 0] = np.arange(_BANDS)
_BAND_KEY = np.dtype((np.void, 4 * (1 + _ROWS)))
_NO_HASHES: U64 = np.zeros(0, np.uint64)
_DF_BITS = 20  # document frequencies are counted in 2^20 hash slots (4 MiB)
_DF_MASK = np.uint64((1 << _DF_BITS) - 1)
_DF_SHIFT = np.uint64(40)  # anchor sort key: document frequency, then the hash's top 40 bits
_HASH_SHIFT = np.uint64(24)

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

        Version 1: head, signature, string sections. Version 2 (written when there are content
        terms) inserts ``<I`` byte length + the \\x1f-joined terms right after the signature;
        the rest is the version 1 layout, so both versions share one reader.
        """
        extra = "\x1f".join(sorted(self.districts)) + "\x1e" + "\x1f".join(sorted(self.numbers))
        if self.settlements:  # optional third section: bytes without it keep the first layout
            extra += "\x1e" + "\x1f".join(sorted(self.settlements))
        version = _FORMAT_TERMS if self.terms else _FORMAT
        head = struct.pack("<BII", version, self.n_shingles, self.length)
        out = head + self.signature.astype("<u4").tobytes()
        if self.terms:
            block = "\x1f".join(sorted(self.terms)).encode("utf-8")
            out += struct.pack("<I", len(block)) + block
        return out + extra.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> StoryFeatures:
        version, n_shingles, length = struct.unpack_from("<BII", data)
        if version not in (_FORMAT, _FORMAT_TERMS):
            raise ValueError(f"unknown story signature format {version}")
        off = struct.calcsize("<BII")
        sig = np.frombuffer(data, dtype="<u4", count=NUM_PERM, offset=off).astype(np.uint32)
        off += 4 * NUM_PERM
        terms: frozenset[str] = frozenset()
        if version == _FORMAT_TERMS:
            (size,) = struct.unpack_from("<I", data, off)
            off += 4
            terms = frozenset(data[off : off + size].decode("utf-8").split("\x1f"))
            off += size
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
        )

    def similarity(self, other: StoryFeatures) -> tuple[float, float]:
        """Estimated (Jaccard, containment of the smaller in the larger)."""
        return _similarity(self.signature, self.n_shingles, other.signature, other.n_shingles)


def _similarity(sig_a: U32, a: int, sig_b: U32, b: int) -> tuple[float, float]:
    """Estimated (Jaccard, containment) of two texts by signature and number of shingles."""
    if a == 0 or b == 0:
        return 0.0, 0.0
    j = float(np.count_nonzero(sig_a == sig_b)) / NUM_PERM
    # |A∩B| = J·|A∪B| = J·(|A|+|B|)/(1+J)
    c = j * (a + b) / ((1.0 + j) * min(a, b))
    return j, min(c, 1.0)


def _is_term(lemma: str) -> bool:
    """Content term: not a generic news word; one- and two-letter words are mostly initials and
    abbreviation debris, unless they are numbers («6 километров»)."""
    return lemma not in _GENERIC and (len(lemma) > 2 or lemma.isdigit())


_TABLE_LIMIT = 500_000  # distinct lemmas before the table starts afresh


class _LemmaTable:
    """Per-lemma facts computed once: an id per lemma, and by id its BLAKE2b hash and whether
    it is a stop word, a content term or a number. One dict lookup per word of an article
    (then numpy indexing) replaces a lookup per word in each of several caches.

    Thread-safe enough for worker threads: readers look ids up first and read the arrays
    afterwards; a writer (under a lock) stores the facts of new lemmas, installing grown
    arrays, *before* publishing their ids, and a full table is replaced, never cleared."""

    __slots__ = ("digits", "hashes", "ids", "stops", "terms", "words")

    def __init__(self, capacity: int = 4096) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.hashes: U64 = np.zeros(capacity, np.uint64)
        self.stops: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)
        self.terms: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)
        self.digits: npt.NDArray[np.bool_] = np.zeros(capacity, np.bool_)

    def add(self, new: list[str]) -> None:
        n = len(self.words)
        if n + len(new) > len(self.hashes):
            size = max(2 * len(self.hashes), n + len(new))
            hashes: U64 = np.zeros(size, np.uint64)
            stops: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            terms: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            digits: npt.NDArray[np.bool_] = np.zeros(size, np.bool_)
            hashes[:n], stops[:n] = self.hashes[:n], self.stops[:n]
            terms[:n], digits[:n] = self.terms[:n], self.digits[:n]
        else:
            hashes, stops, terms, digits = self.hashes, self.stops, self.terms, self.digits
        for i, w in enumerate(new, n):
            hashes[i] = _stable_u64(w.encode("utf-8"))
            stops[i] = w in _STOPWORDS
            terms[i] = _is_term(w)
            digits[i] = w.isdigit()
        self.words.extend(new)
        self.hashes, self.stops, self.terms, self.digits = hashes, stops, terms, digits
        self.ids.update(zip(new, range(n, n + len(new)), strict=True))


_table = _LemmaTable()
_table_lock = threading.Lock()


def _lemma_ids(lemmas: Sequence[str]) -> tuple[_LemmaTable, npt.NDArray[np.intp]]:
    """Ids of lemmas in the table that holds them all; with a warm table one C-level map."""
    global _table
    table = _table
    try:
        return table, np.fromiter(map(table.ids.__getitem__, lemmas), np.intp, len(lemmas))
    except KeyError:
        pass
    with _table_lock:
        table = _table
        new = list(set(lemmas).difference(table.ids))
        if new:
            if len(table.words) + len(new) > _TABLE_LIMIT:
                table = _LemmaTable()
                new = list(dict.fromkeys(lemmas))
                table.add(new)
                _table = table
            else:
                table.add(new)
    return table, np.fromiter(map(table.ids.__getitem__, lemmas), np.intp, len(lemmas))


def story_features(
    lemmas: Sequence[str],
    *,
    districts: Iterable[str] = (),
    length: int = 0,
    settlements: Iterable[str] = (),
) -> StoryFeatures:
    """Features of an article body from its lemmas (numbers are kept as their digits)."""
    table, ids = _lemma_ids(lemmas)
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
    words = tuple(map(words_of, term_ids.tolist()))
    terms = frozenset(words)
    places, towns = frozenset(districts), frozenset(settlements)
    if len(ids) < _SHINGLE:
        sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint32)
        return StoryFeatures(sig, 0, places, numbers, length, towns, terms, words, term_hashes)
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
    return StoryFeatures(sig, n_shingles, places, numbers, length, towns, terms, words, term_hashes)


# --- the index ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """Result of :meth:`StoryIndex.assign`: the story to join, or None for a new story."""

    story_id: int | None
    article_id: int | None = None  # the stored article that matched
    jaccard: float = 0.0
    containment: float = 0.0
    reason: str = "no similar article"
    rejected: tuple[tuple[int, str], ...] = ()  # (article id, why not) for explain
    overlap: float = 0.0  # weighted overlap of content terms (paraphrase channel only)


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """Result of :meth:`StoryIndex.add`: the story's representative after the addition."""

    story_id: int
    representative_id: int
    representative_changed: bool
    sources: tuple[str, ...]


# Per-article data of the index: one plain tuple of atomic values (ints, strings, a datetime,
# tuples of strings, numpy arrays), never an object with a __dict__ or slots and no sets or
# lists. CPython's collector stops tracking such a tuple, so a full collection does not walk
# several containers per indexed article (with 20,000 articles it stalled the event loop).
_Entry = tuple[
    int,  # story id (the caller's)
    datetime,  # published
    str | None,  # canonical URL
    str | None,  # source (feed)
    int,  # length of the cleaned body
    int,  # n_shingles
    U32,  # MinHash signature
    tuple[str, ...],  # districts, sorted
    tuple[str, ...],  # numbers, sorted
    tuple[str, ...],  # settlements, sorted
    tuple[str, ...],  # content terms, in the iteration order of the features' frozenset
    Slots,  # document-frequency slots of the content terms
    tuple[str, ...],  # anchors: terms under which the article is in the posting lists
]
_STORY: Final = 0
_PUBLISHED: Final = 1
_URL: Final = 2
_SOURCE: Final = 3
_LENGTH: Final = 4
_N_SHINGLES: Final = 5
_SIGNATURE: Final = 6
_DISTRICTS: Final = 7
_NUMBERS: Final = 8
_SETTLEMENTS: Final = 9
_TERMS: Final = 10
_SLOTS: Final = 11
_ANCHOR_TERMS: Final = 12


def _veto(a: StoryFeatures, b: _Entry) -> str | None:
    """Evidence that two similar texts are different stories from one template."""
    b_districts, b_numbers, b_settlements = b[_DISTRICTS], b[_NUMBERS], b[_SETTLEMENTS]
    if a.districts and b_districts and a.districts.isdisjoint(b_districts):
        return "different districts"
    # Places are compared at the finest level both texts name: «в поселении Роговское» and
    # «в поселении Вороновское» are one district today but still two places.
    if a.settlements and b_settlements and a.settlements.isdisjoint(b_settlements):
        return "different settlements"
    # Each text has a number the other lacks.
    if not a.numbers.issubset(b_numbers) and not a.numbers.issuperset(b_numbers):
        return "different numbers"
    return None


def _anchored(a: StoryFeatures, b: _Entry) -> bool:
    """Concrete common ground beyond wording: a shared number, district or settlement."""
    return not (
        a.numbers.isdisjoint(b[_NUMBERS]) and a.districts.isdisjoint(b[_DISTRICTS])
        and a.settlements.isdisjoint(b[_SETTLEMENTS])
    )  # fmt: skip


def _shared_terms(terms: frozenset[str], other: tuple[str, ...]) -> frozenset[str]:
    """``terms & frozenset(other)`` with the result's iteration order (which fixes the order of
    a float sum over it) that ``terms & other_terms`` had when ``other`` holds the iteration
    order of the frozenset ``other_terms``: CPython builds an intersection by walking the
    smaller set (the right one on a tie) and inserting the members found in the larger."""
    if len(other) > len(terms):
        others = frozenset(other)
        return frozenset(filter(others.__contains__, terms))
    return frozenset(filter(terms.__contains__, other))


class StoryIndex:
    """In-memory index of recent articles; the caller fills it from storage at start-up
    (:meth:`add` with stored signature bytes) and keeps it in step as articles arrive.

    Everything it holds is plain tuples of atomic values in a few dicts (see :data:`_Entry`):
    the garbage collector does not track them, so its full collections stay short."""

    def __init__(
        self, window: timedelta = timedelta(hours=72), containment: float = _CONTAINMENT
    ) -> None:
        self.window = window
        self.threshold = containment
        self._entries: dict[int, _Entry] = {}
        # Story id → its representative article, and its members in order of addition.
        self._representatives: dict[int, int] = {}
        self._members: dict[int, tuple[int, ...]] = {}
        # LSH bucket → its articles as packed int64 ids in bytes, not sets or tuples: bytes are
        # never tracked by the garbage collector, so neither is this dict once the collector
        # has seen it (inserting bytes does not track it again) and a full collection walks
        # neither a container per bucket nor the dict's ~40 entries per article.
        self._buckets: dict[bytes, bytes] = {}
        self._urls: dict[str, int] = {}
        # Anchor term → articles having it as an anchor (in order of addition): candidates for
        # paraphrases. Packed int64 ids in bytes: not tracked by the collector, and unlike a
        # tuple a new copy (bytes + one id, a memcpy) is not traversed by young collections.
        self._postings: dict[str, bytes] = {}
        # Document frequency of every content term in the window, by hash slot (a collision
        # only makes two rare words look a little more common): IDF weights without a Python
        # loop or a per-word object.
        self._df: npt.NDArray[np.int32] = np.zeros(1 << _DF_BITS, np.int32)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _bands(sig: U32) -> list[bytes]:
        """LSH bucket keys, one per band: the band number and its rows' values as 16 bytes
        (built in one numpy step; flat bytes keys are not tracked by the garbage collector)."""
        keys = _BAND_TEMPLATE.copy()
        keys[:, 1:] = sig[: _BANDS * _ROWS].reshape(_BANDS, _ROWS)
        return cast(list[bytes], keys.astype("<u4").view(_BAND_KEY).ravel().tolist())

    def assign(
        self, features: StoryFeatures, published: datetime, url: str | None = None
    ) -> StoryMatch:
        """Which existing story (within the window) this article belongs to, if any."""
        if url is not None and url in self._urls:
            aid = self._urls[url]
            found = self._entries.get(aid)
            if found is not None:
                return StoryMatch(found[_STORY], aid, 1.0, 1.0, "same canonical URL")
        if features.n_shingles == 0:
            return StoryMatch(None, reason="empty text")
        buckets = map(self._buckets.get, self._bands(features.signature))
        candidates = set(_unpack_ids(b"".join(filter(None, buckets))))
        best: StoryMatch | None = None
        rejected: list[tuple[int, str]] = []
        sig, n_shingles = features.signature, features.n_shingles
        for aid in sorted(candidates):
            entry = self._entries[aid]
            if abs(published - entry[_PUBLISHED]) > self.window:
                continue
            j, c = _similarity(sig, n_shingles, entry[_SIGNATURE], entry[_N_SHINGLES])
            why = _veto(features, entry)
            if c < self.threshold:
                rejected.append((aid, f"containment {c:.2f} < {self.threshold:.2f}"))
                continue
            if why is not None:
                rejected.append((aid, f"containment {c:.2f} but {why}"))
                continue
            if best is None or c > best.containment:
                best = StoryMatch(entry[_STORY], aid, j, c, f"near-duplicate, containment {c:.2f}")
        if best is None:
            best = self._paraphrase(features, published, rejected)
        if best is None:
            return StoryMatch(None, reason="no similar article", rejected=tuple(rejected))
        return StoryMatch(
            best.story_id, best.article_id, best.jaccard, best.containment, best.reason,
            tuple(rejected), best.overlap,
        )  # fmt: skip

    def _rarest(self, f: StoryFeatures, min_df: int) -> list[str]:
        """The _ANCHORS terms of ``f`` used by fewest indexed articles (at least ``min_df``);
        ties go to the smallest hash, so two texts pick the same rare words they share."""
        df = self._df[f.slots]
        idx = np.flatnonzero(df >= min_df)
        if len(idx) > _ANCHORS:
            key = (df[idx].astype(np.uint64) << _DF_SHIFT) | (f.hashes[idx] >> _HASH_SHIFT)
            idx = idx[np.argpartition(key, _ANCHORS)[:_ANCHORS]]
        return list(map(f.words.__getitem__, idx.tolist()))

    def _idf(self, slots: Slots) -> npt.NDArray[np.float64]:
        """Rarity of terms among the indexed articles, log((N + prior) / (df + 1))."""
        n = float(len(self._entries) + _IDF_PRIOR)
        out: npt.NDArray[np.float64] = np.log(n / (self._df[slots] + 1.0))
        return out

    def _paraphrase(
        self, features: StoryFeatures, published: datetime, rejected: list[tuple[int, str]]
    ) -> StoryMatch | None:
        """Best rewritten copy: high IDF-weighted Dice of content terms and no veto."""
        terms = features.terms
        if len(terms) < _MIN_TERMS:
            return None
        # Candidates: the articles behind the rarest words this article shares with any (words
        # used by more than _COMMON articles of the window name no event).
        lists = [ids for ids in map(self._postings.get, self._rarest(features, 1)) if ids]
        short = [ids for ids in lists if len(ids) <= _COMMON * _ID_SIZE]
        if len(short) < _ANCHOR_HITS:
            return None
        # Usually no article is behind _ANCHOR_HITS of the lists: a sort of the ids in C tells
        # so (a sorted id repeated that often spans that many places) before any counting.
        ids_in_order = np.frombuffer(b"".join(short), _ID_DTYPE)
        flat = np.sort(ids_in_order)
        if not np.any(flat[_ANCHOR_HITS - 1 :] == flat[: len(flat) - _ANCHOR_HITS + 1]):
            return None
        hits = Counter(cast(list[int], ids_in_order.tolist()))  # in order of the lists
        shortlist = list(compress(hits, map(ge, hits.values(), repeat(_ANCHOR_HITS))))
        if not shortlist:
            return None
        if len(shortlist) > _MAX_EXAMINED:
            shortlist.sort(key=hits.__getitem__, reverse=True)  # stable: ties keep their order
            del shortlist[_MAX_EXAMINED:]
        best: StoryMatch | None = None
        idf_a: dict[str, float] = {}
        weight_a = 0.0
        scored = 0
        for aid in shortlist:
            if scored == _MAX_SCORED:
                break
            entry = self._entries[aid]
            if abs(published - entry[_PUBLISHED]) > self.window:
                continue
            other_terms = entry[_TERMS]
            shared = _shared_terms(terms, other_terms)
            # Cheap unweighted Dice first: rewrites of one release share half their words.
            if len(shared) < _MIN_SHARED or 2 * len(shared) < _RAW_OVERLAP * (
                len(terms) + len(other_terms)
            ):
                continue
            scored += 1
            if not idf_a:
                weights = self._idf(features.slots)
                idf_a = dict(zip(features.words, weights.tolist(), strict=True))
                weight_a = float(weights.sum())
            w_shared = sum(map(idf_a.__getitem__, shared))
            weight_b = float(self._idf(entry[_SLOTS]).sum())
            total = weight_a + weight_b
            dice = 2.0 * w_shared / total if total > 0 else 0.0
            if dice < _TERM_OVERLAP:
                rejected.append((aid, f"term overlap {dice:.2f} < {_TERM_OVERLAP:.2f}"))
                continue
            why = _veto(features, entry)
            if why is None and dice < _TERM_OVERLAP_ALONE and not _anchored(features, entry):
                why = "no shared number or place"
            if why is not None:
                rejected.append((aid, f"term overlap {dice:.2f} but {why}"))
                continue
            if best is None or dice > best.overlap:
                j, c = _similarity(
                    features.signature, features.n_shingles,
                    entry[_SIGNATURE], entry[_N_SHINGLES],
                )  # fmt: skip
                rare = sorted(shared, key=lambda t: (-idf_a[t], t))[:6]
                reason = f"paraphrase, term overlap {dice:.2f}: {', '.join(rare)}"
                best = StoryMatch(entry[_STORY], aid, j, c, reason, overlap=dice)
        return best

    def add(
        self,
        article_id: int,
        story_id: int,
        features: StoryFeatures,
        published: datetime,
        *,
        url: str | None = None,
        source: str | None = None,
    ) -> StoryUpdate:
        """Record an article as a member of ``story_id`` (the caller's id)."""
        if article_id in self._entries:
            self.remove(article_id)
        # Anchors: the article's rarest words right now, a handful of short posting lists.
        anchors = tuple(self._rarest(features, 0)) if features.terms else ()
        entry: _Entry = (
            story_id, published, url, source, features.length, features.n_shingles,
            features.signature, tuple(sorted(features.districts)),
            tuple(sorted(features.numbers)), tuple(sorted(features.settlements)),
            tuple(features.terms), features.slots, anchors,
        )  # fmt: skip
        self._entries[article_id] = entry
        if features.n_shingles:
            # bucket + the packed id for every band, mapped in C (keys differ by band number).
            keys = self._bands(features.signature)
            olds = map(self._buckets.get, keys, repeat(b""))
            self._buckets.update(zip(keys, map(bytes.__add__, olds, repeat(_pack_id(article_id))),
                                     strict=True))  # fmt: skip
        # Two terms of one article in one slot count once here and once in remove: consistent.
        self._df[features.slots] += 1
        # Posting list + the packed id for every anchor (distinct terms), mapped in C.
        packed = map(self._postings.get, anchors, repeat(b""))
        self._postings.update(zip(anchors, map(bytes.__add__, packed, repeat(_pack_id(article_id))),
                                  strict=True))  # fmt: skip
        if url is not None:
            self._urls[url] = article_id
        members = self._members.get(story_id)
        changed = False
        if members is None:
            self._representatives[story_id] = article_id
            self._members[story_id] = (article_id,)
            changed = True
        else:
            if self._better(entry, self._entries[self._representatives[story_id]]):
                self._representatives[story_id] = article_id
                changed = True
            self._members[story_id] = (*members, article_id)
        return StoryUpdate(
            story_id, self._representatives[story_id], changed, self.sources(story_id)
        )

    @staticmethod
    def _better(new: _Entry, old: _Entry) -> bool:
        """Most complete text represents the story; on a tie the earliest."""
        if new[_LENGTH] != old[_LENGTH]:
            return new[_LENGTH] > old[_LENGTH]
        return new[_PUBLISHED] < old[_PUBLISHED]

    def remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        if entry[_N_SHINGLES]:
            for key in self._bands(entry[_SIGNATURE]):
                bucket = self._buckets.get(key)
                if bucket is not None:
                    rest = _without(bucket, article_id)
                    if rest:
                        self._buckets[key] = rest
                    else:
                        del self._buckets[key]
        self._df[entry[_SLOTS]] -= 1
        for term in entry[_ANCHOR_TERMS]:
            ids = self._postings.get(term)
            if ids is not None:
                rest = _without(ids, article_id)
                if rest:
                    self._postings[term] = rest
                else:
                    del self._postings[term]
        url = entry[_URL]
        if url is not None and self._urls.get(url) == article_id:
            del self._urls[url]
        story_id = entry[_STORY]
        members = self._members.get(story_id)
        if members is not None and article_id in members:
            i = members.index(article_id)
            members = members[:i] + members[i + 1 :]
            if not members:
                del self._members[story_id]
                del self._representatives[story_id]
                return
            self._members[story_id] = members
            if self._representatives[story_id] == article_id:
                best = members[0]
                for m in members[1:]:
                    if self._better(self._entries[m], self._entries[best]):
                        best = m
                self._representatives[story_id] = best

    def prune(self, now: datetime) -> int:
        """Forget articles older than the window; returns how many were dropped."""
        old = [aid for aid, e in self._entries.items() if now - e[_PUBLISHED] > self.window]
        for aid in old:
            self.remove(aid)
        return len(old)

    def rename_story(self, old_id: int, new_id: int) -> None:
        """Give a story the id the caller's storage assigned (cheap: buckets hold articles)."""
        if old_id == new_id or old_id not in self._members:
            return
        if new_id in self._members:
            raise ValueError(f"story {new_id} already exists in the index")
        members = self._members.pop(old_id)
        self._members[new_id] = members
        self._representatives[new_id] = self._representatives.pop(old_id)
        for article_id in members:
            self._entries[article_id] = (new_id, *self._entries[article_id][1:])

    def story_of(self, article_id: int) -> int | None:
        entry = self._entries.get(article_id)
        return None if entry is None else entry[_STORY]

    def representative(self, story_id: int) -> int | None:
        return self._representatives.get(story_id)

    def members(self, story_id: int) -> tuple[int, ...]:
        return self._members.get(story_id, ())

    def sources(self, story_id: int) -> tuple[str, ...]:
        """Distinct sources (feeds) of a story in order of arrival."""
        seen: dict[str, None] = {}
        for aid in self.members(story_id):
            src = self._entries[aid][_SOURCE]
            if src is not None:
                seen.setdefault(src)
        return tuple(seen)
