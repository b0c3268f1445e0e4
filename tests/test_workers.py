"""``lll worker`` and ``lll run --enqueue``: real worker processes on one workspace, feeds on
several loopback "hosts" whose server counts the requests in flight per host and the requests
per feed. The workflow engine (DBOS Transact) keeps its queues in ``workers.db`` beside
``lll.db``; the store is read through ``Store``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ON_POSTGRES, db_env, db_url
from fakes.hosts import HostsServer

from lll.store import Store
from lll.store import schema as t
from lll.memory import Records

pytest.importorskip("dbos", reason="the workers extra is not installed: pip install -e '.[workers]'")

DAY = "2026-05-10"
NOW = "2026-05-10T23:30:00Z"
LLL = [sys.executable, "-m", "lll"]


@pytest.fixture(autouse=True)
def _drop_workflow_schema(_isolated: Path) -> Iterator[None]:
    """On PostgreSQL the workflows live in ``SCHEMA_dbos`` beside the workspace's schema: drop it too."""
    yield
    if ON_POSTGRES:
        from lll.workers.engine import system_schema

        engine = sa.create_engine(os.environ["LLL_TEST_DATABASE_URL"], poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {system_schema(db_url(_isolated / 'lll.db'))} CASCADE"))
        engine.dispose()


@pytest.fixture
def hosts() -> Iterator[HostsServer]:
    server = HostsServer(24, 5, hosts=3, day=datetime(2026, 5, 10, 23, 0, tzinfo=UTC), delay=0.05)
    yield server
    server.stop()


def _env() -> dict[str, str]:
    root = Path(os.environ["LLL_WORKSPACE"])
    return dict(os.environ, LLL_ALLOW_PRIVATE="1", LLL_NOW=NOW, LLL_EMBEDDER="tfidf", **db_env(root))


def _lll(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*LLL, *args], env=_env(), capture_output=True, text=True, timeout=240)
    if check and done.returncode != 0:
        raise AssertionError(f"lll {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done


def _workspace(root: Path, server: HostsServer, per_host: int = 2) -> None:
    _lll("init")
    config = root / "lll.toml"
    text = config.read_text()
    assert "per_host = 4 " in text and 'fulltext = "auto"' in text
    config.write_text(text.replace("per_host = 4 ", f"per_host = {per_host} ").replace(
        'fulltext = "auto"', 'fulltext = "never"'))
    outlines = "".join(f'<outline type="rss" text="Feed {i}" xmlUrl="{server.url(i)}"/>' for i in range(server.feeds))
    (root / "feeds.opml").write_text(f'<opml version="2.0"><body>{outlines}</body></opml>')
    _lll("sources", "import", str(root / "feeds.opml"))


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*LLL, "worker", *args], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(worker: subprocess.Popen[str]) -> str:
    _out, err = worker.communicate(timeout=240)
    assert worker.returncode == 0, err[-2000:]
    return err


def _count(root: Path, table: sa.Table) -> int:
    store = Store(db_url(root / "lll.db"))
    try:
        return store.count(table)
    finally:
        store.close()


def test_two_workers_fetch_every_source_once_within_the_host_limit_and_draft_the_day_once(
        _isolated: Path, hosts: HostsServer) -> None:
    root = _isolated
    _workspace(root, hosts, per_host=2)
    first = _lll("run", "--enqueue", "--date", DAY)
    assert f"Enqueued {DAY}: 24 fetches" in first.stdout
    _lll("run", "--enqueue", "--date", DAY)  # again, as a second machine would: nothing is added
    workers = [_worker("--until-idle", "2"), _worker("--until-idle", "2")]
    for worker in workers:
        _finish(worker)
    assert sorted(hosts.hits.values()) == [1] * 24, "every feed fetched exactly once"
    assert max(hosts.peak.values()) == 2, f"per-host limit across workers: {dict(hosts.peak)}"
    assert _count(root, t.items) == 24 * 5
    store = Store(db_url(root / "lll.db"))
    try:
        issue = Records(store).issue(DAY)
    finally:
        store.close()
    assert issue is not None and (root / "issues" / f"{DAY}.md").exists()
    waited = _lll("run", "--enqueue", "--date", DAY, "--wait")  # the day is done: nothing to wait for
    assert f"{DAY}: success" in waited.stdout


def test_a_worker_killed_mid_day_is_finished_by_another_with_nothing_lost_or_doubled(
        _isolated: Path, hosts: HostsServer) -> None:
    root = _isolated
    hosts.delay = 0.4  # slow feeds: the kill lands while fetches are in flight
    _workspace(root, hosts, per_host=2)
    _lll("run", "--enqueue", "--date", DAY)
    doomed = _worker()
    deadline = time.monotonic() + 120
    while sum(hosts.hits.values()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(hosts.peak.values()) > 0, "the first worker never fetched"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(30)
    assert sum(hosts.hits.values()) < 24, "the first worker finished before it was killed: slow the feeds down"
    hosts.delay = 0.02
    rescuer = _worker("--until-idle", "2")
    _finish(rescuer)
    assert set(hosts.hits) == {f"/feeds/{i}.xml" for i in range(24)}, "every feed fetched"
    assert _count(root, t.items) == 24 * 5, "no item lost, none stored twice"
    assert (root / "issues" / f"{DAY}.md").exists()
    assert _lll("run", "--enqueue", "--date", DAY, "--wait").stdout.strip().endswith(f"{DAY}: success")


def test_enqueue_with_a_bad_date_is_bad_usage(_isolated: Path) -> None:
    _lll("init")
    done = _lll("run", "--enqueue", "--date", "10/05/2026", check=False)
    assert done.returncode == 2
    assert "YYYY-MM-DD" in done.stderr


def test_the_workspace_lock_is_the_databases_on_postgresql_and_busy_is_exit_75(_isolated: Path) -> None:
    from lll.newsletter import Newsletter

    _lll("init")
    with Newsletter.open(_isolated) as letter, letter.lock("draft"):
        busy = _lll("run", "--date", DAY, check=False)
        assert busy.returncode == 75, busy.stderr
        assert "busy (lll draft, pid " in busy.stderr  # the same words as the file lock's
    assert _lll("sources", "list").returncode == 0


def test_fetch_batches_keep_each_host_in_one_group_and_let_a_groups_hosts_take_turns() -> None:
    from lll.records import Source
    from lll.workers.engine import fetch_batches, host_group, host_of

    sources = [Source(i, f"https://h{i % 7}.example/feed{i}.xml", f"feed {i}") for i in range(1, 301)]
    batches = fetch_batches(sources, size=16, groups=4)
    ids = [i for _group, batch in batches for i in batch]
    assert sorted(ids) == list(range(1, 301)), "every source in exactly one batch"
    url = {s.id: s.url for s in sources}
    for group, batch in batches:
        assert len(batch) <= 16
        assert {host_group(host_of(url[i]), 4) for i in batch} == {group}, "a batch holds one group's hosts only"
    for group in {g for g, _ in batches}:
        order = [host_of(url[i]) for g, batch in batches if g == group for i in batch]
        hosts = sorted(set(order))
        if len(hosts) > 1:  # the group's hosts in turn, while each has sources left
            assert order[:len(hosts)] == hosts
    assert host_group("h1.example") == host_group("h1.example") and host_group("h1.example").startswith("hosts-")


def test_the_engine_flushes_notifications_once_a_second_not_a_hundred_times(_isolated: Path) -> None:
    """DBOS's notifier thread wakes at the coalescing interval: LLL sets it, since each wake takes
    the interpreter lock from a fetching worker's loop (measured in bench/scale.py)."""
    from dbos import _dbos

    from lll.newsletter import Newsletter
    from lll.workers.engine import NOTIFY_COALESCE, connected

    _lll("init")
    with Newsletter.open(_isolated) as letter, connected(letter):
        engine = _dbos._dbos_global_instance  # the launched engine (DBOS's own module global)
        assert engine is not None
        assert engine._sys_db._notification_coalesce_sec == NOTIFY_COALESCE == 1.0


@pytest.mark.skipif(not ON_POSTGRES, reason="about PostgreSQL's session advisory locks (a file lock lasts as long "
                                            "as its process): run with LLL_TEST_DATABASE_URL")
def test_a_worker_takes_its_liveness_lock_again_when_the_database_drops_its_session(_isolated: Path) -> None:
    """A dropped connection (or a database restart) ends the session that held a worker's lock;
    until the worker holds it again, its peers would take its running workflows for a dead one's."""
    from lll.workers.engine import RECOVERY_EVERY
    from lll.workers.liveness import advisory_key

    key = advisory_key("lll-worker:survivor")
    engine = sa.create_engine(os.environ["LLL_TEST_DATABASE_URL"], poolclass=sa.pool.NullPool,
                              isolation_level="AUTOCOMMIT")

    def holder() -> int | None:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND classid::bigint = :hi AND objid::bigint = :lo"),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}).scalar()

    _lll("init")
    worker = _worker("--id", "survivor")
    try:
        deadline = time.monotonic() + 120
        while (first := holder()) is None:
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never took its lock"
            time.sleep(0.1)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
            # a peer takes the freed lock first (as a claim does) and keeps it over one look of the worker
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            time.sleep(RECOVERY_EVERY + 1.5)
            assert holder() == conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        deadline = time.monotonic() + RECOVERY_EVERY + 15
        while (again := holder()) in (None, first):
            assert time.monotonic() < deadline, "the worker did not take its lock again"
            time.sleep(0.2)
        assert worker.poll() is None, "the worker exited"
    finally:
        worker.send_signal(signal.SIGTERM)
        engine.dispose()
    err = _finish(worker)
    assert "worker survivor: the database had dropped its liveness lock; it holds it again" in err
    assert again != first
