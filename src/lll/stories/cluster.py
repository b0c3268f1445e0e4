"""Which items tell the same story: pure decisions over vectors, no I/O.

Two rules live here:

- :func:`cluster_stream` groups a time-ordered stream of documents into
  stories. Each document joins the best-scoring story that is still *active*
  (updated within ``window``) when that score reaches ``threshold``, else it
  opens a new story. The score of a document ``x`` against a story ``c`` is::

      (1 - text_weight) · cos(x, mean of c)                       semantic vectors
      + text_weight     · cos(x_text, mean of c_text)              lexical vectors, optional
      + tag_weight      · (+1 shared #tag, -1 only other #tags, 0 no tags)
      - gap_weight      · log(1 + gap / gap_scale)                  gap = x.time - c's last time

  Only active stories are compared, so time and memory grow with the size of
  the window, never with the square of the stream.
- :func:`link_followups` is the multi-day story ledger's matching rule: an
  entry follows up the most similar entry of an earlier day when their cosine
  reaches a threshold.

:data:`NEWSLETTER` and :data:`LIVE_TWEETS` are tuned settings (see
``bench/clustering.py`` for how they were measured).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
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


#: Daily newsletter: stories run for days; a lexical signal helps with names.
NEWSLETTER = ClusterSettings(threshold=0.5, window=timedelta(days=3), text_weight=0.3)
#: Live-tweeted threads (reported.ly): minutes matter more than topics.
LIVE_TWEETS = ClusterSettings(
    threshold=0.2,
    window=timedelta(hours=3),
    text_weight=0.3,
    tag_weight=0.2,
    gap_weight=0.1,
    gap_scale=timedelta(minutes=5),
)


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
    return array / np.clip(norms, 1e-12, None)


class _Active:
    """The stories still open: running vector sums in reusable slots."""

    def __init__(self, capacity: int, dim: int, text_dim: int) -> None:
        self.sums = np.zeros((capacity, dim), dtype=np.float32)
        self.text_sums = np.zeros((capacity, text_dim), dtype=np.float32)
        self.last = np.full(capacity, -np.inf)
        self.label = np.full(capacity, -1, dtype=np.int64)
        self.tags: list[frozenset[str]] = [frozenset()] * capacity

    def expire(self, oldest: float) -> None:
        """Close the stories whose last document is older than ``oldest``."""
        self.label[self.last < oldest] = -1

    def open(self, label: int, vector: NDArray[np.float32], text: NDArray[np.float32],
             moment: float, tags: frozenset[str]) -> None:
        free = np.flatnonzero(self.label < 0)
        slot = int(free[0]) if free.size else int(np.argmin(self.last))  # full: evict the stalest
        self.sums[slot] = vector
        self.text_sums[slot] = text
        self.last[slot] = moment
        self.label[slot] = label
        self.tags[slot] = tags

    def add(self, slot: int, vector: NDArray[np.float32], text: NDArray[np.float32],
            moment: float, tags: frozenset[str]) -> None:
        self.sums[slot] += vector
        self.text_sums[slot] += text
        self.last[slot] = max(self.last[slot], moment)
        self.tags[slot] = self.tags[slot] | tags


def _cosines(sums: NDArray[np.float32], vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(sums, axis=1)
    return (sums @ vector) / np.clip(norms, 1e-12, None)


def _tag_term(doc_tags: frozenset[str], story_tags: frozenset[str]) -> float:
    if not doc_tags or not story_tags:
        return 0.0
    return 1.0 if doc_tags & story_tags else -1.0


def _best(active: _Active, vector: NDArray[np.float32], text: NDArray[np.float32],
          moment: float, tags: frozenset[str], s: ClusterSettings) -> int | None:
    """The slot of the best-scoring active story if it reaches the threshold."""
    live = np.flatnonzero(active.label >= 0)
    if live.size == 0:
        return None
    score = (1.0 - s.text_weight) * _cosines(active.sums[live], vector)
    if s.text_weight:
        score += s.text_weight * _cosines(active.text_sums[live], text)
    if s.gap_weight:
        gap = np.maximum(moment - active.last[live], 0.0)
        score -= s.gap_weight * np.log1p(gap / s.gap_scale.total_seconds())
    if s.tag_weight and tags:
        # Tags move a score by at most ±tag_weight: only near-best stories can change rank.
        near = np.flatnonzero(score >= max(score.max() - 2 * s.tag_weight, s.threshold - s.tag_weight))
        for i in near:
            score[i] += s.tag_weight * _tag_term(tags, active.tags[live[i]])
    top = int(np.argmax(score))
    return int(live[top]) if score[top] >= s.threshold else None


def cluster_stream(
    docs: Sequence[Doc],
    vectors: ArrayLike,
    *,
    threshold: float,
    window: timedelta,
    text_vectors: ArrayLike | None = None,
    text_weight: float = 0.0,
    tag_weight: float = 0.0,
    gap_weight: float = 0.0,
    gap_scale: timedelta = timedelta(minutes=10),
    max_active: int = 2000,
) -> list[int]:
    """A story label for each doc (in input order), labels numbered from 0 in time order.

    ``vectors`` has one row per doc (MiniLM, say); ``text_vectors`` optionally
    a second representation (TF-IDF) mixed in with ``text_weight``. Docs are
    visited in time order (ties keep input order); a story that has taken no
    doc for longer than ``window`` is closed for good, and at most
    ``max_active`` stories stay open (the stalest is closed first).
    """
    settings = ClusterSettings(threshold, window, text_weight, tag_weight, gap_weight,
                               gap_scale, max_active)
    matrix = _unit(vectors)
    if matrix.shape[0] != len(docs):
        raise ValueError(f"{len(docs)} docs but {matrix.shape[0]} vectors")
    texts = _unit(text_vectors) if text_vectors is not None and text_weight else None
    if texts is not None and texts.shape[0] != len(docs):
        raise ValueError(f"{len(docs)} docs but {texts.shape[0]} text vectors")
    empty = np.zeros(1, dtype=np.float32)
    moments = [_timestamp(doc.time) for doc in docs]
    order = sorted(range(len(docs)), key=moments.__getitem__)
    active = _Active(max(1, min(max_active, len(docs))), matrix.shape[1],
                     texts.shape[1] if texts is not None else 1)
    span = window.total_seconds()
    labels = [-1] * len(docs)
    opened = 0
    for i in order:
        text = texts[i] if texts is not None else empty
        tags = hashtags(docs[i].text) if tag_weight else frozenset()
        active.expire(moments[i] - span)
        slot = _best(active, matrix[i], text, moments[i], tags, settings)
        if slot is None:
            active.open(opened, matrix[i], text, moments[i], tags)
            labels[i], opened = opened, opened + 1
        else:
            active.add(slot, matrix[i], text, moments[i], tags)
            labels[i] = int(active.label[slot])
    return labels


def cluster_with(
    docs: Sequence[Doc],
    vectors: ArrayLike,
    settings: ClusterSettings,
    text_vectors: ArrayLike | None = None,
) -> list[int]:
    """:func:`cluster_stream` with its knobs taken from ``settings``."""
    return cluster_stream(docs, vectors, text_vectors=text_vectors, **asdict(settings))


def link_followups(
    entries: Sequence[Doc],
    vectors: ArrayLike,
    threshold: float,
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
