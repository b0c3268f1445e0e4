"""``BatchWriter``: one writer thread that commits the writes of several sources per
transaction.

A fetch of 1,000 sources used to make 1,000 transactions, one per source. Here each job is
a function of an open connection (``write_fetch``, ``write_failure``…); the thread takes the
jobs waiting (up to ``max_jobs``, lingering at most ``max_wait`` seconds for more after the
first) and runs them in one transaction. A job's future is settled only after that
transaction commits, so whoever reports a source as stored reports what is on disk.

Crash safety is the transaction's: a crash loses at most the batch being written, whole
(every job of a source is inside one batch), never half of a source. When a job raises, the
batch is rolled back and each of its jobs is run again in a transaction of its own, so one
bad source costs only itself.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

T = TypeVar("T")


@dataclass
class _Job(Generic[T]):
    work: Callable[[sa.Connection], T]
    future: Future[T] = field(default_factory=Future)


_STOP = object()


class BatchWriter:
    """Run write jobs on one thread, several per transaction. Use as a context manager, or
    ``close()`` when done (waits for every submitted job)."""

    def __init__(self, engine: sa.Engine, *, max_jobs: int = 50, max_wait: float = 0.05) -> None:
        self.engine = engine
        self.max_jobs = max(1, max_jobs)
        self.max_wait = max(0.0, max_wait)
        self.batches = 0
        self.jobs = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="lll-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[sa.Connection], T]) -> Future[T]:
        """Queue ``work(conn)``; its future is settled once its transaction has committed."""
        job: _Job[T] = _Job(work)
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer thread -----------------------------------------------------------------

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job[Any]] = [first]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_jobs:
                wait = deadline - time.monotonic()
                try:
                    job = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                    break
                batch.append(job)
            self._write(batch)

    def _write(self, batch: list[_Job[Any]]) -> None:
        try:
            with self.engine.begin() as conn:
                results = [job.work(conn) for job in batch]
        except BaseException as exc:  # noqa: BLE001 - settled on the futures, never lost on this thread
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            for job in batch:  # the batch was rolled back whole: each job again, alone
                self._write([job])
            return
        self.batches += 1
        self.jobs += len(batch)
        for job, result in zip(batch, results, strict=True):
            job.future.set_result(result)


__all__ = ["BatchWriter"]
