"""The in-memory index of recent articles that assigns each new one to a story.

Candidates come from two channels, each costing O(its keys), not O(articles):

* near-duplicates: LSH banding of the MinHash signatures;
* rewrites: an inverted index of each article's rarest content terms ("anchors", a few short
  posting lists; rarity from the index's own document frequencies, counted in a fixed hash
  table; ties broken by hash so that two texts pick the same shared words). A candidate must
  be found through several anchors.

Each candidate within the window is then weighed (:mod:`.evidence`, :mod:`.decision`): the
article joins the story of the best candidate whose same-story score reaches the model's
threshold. Story ids are the caller's (database rows): :meth:`StoryIndex.assign` says which
existing story an article belongs to, the caller creates a row if needed, then
:meth:`StoryIndex.add`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from typing import cast

import numpy as np
import numpy.typing as npt

from digests.understanding.stories import entry as fields
from digests.understanding.stories.decision import Judgement, StoryMatch
from digests.understanding.stories.features import (
    DF_BITS,
    U32,
    Slots,
    StoryFeatures,
    similarity,
)
from digests.understanding.stories.model import StoryModel, default_model
from digests.understanding.stories.quantities import pack
from digests.understanding.stories.weigher import Weigher

__all__ = ["StoryIndex", "StoryUpdate"]

_BANDS = 42  # 42 bands × 3 rows (126 of 128 values): a pair at Jaccard 0.3 is found ~70%
_ROWS = 3
_COMMON = 64  # posting lists longer than this (common words) give no candidates
_ANCHORS = 24  # an article's rarest terms in the posting lists, and looked up for candidates
_ANCHOR_HITS = 3  # a candidate must be found through at least this many of them
_MIN_TERMS = 12  # fewer content terms than this: too little to find rewrites by their words
_MAX_NEAR = 4  # near-duplicate candidates weighed (highest containment first)...
_MAX_REWRITES = 3  # ...and rewrite candidates (found through most anchors first)
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


class StoryIndex:
    """In-memory index of recent articles; the caller fills it from storage at start-up
    (:meth:`add` with stored signature bytes) and keeps it in step as articles arrive.

    Everything it holds is plain tuples of atomic values in a few dicts (see :data:`fields.Entry`):
    the garbage collector does not track them, so its full collections stay short."""

    def __init__(
        self, window: timedelta = timedelta(hours=72), model: StoryModel | None = None
    ) -> None:
        self.window = window
        self.model = model if model is not None else default_model()
        self._entries: dict[int, fields.Entry] = {}
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
        self,
        features: StoryFeatures,
        published: datetime,
        url: str | None = None,
        *,
        source: str | None = None,
    ) -> StoryMatch:
        """Which existing story (within the window) this article belongs to, if any."""
        if url is not None and url in self._urls:
            aid = self._urls[url]
            found = self._entries.get(aid)
            if found is not None:
                return StoryMatch(
                    found[fields.STORY], aid, 1.0, 1.0, "same canonical URL", probability=1.0
                )
        if features.n_shingles == 0:
            return StoryMatch(None, reason="empty text")
        rejected: list[tuple[int, str]] = []
        weigher = Weigher(self._entries, self._idf, self.model, features, published, source)
        near = self._near_duplicates(features, published)
        # A near-duplicate judged the same story is taken without looking for rewrites.
        best = self._best(weigher, near, rejected)
        if best is None:
            best = self._best(weigher, self._rewrites_within(features, published, near), rejected)
        if best is None:
            return StoryMatch(None, reason="no similar article", rejected=tuple(rejected))
        aid = best[0]
        verdict = weigher.judge(aid, described=True)
        e = verdict.evidence
        return StoryMatch(
            self._entries[aid][fields.STORY], aid, e.jaccard, e.containment, verdict.summary(),
            tuple(rejected), e.term_overlap, verdict.probability,
        )  # fmt: skip

    def _best(
        self, weigher: Weigher, candidates: list[int], rejected: list[tuple[int, str]]
    ) -> tuple[int, Judgement] | None:
        """The candidate judged the same story with the highest probability, if any."""
        best: tuple[int, Judgement] | None = None
        threshold = self.model.threshold
        for aid in candidates:
            if not weigher.worth(aid):
                rejected.append((aid, "too few shared words to weigh"))
                continue
            verdict = weigher.judge(aid)
            if not verdict.same:
                rejected.append((aid, f"score {verdict.probability:.2f} < {threshold:.2f}"))
            elif best is None or verdict.probability > best[1].probability:
                best = (aid, verdict)
        return best

    def candidates(self, features: StoryFeatures, published: datetime) -> list[int]:
        """Indexed articles within the window weighed against ``features`` (when no
        near-duplicate is the same story): the near-duplicates with the highest estimated
        containment, then the articles found through most of its rare words."""
        near = self._near_duplicates(features, published)
        return near + self._rewrites_within(features, published, near)

    def _near_duplicates(self, features: StoryFeatures, published: datetime) -> list[int]:
        """The _MAX_NEAR LSH candidates within the window with the highest containment."""
        if not features.n_shingles:
            return []
        window = self.window
        near: list[tuple[float, int]] = []
        buckets = map(self._buckets.get, self._bands(features.signature))
        sig, n_shingles = features.signature, features.n_shingles
        for aid in set(_unpack_ids(b"".join(filter(None, buckets)))):
            entry = self._entries[aid]
            if abs(published - entry[fields.PUBLISHED]) > window:
                continue
            c = similarity(sig, n_shingles, entry[fields.SIGNATURE], entry[fields.N_SHINGLES])[1]
            near.append((-c, aid))
        near.sort()
        return [aid for _, aid in near[:_MAX_NEAR]]

    def _rewrites_within(
        self, features: StoryFeatures, published: datetime, skip: list[int]
    ) -> list[int]:
        """The first _MAX_REWRITES of :meth:`_rewrites` within the window, except ``skip``."""
        chosen: list[int] = []
        window = self.window
        for aid in self._rewrites(features):
            if len(chosen) == _MAX_REWRITES:
                break
            if aid not in skip and abs(published - self._entries[aid][fields.PUBLISHED]) <= window:
                chosen.append(aid)
        return chosen

    def _rewrites(self, features: StoryFeatures) -> list[int]:
        """Articles behind at least _ANCHOR_HITS of the rarest words ``features`` shares with
        any indexed article (words used by more than _COMMON articles name no event), those
        behind most first."""
        if len(features.terms) < _MIN_TERMS:
            return []
        lists = [ids for ids in map(self._postings.get, self._rarest(features, 1)) if ids]
        short = [ids for ids in lists if len(ids) <= _COMMON * _ID_SIZE]
        if len(short) < _ANCHOR_HITS:
            return []
        # Counted in C: a sorted id repeated that often spans that many places.
        flat = np.sort(np.frombuffer(b"".join(short), _ID_DTYPE))
        if not np.any(flat[_ANCHOR_HITS - 1 :] == flat[: len(flat) - _ANCHOR_HITS + 1]):
            return []  # the usual case: no article is behind that many of the lists
        firsts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
        hits = np.diff(np.append(firsts, len(flat)))
        keep = hits >= _ANCHOR_HITS
        ids, hits = flat[firsts[keep]], hits[keep]
        # Most hits first; ties: the most recently added (largest id) first.
        return cast(list[int], ids[np.lexsort((-ids, -hits))].tolist())

    def explain(
        self,
        features: StoryFeatures,
        published: datetime,
        article_id: int,
        *,
        source: str | None = None,
    ) -> Judgement:
        """The evidence and score for ``features`` against the indexed article
        ``article_id``, as :meth:`assign` weighs it (whether or not it is a candidate)."""
        if article_id not in self._entries:
            raise KeyError(f"article {article_id} is not in the story index")
        weigher = Weigher(self._entries, self._idf, self.model, features, published, source)
        return weigher.judge(article_id, described=True)

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
        entry: fields.Entry = (
            story_id, published, url, source, features.length, features.n_shingles,
            features.signature, tuple(sorted(features.districts)),
            pack(features.quantities), tuple(sorted(features.settlements)),
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
    def _better(new: fields.Entry, old: fields.Entry) -> bool:
        """Most complete text represents the story; on a tie the earliest."""
        if new[fields.LENGTH] != old[fields.LENGTH]:
            return new[fields.LENGTH] > old[fields.LENGTH]
        return new[fields.PUBLISHED] < old[fields.PUBLISHED]

    def remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        if entry[fields.N_SHINGLES]:
            for key in self._bands(entry[fields.SIGNATURE]):
                bucket = self._buckets.get(key)
                if bucket is not None:
                    rest = _without(bucket, article_id)
                    if rest:
                        self._buckets[key] = rest
                    else:
                        del self._buckets[key]
        self._df[entry[fields.SLOTS]] -= 1
        for term in entry[fields.ANCHOR_TERMS]:
            ids = self._postings.get(term)
            if ids is not None:
                rest = _without(ids, article_id)
                if rest:
                    self._postings[term] = rest
                else:
                    del self._postings[term]
        url = entry[fields.URL]
        if url is not None and self._urls.get(url) == article_id:
            del self._urls[url]
        story_id = entry[fields.STORY]
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
        old = [aid for aid, e in self._entries.items() if now - e[fields.PUBLISHED] > self.window]
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
        return None if entry is None else entry[fields.STORY]

    def representative(self, story_id: int) -> int | None:
        return self._representatives.get(story_id)

    def members(self, story_id: int) -> tuple[int, ...]:
        return self._members.get(story_id, ())

    def sources(self, story_id: int) -> tuple[str, ...]:
        """Distinct sources (feeds) of a story in order of arrival."""
        seen: dict[str, None] = {}
        for aid in self.members(story_id):
            src = self._entries[aid][fields.SOURCE]
            if src is not None:
                seen.setdefault(src)
        return tuple(seen)

