"""The day's job as durable workflows (DBOS Transact), run by ``lll worker`` processes.

``enqueue_day`` puts a day in the database: one ``lll.fetch`` workflow per source on the
``lll-fetch`` queue, partitioned by the feed's host (at most ``[fetch] per_host`` sources of one
host in flight across all workers), and one ``lll.day`` workflow on ``lll-draft`` that waits for
those fetches, drafts the issue, then publishes it through the publication ledger. Workflow ids
are ``fetch-DATE-SOURCE`` and ``day-DATE``: enqueueing a day again, from this machine or another,
adds nothing, and a day is drafted by one workflow only.

A step interrupted by a crash runs again (DBOS gives steps at-least-once, workflows
exactly-once); every step here is idempotent — a fetch stores nothing twice, a draft replaces the
day's draft, a publish goes through the ledger. A worker that dies leaves its workflows
``PENDING`` under its executor id; each live worker holds a lock for its own id (``liveness``) and
re-enqueues the workflows of any executor whose lock it can take, so another worker finishes
the day.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, SetEnqueueOptions, SetWorkflowID

import lll
from lll.errors import LLLError
from lll.newsletter import Newsletter
from lll.workers.liveness import Liveness

log = logging.getLogger(__name__)

FETCH_QUEUE = "lll-fetch"
DRAFT_QUEUE = "lll-draft"
WORKFLOW_VERSION = "1"  # bump when a workflow's steps change: older pending workflows are then left alone
WORKERS_DB = "workers.db"  # beside lll.db when the store is SQLite


@dataclass(frozen=True)
class DayPlan:
    """What ``enqueue_day`` put in the queues."""

    day: str
    workflow_id: str
    fetches: tuple[str, ...]


class _Runtime:
    """The worker process's open workspace and fetcher (DBOS steps run in its threads)."""

    letter: Newsletter | None = None
    fetcher: Any = None


def system_database_url(letter: Newsletter) -> str:
    """Where DBOS keeps workflows and queues: the store's PostgreSQL database (schema ``dbos``),
    or ``workers.db`` beside the workspace's SQLite file."""
    url = letter.workspace.database_url
    if url.startswith("sqlite"):
        return f"sqlite:///{letter.workspace.root / WORKERS_DB}"
    return url


def system_schema(url: str) -> str:
    """DBOS's schema: ``dbos``, or ``SCHEMA_dbos`` when the store lives in a schema of its own
    (``?options=-csearch_path=SCHEMA``), so newsletters sharing a database share no workflow."""
    options = sa.engine.make_url(url).query.get("options", "")
    found = re.search(r"search_path=([A-Za-z_][A-Za-z0-9_]*)", options if isinstance(options, str) else "")
    return f"{found.group(1)}_dbos" if found else "dbos"


_MIGRATING = threading.local()  # DBOS's SQLite migrations issue their own BEGIN IMMEDIATE


def _sqlite_engine(url: str) -> sa.Engine:
    """SQLite for DBOS, as the store has it: WAL (DBOS's default journal makes every enqueue wait
    for a full sync) and BEGIN IMMEDIATE at the start of every transaction, so that a dequeue's
    count of running workflows and its claim are one step across processes (with pysqlite's own
    BEGIN, issued only before the first write, two workers could both count a host free)."""
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        if not getattr(_MIGRATING, "now", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def executor_name() -> str:
    """A worker's executor id: unique per process, readable in the workflow tables."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _launch(letter: Newsletter, executor_id: str, *, listen: Sequence[str]) -> None:
    url = system_database_url(letter)
    config: DBOSConfig = {
        "name": "lll",
        "system_database_url": url,
        "executor_id": executor_id,
        "application_version": f"lll-{lll.__version__}-workflows-{WORKFLOW_VERSION}",
        "log_level": os.environ.get("LLL_WORKER_LOG_LEVEL", "WARNING"),
    }
    if url.startswith("sqlite"):
        config["system_database_engine"] = _sqlite_engine(url)
    else:
        config["dbos_system_schema"] = system_schema(url)
    DBOS(config=config)
    DBOS.listen_queues(list(listen))
    _MIGRATING.now = True  # this thread only: the queue threads DBOS starts take the hook as it is
    try:
        DBOS.launch()
    finally:
        _MIGRATING.now = False
    settings = letter.config.fetch
    DBOS.register_queue(FETCH_QUEUE, partition_concurrency=settings.per_host,
                        worker_concurrency=settings.concurrency, polling_interval_sec=0.2)
    DBOS.register_queue(DRAFT_QUEUE, worker_concurrency=1, polling_interval_sec=0.5)


@contextmanager
def connected(letter: Newsletter) -> Iterator[None]:
    """DBOS launched in this process without taking any work (to enqueue or inspect)."""
    _launch(letter, f"client-{executor_name()}", listen=())
    try:
        yield
    finally:
        DBOS.destroy(destroy_registry=False)


def host_of(url: str) -> str:
    """The partition a source's fetch is queued under: what the HTTP client limits per host."""
    return urlsplit(url).netloc.lower() or url


def _queue(name: str) -> Any:
    queue = DBOS.retrieve_queue(name)
    if queue is None:
        raise LLLError(f"the {name} queue is not registered: enqueue inside `connected(letter)`")
    return queue


def enqueue_fetches(letter: Newsletter, day: str) -> list[str]:
    """One fetch workflow per source for ``day``, queued under the source's host: their ids."""
    queue, fetches = _queue(FETCH_QUEUE), []
    for source in letter.store.sources():
        workflow_id = f"fetch-{day}-{source.id}"
        with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=host_of(source.url)):
            queue.enqueue(fetch_source, source.id, day)
        fetches.append(workflow_id)
    return fetches


def enqueue_day(letter: Newsletter, day: str) -> DayPlan:
    """Enqueue the fetch of every source and the day's draft (in an open :func:`connected`)."""
    fetches = enqueue_fetches(letter, day)
    day_id = f"day-{day}"
    with SetWorkflowID(day_id):
        _queue(DRAFT_QUEUE).enqueue(run_day, day, fetches)
    return DayPlan(day, day_id, tuple(fetches))


def day_status(day: str) -> str:
    """The day workflow's status (``ENQUEUED``, ``PENDING``, ``SUCCESS``, ``ERROR``…) or ``absent``."""
    found = DBOS.list_workflows(workflow_ids=[f"day-{day}"], load_input=False, load_output=False)
    return found[0].status if found else "absent"


# -- the workflows -------------------------------------------------------------------------------


def _letter() -> Newsletter:
    if _Runtime.letter is None:
        raise LLLError("no workspace open in this worker (start it with `lll worker`)")
    return _Runtime.letter


@DBOS.step(name="lll.fetch.step")
def _fetch_step(source_id: int) -> dict[str, Any]:
    outcome = _Runtime.fetcher.fetch(source_id)
    return {"source": outcome.source.url, "status": outcome.status, "new": outcome.new,
            "changed": outcome.changed, "error": outcome.error}


@DBOS.workflow(name="lll.fetch")
def fetch_source(source_id: int, day: str) -> dict[str, Any]:
    """Fetch one source for ``day`` and store what is new."""
    return _fetch_step(source_id)


@DBOS.step(name="lll.wait")
def _wait_step(workflow_ids: list[str]) -> int:
    """Wait until every fetch of the day has finished (well or not): the count still open."""
    waiting = list(workflow_ids)
    while waiting:
        open_ = set()
        for start in range(0, len(waiting), 500):
            chunk = waiting[start:start + 500]
            rows = DBOS.list_workflows(workflow_ids=chunk, status=["ENQUEUED", "PENDING"],
                                       load_input=False, load_output=False)
            open_ |= {r.workflow_id for r in rows}
        waiting = [w for w in waiting if w in open_]
        if waiting:
            time.sleep(0.5)
    return 0


@DBOS.step(name="lll.draft")
def _draft_step(day: str) -> dict[str, str]:
    from lll.draft import Drafter

    letter = _letter()
    with letter.lock("draft"):
        result = Drafter(letter).draft(day)
    return {"markdown": str(result.markdown_path), "summary": result.summary_line()}


@DBOS.step(name="lll.publish")
def _publish_step(day: str) -> list[str]:
    letter = _letter()
    if not letter.config.publish.targets:
        return []
    from lll.publish import Publishing

    with letter.lock("publish"):
        outcomes = Publishing(letter).publish_all(day, letter.config.publish.targets)
    return [f"error: {o}" if isinstance(o, LLLError) else o.summary_line() for o in outcomes]


@DBOS.workflow(name="lll.day")
def run_day(day: str, fetches: list[str]) -> dict[str, Any]:
    """The day after its fetches: draft once, then publish through the publication ledger."""
    _wait_step(fetches)
    drafted = _draft_step(day)
    published = _publish_step(day)
    return {"day": day, **drafted, "published": published}


# -- the worker ----------------------------------------------------------------------------------


class Worker:
    """``lll worker``: runs fetch and draft workflows until stopped (or, with ``until_idle``,
    until the queues have stayed empty that many seconds)."""

    def __init__(self, letter: Newsletter, *, executor_id: str | None = None) -> None:
        self.letter = letter
        self.executor_id = executor_id or executor_name()
        self.stop = threading.Event()

    def run(self, *, until_idle: float | None = None) -> None:
        from lll.workers.fetching import FetchService

        liveness = Liveness.for_letter(self.letter)
        liveness.hold(self.executor_id)
        _Runtime.letter = self.letter
        _Runtime.fetcher = FetchService(self.letter)
        _launch(self.letter, self.executor_id, listen=(FETCH_QUEUE, DRAFT_QUEUE))
        idle_since: float | None = None
        try:
            while not self.stop.wait(1.0):
                self._recover_the_dead(liveness)
                if until_idle is None:
                    continue
                if self._busy():
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= until_idle:
                    break
        finally:
            DBOS.destroy(destroy_registry=False)
            _Runtime.fetcher.close()
            _Runtime.fetcher = _Runtime.letter = None
            liveness.release()

    def _busy(self) -> bool:
        rows = DBOS.list_workflows(status=["ENQUEUED", "PENDING"], limit=1, load_input=False, load_output=False)
        return bool(rows)

    def _recover_the_dead(self, liveness: Liveness) -> None:
        """Re-enqueue the pending workflows of executors that no longer hold their liveness lock."""
        pending = DBOS.list_workflows(status="PENDING", load_input=False, load_output=False)
        owners = {r.executor_id for r in pending if r.executor_id and r.executor_id != self.executor_id}
        for owner in sorted(owners):
            with liveness.claim(owner) as dead:
                if dead:
                    handles = DBOS._recover_pending_workflows([owner])  # what DBOS's admin API does
                    log.warning("worker %s is gone: %d workflow(s) re-enqueued", owner, len(handles))
