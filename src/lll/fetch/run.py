"""``FetchRun``: fetch every source once, concurrently, and store what is new.

retrieve (HTTP) → parse (process pool for large runs) → enrich (article pages,
transcripts) → store (on one writer thread, several sources per transaction, each
source's writes all in one: see ``lll.store.batch``). A failure costs only its own
source: it is recorded in that source's health row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta

from lll.clock import now
from lll.config import FetchSettings
from lll.errors import FetchError
from lll.fetch.guard import Resolver, system_resolver
from lll.fetch.http import HttpClient
from lll.fetch.pages import PageFetcher, where_it_points
from lll.parse.feeds import parse_job
from lll.records import ParsedFeed, Source
from lll.store import Store
from lll.store.batch import BatchWriter
from lll.store.db import write_failure, write_fetch

POOL_THRESHOLD = 24  # sources: below this, parse inline (a process pool costs ~0.3 s to start)


@dataclass(frozen=True)
class SourceOutcome:
    source: Source
    status: str  # ok | not_modified | error
    new: int = 0
    changed: int = 0
    error: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class FetchReport:
    outcomes: tuple[SourceOutcome, ...]
    seconds: float
    pages: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def new_items(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def changed_items(self) -> int:
        return sum(o.changed for o in self.outcomes)

    def summary_line(self) -> str:
        n, bad = len(self.outcomes), len(self.failed)
        line = (f"{n} sources, {n - bad} ok, {bad} failed; {self.new_items} new items, "
                f"{self.changed_items} changed ({self.seconds:.1f} s)")
        if bad:
            line += "; failed: " + ", ".join(o.source.name for o in self.failed[:10])
            line += " …" if bad > 10 else ""
        return line


class FetchRun:
    """One pass over the sources. Build it, then ``run()`` (sync) or ``arun()``."""

    def __init__(self, store: Store, settings: FetchSettings, *, policy: str = "public",
                 resolver: Resolver = system_resolver,
                 progress: Callable[[SourceOutcome], None] | None = None,
                 locate: Callable[[str], str] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.resolver = resolver
        self.progress = progress
        self.locate = locate or where_it_points  # where to GET an article page from (see ``PageFetcher``)

    def run(self, sources: Sequence[Source] | None = None) -> FetchReport:
        return asyncio.run(self.arun(sources))

    async def arun(self, sources: Sequence[Source] | None = None) -> FetchReport:
        chosen = list(self.store.sources() if sources is None else sources)
        started = time.perf_counter()
        run_id = self.store.start_run("fetch")
        writer = self.store.batch_writer()
        # Two parse processes beside this one, also on 2 cores: with the fast parser the pool and
        # this process take about the same CPU, and 1, 2 or 3 workers measured the same wall time.
        parser: Executor | None = ProcessPoolExecutor(max_workers=2) if len(chosen) >= POOL_THRESHOLD else None
        try:
            async with HttpClient(self.settings, policy=self.policy, resolver=self.resolver) as client:
                pages = PageFetcher(client, self.store, self.settings, self.locate)
                jobs = [self._one(s, client, pages, run_id, writer, parser) for s in chosen]
                outcomes = await asyncio.gather(*jobs)
        finally:
            writer.close()
            if parser is not None:
                parser.shutdown(wait=True, cancel_futures=True)
        report = FetchReport(outcomes=tuple(outcomes), seconds=time.perf_counter() - started,
                             pages=pages.fetched)
        self.store.finish_run(run_id, {"sources": len(outcomes), "failed": len(report.failed),
                                       "new": report.new_items, "changed": report.changed_items})
        return report

    async def _one(self, source: Source, client: HttpClient, pages: PageFetcher, run_id: int,
                   writer: BatchWriter, parser: Executor | None) -> SourceOutcome:
        loop = asyncio.get_running_loop()
        started_at, t0 = now(), time.perf_counter()

        async def fail(message: str, status: int | None = None, nbytes: int = 0,
                       attempts: int = 1) -> SourceOutcome:
            seconds = time.perf_counter() - t0
            await asyncio.wrap_future(writer.submit(lambda conn: write_failure(
                conn, source, run_id=run_id, started=started_at, seconds=seconds,
                error=message, http_status=status, attempts=attempts, nbytes=nbytes)))
            return self._report(SourceOutcome(source, "error", error=message,
                                              seconds=time.perf_counter() - t0))

        try:
            fetched = await client.get(source.url, etag=source.etag, last_modified=source.last_modified)
        except FetchError as exc:
            return await fail(str(exc), exc.status, attempts=exc.attempts)
        except Exception as exc:  # noqa: BLE001 - whatever one source does, the others go on
            return await fail(f"{source.url}: unexpected {exc.__class__.__name__}: {exc}")
        parsed: ParsedFeed | None = None
        if not fetched.not_modified:
            kind = source.kind if source.kind not in ("", "auto") else "auto"
            job = (fetched.body, source.url, fetched.content_type, kind)
            result = (await loop.run_in_executor(parser, parse_job, *job) if parser is not None
                      else parse_job(*job))
            if isinstance(result, str):
                return await fail(result, fetched.status, len(fetched.body), fetched.attempts)
            try:
                parsed = await self._enrich(source, result, pages)
            except Exception:  # noqa: BLE001 - pages are a bonus: keep the feed's own text
                parsed = result
        saved = await asyncio.wrap_future(writer.submit(lambda conn: write_fetch(
            conn, source, fetched, parsed, run_id=run_id, started=started_at, seen_at=started_at)))
        status = "not_modified" if fetched.not_modified else "ok"
        return self._report(SourceOutcome(source, status, new=saved.new, changed=saved.changed,
                                          seconds=time.perf_counter() - t0))

    async def _enrich(self, source: Source, parsed: ParsedFeed, pages: PageFetcher) -> ParsedFeed:
        """Fetch article pages and transcripts for the new or changed items that need them."""
        mode = source.fulltext or self.settings.fulltext
        horizon = now() - timedelta(days=self.settings.fulltext_max_age_days)
        wanted = [i for i in parsed.items if (i.transcript_url or (mode != "never" and (
            i.needs_fulltext or mode == "always"))) and (i.published is None or i.published >= horizon)]
        if not wanted:  # nothing recent needs a page: no need to read what is stored
            return parsed
        known = await asyncio.to_thread(self.store.known_hashes, source.id)
        fresh = [i for i in wanted if known.get(i.identity) != i.content_hash][: self.settings.fulltext_per_source]
        if not fresh:
            return parsed
        enriched = {i.identity: i for i in await asyncio.gather(*(pages.enrich(i) for i in fresh))}
        return replace(parsed, items=tuple(enriched.get(i.identity, i) for i in parsed.items))

    def _report(self, outcome: SourceOutcome) -> SourceOutcome:
        if self.progress is not None:
            self.progress(outcome)
        return outcome

