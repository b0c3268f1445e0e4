#!/usr/bin/env python
"""Scale benchmark: costs that grow with the work, and the day's job over many workers.

    python bench/scale.py                          # everything, on SQLite (workers.db beside lll.db)
    python bench/scale.py --database-url URL       # the fetch and kill parts on PostgreSQL (one schema a run)
    python bench/scale.py --only ledger,cluster    # some parts; --quick for small sizes

Parts (each prints a table with its baseline and the ratio):

ledger   matching a day's story groups against the ledger: the per-story scan ``classify`` was
         (kept in tests/test_ledger_matching.py as the oracle) against ``classify_all`` (one
         groups × ledger product and a URL index), at 800 / 5,000 / 51,000 ledger stories; the
         matches must be identical.
cluster  the event layer's stream clustering (``cluster_stream``, MiniLM-like vectors + TF-IDF) from
         500 to 4,000 units: the full search (every open story's nearest member computed) against
         the bounded one; the labels must be identical.
fetch    N loopback feeds × M items on H hosts, fetched by single-process ``lll fetch`` and by 1, 2
         and 4 ``lll worker`` processes (``enqueue_fetches``), started with the day queued
         ("cold": their start-up timed, as ``lll fetch``'s is) and already running, idle, when the
         day is queued ("running": what a worker left on pays a day; ``--cold-only`` skips these);
         the server counts requests per feed and requests in flight per host: every feed fetched
         once, every item stored once, no host above ``[fetch] per_host``.
kill     trials of a day (fetch, draft, publish to a fake DEV) by two workers, one killed with
         SIGKILL mid-fetch (once a random share of the sources is stored, watched through the
         store) and replaced: every item stored once, one issue, one DEV draft; prints how many
         kills landed mid-fetch (a step cut by the kill runs again, so a feed may be served twice).
draft    the story stage (``build_stories``, TF-IDF embedder) for 100 / 1,000 / 5,000 synthetic
         sources against 30 days of ledger, with the growth ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the oracles and the counting feed server live with the tests

from fakes.hosts import HostsServer  # noqa: E402

LLL = [sys.executable, "-m", "lll"]
DAY = "2026-05-10"
NOW = "2026-05-10T23:30:00Z"


def table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# -- ledger ----------------------------------------------------------------------------------------


def bench_ledger(quick: bool) -> bool:
    from test_ledger_matching import _same, day, reference

    from lll.stories.ledger import classify_all

    sizes, groups = ((800, 5000) if quick else (800, 5000, 51000)), 300
    rows, ok = [], True
    for size in sizes:
        ledger, stories = day(size, groups, seed=size)
        before, expected = timed(lambda: [reference(t, u, i, v, ledger) for t, u, i, v in stories])
        after, got = timed(lambda: classify_all(stories, ledger))
        same = all(_same(a, b) for a, b in zip(expected, got, strict=True))
        ok &= same
        rows.append((f"{size:,}", str(groups), f"{before:.2f}", f"{after:.3f}", f"{before / after:.0f}x",
                     "yes" if same else "NO"))
    print(f"Ledger matching: {groups} story groups against the ledger (scan per story vs classify_all)")
    table(("ledger stories", "groups", "scan s", "classify_all s", "speed-up", "identical"), rows)
    return ok


# -- cluster ---------------------------------------------------------------------------------------


def _units(n: int, seed: int) -> tuple[list[Any], np.ndarray]:
    from lll.stories.cluster import Doc

    rng, gen = random.Random(seed), np.random.default_rng(seed)
    vocabulary = [f"term{i}" for i in range(6000)]
    topics = max(10, n // 3)
    centres = gen.normal(size=(topics, 384))
    words = [rng.sample(vocabulary, 12) for _ in range(topics)]
    start = datetime(2026, 5, 10, tzinfo=UTC)
    docs, vectors = [], []
    for i in range(n):
        t = rng.randrange(topics)
        vectors.append(centres[t] + gen.normal(size=384) * rng.uniform(0.6, 1.3))
        docs.append(Doc(str(i), " ".join(rng.sample(words[t], 8) + rng.sample(vocabulary, 30)),
                        start + timedelta(minutes=rng.randrange(1440))))
    return docs, np.asarray(vectors, dtype=np.float32)


def bench_cluster(quick: bool) -> bool:
    from test_cluster_bounded import _full

    from lll.stories import cluster
    from lll.stories.cluster import NEWSLETTER, cluster_with
    from lll.stories.embed import tfidf_vectors

    sizes = (500, 1000, 2000) if quick else (500, 1000, 2000, 4000)
    rows, ok, first = [], True, None
    for n in sizes:
        docs, vectors = _units(n, seed=n)
        text = tfidf_vectors([d.text for d in docs])
        after, bounded = timed(lambda: cluster_with(docs, vectors, NEWSLETTER, text))
        keep = cluster._best_bounded
        cluster._best_bounded = _full  # type: ignore[assignment]
        try:
            before, full = timed(lambda: cluster_with(docs, vectors, NEWSLETTER, text))
        finally:
            cluster._best_bounded = keep
        same = bounded == full
        ok &= same
        first = first or (n, before, after)
        rows.append((f"{n:,}", str(len(set(full))), f"{before:.2f}", f"{after:.2f}", f"{before / after:.1f}x",
                     f"{before / first[1]:.0f}x", f"{after / first[2]:.0f}x", "yes" if same else "NO"))
    print(f"Stream clustering (NEWSLETTER settings, 384-d vectors + TF-IDF); growth against {sizes[0]} units")
    table(("units", "stories", "full s", "bounded s", "speed-up", "full growth", "bounded growth", "identical"),
          rows)
    return ok


# -- workspaces on either store --------------------------------------------------------------------


class Stores:
    """Fresh workspaces: a folder each, and on PostgreSQL a schema each (dropped at the end)."""

    def __init__(self, base: Path, url: str | None) -> None:
        self.base, self.url, self.schemas = base, url, []  # type: ignore[var-annotated]
        self.n = 0

    def new(self, server: HostsServer, *, per_host: int, targets: str = "") -> tuple[Path, dict[str, str]]:
        self.n += 1
        root = self.base / f"ws{self.n}"
        env = dict(os.environ, LLL_WORKSPACE=str(root), LLL_ALLOW_PRIVATE="1", LLL_NOW=NOW, LLL_EMBEDDER="tfidf",
                   LLL_CACHE_DIR=str(self.base / "cache"))
        if self.url:
            import sqlalchemy as sa

            schema = f"bench_scale_{os.getpid()}_{self.n}"
            engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            engine.dispose()
            self.schemas += [schema, f"{schema}_dbos"]
            env["LLL_DATABASE_URL"] = sa.engine.make_url(self.url).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        run([*LLL, "init"], env)
        config = root / "lll.toml"
        text = config.read_text().replace("per_host = 4 ", f"per_host = {per_host} ").replace(
            'fulltext = "auto"', 'fulltext = "never"')
        if targets:
            text = text.replace("targets = []", f"targets = [{targets}]")
        config.write_text(text)
        outlines = "".join(f'<outline type="rss" text="Feed {i}" xmlUrl="{server.url(i)}"/>'
                           for i in range(server.feeds))
        (root / "feeds.opml").write_text(f'<opml version="2.0"><body>{outlines}</body></opml>')
        run([*LLL, "sources", "import", str(root / "feeds.opml")], env)
        return root, env

    def close(self) -> None:
        if self.url and self.schemas:
            import sqlalchemy as sa

            engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                for schema in self.schemas:
                    conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            engine.dispose()


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:])} exited {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


@contextmanager
def opened(env: dict[str, str]) -> Iterator[Any]:
    """The workspace of ``env`` opened in this process (with its database URL)."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from lll.newsletter import Newsletter

    letter = Newsletter.open(Path(env["LLL_WORKSPACE"]))
    try:
        yield letter
    finally:
        letter.close()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def stored_items(env: dict[str, str]) -> tuple[int, int]:
    """Items, and distinct (source, identity) pairs among them."""
    import sqlalchemy as sa

    from lll.store import schema as t

    with opened(env) as letter, letter.store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t.items)).scalar_one()
        distinct = conn.execute(sa.select(sa.func.count()).select_from(
            sa.select(t.items.c.source_id, t.items.c.identity).distinct().subquery())).scalar_one()
    return int(total), int(distinct)


def workers(env: dict[str, str], n: int, idle: float = 1.0, names: tuple[str, ...] = ()) -> list[subprocess.Popen[str]]:
    """``n`` ``lll worker`` processes (named ``names[k]`` in the queues, when given)."""
    return [subprocess.Popen([*LLL, "worker", "--until-idle", str(idle), *(["--id", names[k]] if names else [])],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for k in range(n)]


def wait_fetched(env: dict[str, str], ids: list[str], procs: list[subprocess.Popen[str]]) -> float:
    """Seconds from now until every fetch workflow has finished (polled through DBOS)."""
    import lll.workers as w
    from dbos import DBOS

    start = time.perf_counter()
    with opened(env) as letter, w.connected(letter):
        while True:
            open_ = DBOS.list_workflows(workflow_id_prefix=f"fetch-{DAY}-", status=["ENQUEUED", "PENDING"],
                                        limit=1, load_input=False, load_output=False)
            if not open_:
                break
            if all(p.poll() is not None for p in procs):
                raise SystemExit("every worker exited with fetches still open: " + procs[0].stderr.read()[-1500:])
            time.sleep(0.1)
    return time.perf_counter() - start


def wait_stored(letter: Any, procs: list[subprocess.Popen[str]], feeds: int, start: float,
                shares: tuple[float, ...] = ()) -> tuple[float, dict[float, float]]:
    """Seconds since ``start`` until all ``feeds`` sources are fetched and stored, watched through the
    store with one count every 0.1 s (a DBOS client polling here would take CPU from the workers it
    times: on 2 cores, ``lll fetch`` has no such neighbour); with the seconds at which each of
    ``shares`` of the sources was stored."""
    marks: dict[float, float] = {}
    while (stored := _fetched_sources(letter)) < feeds:
        marks.update({share: time.perf_counter() - start for share in shares
                      if share not in marks and stored >= share * feeds})
        if all(p.poll() is not None for p in procs):
            raise SystemExit("every worker exited with sources left: " + (procs[0].stderr.read() or "")[-1500:])
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    return seconds, {share: marks.get(share, seconds) for share in shares}


class MachineCPU:
    """The whole machine's CPU seconds from ``/proc/stat``: busy (user, nice, system, irq, softirq:
    every process, the PostgreSQL server's included) and stolen (time the hypervisor gave this
    machine's virtual CPUs to someone else, which stretches the wall clock of whatever runs)."""

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start = self._read()

    def _read(self) -> tuple[float, float]:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return 0.0, 0.0
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq) / self.tick, steal / self.tick

    def since(self) -> tuple[float, float]:
        busy, steal = self._read()
        return busy - self.start[0], steal - self.start[1]


def _children_cpu() -> float:
    """User + system seconds of the child processes waited for so far (their own children's too,
    once waited for: see :func:`_adopt_orphans`)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _adopt_orphans() -> None:
    """Become the Linux "child subreaper" of the processes started here, so that a worker's parse
    processes (children of its fork server, which outlives the worker by a moment and is waited for
    by nobody) are reparented to this process and their CPU counted by :func:`_reap_orphans`."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(timeout: float = 10.0) -> None:
    """Wait for every child process left (the workers' fork servers, once they notice the worker is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


@dataclass
class FetchTrial:
    """One timed fetch of the day by ``lll fetch`` (``workers == 0``) or by ``workers`` workers."""

    workers: int
    seconds: float  # from the start of the fetching processes until every source is stored
    cpu: float  # user + system of the fetching processes and their parse processes, whole lives
    busy: float  # the machine's busy CPU over ``seconds`` (PostgreSQL's too)
    steal: float  # CPU seconds the hypervisor took from this machine over ``seconds``
    first: float  # seconds until 10% of the sources were stored (start-up)
    tail: float  # seconds from 90% stored to all stored
    items: int
    once: bool
    peak: int
    good: bool
    running: bool = False  # the workers started, and idle, before the day was queued

    @property
    def label(self) -> str:
        if self.workers == 0:
            return "lll fetch"
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}{', running' if self.running else ''}"


def _process_cpu(procs: list[subprocess.Popen[str]]) -> float:
    """User + system seconds these processes have used so far (themselves, from ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in procs:
        with open(f"/proc/{proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _settled(procs: list[subprocess.Popen[str]], timeout: float = 120.0) -> None:
    """Wait until the workers have started and gone idle: under 0.1 CPU-seconds each over a second."""
    deadline = time.monotonic() + timeout
    last = [_process_cpu([p]) for p in procs]
    while True:
        time.sleep(1.0)
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker exited while starting: " + (procs[0].stderr.read() or "")[-1500:])
        now = [_process_cpu([p]) for p in procs]
        if all(b - a < 0.1 for a, b in zip(last, now, strict=True)):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"the workers did not settle within {timeout:.0f} s")
        last = now


def _fetch_trial(stores: Stores, n: int, feeds: int, items: int, hosts: int, per_host: int,
                 running: bool = False) -> FetchTrial:
    import lll.workers as w

    server = HostsServer(feeds, items, hosts=hosts, day=datetime(2026, 5, 10, 23, tzinfo=UTC), delay=0.005)
    try:
        root, env = stores.new(server, per_host=per_host)
        cpu = _children_cpu()
        running = running and n > 0
        if running:  # started first, and idle: their start-up is not timed
            procs = workers(env, n, idle=3600.0)
            _settled(procs)
            cpu += _process_cpu(procs)
        elif n:
            with opened(env) as letter, w.connected(letter):
                ids = w.enqueue_fetches(letter, DAY)
        with opened(env) as letter:  # timed from the processes' start (or the enqueue) until every source is stored
            if running:
                with w.connected(letter):
                    machine, start = MachineCPU(), time.perf_counter()
                    ids = w.enqueue_fetches(letter, DAY)
            else:
                machine, start = MachineCPU(), time.perf_counter()
                procs = workers(env, n) if n else [subprocess.Popen([*LLL, "fetch"], env=env, stdout=subprocess.DEVNULL,
                                                                    stderr=subprocess.PIPE, text=True)]
            seconds, marks = wait_stored(letter, procs, feeds, start, (0.1, 0.9))
            busy, steal = machine.since()
        if n == 0:
            if procs[0].wait(120) != 0:
                raise SystemExit(f"lll fetch exited {procs[0].returncode}: {(procs[0].stderr.read() or '')[-1500:]}")
        else:
            wait_fetched(env, ids, procs)  # and the workflows closed (not timed)
            if running:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(120)
            _reap_orphans()
        # the workers' whole lives (parse processes too), idle tail included; running ones less
        # what they had used by the enqueue (their parse processes' start-up stays counted)
        cpu = _children_cpu() - cpu
        total, distinct = stored_items(env)
        once = sorted(set(server.hits.values())) == [1] and len(server.hits) == feeds
        peak = server.max_in_flight()
        good = once and total == distinct == feeds * items and peak <= per_host
        return FetchTrial(n, seconds, cpu, busy, steal, marks[0.1], seconds - marks[0.9], total, once, peak, good,
                          running)
    finally:
        server.stop()


def bench_fetch(quick: bool, url: str | None, feeds: int, items: int, hosts: int, per_host: int,
                counts: tuple[int, ...] = (1, 2, 4), rounds: int = 3, cold_only: bool = False) -> bool:
    """Rounds of ``lll fetch`` and each worker count, in turns (the order reversed every other
    round), so that a slow spell of the machine falls on both sides; each ratio is taken within a
    round and the table shows medians over rounds. The machine's busy CPU and its steal are beside
    the wall clock: on a shared virtual machine the hypervisor can take many CPU-seconds during a
    run, which no change to LLL causes or cures."""
    if quick:
        feeds, items, rounds = min(feeds, 200), min(items, 20), min(rounds, 1)
    base = Path(tempfile.mkdtemp(prefix="lll-scale-"))
    stores = Stores(base, url)
    trials: list[list[FetchTrial]] = []
    arms = [(0, False), *((n, False) for n in counts), *(() if cold_only else ((n, True) for n in counts))]
    _adopt_orphans()
    try:
        for r in range(rounds):
            order = arms if r % 2 == 0 else arms[::-1]
            got = {arm: _fetch_trial(stores, *arm[:1], feeds, items, hosts, per_host, running=arm[1]) for arm in order}
            trials.append([got[arm] for arm in arms])
            print(f"round {r + 1}: " + ", ".join(f"{t.label} {t.seconds:.1f} s (CPU {t.cpu:.1f}, machine "
                                                 f"{t.busy:.1f}, steal {t.steal:.1f})" for t in trials[-1]),
                  flush=True)
    finally:
        stores.close()
        shutil.rmtree(base, ignore_errors=True)

    def ratio(k: int, field: str) -> str:  # the median of the rounds' ratios to lll fetch
        return f"{median(getattr(one[k], field) / getattr(one[0], field) for one in trials):.2f}"

    rows, ok = [], all(t.good for one in trials for t in one)
    for k in range(len(arms)):
        runs = [one[k] for one in trials]
        rows.append((runs[0].label, f"{median(t.seconds for t in runs):.1f}", ratio(k, "seconds"),
                     f"{median(t.cpu for t in runs):.1f}", ratio(k, "cpu"), f"{median(t.busy for t in runs):.1f}",
                     ratio(k, "busy"), f"{median(t.steal for t in runs):.1f}", f"{median(t.first for t in runs):.1f}",
                     f"{median(t.tail for t in runs):.1f}", f"{runs[0].items:,}",
                     "yes" if all(t.once for t in runs) else "NO", str(max(t.peak for t in runs)),
                     "ok" if all(t.good for t in runs) else "FAIL"))
    where = "PostgreSQL" if url else "SQLite (+ workers.db)"
    print(f"\nFetch: {feeds:,} feeds x {items} items on {hosts} hosts (per_host {per_host}), store {where}, "
          f"{os.cpu_count()} cores; medians of {rounds} round{'s' if rounds > 1 else ''}")
    table(("run", "seconds", "vs lll fetch", "CPU s", "vs lll fetch", "machine CPU s", "vs lll fetch", "steal s",
           "to 10% s", "last 10% s", "items stored", "each feed once", "peak per host", "checks"), rows)
    print("seconds: wall clock from the start of the fetching processes until every source is stored (start-up "
          "included; the store watched by one count every 0.1 s), for running workers from the enqueue; CPU s: user "
          "+ system time of the fetching processes and their parse processes (for running workers, less what they "
          "had used by the enqueue); machine CPU s: the whole machine's busy time over those seconds "
          "(PostgreSQL and the loopback server included); steal s: CPU time the hypervisor took meanwhile; "
          "ratios: the median of each round's ratio\n")
    return ok


# -- kill ------------------------------------------------------------------------------------------


def _fetched_sources(letter: Any) -> int:
    """Sources whose fetch is committed (their items with it: one transaction per source)."""
    import sqlalchemy as sa

    from lll.store import schema as t

    with letter.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.sources).where(
            t.sources.c.last_fetch_at.is_not(None))).scalar_one())


def _open_fetches(names: tuple[str, ...]) -> dict[str, int]:
    """Per worker name: the fetch workflows it is running now (DBOS ``PENDING``)."""
    from dbos import DBOS

    rows = DBOS.list_workflows(workflow_id_prefix=f"fetch-{DAY}-", status="PENDING", load_input=False,
                               load_output=False)
    return {name: sum(r.executor_id == name for r in rows) for name in names}


def _kill_mid_fetch(env: dict[str, str], procs: list[subprocess.Popen[str]], names: tuple[str, ...],
                    target: int, feeds: int) -> tuple[float, int, int, int]:
    """Wait until ``target`` of the ``feeds`` sources are stored (watched through the store), then
    SIGKILL the worker running the most fetch workflows at that moment. Returns the seconds waited,
    the sources stored before and after the kill, and the victim's open fetch workflows."""
    import lll.workers as w

    start = time.perf_counter()
    with opened(env) as letter, w.connected(letter):
        while True:
            stored = _fetched_sources(letter)
            owned = _open_fetches(names)
            busy = max(owned.values(), default=0)
            if (stored >= target and busy) or stored >= feeds or time.perf_counter() - start > 120:
                break
            time.sleep(0.05)
        victim = max(range(len(names)), key=lambda k: (owned[names[k]], -k))
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(30)
        after = _fetched_sources(letter)
    procs.insert(0, procs.pop(victim))  # the dead one first: the caller waits for the others
    return time.perf_counter() - start, stored, after, owned[names[victim]]


def bench_kill(quick: bool, url: str | None, trials: int) -> bool:
    """Each trial kills a worker mid-fetch: at a random share of the day's sources stored (read
    through the store, not guessed from a clock), the worker then running the most fetch workflows.
    A kill counts as mid-fetch when some but not all sources were stored when it died and the
    dead worker was running fetch workflows."""
    from fakes.forem import FakeForem

    if quick:
        trials = min(trials, 3)
    feeds, items = 120, 10
    base = Path(tempfile.mkdtemp(prefix="lll-kill-"))
    stores = Stores(base, url)
    rng = random.Random(13)
    rows, ok, mid = [], True, 0
    try:
        for trial in range(trials):
            # answers held 0.2 s: the day's fetches take a few seconds, long enough to watch them
            server = HostsServer(feeds, items, hosts=6, day=datetime(2026, 5, 10, 23, tzinfo=UTC), delay=0.2)
            with FakeForem({"bench-key": 1}) as forem:
                try:
                    root, env = stores.new(server, per_host=2, targets='"devto"')
                    env.update(LLL_DEVTO_API_KEY="bench-key", LLL_DEVTO_BASE_URL=f"{forem.base}/api")
                    run([*LLL, "run", "--enqueue", "--date", DAY], env)
                    names = tuple(f"bench-{os.getpid()}-{trial}-{k}" for k in range(2))
                    procs = workers(env, 2, idle=2.0, names=names)
                    target = rng.randint(feeds // 20, feeds - feeds // 20)
                    waited, stored, after, owned = _kill_mid_fetch(env, procs, names, target, feeds)
                    landed = 0 < after < feeds and owned > 0
                    mid += landed
                    procs.append(workers(env, 1, idle=2.0)[0])  # a replacement, as a supervisor would start
                    for p in procs[1:]:
                        p.wait(600)
                    status = run([*LLL, "run", "--enqueue", "--date", DAY, "--wait"], env).strip().splitlines()[-1]
                    total, distinct = stored_items(env)
                    with opened(env) as letter:
                        from lll.memory import Records

                        issues = [r for r in Records(letter.store).issues() if r.date == DAY]
                    drafts = len(forem.articles)
                    good = (total == distinct == feeds * items and len(issues) == 1 and drafts == 1
                            and status.endswith("success"))
                    ok &= good
                    rows.append((str(trial + 1), f"{target}/{feeds}", f"{waited:.1f}", f"{after}/{feeds}", str(owned),
                                 "yes" if landed else "no", f"{total:,}", str(total - distinct), str(len(issues)),
                                 str(drafts), "ok" if good else "FAIL"))
                finally:
                    server.stop()
        print(f"Kill -9: {trials} trials, {feeds} feeds x {items} items, 2 workers; at a random share of the sources "
              "stored, the worker running the most fetch workflows is killed and replaced")
        table(("trial", "kill at stored", "waited s", "stored at kill", "its open fetches", "mid-fetch", "items",
               "duplicates", "issues", "DEV drafts", "checks"), rows)
        print(f"kills that landed mid-fetch (0 < stored < {feeds}, the victim running fetches): {mid}/{trials}\n")
    finally:
        stores.close()
        shutil.rmtree(base, ignore_errors=True)
    return ok


# -- draft -----------------------------------------------------------------------------------------


def bench_draft(quick: bool) -> bool:
    from test_ledger_matching import _unit

    from lll.stories.embed import TfidfEmbedder
    from lll.stories.engine import build_stories
    from lll.stories.model import LedgerEntry
    from lll.stories.units import ItemView

    now = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
    sizes = (100, 1000) if quick else (100, 1000, 5000)
    rows, first = [], None
    warm = [_item(ItemView, 0, n, f"Lab {n} released model {n} with {n} billion parameters today.", now)
            for n in range(3)]  # imports (scikit-learn, scipy) out of the first size's time
    build_stories(warm, [], Padded(TfidfEmbedder(max_features=DIM)), now=now, published_after=now - timedelta(days=2))
    for sources in sizes:
        rng, gen = random.Random(sources), np.random.default_rng(sources)
        topics = max(20, sources // 2)
        items = []
        for s in range(sources):
            for n in range(2):
                topic = rng.randrange(topics)
                text = (f"Lab {topic} released model {topic}-{n} with {rng.randrange(2, 900)} billion parameters "
                        f"and a score of {rng.randrange(10, 99)} on the benchmark, source {s} reported today.")
                items.append(_item(ItemView, s, n, text, now - timedelta(hours=rng.randrange(1, 20))))
        ledger = [LedgerEntry(id=f"s-{k:07d}", title=f"story {k}", text=f"Lab {k % topics} released model {k}",
                              urls=frozenset({f"https://lab{k % topics}.example/{k}"}), item_ids=frozenset({-k - 1}),
                              first_day=(now - timedelta(days=1 + k % 30)).date().isoformat(),
                              told_in=None, vector=_unit(gen.normal(size=DIM)))
                  for k in range(sources * 15)]  # 30 days x about half the sources a day
        cpu = time.process_time()
        seconds, day = timed(lambda: build_stories(items, ledger, Padded(TfidfEmbedder(max_features=DIM)), now=now,
                                                   published_after=now - timedelta(days=2)))
        cpu = time.process_time() - cpu
        first = first or (sources, seconds, cpu)
        rows.append((f"{sources:,}", f"{len(items):,}", f"{len(ledger):,}", f"{len(day.stories):,}", f"{seconds:.2f}",
                     f"{cpu:.2f}", f"{sources / first[0]:.0f}x", f"{seconds / first[1]:.1f}x", f"{cpu / first[2]:.1f}x"))
        if len(rows) > 1:
            previous = rows[-2]
            rows[-1] = (*rows[-1], f"{seconds / float(previous[4]):.1f}x / {cpu / float(previous[5]):.1f}x for "
                                   f"{sources / int(previous[0].replace(',', '')):.0f}x")
        else:
            rows[-1] = (*rows[-1], "")
    print("Draft (story stage: units, TF-IDF vectors, dedup layers, ledger, rank) against the number of sources")
    table(("sources", "items", "ledger stories", "stories", "seconds", "CPU s", "sources growth", "time growth",
           "CPU growth", "wall / CPU vs the size before"), rows)
    print("CPU s: this process's user + system time (less noisy than the wall clock on a shared machine)\n")
    return True


DIM = 384  # the ledger's vectors have MiniLM's width


class Padded:
    """TF-IDF vectors padded to ``DIM`` columns (a small day may have fewer terms)."""

    name = "tfidf"

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.inner.encode(texts)
        out = np.zeros((vectors.shape[0], DIM), dtype=np.float32)
        out[:, : min(DIM, vectors.shape[1])] = vectors[:, :DIM]
        return out


def _item(view: Any, source: int, n: int, text: str, published: datetime) -> Any:
    fields = view.__dataclass_fields__
    values: dict[str, Any] = {
        "id": source * 10 + n, "source_id": source, "source_name": f"Source {source}", "source_kind": "blog",
        "source_weight": 1.0, "url": f"https://src{source}.example/{n}", "canonical_url": f"https://src{source}.example/{n}",
        "title": text[:60], "text": text, "raw": text, "published": published, "first_seen": published, "links": (),
    }
    return view(**{k: v for k, v in values.items() if k in fields})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="ledger,cluster,fetch,kill,draft")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("LLL_BENCH_DATABASE_URL"))
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4", help="worker counts of the fetch part (beside lll fetch)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the fetch part (medians are shown)")
    parser.add_argument("--cold-only", action="store_true",
                        help="fetch part: only workers started with the day queued (not those already running)")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    ok = True
    if "ledger" in parts:
        ok &= bench_ledger(args.quick)
    if "cluster" in parts:
        ok &= bench_cluster(args.quick)
    if "fetch" in parts:
        ok &= bench_fetch(args.quick, args.database_url, args.feeds, args.items, args.hosts, args.per_host,
                          tuple(int(n) for n in args.workers.split(",")), args.rounds, args.cold_only)
    if "kill" in parts:
        ok &= bench_kill(args.quick, args.database_url, args.trials)
    if "draft" in parts:
        ok &= bench_draft(args.quick)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
