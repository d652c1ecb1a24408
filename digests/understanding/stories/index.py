"""The in-memory index of recent articles that assigns each new one to a story.

* Near-duplicates: LSH banding of the MinHash signatures, so an insertion or lookup costs
  O(bands), not O(articles).
* Paraphrases, tried when the first channel finds nothing: the sets of content terms, each word
  weighted by its rarity among the articles of the window (IDF from the index's own document
  frequencies, counted in a fixed hash table). Candidates come from an inverted index of each
  article's rarest words ("anchors", a few short posting lists, ties broken by hash so that two
  texts pick the same shared words), so a lookup costs O(anchors), not O(articles).

What counts as the same story is decided in :mod:`.decision`. Story ids are the caller's
(database rows): :meth:`StoryIndex.assign` says which existing story an article belongs to,
the caller creates a row if needed, then :meth:`StoryIndex.add`.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import ge
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from digests.understanding.stories.decision import (
    CONTAINMENT,
    MIN_TERMS,
    StoryMatch,
    duplicate_objection,
    paraphrase_objection,
    shared_terms,
    worth_weighing,
)
from digests.understanding.stories.features import (
    DF_BITS,
    U32,
    Slots,
    StoryFeatures,
    similarity,
)

__all__ = ["StoryIndex", "StoryUpdate"]

_BANDS = 42  # 42 bands × 3 rows (126 of 128 values): a pair at Jaccard 0.3 is found ~70%
_ROWS = 3
_COMMON = 64  # posting lists longer than this (common words) give no candidates
_ANCHORS = 24  # an article's rarest terms in the posting lists, and looked up for candidates
_ANCHOR_HITS = 5  # a candidate must be found through at least this many of them
_MAX_EXAMINED = 6  # candidates (most anchors first) compared at all...
_MAX_SCORED = 4  # ...and weighed
_IDF_PRIOR = 10  # pseudo-articles in the IDF: log((N + prior) / (df + 1)) stays positive
_DF_SHIFT = np.uint64(40)  # anchor sort key: document frequency, then the hash's top 40 bits
_HASH_SHIFT = np.uint64(24)

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


class StoryIndex:
    """In-memory index of recent articles; the caller fills it from storage at start-up
    (:meth:`add` with stored signature bytes) and keeps it in step as articles arrive.

    Everything it holds is plain tuples of atomic values in a few dicts (see :data:`_Entry`):
    the garbage collector does not track them, so its full collections stay short."""

    def __init__(
        self, window: timedelta = timedelta(hours=72), containment: float = CONTAINMENT
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
        self._df: npt.NDArray[np.int32] = np.zeros(1 << DF_BITS, np.int32)

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
            j, c = similarity(sig, n_shingles, entry[_SIGNATURE], entry[_N_SHINGLES])
            why = duplicate_objection(
                features, c, self.threshold, entry[_DISTRICTS], entry[_NUMBERS], entry[_SETTLEMENTS]
            )
            if why is not None:
                rejected.append((aid, why))
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
        if len(terms) < MIN_TERMS:
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
            shared = shared_terms(terms, other_terms)
            if not worth_weighing(len(shared), len(terms), len(other_terms)):
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
            why = paraphrase_objection(
                features, dice, entry[_DISTRICTS], entry[_NUMBERS], entry[_SETTLEMENTS]
            )
            if why is not None:
                rejected.append((aid, why))
                continue
            if best is None or dice > best.overlap:
                j, c = similarity(
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
