#!/usr/bin/env python
"""Crash safety: SIGKILL ``lll fetch`` and ``lll draft`` at random moments, then check the database.

    python bench/crash.py                        # 50 trials per command on replay-2026-05 (a few minutes)
    python bench/crash.py --trials 10 --seed 7   # fewer trials, another seed
    python bench/crash.py --corpus src/lll/demo/corpus --days 2026-04-08,2026-04-09,2026-04-10

The corpus is served by a real loopback ``CorpusServer``; every command is a real ``lll`` process
(``LLL_ALLOW_PRIVATE=1``, ``LLL_NOW`` at the end of the day, ``[fetch] fulltext = "never"`` so
nothing but loopback is ever contacted). With three days d1, d2, d3 the scenarios are:

=========  =====================================================================================
fetch d1   from a workspace with sources only (every item is new; one transaction per source)
fetch d2   from the state after d1 (mostly 304s, a few new items)
fetch d3   from the state after d1 (more new and changed items: revisions)
draft d1   the first issue
draft d2   the second issue (window since d1, ledger, callbacks)
redraft d2 d2 again with the same inputs (the issue and its rows are replaced)
late d2    d2 again after more items arrived the same day (the issue changes)
=========  =====================================================================================

Each trial copies the scenario's starting workspace, starts the command and kills its process
group with SIGKILL at a seeded random moment: after a random delay, or — to land inside the
writes — when the k-th source's fetch transaction has committed (fetch) or when the draft
starts writing ``issues/DATE.*`` (draft), plus a few random milliseconds. Then it checks:

- ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` is empty;
- no duplicate items ``(source_id, identity)``, story units, clocks or issue stories, and no
  item that is neither in the starting state nor in a clean run's result (no torn rows);
- the issue rule the code guarantees (``Drafter._save`` writes ``DATE.json`` then ``DATE.md``,
  each atomically by rename, then commits the issue row with its ledger, clocks and stories in
  one transaction): an ``issues`` row implies both files exist; every ``DATE.md`` is a whole
  draft (byte-identical to the starting one or to the clean run's); the ledger rows of a day
  (story_units, clocks, issue_stories) match the version of the issue row, or are absent with
  it. A ``DATE.md`` without a row, or newer than its row, can exist after a kill: it is counted
  in the "md ahead of row" column (the stronger "file iff row" rule does not hold), and the
  rerun must repair it;
- a rerun of the same command exits 0 and leaves exactly the clean run's state: the same items
  (source, identity, content hash), revisions, issue rows, ledger rows and issue files, and no
  ``*.tmp`` file.

Then ``lll publish DATE --to devto`` against the fake DEV server of the publishing tests
(``tests/fakes/forem.py``), killed after a random delay or right after the server received the
create: after the rerun there must be exactly one DEV article and one ``publications`` row naming
it (``publish_trials``; skipped, saying so, where ``lll publish`` does not exist). Last, two
``lll run`` at once on one workspace (the second must exit 75 saying the workspace is busy, or run
after the first; never corrupt), and ``lll fetch`` started during ``lll run`` (it waits).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lll.clock import frozen_at
from lll.demo.server import PLACEHOLDER, CorpusServer
from lll.draft import Drafter, end_of_day
from lll.errors import EX_TEMPFAIL
from lll.newsletter import Newsletter
from lll.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
REPLAY = REPO.parent / "shared" / "data" / "replay-2026-05"
REPLAY_DAYS = ("2026-05-01", "2026-05-02", "2026-05-08")
DEMO = REPO / "src" / "lll" / "demo" / "corpus"
DEMO_DAYS = ("2026-04-08", "2026-04-09", "2026-04-10")

TOML = """[newsletter]
name = "Crash Letters"

[fetch]
fulltext = "never"       # never leave loopback
connect_timeout = 2.0
read_timeout = 5.0
total_timeout = 10.0
retries = 1
backoff = 0.05
"""


def now_of(day: str) -> str:
    return f"{day}T23:59:59Z"


def lll_cmd(ws: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "lll", "--workspace", str(ws), *args]


def lll_env(day: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLL_")}
    env.update(LLL_ALLOW_PRIVATE="1", LLL_NOW=now_of(day), **extra)
    return env


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of an issue file; for ``DATE.json`` without its ``seconds`` (timings differ per run).
    A torn or truncated JSON file gets a digest that matches nothing."""
    if path.suffix != ".json":
        return sha(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return "torn:" + sha(path)
    if isinstance(data, dict):
        data.pop("seconds", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def quiet(server: CorpusServer) -> CorpusServer:
    """Killed clients reset their connections; the server need not print a traceback for each."""
    server._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
    return server


# -- the state of a workspace ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything a fetch or a draft may change, read straight from the SQLite file and the folder."""

    items: frozenset[tuple[int, str, str]]  # (source_id, identity, content_hash)
    revisions: int
    issues: dict[str, str]  # date -> content_hash of the issue row
    ledger: dict[str, tuple[int, int, int]]  # day -> (story_units, clocks opened, issue_stories)
    files: dict[str, str]  # issues/*.md and *.json -> sha256

    def differences(self, other: Snapshot) -> list[str]:
        out = []
        if self.items != other.items:
            out.append(f"items differ: {len(self.items - other.items)} extra, {len(other.items - self.items)} missing")
        if self.revisions != other.revisions:
            out.append(f"item_revisions {self.revisions} != {other.revisions}")
        if self.issues != other.issues:
            out.append(f"issue rows differ: {self.issues} != {other.issues}")
        if self.ledger != other.ledger:
            out.append(f"ledger rows differ: {self.ledger} != {other.ledger}")
        if self.files != other.files:
            out.append(f"issue files differ: {sorted(set(self.files.items()) ^ set(other.files.items()))[:4]}")
        return out


def sqlite_url(db: Path) -> str:
    return f"sqlite:///{db}"


# Where a workspace's database lives, by the path its SQLite file has: that file (the bench's own
# runs), or what a caller sets here — tests/test_crash_safety.py on PostgreSQL gives each workspace
# folder a schema of its own and a way to copy one (``copy_database(src_db, dst_db)``).
database_url: Callable[[Path], str] = sqlite_url
copy_database: Callable[[Path, Path], None] | None = None


class _Reader:
    """The few calls the checks make, on either store: ``execute(sql, params)`` with sqlite3's
    ``?`` placeholders, rows as tuples, ``commit()``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> _Rows:
        names = iter(range(len(params)))
        text = re.sub(r"\?", lambda _m: f":p{next(names)}", sql)
        result = self.conn.execute(sa.text(text), {f"p{i}": v for i, v in enumerate(params)})
        return _Rows([tuple(r) for r in result] if result.returns_rows else [])

    def commit(self) -> None:
        self.conn.commit()


class _Rows(list):  # type: ignore[type-arg]
    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return list(self)


@contextmanager
def connect(db: Path) -> Iterator[_Reader]:
    """The database of the workspace whose SQLite file would be ``db``, read through SQLAlchemy."""
    url = database_url(db)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool,
                              connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        with engine.connect() as conn:
            yield _Reader(conn)
    finally:
        engine.dispose()


def point_at_database(ws: Path) -> None:
    """Name the workspace's database in its ``lll.toml`` when it is not the folder's SQLite file,
    so that the ``lll`` processes the bench starts open that one."""
    url = database_url(ws / "lll.db")
    if url.startswith("sqlite"):
        return
    config = ws / "lll.toml"
    kept = config.read_text(encoding="utf-8").split("\n[database]\n")[0]
    config.write_text(f'{kept}\n[database]\nurl = "{url}"\n', encoding="utf-8")


def snapshot(ws: Path) -> Snapshot:
    with connect(ws / "lll.db") as con:
        items = frozenset(con.execute("SELECT source_id, identity, content_hash FROM items"))
        revisions = con.execute("SELECT count(*) FROM item_revisions").fetchone()[0]
        issues = dict(con.execute("SELECT date, content_hash FROM issues"))
        days = {r[0] for r in con.execute("SELECT day FROM story_units UNION SELECT opened_in FROM clocks "
                                          "UNION SELECT issue_date FROM issue_stories UNION SELECT date FROM issues")}
        ledger = {d: (con.execute("SELECT count(*) FROM story_units WHERE day = ?", (d,)).fetchone()[0],
                      con.execute("SELECT count(*) FROM clocks WHERE opened_in = ?", (d,)).fetchone()[0],
                      con.execute("SELECT count(*) FROM issue_stories WHERE issue_date = ?", (d,)).fetchone()[0])
                  for d in days}
    files = {p.name: file_digest(p) for p in sorted((ws / "issues").glob("*")) if p.suffix in (".md", ".json")}
    return Snapshot(items, revisions, issues, ledger, files)


DUPLICATES = {
    "items (source_id, identity)": "SELECT source_id, identity FROM items GROUP BY 1, 2 HAVING count(*) > 1",
    "story_units (day, unit_id)": "SELECT day, unit_id FROM story_units GROUP BY 1, 2 HAVING count(*) > 1",
    "story_units (day, item, span)": "SELECT day, item_id, span_start, span_end FROM story_units "
                                     "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1",
    "clocks (id)": "SELECT id FROM clocks GROUP BY 1 HAVING count(*) > 1",
    "clocks (opened_in, item, sentence)": "SELECT opened_in, item_id, sentence FROM clocks "
                                          "GROUP BY 1, 2, 3 HAVING count(*) > 1",
    "issue_stories (date, story)": "SELECT issue_date, story_id FROM issue_stories GROUP BY 1, 2 HAVING count(*) > 1",
    "issues (date)": "SELECT date FROM issues GROUP BY 1 HAVING count(*) > 1",
}


def database_problems(ws: Path) -> list[str]:
    """Integrity and duplicates: what must hold in any state, killed or not."""
    problems = []
    with connect(ws / "lll.db") as con:
        if database_url(ws / "lll.db").startswith("sqlite"):  # PostgreSQL checks keys on every write
            check = [r[0] for r in con.execute("PRAGMA integrity_check")]
            if check != ["ok"]:
                problems.append(f"integrity_check: {check[:3]}")
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                problems.append(f"foreign_key_check: {fk[:3]}")
        for what, sql in DUPLICATES.items():
            dupes = con.execute(sql).fetchall()
            if dupes:
                problems.append(f"duplicate {what}: {dupes[:3]}")
    return problems


def issue_problems(ws: Path, state: Snapshot, before: Snapshot, clean: Snapshot) -> tuple[list[str], int]:
    """The issue rule the code guarantees (see the module docstring). Returns (problems, number of
    issue files that are ahead of their row: no row, or a row for another version)."""
    problems, ahead = [], 0
    issues_dir = ws / "issues"
    for day, content_hash in state.issues.items():
        for suffix in (".md", ".json"):
            if not (issues_dir / f"{day}{suffix}").exists():
                problems.append(f"issue row {day} but no issues/{day}{suffix}")
        versions = {v for v in (before.issues.get(day), clean.issues.get(day)) if v}
        if content_hash not in versions:
            problems.append(f"issue row {day} has an unknown content hash")
        elif content_hash == clean.issues.get(day) and state.ledger.get(day) != clean.ledger.get(day):
            problems.append(f"ledger rows of {day} {state.ledger.get(day)} do not match its issue row "
                            f"{clean.ledger.get(day)}")
        elif content_hash == before.issues.get(day) and content_hash != clean.issues.get(day) \
                and state.ledger.get(day) != before.ledger.get(day):
            problems.append(f"ledger rows of {day} changed without the issue row")
    for day, counts in state.ledger.items():
        if day not in state.issues and any(counts):
            problems.append(f"ledger rows for {day} without an issue row: {counts}")
    for name, digest in state.files.items():
        if digest not in {before.files.get(name), clean.files.get(name)}:
            problems.append(f"issues/{name} is neither the old nor the new draft (torn write?)")
        if name.endswith(".json"):
            if digest.startswith("torn:"):
                problems.append(f"issues/{name} is not valid JSON")
        else:
            row = state.issues.get(name.removesuffix(".md"))
            if row is None or row != digest:
                ahead += 1
    return problems, ahead


def item_problems(state: Snapshot, before: Snapshot, clean: Snapshot) -> list[str]:
    problems = []
    stray = state.items - before.items - clean.items
    if stray:
        problems.append(f"{len(stray)} item(s) in neither the starting state nor the clean result")
    lost = {(s, i) for s, i, _ in before.items} - {(s, i) for s, i, _ in state.items}
    if lost:
        problems.append(f"{len(lost)} item(s) of the starting state lost")
    return problems


# -- scenarios -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    command: str  # fetch | draft
    name: str
    serve_day: str  # what the server serves
    day: str  # LLL_NOW and --date
    base: Path  # the starting workspace (copied for each trial)
    before: Snapshot | None = None
    clean: Snapshot | None = None
    clean_seconds: float = 0.0
    clean_ws: Path | None = None  # the workspace after the clean run
    steps: int = 0  # fetch: sources (one committed transaction each)

    def args(self) -> list[str]:
        return ["fetch"] if self.command == "fetch" else ["draft", "--date", self.day]


@dataclass
class Trial:
    scenario: str
    command: str
    mode: str
    killed_running: bool
    partial: bool
    ahead: int
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


class Harness:
    """Builds the starting workspaces and the clean references, then runs the kill trials."""

    def __init__(self, corpus: Path, days: tuple[str, str, str], work: Path, server: CorpusServer,
                 log: Callable[[str], None] = print) -> None:
        self.corpus, self.days, self.work, self.server, self.log = corpus, days, work, server, log
        self._embedder: Any = None
        self.scenarios: dict[str, Scenario] = {}

    # building workspaces in-process (fast: one embedder, no process start-up)

    def _new_workspace(self, path: Path) -> None:
        ws = Workspace.init(path, "Crash Letters")
        ws.config_path.write_text(TOML, encoding="utf-8")
        point_at_database(path)
        staged = self.work / "sources.opml"
        staged.write_bytes((self.corpus / "sources.opml").read_bytes()
                           .replace(PLACEHOLDER, self.server.base_url.encode()))
        with Newsletter.open(path) as letter:
            letter.import_opml(staged)

    def _fetch(self, path: Path, serve_day: str, day: str) -> None:
        self.server.day = serve_day
        with frozen_at(end_of_day(day)), Newsletter.open(path) as letter:
            report = letter.fetch(policy="loopback")
        if report.failed:
            raise RuntimeError(f"building {path.name}: {[(o.source.name, o.error) for o in report.failed]}")

    def _draft(self, path: Path, day: str) -> None:
        with frozen_at(end_of_day(day)), Newsletter.open(path) as letter:
            drafter = Drafter(letter, embedder=self._embedder)
            drafter.draft(day)
            self._embedder = drafter.embedder

    def _copy(self, src: Path, name: str) -> Path:
        dst = self.work / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst)
        if copy_database is not None:
            copy_database(src / "lll.db", dst / "lll.db")
            point_at_database(dst)
        return dst

    def prepare(self, wanted: tuple[str, ...] | None = None) -> list[Scenario]:
        """Build the starting workspaces of the wanted scenarios (default: all) and their clean runs."""
        d1, d2, d3 = self.days
        bases: dict[str, Path] = {}
        sources_only = self.work / "base-sources"
        self._new_workspace(sources_only)
        bases["sources"] = sources_only
        plan = [
            ("fetch", "fetch d1", d1, d1, "sources"),
            ("fetch", "fetch d2", d2, d2, "after-d1"),
            ("fetch", "fetch d3", d3, d3, "after-d1"),
            ("draft", "draft d1", d1, d1, "fetched-d1"),
            ("draft", "draft d2", d2, d2, "fetched-d2"),
            ("draft", "redraft d2", d2, d2, "drafted-d2"),
            ("draft", "late d2", d3, d2, "late-d2"),
        ]
        chosen = [p for p in plan if wanted is None or p[1] in wanted]
        needed = {p[4] for p in chosen}

        def base(name: str) -> Path:
            if name in bases:
                return bases[name]
            if name == "fetched-d1":
                path = self._copy(base("sources"), "base-fetched-d1")
                self._fetch(path, d1, d1)
            elif name == "after-d1":
                path = self._copy(base("fetched-d1"), "base-after-d1")
                self._draft(path, d1)
            elif name == "fetched-d2":
                path = self._copy(base("after-d1"), "base-fetched-d2")
                self._fetch(path, d2, d2)
            elif name == "drafted-d2":
                path = self._copy(base("fetched-d2"), "base-drafted-d2")
                self._draft(path, d2)
            elif name == "late-d2":  # the feeds moved on to d3's content while it is still d2
                path = self._copy(base("drafted-d2"), "base-late-d2")
                self._fetch(path, d3, d2)
            else:
                raise KeyError(name)
            bases[name] = path
            return path

        for name in sorted(needed):
            base(name)
        for command, name, serve_day, day, base_name in chosen:
            sc = Scenario(command, name, serve_day, day, bases[base_name])
            sc.before = snapshot(sc.base)
            with connect(sc.base / "lll.db") as con:
                sc.steps = con.execute("SELECT count(*) FROM sources").fetchone()[0]
            ws = self._copy(sc.base, "clean-" + name.replace(" ", "-"))
            sc.clean_ws = ws
            self.server.day = serve_day
            started = time.perf_counter()
            done = subprocess.run(lll_cmd(ws, *sc.args()), env=lll_env(day), capture_output=True, text=True,
                                  timeout=600)
            sc.clean_seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"clean run of {name} failed ({done.returncode}): {done.stderr[-500:]}")
            sc.clean = snapshot(ws)
            problems = database_problems(ws)
            if problems:
                raise RuntimeError(f"clean run of {name} is not clean: {problems}")
            self.scenarios[name] = sc
            self.log(f"  prepared {name:<10} clean run {sc.clean_seconds:5.1f} s, "
                     f"{len(sc.clean.items)} items, issues {sorted(sc.clean.issues)}")
        return [self.scenarios[p[1]] for p in chosen]

    # one trial

    def trial(self, sc: Scenario, rng: random.Random, number: int, mode: str | None = None) -> Trial:
        assert sc.before is not None and sc.clean is not None
        mode = mode or rng.choice(["time", "progress"] if sc.command == "fetch" else ["time", "save", "save"])
        ws = self._copy(sc.base, f"trial-{number % 2}")
        self.server.day = sc.serve_day
        proc = subprocess.Popen(lll_cmd(ws, *sc.args()), env=lll_env(sc.day), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_for_moment(proc, ws, sc, rng, mode)
        finally:
            running = proc.poll() is None
            if running:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        state = snapshot(ws)
        problems = database_problems(ws) + item_problems(state, sc.before, sc.clean)
        issue_faults, ahead = issue_problems(ws, state, sc.before, sc.clean)
        problems += issue_faults
        partial = (state != sc.before and state != sc.clean) or any((ws / "issues").glob("*.tmp"))
        rerun = subprocess.run(lll_cmd(ws, *sc.args()), env=lll_env(sc.day), capture_output=True, text=True,
                               timeout=600)
        if rerun.returncode != 0:
            problems.append(f"rerun exited {rerun.returncode}: {rerun.stderr.strip()[-300:]}")
        else:
            final = snapshot(ws)
            problems += [f"after rerun: {p}" for p in database_problems(ws) + final.differences(sc.clean)]
            leftovers = sorted(p.name for p in (ws / "issues").glob("*.tmp"))
            if leftovers:
                problems.append(f"after rerun: temporary files left: {leftovers}")
            _, still_ahead = issue_problems(ws, final, sc.clean, sc.clean)
            if still_ahead:
                problems.append(f"after rerun: {still_ahead} issue file(s) without a matching row")
        return Trial(sc.name, sc.command, mode, running, partial, ahead, problems)

    def _wait_for_moment(self, proc: subprocess.Popen[bytes], ws: Path, sc: Scenario, rng: random.Random,
                         mode: str) -> None:
        """Return at the moment to kill (or when the process ended on its own)."""
        deadline = time.monotonic() + max(60.0, 5 * sc.clean_seconds)
        if mode == "time":
            delay = rng.uniform(0.05, max(0.1, sc.clean_seconds))
            end = time.monotonic() + delay
            while time.monotonic() < end and proc.poll() is None:
                time.sleep(0.002)
            return
        jitter = rng.uniform(0.0, 0.03)
        if mode == "progress":  # after the k-th source transaction committed
            k = rng.randint(1, max(1, sc.steps - 1))
            db = ws / "lll.db"
            base_attempts = _count(db, "fetch_attempts")
            while proc.poll() is None and time.monotonic() < deadline:
                if _count(db, "fetch_attempts") - base_attempts >= k:
                    break
                time.sleep(0.002)
        elif mode == "save":  # when the draft starts writing its files
            watched = [ws / "issues" / f"{sc.day}{s}" for s in (".json.tmp", ".json", ".md.tmp", ".md")]
            before = {p: _mtime(p) for p in watched}
            while proc.poll() is None and time.monotonic() < deadline:
                if any(_mtime(p) != before[p] for p in watched):
                    break
                time.sleep(0.001)
        end = time.monotonic() + jitter
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(0.001)


def _count(db: Path, table: str) -> int:
    try:
        with connect(db) as con:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sa.exc.SQLAlchemyError:  # not made yet, or busy
        return 0


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


# -- two `lll run` at once -------------------------------------------------------------------------


@dataclass
class LockTrial:
    mode: str  # staggered | together | fetch-during-run
    codes: tuple[int, int]
    second_message: str
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        a, b = self.codes
        if self.mode == "fetch-during-run":
            return "waited" if (a, b) == (0, 0) else "failed"
        if sorted(self.codes) == [0, EX_TEMPFAIL]:
            return "second exited busy"
        if self.codes == (0, 0):
            return "ran one after the other"
        return "failed"


def lock_holder(ws: Path) -> str:
    """Who holds the workspace's lock ("lll run, pid N"), or "": the words in ``.lll.lock`` on
    SQLite; on PostgreSQL the application name of the session holding the schema's advisory lock."""
    if database_url(ws / "lll.db").startswith("sqlite"):
        lock = ws / ".lll.lock"
        return lock.read_text(errors="replace") if lock.exists() else ""
    with connect(ws / "lll.db") as con:
        key = int(con.execute("SELECT hashtextextended('lll-workspace:' || current_schema(), 0)").fetchone()[0])
        row = con.execute("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                          "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                          "AND l.classid::bigint = ? AND l.objid::bigint = ?",
                          ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
    return str(row[0]) if row else ""


def _run_pair(first_cmd: list[str], second_cmd: list[str], env: dict[str, str], ws: Path,
              wait_for_lock: bool, rng: random.Random) -> tuple[tuple[int, int], tuple[str, str], tuple[float, float]]:
    """Start two commands on one workspace (the second once the first holds the lock, or at once);
    return their exit codes, stderr and the moments they were seen to end."""
    logs = [ws.parent / f"{ws.name}-{n}.err" for n in (1, 2)]
    handles = [open(p, "w+") for p in logs]  # noqa: SIM115 - closed below
    try:
        first = subprocess.Popen(first_cmd, env=env, stdout=subprocess.DEVNULL, stderr=handles[0],
                                 start_new_session=True)
        if wait_for_lock:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and first.poll() is None:
                if lock_holder(ws).startswith("lll run"):
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.2))
        second = subprocess.Popen(second_cmd, env=env, stdout=subprocess.DEVNULL, stderr=handles[1],
                                  start_new_session=True)
        ends: dict[int, float] = {}
        deadline = time.monotonic() + 600
        while len(ends) < 2 and time.monotonic() < deadline:
            for n, proc in enumerate((first, second)):
                if n not in ends and proc.poll() is not None:
                    ends[n] = time.monotonic()
            time.sleep(0.01)
        for proc in (first, second):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
        errors = tuple(p.read_text(errors="replace") for p in logs)
        return ((first.returncode, second.returncode), errors,  # type: ignore[return-value]
                (ends.get(0, float("inf")), ends.get(1, float("inf"))))
    finally:
        for handle in handles:
            handle.close()


class SlowServer:
    """Answers every request with a 404 after ``delay`` seconds: a source that keeps ``lll run``
    busy for a while (so the second command surely meets the lock) and adds no item."""

    def __init__(self, delay: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                time.sleep(delay)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/slow.xml"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def lock_trials(h: Harness, n: int, rng: random.Random, hold: float = 3.0) -> list[LockTrial]:
    """``lll run --date d1`` on a workspace with sources only (fetch + first draft: the slowest run),
    and a second ``lll run`` (or ``lll fetch``) on the same workspace while it holds the lock. One
    extra source answers only after ``hold`` seconds (with a 404, so the items are unchanged)."""
    d1 = h.days[0]
    fetched = h.scenarios.get("fetch d1")
    drafted = h.scenarios.get("draft d1")
    modes = ["staggered", "together", "fetch-during-run"]
    slow = SlowServer(hold) if hold > 0 else None
    out = []
    for i in range(n):
        mode = modes[i % len(modes)]
        ws = h._copy(h.work / "base-sources", f"lock-{i % 2}")
        if slow is not None:
            with Newsletter.open(ws) as letter:
                letter.add_source(slow.url, name="Slow Feed")
        h.server.day = d1
        run = lll_cmd(ws, "run", "--date", d1)
        second_cmd = lll_cmd(ws, "fetch") if mode == "fetch-during-run" else run
        codes, (err_a, err_b), (end_a, end_b) = _run_pair(run, second_cmd, lll_env(d1), ws,
                                                           mode != "together", rng)
        message = next((e.strip().splitlines()[-1] for c, e in zip(codes, (err_a, err_b), strict=True)
                        if c != 0 and e.strip()), "")
        trial = LockTrial(mode, codes, message)
        if mode == "fetch-during-run" and codes == (0, 0) and end_b < end_a:
            trial.problems.append("`lll fetch` finished before `lll run` released the lock")
        for code, err in zip(codes, (err_a, err_b), strict=True):
            if code == EX_TEMPFAIL and "workspace is busy" not in err:
                trial.problems.append(f"exit 75 without saying the workspace is busy: {err.strip()[:200]}")
        if trial.outcome == "failed":
            trial.problems.append(f"exit codes {trial.codes}: {err_a.strip()[-200:]} | {err_b.strip()[-200:]}")
        trial.problems += database_problems(ws)
        state = snapshot(ws)
        if fetched is not None and fetched.clean is not None and state.items != fetched.clean.items:
            trial.problems.append("items differ from a clean fetch of d1")
        if d1 not in state.issues or state.files.get(f"{d1}.md") != state.issues.get(d1):
            trial.problems.append(f"issue {d1}: row and file do not match")
        if drafted is not None and drafted.clean is not None and state.issues.get(d1) != drafted.clean.issues.get(d1):
            trial.problems.append(f"issue {d1} differs from a clean draft")
        out.append(trial)
    if slow is not None:
        slow.close()
    return out


# -- publish (switched on when `lll publish` exists) -----------------------------------------------


def publish_available() -> bool:
    done = subprocess.run([sys.executable, "-m", "lll", "publish", "--help"], capture_output=True, text=True)
    return done.returncode == 0


def _fake_forem() -> Any:
    """The contract-following fake DEV server of the publishing tests (tests/fakes/forem.py)."""
    tests = str(REPO / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from fakes.forem import FakeForem

    return FakeForem


def publish_trials(h: Harness, n: int, rng: random.Random,
                   modes: tuple[str, ...] = ("time", "after-create")) -> list[Trial] | None:
    """SIGKILL ``lll publish DATE --to devto`` against a fake DEV server — after a random delay, or
    right after the server received the create (the moment a crash can leave an article the
    workspace does not know about) — then rerun it: exactly one DEV article for the issue, and one
    ``publications`` row that names it. Returns None, saying so, while ``lll publish`` does not exist."""
    if not publish_available():
        print("note: `lll publish` is not available: publish crash trials skipped "
              "(they switch on by themselves when the command exists)")
        return None
    try:
        fake_forem = _fake_forem()
    except ImportError as exc:
        print(f"note: publish crash trials skipped: no fake DEV server ({exc})")
        return None
    sc = h.scenarios.get("draft d2") or next((s for s in h.scenarios.values() if s.command == "draft"), None)
    if sc is None or sc.clean_ws is None:
        print("note: publish crash trials need a draft scenario")
        return None
    key = "sk-crash-" + hashlib.sha256(str(rng.random()).encode()).hexdigest()[:24]
    base = sc.clean_ws  # the issue drafted by the scenario's clean run
    cmd_args = ("publish", sc.day, "--to", "devto")
    clean_seconds = 0.0
    if "time" in modes:  # a clean publish: how long it takes
        with fake_forem({key: 1}) as forem:
            ws = h._copy(base, "publish-clean")
            started = time.perf_counter()
            subprocess.run(lll_cmd(ws, *cmd_args), capture_output=True, timeout=600, check=True,
                           env=lll_env(sc.day, LLL_DEVTO_API_KEY=key, LLL_DEVTO_BASE_URL=f"{forem.base}/api"))
            clean_seconds = time.perf_counter() - started
            assert len(forem.mine()) == 1
    trials = []
    for i in range(n):
        mode = rng.choice(modes)
        with fake_forem({key: 1}) as forem:
            ws = h._copy(base, f"publish-{i % 2}")
            env = lll_env(sc.day, LLL_DEVTO_API_KEY=key, LLL_DEVTO_BASE_URL=f"{forem.base}/api")
            proc = subprocess.Popen(lll_cmd(ws, *cmd_args), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + (rng.uniform(0.05, clean_seconds) if mode == "time" else 60)
            while proc.poll() is None and time.monotonic() < deadline:
                if mode == "after-create" and forem.count("POST"):
                    time.sleep(rng.uniform(0.0, 0.02))
                    break
                time.sleep(0.002)
            running = proc.poll() is None
            if running:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
            problems = database_problems(ws)
            after_kill = len(forem.mine())
            if after_kill > 1:
                problems.append(f"{after_kill} DEV articles after the kill")
            rerun = subprocess.run(lll_cmd(ws, *cmd_args), env=env, capture_output=True, text=True, timeout=600)
            if rerun.returncode != 0:
                problems.append(f"rerun exited {rerun.returncode}: {rerun.stderr.strip()[-300:]}")
            articles = forem.mine()
            if len(articles) != 1:
                problems.append(f"{len(articles)} DEV articles after the rerun (want exactly 1)")
            with connect(ws / "lll.db") as con:
                rows = con.execute("SELECT remote_id, state FROM publications WHERE target = 'devto' AND date = ?",
                                   (sc.day,)).fetchall()
            if len(rows) != 1 or (articles and rows and rows[0][0] != str(articles[0]["id"])):
                problems.append(f"publications rows {rows} do not name the one article")
            trials.append(Trial("publish d2", "publish", mode, running, after_kill == 1 and running, 0, problems))
    return trials


# -- the report ------------------------------------------------------------------------------------


def table(trials: list[Trial]) -> str:
    rows = [("command", "trials", "killed mid-run", "passed", "failed", "partial state", "md ahead of row")]
    for command in dict.fromkeys(t.command for t in trials):
        mine = [t for t in trials if t.command == command]
        rows.append((f"lll {command}", str(len(mine)), str(sum(t.killed_running for t in mine)),
                     str(sum(t.passed for t in mine)), str(sum(not t.passed for t in mine)),
                     str(sum(t.partial for t in mine)), str(sum(t.ahead > 0 for t in mine))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50, help="kill trials per command (default 50)")
    parser.add_argument("--seed", type=int, default=20260501)
    parser.add_argument("--corpus", type=Path, default=REPLAY)
    parser.add_argument("--days", default=None, help="three days d1,d2,d3 (default: the corpus's usual three)")
    parser.add_argument("--lock-trials", type=int, default=6, help="`lll run` twice at once (default 6)")
    parser.add_argument("--publish-trials", type=int, default=None,
                        help="`lll publish --to devto` kill trials (default: a fifth of --trials)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if args.days:
        days = tuple(args.days.split(","))
    else:
        days = DEMO_DAYS if corpus == DEMO.resolve() else REPLAY_DAYS
    if len(days) != 3:
        parser.error("--days takes three days")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="lll-crash-"))
    started = time.perf_counter()
    try:
        with quiet(CorpusServer(corpus, day=days[0])) as server:
            h = Harness(corpus, days, work, server)  # type: ignore[arg-type]
            print(f"corpus {corpus.name}, days {', '.join(days)}, seed {args.seed}; work folder {work}")
            scenarios = h.prepare()
            trials: list[Trial] = []
            for command in ("fetch", "draft"):
                mine = [s for s in scenarios if s.command == command]
                for i in range(args.trials):
                    sc = mine[i % len(mine)]
                    t = h.trial(sc, rng, i)
                    trials.append(t)
                    mark = "ok" if t.passed else "FAIL " + "; ".join(t.problems)
                    print(f"  {command} #{i + 1:<3} {sc.name:<10} {t.mode:<8} "
                          f"{'killed' if t.killed_running else 'finished'}{' partial' if t.partial else ''}"
                          f"{' md-ahead' if t.ahead else ''}: {mark}", flush=True)
            n_publish = args.publish_trials if args.publish_trials is not None else max(1, args.trials // 5)
            published = publish_trials(h, n_publish, rng) if n_publish else None
            for i, t in enumerate(published or []):
                mark = "ok" if t.passed else "FAIL " + "; ".join(t.problems)
                print(f"  publish #{i + 1:<3} {t.scenario:<10} {t.mode:<12} "
                      f"{'killed' if t.killed_running else 'finished'}"
                      f"{' after-the-create' if t.partial else ''}: {mark}", flush=True)
            trials += published or []
            locks = lock_trials(h, args.lock_trials, rng)
        print()
        print(table(trials))
        print()
        outcomes = Counter(t.outcome for t in locks)
        print("two `lll run` at once (and `lll fetch` during `lll run`):")
        for t in locks:
            mark = "ok" if not t.problems else "FAIL " + "; ".join(t.problems)
            print(f"  {t.mode:<17} exit codes {t.codes}: {t.outcome}: {mark}"
                  + (f"  [{t.second_message}]" if t.second_message else ""))
        print(f"  {dict(outcomes)}; corrupt: {sum(bool(t.problems) for t in locks)}")
        failed = sum(not t.passed for t in trials) + sum(bool(t.problems) for t in locks)
        print(f"\n{len(trials)} kill trials, {len(locks)} lock trials, {failed} failed "
              f"({time.perf_counter() - started:.0f} s)")
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
