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
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, compress, repeat
from operator import ge
from typing import cast

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

_NO_IDS: tuple[int, ...] = ()
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
        if self.n_shingles == 0 or other.n_shingles == 0:
            return 0.0, 0.0
        j = float(np.count_nonzero(self.signature == other.signature)) / NUM_PERM
        a, b = self.n_shingles, other.n_shingles
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


@dataclass(slots=True)
class _Entry:
    story_id: int
    features: StoryFeatures
    published: datetime
    url: str | None
    source: str | None
    anchors: tuple[str, ...] = ()  # terms under which the article is in the posting lists


@dataclass(slots=True)
class _Story:
    representative: int
    members: list[int] = field(default_factory=list)


class StoryIndex:
    """In-memory index of recent articles; the caller fills it from storage at start-up
    (:meth:`add` with stored signature bytes) and keeps it in step as articles arrive."""

    def __init__(
        self, window: timedelta = timedelta(hours=72), containment: float = _CONTAINMENT
    ) -> None:
        self.window = window
        self.threshold = containment
        self._entries: dict[int, _Entry] = {}
        self._stories: dict[int, _Story] = {}
        # Tuples of ints, not sets: the garbage collector stops tracking them, so a full
        # collection does not walk one container per LSH bucket (it stalled the event loop).
        self._buckets: dict[bytes, tuple[int, ...]] = {}
        self._urls: dict[str, int] = {}
        # Anchor term → articles having it as an anchor (in order of addition): candidates for
        # paraphrases. Read with .get only (a defaultdict).
        self._postings: defaultdict[str, list[int]] = defaultdict(list)
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
            entry = self._entries.get(aid)
            if entry is not None:
                return StoryMatch(entry.story_id, aid, 1.0, 1.0, "same canonical URL")
        if features.n_shingles == 0:
            return StoryMatch(None, reason="empty text")
        buckets = map(self._buckets.get, self._bands(features.signature))
        candidates = set(chain.from_iterable(filter(None, buckets)))
        best: StoryMatch | None = None
        rejected: list[tuple[int, str]] = []
        for aid in sorted(candidates):
            entry = self._entries[aid]
            if abs(published - entry.published) > self.window:
                continue
            j, c = features.similarity(entry.features)
            why = self._veto(features, entry.features)
            if c < self.threshold:
                rejected.append((aid, f"containment {c:.2f} < {self.threshold:.2f}"))
                continue
            if why is not None:
                rejected.append((aid, f"containment {c:.2f} but {why}"))
                continue
            if best is None or c > best.containment:
                best = StoryMatch(entry.story_id, aid, j, c, f"near-duplicate, containment {c:.2f}")
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
        short = [ids for ids in lists if len(ids) <= _COMMON]
        if len(short) < _ANCHOR_HITS:
            return None
        # Usually no article is behind _ANCHOR_HITS of the lists: a sort of the ids in C tells
        # so (a sorted id repeated that often spans that many places) before any counting.
        flat = np.fromiter(chain.from_iterable(short), np.int64, sum(map(len, short)))
        flat.sort()
        if not np.any(flat[_ANCHOR_HITS - 1 :] == flat[: len(flat) - _ANCHOR_HITS + 1]):
            return None
        hits = Counter(chain.from_iterable(short))
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
            other = entry.features
            if abs(published - entry.published) > self.window:
                continue
            shared = terms & other.terms
            # Cheap unweighted Dice first: rewrites of one release share half their words.
            if len(shared) < _MIN_SHARED or 2 * len(shared) < _RAW_OVERLAP * (
                len(terms) + len(other.terms)
            ):
                continue
            scored += 1
            if not idf_a:
                weights = self._idf(features.slots)
                idf_a = dict(zip(features.words, weights.tolist(), strict=True))
                weight_a = float(weights.sum())
            w_shared = sum(map(idf_a.__getitem__, shared))
            weight_b = float(self._idf(other.slots).sum())
            total = weight_a + weight_b
            dice = 2.0 * w_shared / total if total > 0 else 0.0
            if dice < _TERM_OVERLAP:
                rejected.append((aid, f"term overlap {dice:.2f} < {_TERM_OVERLAP:.2f}"))
                continue
            why = self._veto(features, other)
            if why is None and dice < _TERM_OVERLAP_ALONE and not self._anchored(features, other):
                why = "no shared number or place"
            if why is not None:
                rejected.append((aid, f"term overlap {dice:.2f} but {why}"))
                continue
            if best is None or dice > best.overlap:
                j, c = features.similarity(other)
                rare = sorted(shared, key=lambda t: (-idf_a[t], t))[:6]
                reason = f"paraphrase, term overlap {dice:.2f}: {', '.join(rare)}"
                best = StoryMatch(entry.story_id, aid, j, c, reason, overlap=dice)
        return best

    @staticmethod
    def _anchored(a: StoryFeatures, b: StoryFeatures) -> bool:
        """Concrete common ground beyond wording: a shared number, district or settlement."""
        return bool(
            (a.numbers & b.numbers) or (a.districts & b.districts)
            or (a.settlements & b.settlements)
        )  # fmt: skip

    @staticmethod
    def _veto(a: StoryFeatures, b: StoryFeatures) -> str | None:
        """Evidence that two similar texts are different stories from one template."""
        if a.districts and b.districts and not (a.districts & b.districts):
            return "different districts"
        # Places are compared at the finest level both texts name: «в поселении Роговское» and
        # «в поселении Вороновское» are one district today but still two places.
        if a.settlements and b.settlements and not (a.settlements & b.settlements):
            return "different settlements"
        if (a.numbers - b.numbers) and (b.numbers - a.numbers):
            return "different numbers"
        return None

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
        entry = _Entry(story_id, features, published, url, source, anchors)
        self._entries[article_id] = entry
        if features.n_shingles:
            # bucket + (article_id,) for every band, mapped in C (keys differ by band number).
            keys = self._bands(features.signature)
            olds = map(self._buckets.get, keys, repeat(_NO_IDS))
            self._buckets.update(zip(keys, map(tuple.__add__, olds, repeat((article_id,))),
                                     strict=True))  # fmt: skip
        # Two terms of one article in one slot count once here and once in remove: consistent.
        self._df[features.slots] += 1
        # list.append mapped over the anchors' posting lists (a defaultdict creates missing
        # ones): no Python-level loop.
        deque(map(list.append, map(self._postings.__getitem__, anchors),
                  repeat(article_id)), maxlen=0)  # fmt: skip
        if url is not None:
            self._urls[url] = article_id
        story = self._stories.get(story_id)
        changed = False
        if story is None:
            story = self._stories[story_id] = _Story(article_id)
            changed = True
        elif self._better(entry, self._entries[story.representative]):
            story.representative = article_id
            changed = True
        story.members.append(article_id)
        return StoryUpdate(story_id, story.representative, changed, self.sources(story_id))

    @staticmethod
    def _better(new: _Entry, old: _Entry) -> bool:
        """Most complete text represents the story; on a tie the earliest."""
        if new.features.length != old.features.length:
            return new.features.length > old.features.length
        return new.published < old.published

    def remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        if entry.features.n_shingles:
            for key in self._bands(entry.features.signature):
                bucket = self._buckets.get(key)
                if bucket is not None:
                    rest = tuple(a for a in bucket if a != article_id)
                    if rest:
                        self._buckets[key] = rest
                    else:
                        del self._buckets[key]
        self._df[entry.features.slots] -= 1
        for term in entry.anchors:
            ids = self._postings.get(term)
            if ids is not None:
                ids.remove(article_id)  # old articles go first: found near the front
                if not ids:
                    del self._postings[term]
        if entry.url is not None and self._urls.get(entry.url) == article_id:
            del self._urls[entry.url]
        story = self._stories.get(entry.story_id)
        if story is not None:
            story.members.remove(article_id)
            if not story.members:
                del self._stories[entry.story_id]
            elif story.representative == article_id:
                best = story.members[0]
                for m in story.members[1:]:
                    if self._better(self._entries[m], self._entries[best]):
                        best = m
                story.representative = best

    def prune(self, now: datetime) -> int:
        """Forget articles older than the window; returns how many were dropped."""
        old = [aid for aid, e in self._entries.items() if now - e.published > self.window]
        for aid in old:
            self.remove(aid)
        return len(old)

    def rename_story(self, old_id: int, new_id: int) -> None:
        """Give a story the id the caller's storage assigned (cheap: buckets hold articles)."""
        if old_id == new_id or old_id not in self._stories:
            return
        if new_id in self._stories:
            raise ValueError(f"story {new_id} already exists in the index")
        story = self._stories.pop(old_id)
        self._stories[new_id] = story
        for article_id in story.members:
            self._entries[article_id].story_id = new_id

    def story_of(self, article_id: int) -> int | None:
        entry = self._entries.get(article_id)
        return None if entry is None else entry.story_id

    def representative(self, story_id: int) -> int | None:
        story = self._stories.get(story_id)
        return None if story is None else story.representative

    def members(self, story_id: int) -> tuple[int, ...]:
        story = self._stories.get(story_id)
        return () if story is None else tuple(story.members)

    def sources(self, story_id: int) -> tuple[str, ...]:
        """Distinct sources (feeds) of a story in order of arrival."""
        seen: dict[str, None] = {}
        for aid in self.members(story_id):
            src = self._entries[aid].source
            if src is not None:
                seen.setdefault(src)
        return tuple(seen)
