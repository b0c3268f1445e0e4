"""What must hold on both stores when several processes share one database: migrations run
once under a lock, upserts instead of select-then-insert, deterministic lookups, and no
database password in any message. Run on SQLite by default and on PostgreSQL in ``.ci/run``
(``LLL_TEST_DATABASE_URL``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import db_url, query, run_cli, scalar

from lll.errors import WorkspaceError
from lll.publish.ledger import Ledger
from lll.records import FetchedBody, ParsedFeed, ParsedItem
from lll.store import Store
from lll.store.dialect import safe_url, scrub
from lll.store.migrations import MIGRATIONS
from lll.urls import canonical_url
from lll.verify.evidence import StoreResolver

SEEN = datetime(2026, 5, 1, 12, tzinfo=UTC)

# -- no credential in any message ------------------------------------------------------------------


def test_a_url_is_shown_without_its_password() -> None:
    assert safe_url("postgresql+psycopg://lll:s3cr%40t@db.example:5432/lll") == \
        "postgresql+psycopg://lll:***@db.example:5432/lll"
    assert safe_url("postgresql://h/db?user=lll&password=hunter22&sslmode=require") == \
        "postgresql://h/db?user=lll&password=***&sslmode=require"
    assert safe_url("sqlite:////tmp/w/lll.db") == "sqlite:////tmp/w/lll.db"
    url = "postgresql+psycopg://lll:pa%2Fss%20word@h/db"
    message = f"connection to {url} failed: password 'pa/ss word' rejected (pa%2Fss%20word)"
    cleaned = scrub(message, url)
    assert "pa/ss word" not in cleaned and "pa%2Fss" not in cleaned and cleaned.count("***") == 3


def test_an_unreachable_postgresql_names_the_server_but_not_the_password() -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed (pip install -e '.[postgres]')")
    url = "postgresql+psycopg://lll:Hunter2-Secret@127.0.0.1:1/lll"  # nothing listens on port 1
    with pytest.raises(WorkspaceError) as caught:
        Store(url)
    message = str(caught.value)
    assert "Hunter2-Secret" not in message
    assert "postgresql+psycopg://lll:***@127.0.0.1:1/lll" in message and "unusable" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no driver text chained


def test_the_cli_names_an_unreachable_database_without_its_password(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed (pip install -e '.[postgres]')")
    ws = tmp_path / "ws"
    run_cli("init", workspace=ws)
    with (ws / "lll.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[database]\nurl = "postgresql+psycopg://lll:Open-Sesame-42@127.0.0.1:1/lll"\n')
    for env in ({}, {"LLL_DATABASE_URL": "postgresql+psycopg://ed:Open-Sesame-42@127.0.0.1:1/news"}):
        result = run_cli("sources", "list", workspace=ws, ok=False, env=env)
        assert result.exit_code == 2  # an unusable workspace: bad input, as documented
        assert "Open-Sesame-42" not in result.output and ":***@127.0.0.1:1/" in result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- several processes, one database ---------------------------------------------------------------

_OPEN = textwrap.dedent("""
    import sys, time
    from lll.store import Store
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all start together
    Store(sys.argv[1]).close()
    print("ok")
""")


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "lll.db"
    db.parent.mkdir()
    url = db_url(db)
    import time

    start = str(time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN, url, start], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=os.environ.copy()) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-800:] for _out, err in results]
    names = [r["name"] for r in query(db, "SELECT name FROM schema_migrations ORDER BY name")]
    assert names == sorted(name for name, _ in MIGRATIONS)


def test_threads_adding_the_same_source_make_one_row(store: Store, db_path: Path) -> None:
    created: list[bool] = []
    barrier = threading.Barrier(8)

    def add() -> None:
        barrier.wait()
        created.append(store.add_source("https://feeds.example/same.xml", name="Same")[1])

    threads = [threading.Thread(target=add) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(created) == [False] * 7 + [True]
    assert scalar(db_path, "SELECT count(*) FROM sources") == 1


def test_threads_writing_one_ledger_row_make_one_row(store: Store, db_path: Path) -> None:
    ledger = Ledger(store)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        barrier.wait()
        try:
            ledger.write("devto", "2026-05-01", attempt=True, state="pending", detail={"n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    [row] = query(db_path, "SELECT target, date, attempts FROM publications")
    assert (row["target"], row["date"], row["attempts"]) == ("devto", "2026-05-01", 6)


def test_a_page_cached_twice_is_one_row_holding_the_second(store: Store, db_path: Path) -> None:
    for text in ("first", "second"):
        store.put_page("https://a.example/p", http_status=200, content_type="text/html", title="P", text=text,
                       raw="", error=None)
    assert [tuple(r) for r in query(db_path, "SELECT url, text FROM pages")] == [("https://a.example/p", "second")]


# -- deterministic lookups ---------------------------------------------------------------------------


def test_evidence_for_a_link_is_its_own_item_when_many_share_a_canonical_url(store: Store, tmp_path: Path) -> None:
    """A changelog's entries differ only by fragment, which the canonical URL drops: the
    resolver must give the entry the link names, whatever order the store keeps rows in."""
    source, _ = store.add_source("https://changes.example/feed.xml", name="Changes")
    base = "https://changes.example/log"
    items = tuple(ParsedItem(identity=f"entry-{n}", guid=f"entry-{n}", url=f"{base}#v{n}",
                             canonical_url=canonical_url(f"{base}#v{n}"), title=f"Version {n}",
                             text=f"Version {n} adds feature number {n}.", raw="", content_hash=str(n))
                  for n in range(12))
    assert len({i.canonical_url for i in items}) == 1
    store.save_fetch(source, FetchedBody(url=source.url, final_url=source.url, status=200),
                     ParsedFeed(title="Changes", link="", kind="feed", items=items),
                     run_id=None, started=SEEN, seen_at=SEEN)
    resolve = StoreResolver(store, tmp_path / "issues", lambda day: f"{day}.md")
    for n in (0, 7, 11):
        evidence = resolve(f"{base}#v{n}")
        assert evidence is not None
        assert evidence.text.startswith(f"Version {n}\nVersion {n} adds feature number {n}."), evidence.text[:80]
    shared = resolve(base)  # no entry has this exact URL: the same five, in the same order, every time
    assert shared is not None and shared.text == resolve(base).text  # type: ignore[union-attr]
    assert shared.text.count("adds feature number") == 5
