"""One worker process's fetching: a single event loop, HTTP client, page fetcher and batch
writer shared by every fetch step the process runs, so a step costs what one source costs in
``lll fetch`` (the same ``FetchRun`` code: retrieve → parse → enrich → store)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lll.errors import SourceError
from lll.fetch.http import HttpClient
from lll.fetch.pages import PageFetcher
from lll.fetch.run import FetchRun, SourceOutcome
from lll.newsletter import Newsletter
from lll.records import Source

SOURCES_TTL = 60.0  # seconds a worker trusts its copy of the sources table
#: parse processes beside the worker, as ``lll fetch`` has (``FetchRun.arun``): parsing inline
#: held the worker's one interpreter, which also runs HTTP, the store's writes and DBOS, and made
#: one worker 1.3x slower than ``lll fetch`` on 2 cores
PARSE_PROCESSES = 2


def _parse_pool(processes: int) -> Executor:
    """Parse processes from a fork server (this process soon runs DBOS threads, which a plain
    fork would copy mid-flight) that imports the parser once (``lll.parse.feeds``, where the job
    lives), so each process forked from it starts with it loaded. They are started at once, on a
    thread of their own, while the engine launches: started by the first parse, they held the
    fetch loop for the moment it takes the fork server to import the parser."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lll.parse.feeds"])
    pool = ProcessPoolExecutor(processes, mp_context=context)

    def start() -> None:
        try:
            for started in [pool.submit(int) for _ in range(processes)]:
                started.result()
        except (RuntimeError, BrokenProcessPool):
            return  # shut down (or broken) before they started: the first parse reports it

    threading.Thread(target=start, name="lll-parse-start", daemon=True).start()
    return pool


class FetchService:
    """Fetch single sources on demand, from any thread; ``close()`` when the worker stops."""

    def __init__(self, letter: Newsletter, *, parse_processes: int = PARSE_PROCESSES) -> None:
        self.letter = letter
        self.store = letter.store
        self.run = FetchRun(letter.store, letter.config.fetch, policy=letter.fetch_policy())
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="lll-fetch-loop", daemon=True)
        self._thread.start()
        self.run_id = self.store.start_run("worker fetch")
        self.writer = self.store.batch_writer()
        self.parser: Executor | None = _parse_pool(parse_processes) if parse_processes > 0 else None
        self.client = HttpClient(letter.config.fetch, policy=self.run.policy, resolver=self.run.resolver)
        self._call(self.client.__aenter__())
        self.pages = PageFetcher(self.client, self.store, letter.config.fetch)
        self.outcomes: list[SourceOutcome] = []
        self._sources: dict[int, Source] = {}
        self._read_at = 0.0
        self._lock = threading.Lock()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def source(self, source_id: int) -> Source:
        """The source as stored now (its ETag and Last-Modified included; read again once a minute)."""
        with self._lock:
            if source_id not in self._sources or time.monotonic() - self._read_at > SOURCES_TTL:
                self._sources = {s.id: s for s in self.store.sources()}
                self._read_at = time.monotonic()
            found = self._sources.get(source_id)
        if found is None:
            raise SourceError(f"source {source_id} is not in this workspace any more (removed since it was enqueued)")
        return found

    def fetch(self, source_id: int) -> SourceOutcome:
        """Fetch one source and store what is new (idempotent: a rerun stores nothing twice)."""
        return self.fetch_many([source_id])[0]

    def fetch_many(self, source_ids: Sequence[int]) -> list[SourceOutcome]:
        """Fetch these sources concurrently, as ``lll fetch`` does, and store what is new; a source
        removed since it was enqueued is reported as an error, the others go on."""
        sources: list[Source | SourceOutcome] = []
        for source_id in source_ids:
            try:
                sources.append(self.source(source_id))
            except SourceError as exc:
                sources.append(SourceOutcome(Source(source_id, "", ""), "error", error=str(exc)))

        async def gathered() -> list[SourceOutcome]:
            return list(await asyncio.gather(*(
                self.run._one(s, self.client, self.pages, self.run_id, self.writer, self.parser)
                for s in sources if isinstance(s, Source))))

        fetched = iter(self._call(gathered()))
        outcomes = [s if isinstance(s, SourceOutcome) else next(fetched) for s in sources]
        with self._lock:
            self.outcomes.extend(outcomes)
        return outcomes

    def close(self) -> None:
        try:
            self._call(self.client.__aexit__(None, None, None))
        finally:
            self.writer.close()
            if self.parser is not None:
                self.parser.shutdown(wait=True, cancel_futures=True)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
            done = list(self.outcomes)
            self.store.finish_run(self.run_id, {
                "sources": len(done), "failed": sum(o.status == "error" for o in done),
                "new": sum(o.new for o in done), "changed": sum(o.changed for o in done)})
