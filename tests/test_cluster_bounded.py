"""The stream clusterer's bounded search gives the labels of the full one.

``cluster_stream`` computes a story's lexical side (nearest member in the window) only for the
stories whose score could still reach the threshold or the best found; the reference is the full
computation it replaced (every open story against every document of the window), run by putting
it back in place of the bounded search.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from conftest import shared_data
from numpy.typing import NDArray

from lll.stories import cluster
from lll.stories.cluster import LIVE_TWEETS, NEWSLETTER, ClusterSettings, Doc, cluster_with
from lll.stories.embed import MiniLMEmbedder, minilm_available, tfidf_vectors


def _full(active: Any, vector: NDArray[np.float32], lexical: Any, row: int, lo: int, labels: NDArray[np.int64],
          moment: float, s: ClusterSettings) -> int | None:
    near = cluster._nearest_member(lexical, row, lo, labels, active, s.max_members)
    return cluster._best(active, vector, near, moment, frozenset(), s)


def _both(monkeypatch: pytest.MonkeyPatch, docs: list[Doc], vectors: NDArray[np.float32], text: Any,
          settings: ClusterSettings) -> tuple[list[int], list[int]]:
    bounded = cluster_with(docs, vectors, settings, text)
    with monkeypatch.context() as patch:
        patch.setattr(cluster, "_best_bounded", _full)
        full = cluster_with(docs, vectors, settings, text)
    return bounded, full


def _synthetic(n: int, seed: int) -> tuple[list[Doc], NDArray[np.float32]]:
    rng, gen = random.Random(seed), np.random.default_rng(seed)
    vocabulary = [f"term{i}" for i in range(3000)]
    topics = max(10, n // 4)
    centres = gen.normal(size=(topics, 64))
    words = [rng.sample(vocabulary, 10) for _ in range(topics)]
    start = datetime(2026, 5, 10, tzinfo=UTC)
    docs, vectors = [], []
    for i in range(n):
        t = rng.randrange(topics)
        vectors.append(centres[t] + gen.normal(size=64) * rng.uniform(0.5, 1.2))
        tags = f" #tag{t % 7}" if rng.random() < 0.3 else ""
        docs.append(Doc(str(i), " ".join(rng.sample(words[t], 6) + rng.sample(vocabulary, 20)) + tags,
                        start + timedelta(minutes=rng.randrange(3 * 1440))))
    return docs, np.asarray(vectors, dtype=np.float32)


@pytest.mark.parametrize("settings", [NEWSLETTER, LIVE_TWEETS, ClusterSettings(0.35, timedelta(hours=20), 0.5)])
def test_bounded_search_gives_the_full_searchs_labels(monkeypatch: pytest.MonkeyPatch,
                                                      settings: ClusterSettings) -> None:
    docs, vectors = _synthetic(600, seed=3)
    bounded, full = _both(monkeypatch, docs, vectors, tfidf_vectors([d.text for d in docs]), settings)
    assert bounded == full
    assert 10 < len(set(full)) < len(docs)  # stories were both opened and joined


def test_bounded_search_on_real_tweets_with_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    if not minilm_available():
        pytest.skip("MiniLM is not installed")
    rows = json.loads(shared_data("clustering/reportedly-wikicep-2015/reportedly/threads_tweets.json").read_text())
    rows.sort(key=lambda r: (r["published"], int(r["id"])))
    rows = rows[:700]
    docs = [Doc(str(r["id"]), r["content"], datetime.fromisoformat(r["published"]).replace(tzinfo=UTC))
            for r in rows]
    vectors = MiniLMEmbedder().encode([d.text for d in docs])
    text = tfidf_vectors([d.text for d in docs])
    for settings in (NEWSLETTER, LIVE_TWEETS):
        bounded, full = _both(monkeypatch, docs, vectors, text, settings)
        assert bounded == full
        assert len(set(full)) < len(docs)


def test_the_ring_of_recent_members_holds_what_the_member_lists_hold() -> None:
    """The bounded search reads a story's latest members from a ring per slot; the member lists
    (which the full search reads) are the reference, stories reopened in reused slots included."""
    rng, gen = random.Random(5), np.random.default_rng(5)
    latest = 4
    active = cluster._Active(8, 3, 400, recent=latest)
    for row in range(400):
        open_slots = np.flatnonzero(active.label[: active.used] >= 0)
        if open_slots.size and rng.random() < 0.7:
            active.add(int(rng.choice(open_slots.tolist())), gen.normal(size=3).astype(np.float32), row, frozenset(),
                       row)
        else:
            active.open(row, gen.normal(size=3).astype(np.float32), row, frozenset(), row)  # may evict the stalest
        if row % 50 == 49:
            active.expire(row - 30)
        slots = np.flatnonzero(active.label[: active.used] >= 0)
        lo = max(0, row - rng.randrange(1, 40))
        rows, owners = active.window_members(slots, lo, latest)
        ring_rows, ring_owners = active.recent_members(slots, lo)
        assert sorted(zip(owners.tolist(), rows.tolist(), strict=True)) == sorted(
            zip(ring_owners.tolist(), ring_rows.tolist(), strict=True))
    assert max(len(m) for m in active.members[: active.used]) > latest  # the ring really wrapped
