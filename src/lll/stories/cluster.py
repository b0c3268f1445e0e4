"""Which items tell the same story: pure decisions over vectors, no I/O.

Two rules live here:

- :func:`cluster_stream` groups a time-ordered stream of documents into
  stories. Each document joins the best-scoring story that is still *active*
  (updated within ``window``) when that score reaches ``threshold``, else it
  opens a new story. The score of a document ``x`` against a story ``c`` is::

      (1 - text_weight) · cos(x, mean of c)             semantic (MiniLM) vectors
      + text_weight     · max cos(x_text, m_text)        lexical (TF-IDF) vectors, optional:
                          over c's members m within the window  (nearest member)
      + tag_weight      · (+1 shared #tag, -1 only other #tags, 0 no tags)
      - gap_weight      · log(1 + gap / gap_scale)        gap = x.time - c's last time

  The semantic side compares with a story's centroid (robust to drift and
  paraphrase); the lexical side with its nearest recent member (near-copies
  of a headline). Only active stories and the documents of the window are
  compared, so time and memory grow with the window, never with the square
  of the stream, and sparse TF-IDF rows are used as they are.
- :func:`link_followups` is the multi-day story ledger's matching rule: an
  entry follows up the most similar entry of an earlier day when their cosine
  reaches a threshold.

:data:`NEWSLETTER`, :data:`LIVE_TWEETS` and :data:`FOLLOWUP_THRESHOLD` are tuned
settings; ``bench/clustering.py`` measures them.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

__all__ = [
    "FOLLOWUP_THRESHOLD",
    "LIVE_TWEETS",
    "NEWSLETTER",
    "ClusterSettings",
    "Doc",
    "cluster_stream",
    "cluster_with",
    "hashtags",
    "link_followups",
]

_HASHTAG = re.compile(r"(?<![\w&])#(\w{2,})")


@dataclass(frozen=True)
class Doc:
    """One text to cluster: ``time`` is an aware UTC datetime."""

    id: str
    text: str
    time: datetime
    source: str = ""


@dataclass(frozen=True)
class ClusterSettings:
    """The knobs of :func:`cluster_stream`, as one named value."""

    threshold: float
    window: timedelta
    text_weight: float = 0.0
    tag_weight: float = 0.0
    gap_weight: float = 0.0
    gap_scale: timedelta = field(default=timedelta(minutes=10))
    max_active: int = 2000
    #: the lexical side compares a document with at most this many of a story's latest members in
    #: the window (0: all of them), so a big story costs no more per document than a small one
    max_members: int = 0


#: Daily newsletter: stories run for days; TF-IDF helps with names and near-copies.
#: Threshold tuned on Wikipedia Current Events, Sept 1-15 2015 (bench/clustering.py).
NEWSLETTER = ClusterSettings(threshold=0.4, window=timedelta(days=3), text_weight=0.3, max_members=32)
#: Live-tweeted threads (reported.ly, tuned on Aug 2015): minutes matter as much as topics.
LIVE_TWEETS = ClusterSettings(
    threshold=0.1,
    window=timedelta(hours=3),
    text_weight=0.2,
    tag_weight=0.15,
    gap_weight=0.15,
    gap_scale=timedelta(minutes=10),
)
#: The story ledger's follow-up rule: MiniLM cosine with the best earlier-day entry
#: (tuned on Wikipedia Current Events, Sept 1-15 2015).
FOLLOWUP_THRESHOLD = 0.49


def hashtags(text: str) -> frozenset[str]:
    """The ``#tags`` of a text, lower-cased, without the ``#``."""
    return frozenset(tag.lower() for tag in _HASHTAG.findall(text))


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _unit(matrix: ArrayLike) -> NDArray[np.float32]:
    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (array / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


class _Active:
    """The stories still open: semantic sums and their norms, in reusable slots.

    Slots ``[0, used)`` have been opened at least once; a slot whose label is
    -1 is closed and free. ``slot_of[label]`` is the slot of an open story, -1
    once it is closed. Scores are computed over ``[0, used)`` in place.
    """

    def __init__(self, capacity: int, dim: int, stories: int, recent: int = 0) -> None:
        self.sums = np.zeros((capacity, dim), dtype=np.float32)
        self.norms = np.ones(capacity, dtype=np.float32)
        self.last = np.full(capacity, -np.inf)
        self.label = np.full(capacity, -1, dtype=np.int64)
        self.tags: list[frozenset[str]] = [frozenset()] * capacity
        self.members: list[list[int]] = [[] for _ in range(capacity)]  # rows (time order) of each slot's story
        self.slot_of = np.full(stories, -1, dtype=np.int64)
        self.used = 0
        # with ``recent`` set: each slot's latest ``recent`` member rows (-1 where none), in a ring
        # whose next place is ``joined % recent``, so that the lexical side gathers them in one go
        self.recent = np.full((capacity, max(recent, 1)), -1, dtype=np.intp) if recent else None
        self.joined = np.zeros(capacity, dtype=np.int64)

    def expire(self, oldest: float) -> None:
        """Close the stories whose last document is older than ``oldest``."""
        closing = np.flatnonzero((self.label[: self.used] >= 0) & (self.last[: self.used] < oldest))
        self._close(closing)

    def _close(self, slots: NDArray[np.int64]) -> None:
        self.slot_of[self.label[slots]] = -1
        self.label[slots] = -1

    def open(self, label: int, vector: NDArray[np.float32], moment: float,
             tags: frozenset[str], row: int = -1) -> None:
        """Open a story in a free slot (closing the stalest one when all are taken)."""
        free = np.flatnonzero(self.label[: self.used] < 0)
        if free.size:
            slot = int(free[0])
        elif self.used < len(self.label):
            slot, self.used = self.used, self.used + 1
        else:
            slot = int(np.argmin(self.last))
            self._close(np.array([slot]))
        self.sums[slot] = vector
        self.norms[slot] = max(float(np.linalg.norm(vector)), 1e-12)
        self.last[slot] = moment
        self.label[slot] = label
        self.slot_of[label] = slot
        self.tags[slot] = tags
        self.members[slot] = [row]
        if self.recent is not None:
            self.recent[slot] = -1
            self.recent[slot, 0] = row
            self.joined[slot] = 1

    def add(self, slot: int, vector: NDArray[np.float32], moment: float,
            tags: frozenset[str], row: int = -1) -> None:
        """Add a document (at position ``row`` in time order) to the story in ``slot``."""
        self.sums[slot] += vector
        self.norms[slot] = max(float(np.linalg.norm(self.sums[slot])), 1e-12)
        self.last[slot] = max(self.last[slot], moment)
        self.tags[slot] = self.tags[slot] | tags
        self.members[slot].append(row)
        if self.recent is not None:
            self.recent[slot, self.joined[slot] % self.recent.shape[1]] = row
            self.joined[slot] += 1

    def window_members(self, slots: NDArray[np.int64], lo: int,
                       latest: int = 0) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """The rows from ``lo`` on of these slots' stories (the ``latest`` of each, when set), and
        for each the index of its slot in ``slots``: the work follows those stories, not the window."""
        rows: list[int] = []
        owners: list[int] = []
        for n, slot in enumerate(slots.tolist()):
            members = self.members[slot]
            first = bisect.bisect_left(members, lo)
            kept = members[max(first, len(members) - latest) if latest else first:]
            rows += kept
            owners += [n] * len(kept)
        return np.asarray(rows, dtype=np.intp), np.asarray(owners, dtype=np.intp)

    def recent_members(self, slots: NDArray[np.intp], lo: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """:meth:`window_members` with ``latest`` = the ring's width, gathered from the ring: the
        rows from ``lo`` on among each slot's latest members (members come in time order, so those
        from ``lo`` on are the latest ones), and for each the index of its slot in ``slots``."""
        if self.recent is None:
            raise ValueError("no ring of recent members: build _Active with recent > 0")
        block = self.recent[slots]
        keep = block >= lo  # lo >= 0: the empty places (-1) drop out too
        owners = np.broadcast_to(np.arange(len(slots), dtype=np.intp)[:, None], block.shape)
        return block[keep], owners[keep]


class _Lexical:
    """Unit-length sparse rows in time order; cosines of one row with a range of rows."""

    def __init__(self, rows: Any) -> None:
        from scipy import sparse

        matrix = sparse.csr_matrix(rows, dtype=np.float32)
        matrix.sum_duplicates()
        self.indptr = matrix.indptr
        self.indices = matrix.indices
        lengths = np.diff(self.indptr)
        self.row_of = np.repeat(np.arange(matrix.shape[0]), lengths)
        norms = np.sqrt(np.bincount(self.row_of, weights=matrix.data.astype(np.float64) ** 2,
                                    minlength=matrix.shape[0]))
        self.data = (matrix.data / np.clip(norms[self.row_of], 1e-12, None)).astype(np.float32)
        self.dense = np.zeros(matrix.shape[1], dtype=np.float32)
        self.shape = matrix.shape

    def cosines(self, row: int, lo: int) -> NDArray[np.float64]:
        """Cosines of ``row`` with rows ``lo .. row-1``."""
        own = slice(self.indptr[row], self.indptr[row + 1])
        self.dense[self.indices[own]] = self.data[own]
        span = slice(self.indptr[lo], self.indptr[row])
        products = self.data[span] * self.dense[self.indices[span]]
        self.dense[self.indices[own]] = 0.0
        sums = np.bincount(self.row_of[span] - lo, weights=products, minlength=row - lo)
        return np.asarray(sums, dtype=np.float64)

    def cosines_with(self, row: int, rows: NDArray[np.intp]) -> NDArray[np.float64]:
        """Cosines of ``row`` with the given earlier ``rows`` (the same sums as :meth:`cosines`)."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(rows), dtype=np.float64)
        offsets = np.cumsum(lengths) - lengths
        where = np.repeat(starts - offsets, lengths) + np.arange(total)
        own = slice(self.indptr[row], self.indptr[row + 1])
        self.dense[self.indices[own]] = self.data[own]
        products = self.data[where] * self.dense[self.indices[where]]
        self.dense[self.indices[own]] = 0.0
        sums = np.bincount(np.repeat(np.arange(len(rows)), lengths), weights=products, minlength=len(rows))
        return np.asarray(sums, dtype=np.float64)


def _nearest_member(lexical: _Lexical, row: int, lo: int, labels: NDArray[np.int64],
                    active: _Active, latest: int = 0) -> NDArray[np.float64]:
    """Per slot: the best lexical cosine of ``row`` with that story's members in ``[lo, row)``
    (its ``latest`` members there, when set)."""
    best = np.zeros(active.used, dtype=np.float64)
    if latest and row > lo:
        slots = np.flatnonzero(active.label[: active.used] >= 0)
        rows, owners = active.window_members(slots, lo, latest)
        if rows.size:
            np.maximum.at(best, slots[owners], lexical.cosines_with(row, rows))
    elif row > lo:
        sims = lexical.cosines(row, lo)
        slots = active.slot_of[labels[lo:row]]
        keep = slots >= 0
        np.maximum.at(best, slots[keep], sims[keep])
    return best


def _tag_term(doc_tags: frozenset[str], story_tags: frozenset[str]) -> float:
    if not doc_tags or not story_tags:
        return 0.0
    return 1.0 if doc_tags & story_tags else -1.0


def _best(active: _Active, vector: NDArray[np.float32], lexical: NDArray[np.float64] | None,
          moment: float, tags: frozenset[str], s: ClusterSettings) -> int | None:
    """The slot of the best-scoring open story, if its score reaches the threshold."""
    used = active.used
    if used == 0:
        return None
    score = (1.0 - s.text_weight) * (active.sums[:used] @ vector) / active.norms[:used]
    if lexical is not None:
        score += s.text_weight * lexical
    if s.gap_weight:
        gap = np.maximum(moment - active.last[:used], 0.0)
        score -= s.gap_weight * np.log1p(gap / s.gap_scale.total_seconds())
    score[active.label[:used] < 0] = -np.inf
    if s.tag_weight and tags:
        # Tags move a score by at most ±tag_weight: only near-best stories can change rank.
        floor = max(float(score.max()) - 2 * s.tag_weight, s.threshold - s.tag_weight)
        for slot in np.flatnonzero(score >= floor):
            score[slot] += s.tag_weight * _tag_term(tags, active.tags[slot])
    top = int(np.argmax(score))
    return top if score[top] >= s.threshold else None


_CHUNK = 16  # stories whose lexical side is computed at a time, best bound first
#: the first few alone: a document that continues a story mostly finds it among its best bounds,
#: and the search stops there (a story's lexical side costs up to ``max_members`` rows)
_FIRST_CHUNK = 4


def _best_bounded(active: _Active, vector: NDArray[np.float32], lexical: _Lexical, row: int, lo: int,
                  labels: NDArray[np.int64], moment: float, s: ClusterSettings) -> int | None:
    """:func:`_best` (without tags) computing the lexical side only where it can change the answer.

    The lexical term of a story lies in [0, 1], so its score is at most its semantic part plus
    ``text_weight``. Stories are taken by that bound, best first, a few at a time; their nearest
    member is computed exactly (the same sums as :func:`_nearest_member`), and the search stops
    when no story left can reach the threshold or the best score found. Same result as scoring
    every open story against every document of the window; the work per document follows the
    stories near it (their members in the window, kept per story), not the size of the window."""
    used = active.used
    if used == 0:
        return None
    score = (1.0 - s.text_weight) * (active.sums[:used] @ vector) / active.norms[:used]
    penalty = None
    if s.gap_weight:
        gap = np.maximum(moment - active.last[:used], 0.0)
        penalty = s.gap_weight * np.log1p(gap / s.gap_scale.total_seconds())
    bound = score.astype(np.float64) + s.text_weight * (1.0 + 1e-6) + 1e-6
    if penalty is not None:
        bound -= penalty
    bound[active.label[:used] < 0] = -np.inf
    reach = np.flatnonzero(bound >= s.threshold)  # only these can reach the threshold at all
    order = reach[np.argsort(-bound[reach], kind="stable")]
    exact = np.full(used, -np.inf, dtype=np.float32)
    best = -np.inf
    start, size = 0, _FIRST_CHUNK
    while start < len(order):
        if bound[order[start]] < max(best, s.threshold):
            break
        chunk = order[start:start + size]
        start, size = start + size, _CHUNK
        rows, owners = (active.recent_members(chunk, lo) if active.recent is not None
                        else active.window_members(chunk, lo, s.max_members))
        nearest = np.zeros(len(chunk), dtype=np.float64)
        if rows.size:
            np.maximum.at(nearest, owners, lexical.cosines_with(row, rows))
        part = score[chunk].copy()
        part += s.text_weight * nearest
        if penalty is not None:
            part -= penalty[chunk]
        exact[chunk] = part
        best = max(best, float(part.max()))
    top = int(np.argmax(exact))
    return top if exact[top] >= s.threshold else None


def cluster_stream(
    docs: Sequence[Doc],
    vectors: ArrayLike,
    *,
    threshold: float,
    window: timedelta,
    text_vectors: Any = None,
    text_weight: float = 0.0,
    tag_weight: float = 0.0,
    gap_weight: float = 0.0,
    gap_scale: timedelta = timedelta(minutes=10),
    max_active: int = 2000,
    max_members: int = 0,
) -> list[int]:
    """A story label for each doc (in input order); labels count from 0 in time order.

    ``vectors`` has one row per doc (MiniLM, say). ``text_vectors`` is an
    optional second representation (TF-IDF rows, dense or scipy sparse) mixed
    in with ``text_weight``. Docs are visited in time order (ties keep input
    order); a story that has taken no doc for longer than ``window`` is closed
    for good, and at most ``max_active`` stories stay open (the stalest closes
    first). With ``max_members`` set, the lexical side looks at that many of a
    story's latest members only.
    """
    settings = ClusterSettings(threshold, window, text_weight, tag_weight, gap_weight,
                               gap_scale, max_active, max_members)
    moments = np.array([_timestamp(doc.time) for doc in docs], dtype=np.float64)
    order = np.argsort(moments, kind="stable")
    matrix = _unit(vectors)
    if matrix.shape[0] != len(docs):
        raise ValueError(f"{len(docs)} docs but {matrix.shape[0]} vectors")
    lexical = None
    if text_vectors is not None and text_weight:
        lexical = _Lexical(text_vectors[order] if hasattr(text_vectors, "tocsr")
                           else np.asarray(text_vectors)[order])
        if lexical.shape[0] != len(docs):
            raise ValueError(f"{len(docs)} docs but {lexical.shape[0]} text vectors")
    active = _Active(max(1, min(max_active, len(docs))), matrix.shape[1], max(1, len(docs)), max_members)
    labels = np.full(len(docs), -1, dtype=np.int64)  # by position in time order
    # One small product per document (open stories × dimensions): BLAS's threads cost more to
    # wake and join than the product takes (7x slower from ~2,000 open stories on 2 busy cores).
    with threadpool_limits(limits=1, user_api="blas"):
        _stream(docs, moments, order, matrix, lexical, active, labels, settings)
    result = [0] * len(docs)
    for row, i in enumerate(order):
        result[i] = int(labels[row])
    return result


def _stream(docs: Sequence[Doc], moments: NDArray[np.float64], order: NDArray[np.intp], matrix: NDArray[np.float32],
            lexical: _Lexical | None, active: _Active, labels: NDArray[np.int64], settings: ClusterSettings) -> None:
    """The loop of :func:`cluster_stream`: each document in time order joins a story or opens one."""
    span, lo, opened = settings.window.total_seconds(), 0, 0
    for row, i in enumerate(order):
        now = moments[i]
        while moments[order[lo]] < now - span:
            lo += 1
        active.expire(now - span)
        tags = hashtags(docs[i].text) if settings.tag_weight else frozenset()
        if lexical is not None and not tags:
            slot = _best_bounded(active, matrix[i], lexical, row, lo, labels, now, settings)
        else:
            near = (_nearest_member(lexical, row, lo, labels, active, settings.max_members)
                    if lexical is not None else None)
            slot = _best(active, matrix[i], near, now, tags, settings)
        if slot is None:
            active.open(opened, matrix[i], now, tags, row)
            labels[row], opened = opened, opened + 1
        else:
            active.add(slot, matrix[i], now, tags, row)
            labels[row] = active.label[slot]


def cluster_with(
    docs: Sequence[Doc],
    vectors: ArrayLike,
    settings: ClusterSettings,
    text_vectors: Any = None,
) -> list[int]:
    """:func:`cluster_stream` with its knobs taken from ``settings``."""
    return cluster_stream(docs, vectors, text_vectors=text_vectors, **asdict(settings))


def link_followups(
    entries: Sequence[Doc],
    vectors: ArrayLike,
    threshold: float = FOLLOWUP_THRESHOLD,
    *,
    max_age: timedelta | None = None,
    block: int = 1024,
) -> list[str | None]:
    """For each entry, the id of the most similar entry of an EARLIER UTC day, or None.

    An entry links only when that best cosine reaches ``threshold``; with
    ``max_age`` set, only entries at most that much older are candidates.
    Results follow the input order. Memory stays at ``block`` × n floats.
    """
    matrix = _unit(vectors)
    if matrix.shape[0] != len(entries):
        raise ValueError(f"{len(entries)} entries but {matrix.shape[0]} vectors")
    moments = np.array([_timestamp(e.time) for e in entries], dtype=np.float64)
    days = np.floor(moments / 86400.0)
    links: list[str | None] = [None] * len(entries)
    for start in range(0, len(entries), block):
        rows = slice(start, start + block)
        sims = matrix[rows] @ matrix.T
        allowed = days[None, :] < days[rows, None]
        if max_age is not None:
            allowed &= moments[None, :] >= moments[rows, None] - max_age.total_seconds()
        sims = np.where(allowed, sims, -math.inf)
        best = np.argmax(sims, axis=1)
        for offset, j in enumerate(best):
            if sims[offset, j] >= threshold:
                links[start + offset] = entries[int(j)].id
    return links
