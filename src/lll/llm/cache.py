"""The content-hash cache of model answers and the log of every call, both in the
workspace database (``model_cache``, ``model_calls``; migration ``0004_model_calls``).

A cache key is the SHA-256 of everything that decides an answer: the prompt template's
version and digest, the model, the system and user text and the schema. Drafting again
with nothing new asks the same questions, so it makes no call. Only answers that passed
LLL's checks are stored, so a bad answer is asked for again next time, not replayed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from lll.clock import iso, now
from lll.store import schema as t
from lll.store.dialect import insert


def cache_key(*, prompt_version: str, model: str, system: str, user: str, schema: dict[str, Any] | None) -> str:
    blob = json.dumps({"prompt": prompt_version, "model": model, "system": system, "user": user,
                       "schema": schema}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True)
class CallRecord:
    """One row of ``model_calls``."""

    issue_date: str | None
    role: str
    model: str
    purpose: str
    prompt: str
    prompt_version: str
    cache_key: str
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    usd: float = 0.0
    seconds: float = 0.0
    attempts: int = 0
    status: str = "ok"  # ok | cached | invalid | error | budget
    error: str | None = None


class AnswerStore(Protocol):
    def get(self, key: str) -> CachedAnswer | None: ...
    def put(self, key: str, *, model: str, prompt: str, prompt_version: str, answer: CachedAnswer) -> None: ...
    def log(self, record: CallRecord) -> None: ...


class StoreAnswers:
    """``AnswerStore`` on the workspace database. Every write is its own short transaction,
    so an answer paid for is kept even if the draft fails later."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> CachedAnswer | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.model_cache.c.response, t.model_cache.c.tokens_in,
                                         t.model_cache.c.tokens_out).where(t.model_cache.c.key == key)).first()
        return CachedAnswer(row.response, row.tokens_in, row.tokens_out) if row else None

    def put(self, key: str, *, model: str, prompt: str, prompt_version: str, answer: CachedAnswer) -> None:
        row = dict(model=model, prompt=prompt, prompt_version=prompt_version, response=answer.text,
                   tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, created_at=iso(now()))
        with self.engine.begin() as conn:
            conn.execute(insert(conn, t.model_cache).values(key=key, **row)
                         .on_conflict_do_update(index_elements=["key"], set_=row))

    def log(self, record: CallRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.model_calls.insert().values(**record.__dict__, created_at=iso(now())))


class MemoryAnswers:
    """``AnswerStore`` in memory (benchmarks, and code that has no workspace)."""

    def __init__(self) -> None:
        self.answers: dict[str, CachedAnswer] = {}
        self.records: list[CallRecord] = []

    def get(self, key: str) -> CachedAnswer | None:
        return self.answers.get(key)

    def put(self, key: str, *, model: str, prompt: str, prompt_version: str, answer: CachedAnswer) -> None:
        self.answers[key] = answer

    def log(self, record: CallRecord) -> None:
        self.records.append(record)
