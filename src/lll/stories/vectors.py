"""Story-unit vectors cached by content hash, so no text is embedded twice.

:class:`CachedEmbedder` wraps any :class:`~lll.stories.embed.Embedder`: each
text's key is the SHA-256 of the embedder's key (model, arithmetic, token
limit) and the text; texts already in the cache are read back, the rest are
embedded once each (a text given twice is embedded once) and stored. The
cache lives in the workspace database (``unit_vectors``, migration
``0005_unit_vectors``) through :class:`StoreVectors`; :class:`MemoryVectors`
serves tests and benches.

MiniLM's int8 path embeds each text alone, so a vector read back is the very
vector a fresh run would compute: the cache changes the time, not the result.
Rows older than ``keep_days`` (by ``lll.clock.now``) are pruned when new rows
are written: a draft looks back at most a week.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Protocol

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray

from lll.clock import iso, now
from lll.stories.embed import Embedder
from lll.store import schema as t
from lll.store.dialect import insert

__all__ = ["CachedEmbedder", "MemoryVectors", "StoreVectors", "VectorStore", "embedder_key"]

_LOOKUP_CHUNK = 500  # keys per SELECT … IN (…): under SQLite's bound-parameter limit


class VectorStore(Protocol):
    """Where :class:`CachedEmbedder` keeps vectors (float32 rows) by key."""

    def get_many(self, keys: Sequence[str]) -> dict[str, NDArray[np.float32]]: ...
    def put_many(self, embedder: str, rows: dict[str, NDArray[np.float32]]) -> None: ...


class MemoryVectors:
    """A :class:`VectorStore` in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, NDArray[np.float32]] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        return {key: self.rows[key] for key in keys if key in self.rows}

    def put_many(self, embedder: str, rows: dict[str, NDArray[np.float32]]) -> None:
        self.rows.update(rows)


class StoreVectors:
    """A :class:`VectorStore` on the workspace database; each write is one transaction."""

    def __init__(self, engine: sa.Engine, keep_days: int = 35) -> None:
        self.engine = engine
        self.keep_days = keep_days

    def get_many(self, keys: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        found: dict[str, NDArray[np.float32]] = {}
        table = t.unit_vectors
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(keys)), _LOOKUP_CHUNK):
                query = sa.select(table.c.key, table.c.dim, table.c.vector).where(table.c.key.in_(chunk))
                for row in conn.execute(query):
                    vector = np.frombuffer(row.vector, dtype="<f4")
                    if vector.shape == (row.dim,):
                        found[row.key] = vector.astype(np.float32)
        return found

    def put_many(self, embedder: str, rows: dict[str, NDArray[np.float32]]) -> None:
        if not rows:
            return
        moment = now()
        table = t.unit_vectors
        with self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.created_at < iso(moment - timedelta(days=self.keep_days))))
            # ON CONFLICT: two drafts embedding the same new text at once both keep one row
            upsert = insert(conn, table)
            upsert = upsert.on_conflict_do_update(index_elements=["key"], set_={
                "embedder": upsert.excluded.embedder, "dim": upsert.excluded.dim,
                "vector": upsert.excluded.vector, "created_at": upsert.excluded.created_at})
            conn.execute(upsert, [
                {"key": key, "embedder": embedder, "dim": int(vector.shape[0]),
                 "vector": np.asarray(vector, dtype="<f4").tobytes(), "created_at": iso(moment)}
                for key, vector in rows.items()
            ])


def embedder_key(embedder: Embedder) -> str:
    """What decides an embedder's vectors: its ``key`` when it has one, else its name."""
    return str(getattr(embedder, "key", None) or getattr(embedder, "name", type(embedder).__name__))


def text_key(embedder: str, text: str) -> str:
    return hashlib.sha256(f"{embedder}\0{text}".encode()).hexdigest()


class CachedEmbedder:
    """An :class:`Embedder` that reads vectors from ``store`` and embeds only the rest.

    Embedders fitted on the texts they are given (TF-IDF) are not cached: their
    vectors depend on the whole call, so :attr:`cacheable` is False for them and
    every call goes straight through.
    """

    def __init__(self, inner: Embedder, store: VectorStore) -> None:
        self.inner = inner
        self.store = store
        self.name = inner.name
        self.hits = 0
        self.misses = 0

    @property
    def cacheable(self) -> bool:
        return getattr(self.inner, "key", None) is not None

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit rows in input order, as ``inner.encode`` would give them."""
        if not self.cacheable or not texts:
            return self.inner.encode(texts)
        prefix = embedder_key(self.inner)
        keys = [text_key(prefix, str(text)) for text in texts]
        known = self.store.get_many(keys)
        missing = {key: str(text) for key, text in zip(keys, texts, strict=True) if key not in known}
        if missing:
            fresh = self.inner.encode(list(missing.values()))
            new_rows = dict(zip(missing, fresh, strict=True))
            self.store.put_many(prefix, new_rows)
            known.update(new_rows)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return np.vstack([known[key] for key in keys]).astype(np.float32)


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
