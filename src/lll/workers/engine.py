"""The day's job as durable workflows (DBOS Transact), run by ``lll worker`` processes.

``enqueue_day`` puts a day in the database: ``lll.fetch`` workflows on the ``lll-fetch`` queue,
then one ``lll.day`` workflow on ``lll-draft`` that waits for those fetches, drafts the issue,
then publishes it through the publication ledger. Workflow ids are ``fetch-DATE-FIRST-LAST``
(the batch's first and last source id) and ``day-DATE``: enqueueing a day again, from this
machine or another, adds nothing, and a day is drafted by one workflow only.

How the fetches are cut: every host belongs to one of ``FETCH_GROUPS`` groups (a stable hash
of its name), and a fetch workflow is a batch of up to ``FETCH_BATCH`` sources of one group,
its hosts taken in turn. The queue is partitioned by group with one workflow of a group running
at a time across all workers, so one host's sources are only ever fetched by one workflow at
once, and the HTTP client in that workflow's process holds at most ``[fetch] per_host`` of them
in flight: no host ever sees more, however many workers run. Grouping hosts (rather than a
partition per host) keeps the engine's bookkeeping per batch even when every source has a host
of its own: 2,000 sources on 2,000 hosts make about 64 workflows, not 2,000.

Why batches: a workflow costs the engine several transactions of its own (claim, status, step
output, result) and a poll of the queue to start; one per source made a worker fetch at a
fifth of ``lll fetch``'s rate. A batch pays that once for many sources, and its step fetches
them concurrently through the same ``FetchRun`` code as ``lll fetch``.

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
import zlib
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
from lll.records import Source
from lll.workers.liveness import Liveness

log = logging.getLogger(__name__)

FETCH_QUEUE = "lll-fetch"
DRAFT_QUEUE = "lll-draft"
WORKFLOW_VERSION = "3"  # bump when a workflow's steps change: older pending workflows are then left alone
WORKERS_DB = "workers.db"  # beside lll.db when the store is SQLite
FETCH_BATCH = 64  # sources per fetch workflow (of one host group)
#: sources per step of a fetch workflow: what a crash makes one fetch again at most (idempotent: it
#: stores nothing twice). The whole batch: each step ends in a wait for its slowest source, and
#: with steps of 16 those waits cost one worker 1.30x ``lll fetch``'s wall clock against 1.24x,
#: four workers 1.12x against 1.03x (paired rounds of bench/scale.py's fetch on PostgreSQL)
FETCH_STEP = FETCH_BATCH
FETCH_GROUPS = 64  # host groups: the fetch queue's partitions
RECOVERY_EVERY = 5.0  # seconds between a worker's looks for dead workers' workflows
#: seconds between the flushes of DBOS's notifier thread (LISTEN/NOTIFY for events and streams,
#: which no LLL workflow uses): at its default, 0.01 s, the thread woke 100 times a second to take
#: the interpreter lock from the fetch loop and the store's writer (1 worker 1.29x ``lll fetch``'s
#: wall clock against 1.12x with 1 s, bench/scale.py on PostgreSQL)
NOTIFY_COALESCE = 1.0


@dataclass(frozen=True)
class DayPlan:
    """What ``enqueue_day`` put in the queues."""

    day: str
    workflow_id: str
    fetches: tuple[str, ...]  # the fetch workflows' ids (one per batch of sources)
    sources: int = 0


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
        "notification_coalesce_sec": NOTIFY_COALESCE,
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
    # one batch of a host group at a time; per worker, twice as many batches as fill
    # ``concurrency`` requests at ``per_host`` each, so that the HTTP client stays full while a
    # batch finishes its last sources or a freed slot waits for the next poll (the client holds
    # the overall and per-host limits whatever is started)
    DBOS.register_queue(FETCH_QUEUE, partition_concurrency=1,
                        worker_concurrency=max(2, 2 * settings.concurrency // settings.per_host),
                        polling_interval_sec=0.5)
    # a day's draft can wait 2 s to start: each poll is a transaction (polling every 0.5 s cost a
    # fetching worker 0.8 CPU-seconds a minute)
    DBOS.register_queue(DRAFT_QUEUE, worker_concurrency=1, polling_interval_sec=2.0)


@contextmanager
def connected(letter: Newsletter) -> Iterator[None]:
    """DBOS launched in this process without taking any work (to enqueue or inspect)."""
    _launch(letter, f"client-{executor_name()}", listen=())
    try:
        yield
    finally:
        DBOS.destroy(destroy_registry=False)


def host_of(url: str) -> str:
    """A source's host, as the HTTP client limits it."""
    return urlsplit(url).netloc.lower() or url


def host_group(host: str, groups: int = FETCH_GROUPS) -> str:
    """The fetch queue partition of a host: the same on every machine and in every run (CRC-32,
    not Python's salted ``hash``)."""
    return f"hosts-{zlib.crc32(host.encode()) % groups:02d}"


def _queue(name: str) -> Any:
    queue = DBOS.retrieve_queue(name)
    if queue is None:
        raise LLLError(f"the {name} queue is not registered: enqueue inside `connected(letter)`")
    return queue


def fetch_batches(sources: Sequence[Source], size: int = FETCH_BATCH,
                  groups: int = FETCH_GROUPS) -> list[tuple[str, list[int]]]:
    """The sources by host group, cut into batches of at most ``size``: ``(group, source ids)``
    per batch. Within a group its hosts take turns (each in id order), so a batch of a group
    with several hosts keeps all of them busy rather than one at a time."""
    by_group: dict[str, dict[str, list[int]]] = {}
    for source in sorted(sources, key=lambda s: s.id):
        host = host_of(source.url)
        by_group.setdefault(host_group(host, groups), {}).setdefault(host, []).append(source.id)
    batches = []
    for group, hosts in sorted(by_group.items()):
        turns = [hosts[host] for host in sorted(hosts)]
        order = [ids[k] for k in range(max(map(len, turns))) for ids in turns if k < len(ids)]
        batches += [(group, order[start:start + size]) for start in range(0, len(order), size)]
    return batches


def enqueue_fetches(letter: Newsletter, day: str) -> list[str]:
    """The fetch workflows of ``day`` (a batch of one host group's sources each, queued under that
    group): their ids."""
    queue, fetches = _queue(FETCH_QUEUE), []
    for group, ids in fetch_batches(letter.store.sources()):
        workflow_id = f"fetch-{day}-{ids[0]}-{ids[-1]}"
        with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=group):
            # the step size is an input, so a recovered workflow cuts its steps the same way
            queue.enqueue(fetch_sources, ids, day, FETCH_STEP)
        fetches.append(workflow_id)
    return fetches


def enqueue_day(letter: Newsletter, day: str) -> DayPlan:
    """Enqueue the fetch of every source and the day's draft (in an open :func:`connected`)."""
    sources = len(letter.store.sources())
    fetches = enqueue_fetches(letter, day)
    day_id = f"day-{day}"
    with SetWorkflowID(day_id):
        _queue(DRAFT_QUEUE).enqueue(run_day, day, fetches)
    return DayPlan(day, day_id, tuple(fetches), sources)


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
def _fetch_step(source_ids: list[int]) -> list[dict[str, Any]]:
    """Fetch these sources concurrently (the HTTP client's per-host limit holds) and store them."""
    outcomes = _Runtime.fetcher.fetch_many(source_ids)
    return [{"source": o.source.url, "status": o.status, "new": o.new, "changed": o.changed, "error": o.error}
            for o in outcomes]


@DBOS.workflow(name="lll.fetch")
def fetch_sources(source_ids: list[int], day: str, step: int) -> dict[str, Any]:
    """Fetch a batch of one host group's sources for ``day``, ``step`` at a time, and store what is new.
    A crash repeats at most the step in flight (which stores nothing twice)."""
    done: list[dict[str, Any]] = []
    for start in range(0, len(source_ids), max(1, step)):
        done += _fetch_step(source_ids[start:start + step])
    return {"day": day, "sources": len(done), "failed": sum(d["status"] == "error" for d in done),
            "new": sum(d["new"] for d in done), "changed": sum(d["changed"] for d in done)}


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
        looked = 0.0
        try:
            while not self.stop.wait(1.0):
                if time.monotonic() - looked >= RECOVERY_EVERY:
                    if liveness.renew():
                        log.warning("worker %s: the database had dropped its liveness lock; it holds it again",
                                    self.executor_id)
                    self._recover_the_dead(liveness)
                    looked = time.monotonic()
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
