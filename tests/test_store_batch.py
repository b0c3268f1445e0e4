"""The batch writer: several sources per transaction, each source all or nothing, a result
given only once it is on disk, one bad source costing only itself — and a fetch run through
it stores exactly what one transaction per source stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from lll.records import FetchedBody, Link, ParsedFeed, ParsedItem, Source
from lll.store import Store
from lll.store.batch import BatchWriter
from lll.store.db import write_failure, write_fetch

from conftest import LoopbackServer, db_url, intact, feed_reply, fetch_all, query, rss, scalar

SEEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _item(n: int) -> ParsedItem:
    return ParsedItem(identity=f"https://blog.example/{n}", guid="", url=f"https://blog.example/{n}",
                      canonical_url=f"https://blog.example/{n}", title=f"Post {n}", text=f"Text {n}",
                      raw=f"<p>Text {n}</p>", content_hash=f"h{n}", links=(Link("https://x.example/"),))


def _feed(*numbers: int) -> ParsedFeed:
    return ParsedFeed(title="Blog", link="https://blog.example/", kind="feed",
                      items=tuple(_item(n) for n in numbers))


def _sources(store: Store, n: int) -> list[Source]:
    for i in range(n):
        store.add_source(f"https://feed{i}.example/rss", name=f"Feed {i}")
    return store.sources()


def _ok(url: str) -> FetchedBody:
    return FetchedBody(url=url, final_url=url, status=200, body=b"<rss/>", etag='"v1"')


def _save(source: Source, feed: ParsedFeed):  # type: ignore[no-untyped-def]
    return lambda conn: write_fetch(conn, source, _ok(source.url), feed, run_id=None, started=SEEN, seen_at=SEEN)


def test_jobs_waiting_together_are_written_in_one_transaction(store: Store, db_path: Path) -> None:
    sources = _sources(store, 30)
    gate = threading.Event()
    with BatchWriter(store.engine, max_jobs=50, max_wait=0.2) as writer:
        blocker = writer.submit(lambda conn: gate.wait(5))  # holds the first batch open
        futures = [writer.submit(_save(s, _feed(3 * i, 3 * i + 1, 3 * i + 2))) for i, s in enumerate(sources)]
        gate.set()
        results = [f.result(10) for f in futures]
        assert blocker.result(10) is True
    assert [(r.new, r.changed) for r in results] == [(3, 0)] * 30
    assert writer.jobs == 31 and writer.batches <= 3
    assert scalar(db_path, "SELECT count(*) FROM items") == 90
    assert scalar(db_path, "SELECT count(*) FROM fetch_attempts WHERE outcome = 'ok'") == 30


def test_a_result_is_given_only_after_its_transaction_committed(store: Store, db_path: Path) -> None:
    source = _sources(store, 1)[0]
    seen: list[int] = []
    with BatchWriter(store.engine, max_wait=0.05) as writer:
        future = writer.submit(_save(source, _feed(1, 2)))
        future.add_done_callback(lambda _f: seen.append(scalar(db_path, "SELECT count(*) FROM items")))
        future.result(10)
    assert seen == [2]  # another connection already saw both rows when the caller was told


def test_a_failing_job_costs_only_its_own_source(store: Store, db_path: Path) -> None:
    sources = _sources(store, 5)

    def half_then_fail(conn: sa.Connection) -> None:
        write_fetch(conn, sources[2], _ok(sources[2].url), _feed(100, 101), run_id=None, started=SEEN, seen_at=SEEN)
        raise RuntimeError("disk on fire")

    gate = threading.Event()
    with BatchWriter(store.engine, max_jobs=50, max_wait=0.2) as writer:
        writer.submit(lambda conn: gate.wait(5))
        futures = [writer.submit(half_then_fail if i == 2 else _save(s, _feed(10 * i))) for i, s in enumerate(sources)]
        gate.set()
        for i, future in enumerate(futures):
            if i == 2:
                with pytest.raises(RuntimeError, match="disk on fire"):
                    future.result(10)
            else:
                assert future.result(10).new == 1
    rows = query(db_path, "SELECT source_id, count(*) AS n FROM items GROUP BY source_id ORDER BY source_id")
    assert [(r["source_id"], r["n"]) for r in rows] == [(s.id, 1) for i, s in enumerate(sources) if i != 2]
    assert scalar(db_path, "SELECT count(*) FROM fetch_attempts WHERE source_id = ?", sources[2].id) == 0


def test_failures_are_batched_too(store: Store, db_path: Path) -> None:
    sources = _sources(store, 3)
    with BatchWriter(store.engine) as writer:
        for s in sources:
            writer.submit(lambda conn, s=s: write_failure(conn, s, run_id=None, started=SEEN, seconds=0.1,
                                                          error="HTTP 500", http_status=500))
    rows = query(db_path, "SELECT last_status, consecutive_failures FROM sources")
    assert [(r["last_status"], r["consecutive_failures"]) for r in rows] == [("error", 1)] * 3


_KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys, threading
    from datetime import UTC, datetime
    from lll.records import FetchedBody, ParsedFeed, ParsedItem
    from lll.store import Store
    from lll.store.db import write_fetch

    store = Store(sys.argv[1])
    sources = store.sources()
    seen = datetime(2026, 5, 1, tzinfo=UTC)
    feed = ParsedFeed(title="t", link="", kind="feed", items=tuple(
        ParsedItem(identity=f"i{n}", guid="", url="", canonical_url="", title="t", text="x", raw="x",
                   content_hash=str(n)) for n in range(40)))
    writer = store.batch_writer(max_sources=8, max_wait=0.0)
    count = 0

    def work(conn, source):
        global count
        write_fetch(conn, source, FetchedBody(url=source.url, final_url=source.url, status=200),
                    feed, run_id=None, started=seen, seen_at=seen)
        count += 1
        if count == int(sys.argv[2]):  # die in the middle of a batch, before its commit
            os.kill(os.getpid(), signal.SIGKILL)

    for s in sources:
        writer.submit(lambda conn, s=s: work(conn, s))
    writer.close()
""")


@pytest.mark.parametrize("kill_at", [3, 13, 21])
def test_a_crash_loses_at_most_the_batch_being_written(store: Store, db_path: Path, kill_at: int) -> None:
    sources = _sources(store, 24)
    store.close()
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, db_url(db_path), str(kill_at)],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    per_source = {r["source_id"]: r["n"] for r in query(
        db_path, "SELECT source_id, count(*) AS n FROM items GROUP BY source_id")}
    ok = {r["id"] for r in query(db_path, "SELECT id FROM sources WHERE last_status = 'ok'")}
    assert set(per_source.values()) <= {40}, "a source is stored whole or not at all"
    assert set(per_source) == ok, "a source claims success exactly when its items are there"
    assert len(ok) < kill_at, "the batch being written when the process died is lost whole"
    assert intact(db_path)
    rerun = Store(db_url(db_path))
    try:
        with rerun.batch_writer() as writer:
            for s in sources:
                feed = ParsedFeed(title="t", link="", kind="feed", items=tuple(
                    ParsedItem(identity=f"i{n}", guid="", url="", canonical_url="", title="t", text="x", raw="x",
                               content_hash=str(n)) for n in range(40)))
                writer.submit(lambda conn, s=s, feed=feed: write_fetch(
                    conn, s, FetchedBody(url=s.url, final_url=s.url, status=200), feed,
                    run_id=None, started=SEEN, seen_at=SEEN))
    finally:
        rerun.close()
    assert scalar(db_path, "SELECT count(*) FROM items") == 24 * 40
    assert scalar(db_path, "SELECT count(*) FROM (SELECT DISTINCT source_id, identity FROM items) AS d") == 24 * 40


def test_a_fetch_run_through_the_batch_writer_stores_every_source_once(server: LoopbackServer, store: Store,
                                                                       db_path: Path) -> None:
    for i in range(40):
        body = rss([{"title": f"Post {i}.{k}", "link": f"https://b{i}.example/{k}", "guid": f"https://b{i}.example/{k}",
                     "permalink": True, "description": f"<p>Item {k} of feed {i}</p>"} for k in range(5)])
        store.add_source(server.route(f"/feed{i}.xml", feed_reply(body, etag=f'"e{i}"')), name=f"Feed {i}")
    broken = server.route("/broken.xml", feed_reply(b"<html><body>not a feed</body></html>", "text/html"))
    store.add_source(broken, name="Broken")
    first = fetch_all(store)
    assert first.new_items == 200 and len(first.failed) == 1
    second = fetch_all(store)
    assert second.new_items == 0 and {o.status for o in second.outcomes} == {"not_modified", "error"}
    assert scalar(db_path, "SELECT count(*) FROM items") == 200
    assert scalar(db_path, "SELECT count(*) FROM fetch_attempts") == 82
    assert scalar(db_path, "SELECT consecutive_failures FROM sources WHERE name = 'Broken'") == 2
