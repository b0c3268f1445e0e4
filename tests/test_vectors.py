"""The story-unit vector cache: content-hash keys, the SQLite table and its migration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from conftest import db_url, execute

from lll.clock import frozen_at
from lll.store import Store
from lll.store.db import make_engine
from lll.store.migrations import migrate
from lll.stories.vectors import CachedEmbedder, MemoryVectors, StoreVectors, text_key


class CountingEmbedder:
    """Deterministic vectors from the text's bytes; remembers every text it was asked for."""

    name = "counting"

    def __init__(self, key: str | None = "counting/v1") -> None:
        self.key = key
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = np.array([[len(t), sum(t.encode()) % 97, 1.0] for t in texts], dtype=np.float32).reshape(-1, 3)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_text_is_embedded_once_and_read_back_after(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, MemoryVectors())
    first = cached.encode(["alpha story", "beta story", "alpha story"])
    assert inner.seen == ["alpha story", "beta story"]  # the repeated text embedded once
    second = cached.encode(["beta story", "gamma story", "alpha story"])
    assert inner.seen[2:] == ["gamma story"]
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[2], first[0])
    assert np.array_equal(first, inner.encode(["alpha story", "beta story", "alpha story"]))
    assert (cached.hits, cached.misses) == (3, 3)


def test_the_key_names_the_embedder_so_another_model_embeds_again() -> None:
    store = MemoryVectors()
    CachedEmbedder(CountingEmbedder("model-a"), store).encode(["same text"])
    other = CountingEmbedder("model-b")
    CachedEmbedder(other, store).encode(["same text"])
    assert other.seen == ["same text"]
    assert text_key("model-a", "same text") != text_key("model-b", "same text")


def test_an_embedder_without_a_key_is_not_cached() -> None:
    inner = CountingEmbedder(key=None)  # e.g. TF-IDF: fitted on the texts of each call
    cached = CachedEmbedder(inner, MemoryVectors())
    cached.encode(["one text"])
    cached.encode(["one text"])
    assert inner.seen == ["one text", "one text"] and cached.hits == 0


def test_store_vectors_round_trip_exactly_and_prune_old_rows(tmp_path: Path) -> None:
    store = Store(db_url(tmp_path / "v.db"))
    try:
        vectors = StoreVectors(store.engine, keep_days=35)
        row = np.random.default_rng(0).standard_normal(384).astype(np.float32)
        with frozen_at(datetime(2026, 5, 1, tzinfo=UTC)):
            vectors.put_many("m", {"old": row})
        assert np.array_equal(vectors.get_many(["old", "absent"])["old"], row)
        with frozen_at(datetime(2026, 6, 10, tzinfo=UTC)):  # 40 days later
            vectors.put_many("m", {"new": row * 2})
        assert sorted(vectors.get_many(["old", "new"])) == ["new"]
        keys = [f"k{i}" for i in range(1200)]  # more keys than one IN (...) list holds
        vectors.put_many("m", {k: row for k in keys})
        assert len(vectors.get_many(keys)) == 1200
    finally:
        store.close()


def test_the_unit_vectors_migration_finishes_a_half_applied_copy(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    engine = make_engine(db_url(db))
    try:
        migrate(engine)
        execute(db, "DELETE FROM schema_migrations WHERE name = '0005_unit_vectors'")
        assert migrate(engine) == ["0005_unit_vectors"]  # tables already there: no error
        assert migrate(engine) == []
        inspector = sa.inspect(engine)
        assert "unit_vectors" in inspector.get_table_names()
        assert "ix_unit_vectors_created" in {i["name"] for i in inspector.get_indexes("unit_vectors")}
    finally:
        engine.dispose()


@pytest.mark.parametrize("texts", [[], ["only one"]])
def test_empty_and_single_calls(texts: list[str]) -> None:
    out = CachedEmbedder(CountingEmbedder(), MemoryVectors()).encode(texts)
    assert out.shape[0] == len(texts)
