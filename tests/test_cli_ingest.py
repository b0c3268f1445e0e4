"""The ingest commands as a user types them (``lll init``, ``lll sources …``, ``lll fetch``),
checked by opening the SQLite file; and the replay acceptance on real feeds."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from lll import clock
from lll.demo.server import CorpusServer
from lll.newsletter import Newsletter
from lll.urls import canonical_url

from conftest import (
    Hang, LoopbackServer, MutableFeed, Reply, Stream, WriteCounter, _no_dns, db_env, feed_reply, intact, query, rss,
    run_cli, scalar, shared_data, sqlite_only,
)

GOOD = rss([{"guid": f"urn:good:{n}", "link": f"https://good.example/{n}", "title": f"Good {n}",
             "content": f"<p>Full text of post {n}.</p>", "published": datetime(2026, 5, 1, n, tzinfo=UTC)}
            for n in range(1, 4)], title="Good Feed")


def health(workspace: Path) -> dict[str, dict[str, Any]]:
    result = run_cli("sources", "list", "--json")
    return {row["name"]: row for row in json.loads(result.stdout)}


# -- init and the workspace ------------------------------------------------------------------------


def test_init_is_idempotent(_isolated: Path) -> None:
    first = run_cli("init", "--name", "Large Language Letters")
    assert "Created workspace" in first.stdout
    toml = _isolated / "lll.toml"
    assert 'name = "Large Language Letters"' in toml.read_text(encoding="utf-8")
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# edited by the editor\n", encoding="utf-8")
    run_cli("sources", "add", "https://feeds.example/a.xml", "--name", "Feed A")
    again = run_cli("init", "--name", "Another Name")
    assert "already set up" in again.stdout
    assert "# edited by the editor" in toml.read_text(encoding="utf-8")
    assert "Another Name" not in toml.read_text(encoding="utf-8")
    assert scalar(_isolated / "lll.db", "SELECT name FROM sources") == "Feed A"
    assert (_isolated / "issues").is_dir()
    assert scalar(_isolated / "lll.db", "SELECT count(*) FROM schema_migrations") >= 1


@pytest.mark.parametrize("args", [("fetch",), ("sources", "list"), ("sources", "list", "--json"),
                                  ("sources", "export"), ("sources", "add", "https://feeds.example/x.xml"),
                                  ("sources", "import", "__OPML__")])
def test_commands_without_a_workspace_exit_2_and_say_lll_init(tmp_path: Path, args: tuple[str, ...]) -> None:
    empty = tmp_path / "not-a-workspace"
    empty.mkdir()
    opml = tmp_path / "feeds.opml"
    opml.write_text('<opml version="2.0"><body><outline text="X" xmlUrl="https://x.example/f"/></body></opml>')
    argv = [str(opml) if a == "__OPML__" else a for a in args]
    result = run_cli(*argv, workspace=empty, ok=None)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "lll init" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(empty.iterdir()) == [], "a command other than init must not create a workspace"


def test_lll_workspace_env_is_the_default(workspace: Path) -> None:
    run_cli("sources", "add", "https://feeds.example/env.xml", "--name", "From Env")
    assert scalar(workspace / "lll.db", "SELECT name FROM sources") == "From Env"


# -- sources add / list ----------------------------------------------------------------------------


def test_sources_add_and_update(workspace: Path) -> None:
    result = run_cli("sources", "add", "https://rdi.example/agentic/feed", "--name",
                     "Berkeley RDI's Agentic AI Weekly", "--weight", "1.5", "--kind", "newsletter")
    assert "Added source" in result.stdout
    db = workspace / "lll.db"
    row = query(db, "SELECT * FROM sources")[0]
    assert (row["name"], row["weight"], row["kind"]) == ("Berkeley RDI's Agentic AI Weekly", 1.5, "newsletter")
    updated = run_cli("sources", "add", "https://rdi.example/agentic/feed", "--weight", "2")
    assert "Updated source" in updated.stdout
    row = query(db, "SELECT * FROM sources")[0]
    assert (row["name"], row["weight"]) == ("Berkeley RDI's Agentic AI Weekly", 2.0)
    assert scalar(db, "SELECT count(*) FROM sources") == 1


@pytest.mark.parametrize("args, message", [
    (("ftp://feeds.example/x",), "not an http(s) URL"),
    (("feeds.example/x",), "not an http(s) URL"),
    (("https://feeds.example/x", "--kind", "blog"), "unknown kind"),
    (("https://feeds.example/x", "--weight", "1000"), "outside 0..100"),
])
def test_sources_add_rejects_bad_input_with_exit_2(workspace: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("sources", "add", *args, ok=None)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM sources") == 0


def test_sources_list_shows_health(workspace: Path, server: LoopbackServer) -> None:
    good = server.route("/good.xml", feed_reply(GOOD))
    bad = server.route("/bad.xml", Reply(500, b"boom"))
    run_cli("sources", "add", good, "--name", "Good Feed", "--weight", "1.5")
    run_cli("sources", "add", bad, "--name", "Broken Feed")
    before = health(workspace)
    assert before["Good Feed"]["last_status"] == "never" and before["Good Feed"]["items"] == 0
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    rows = health(workspace)
    expected_keys = {"id", "url", "name", "kind", "detected_kind", "weight", "items", "last_fetch_at",
                     "last_ok_at", "last_status", "last_http_status", "last_error", "consecutive_failures"}
    assert expected_keys <= set(rows["Good Feed"])
    assert (rows["Good Feed"]["items"], rows["Good Feed"]["last_status"], rows["Good Feed"]["last_http_status"],
            rows["Good Feed"]["weight"], rows["Good Feed"]["detected_kind"]) == (3, "ok", 200, 1.5, "feed")
    assert rows["Good Feed"]["last_error"] is None and rows["Good Feed"]["consecutive_failures"] == 0
    assert rows["Broken Feed"]["last_status"] == "error" and rows["Broken Feed"]["last_http_status"] == 500
    assert "HTTP 500" in rows["Broken Feed"]["last_error"] and rows["Broken Feed"]["last_ok_at"] is None
    table = run_cli("sources", "list")
    assert "Good Feed" in table.stdout and "Broken Feed" in table.stdout and "2 sources" in table.stdout


def test_consecutive_failures_count_up_and_reset(workspace: Path, server: LoopbackServer) -> None:
    feed = {"reply": Reply(503, b"down")}
    url = server.route("/flaky.xml", lambda req: feed["reply"])
    run_cli("sources", "add", url, "--name", "Flaky")
    env = {"LLL_ALLOW_PRIVATE": "1"}
    run_cli("fetch", env=env)
    run_cli("fetch", env=env)
    row = health(workspace)["Flaky"]
    assert (row["last_status"], row["consecutive_failures"]) == ("error", 2)
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM fetch_attempts WHERE outcome = 'error'") == 2
    feed["reply"] = Reply(200, GOOD.encode(), {"Content-Type": "application/rss+xml"})
    run_cli("fetch", env=env)
    row = health(workspace)["Flaky"]
    assert (row["last_status"], row["consecutive_failures"], row["last_error"], row["items"]) == ("ok", 0, None, 3)


# -- fetch -----------------------------------------------------------------------------------------


def test_fetch_refuses_loopback_unless_allowed(workspace: Path, server: LoopbackServer) -> None:
    url = server.route("/good.xml", feed_reply(GOOD))
    run_cli("sources", "add", url, "--name", "Local Feed")
    refused = run_cli("fetch")
    assert "1 failed" in refused.stdout and "Local Feed" in refused.stdout
    assert "LLL_ALLOW_PRIVATE" in health(workspace)["Local Feed"]["last_error"]
    assert server.hits("/good.xml") == 0
    allowed = run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    assert "1 ok, 0 failed; 3 new items" in allowed.stdout
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM items") == 3


def test_one_bad_source_costs_the_others_nothing(workspace: Path, server: LoopbackServer) -> None:
    rng = random.Random(7)
    garbage = bytes(rng.getrandbits(8) for _ in range(4096))
    latin1 = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café Notes</title>'
              '<item><guid>urn:enc:1</guid><title>Café crème</title><description>Résumé of the week'
              '</description></item></channel></rss>').encode("latin-1")
    page = b"<!DOCTYPE html><html><head><title>A blog</title></head><body><h1>Welcome</h1></body></html>"
    sources = {
        "Good Feed": server.route("/good.xml", feed_reply(GOOD)),
        "Server Error": server.route("/500.xml", Reply(500, b"internal error")),
        "Slow Drip": server.route("/drip.xml", lambda req: Stream(lambda: iter(lambda: b" ", None),
                                                                  interval=0.05)),
        "HTML Page": server.route("/page.html", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})),
        "Garbage Bytes": server.route("/garbage.xml", Reply(200, garbage,
                                                            {"Content-Type": "application/rss+xml"})),
        "Broken Encoding": server.route("/latin1.xml", Reply(200, latin1, {
            "Content-Type": "application/rss+xml; charset=utf-8"})),
    }
    for name, url in sources.items():
        run_cli("sources", "add", url, "--name", name)
    started = time.monotonic()
    result = run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    assert time.monotonic() - started < 10
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("6 sources, 2 ok, 4 failed; 4 new items"), summary
    for name in ("Server Error", "Slow Drip", "HTML Page", "Garbage Bytes"):
        assert name in summary
    for name in ("Good Feed", "Broken Encoding"):
        assert name not in summary.split("failed:", 1)[1]
    rows = health(workspace)
    assert rows["Good Feed"]["items"] == 3 and rows["Good Feed"]["last_status"] == "ok"
    reasons = {
        "Server Error": "HTTP 500 after 2 attempt(s)",
        "Slow Drip": "no complete response within 1.5 s",
        "HTML Page": "got an HTML page, not a feed",
        "Garbage Bytes": "not a feed",
    }
    for name, reason in reasons.items():
        assert rows[name]["last_status"] == "error", name
        assert reason in rows[name]["last_error"], (name, rows[name]["last_error"])
        assert rows[name]["consecutive_failures"] == 1 and rows[name]["items"] == 0
        assert f"failed: {name}: " in result.stderr
    db = workspace / "lll.db"
    assert [r["title"] for r in query(db, "SELECT title FROM items WHERE identity = 'urn:enc:1'")] == ["Café crème"]
    attempts = {r["url"]: r for r in query(db, "SELECT * FROM fetch_attempts")}
    assert len(attempts) == 6
    assert attempts[sources["Server Error"]]["http_status"] == 500
    assert attempts[sources["Server Error"]]["outcome"] == "error"


def test_a_failed_attempt_records_how_many_requests_it_made(workspace: Path, server: LoopbackServer) -> None:
    url = server.route("/500.xml", Reply(500, b"internal error"))
    run_cli("sources", "add", url, "--name", "Server Error")
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    assert server.hits("/500.xml") == 2  # retries = 1 in the test workspace
    attempt = query(workspace / "lll.db", "SELECT * FROM fetch_attempts")[0]
    assert "after 2 attempt(s)" in attempt["error"]
    assert attempt["attempts"] == 2


def test_broken_encoding_is_noted_in_the_health_row(workspace: Path, server: LoopbackServer) -> None:
    """A feed recovered from a wrong charset is stored, and `sources list` says what was wrong."""
    latin1 = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café Notes</title>'
              '<item><guid>urn:enc:1</guid><title>Café crème</title><description>Résumé</description>'
              '</item></channel></rss>').encode("latin-1")
    url = server.route("/latin1.xml", Reply(200, latin1, {"Content-Type": "application/rss+xml; charset=utf-8"}))
    run_cli("sources", "add", url, "--name", "Broken Encoding")
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    row = health(workspace)["Broken Encoding"]
    assert row["items"] == 1
    attempt = query(workspace / "lll.db", "SELECT error FROM fetch_attempts")[0]
    assert "utf-8" in (attempt["error"] or "").lower()  # the attempt row has it …
    assert "utf-8" in (row["last_error"] or "").lower(), row  # … and so must the health row


def test_a_plain_feed_labelled_gzip_is_stored_and_the_health_row_says_so(workspace: Path,
                                                                         server: LoopbackServer) -> None:
    url = server.route("/plain.xml", Reply(200, GOOD.encode(), {"Content-Type": "application/rss+xml",
                                                                "Content-Encoding": "gzip"}))
    run_cli("sources", "add", url, "--name", "Mislabelled")
    result = run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    assert "1 ok, 0 failed; 3 new items" in result.stdout
    row = health(workspace)["Mislabelled"]
    assert row["last_status"] == "ok" and row["items"] == 3
    expected = "Content-Encoding says gzip but the body is not gzip-encoded; used it as sent"
    assert expected in (row["last_error"] or ""), row
    attempt = query(workspace / "lll.db", "SELECT outcome, error FROM fetch_attempts")[0]
    assert attempt["outcome"] == "ok" and expected in attempt["error"]


def test_a_malformed_redirect_fails_only_its_own_source(workspace: Path, server: LoopbackServer) -> None:
    run_cli("sources", "add", server.route("/good.xml", feed_reply(GOOD)), "--name", "Good Feed")
    run_cli("sources", "add", server.route("/odd.xml", Reply(302, b"", {"Location": "http://127.0.0.1:99999/x"})),
            "--name", "Odd Redirect")
    result = run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"}, ok=None)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0
    rows = health(workspace)
    assert rows["Good Feed"]["items"] == 3
    assert rows["Odd Redirect"]["last_status"] == "error" and "99999" in rows["Odd Redirect"]["last_error"]


def test_one_malformed_item_costs_only_that_item(workspace: Path, server: LoopbackServer) -> None:
    body = rss([{"guid": "http://[broken/1", "link": "https://ok.example/1", "title": "Bad guid",
                 "description": "d"},
                {"guid": "urn:ok:2", "link": "https://ok.example/2", "title": "Fine", "description": "d"}])
    run_cli("sources", "add", server.route("/mixed.xml", feed_reply(body)), "--name", "Mixed")
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    titles = [r["title"] for r in query(workspace / "lll.db", "SELECT title FROM items")]
    assert "Fine" in titles, health(workspace)["Mixed"]["last_error"]


def test_lll_now_dates_undated_items_and_is_kept(workspace: Path, server: LoopbackServer) -> None:
    feed = MutableFeed(rss([{"guid": "urn:nodate", "title": "Undated", "description": "No pubDate here."}]))
    run_cli("sources", "add", server.route("/undated.xml", feed), "--name", "Undated")
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1", "LLL_NOW": "2026-04-10T23:59:00Z"})
    run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1", "LLL_NOW": "2026-04-12T08:00:00Z"})
    row = query(workspace / "lll.db", "SELECT * FROM items")[0]
    assert (row["published_at"], row["first_seen_at"], row["published_in_feed"]) == \
        ("2026-04-10T23:59:00Z", "2026-04-10T23:59:00Z", 0)
    assert scalar(workspace / "lll.db", "SELECT max(started_at) FROM fetch_attempts") == "2026-04-12T08:00:00Z"


@sqlite_only
def test_fetch_with_an_unusable_database_exits_nonzero(workspace: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{workspace / 'lll.db'}{suffix}").unlink(missing_ok=True)
    (workspace / "lll.db").write_bytes(b"not a database " * 200)
    result = run_cli("fetch", ok=None)
    assert result.exit_code != 0
    assert "unusable" in result.stderr and "Traceback" not in result.stderr


def test_fetch_with_no_sources_is_fine(workspace: Path) -> None:
    result = run_cli("fetch")
    assert result.stdout.strip().splitlines()[-1].startswith("0 sources, 0 ok, 0 failed; 0 new items")


def test_killing_fetch_and_rerunning_loses_and_duplicates_nothing(workspace: Path, server: LoopbackServer) -> None:
    """SIGKILL `lll fetch` while one source is still streaming, then run it again."""
    slow = {"hang": True}
    many = rss([{"guid": f"urn:many:{n}", "title": f"Item {n}", "content": f"<p>Body {n}</p>",
                 "published": datetime(2026, 5, 1, tzinfo=UTC)} for n in range(200)])
    for n in range(3):
        server.route(f"/f{n}.xml", feed_reply(many.replace("urn:many:", f"urn:f{n}:")))
        run_cli("sources", "add", server.url(f"/f{n}.xml"), "--name", f"Feed {n}")
    server.route("/slow.xml", lambda req: Hang() if slow["hang"] else Reply(200, GOOD.encode()))
    run_cli("sources", "add", server.url("/slow.xml"), "--name", "Slow")
    (workspace / "lll.toml").write_text('[newsletter]\nname = "T"\n[fetch]\ntotal_timeout = 20.0\n'
                                        'fulltext = "never"\n', encoding="utf-8")
    env = {**os.environ, "LLL_WORKSPACE": str(workspace), "LLL_ALLOW_PRIVATE": "1", **db_env(workspace)}
    proc = subprocess.Popen([sys.executable, "-m", "lll", "fetch"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    db = workspace / "lll.db"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if scalar(db, "SELECT count(*) FROM items") >= 400 and server.hits("/slow.xml"):
                    break
            except sa.exc.OperationalError:  # the database is still being made
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the first fetch never got going")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    slow["hang"] = False
    result = run_cli("fetch", env={"LLL_ALLOW_PRIVATE": "1"})
    assert "4 sources, 4 ok, 0 failed" in result.stdout
    assert intact(db)
    assert scalar(db, "SELECT count(*) FROM items") == 603
    assert scalar(db, "SELECT count(*) FROM (SELECT source_id, identity FROM items "
                      "GROUP BY source_id, identity HAVING count(*) > 1) AS twice") == 0


# -- the replay acceptance: real feeds, day by day -------------------------------------------------


REPLAY_DUPLICATES = {"paulgraham": 3, "windsurf_changelog": 3}  # documented in the corpus README


def _items(path: Path) -> dict[str, tuple[str, ...]]:
    """guid (else link) → the item's content as written, read independently of LLL."""
    out: dict[str, tuple[str, ...]] = {}
    for item in etree.parse(str(path)).getroot().iter("item"):
        key = (item.findtext("guid") or item.findtext("link") or "").strip()
        out.setdefault(key, tuple((item.findtext(t) or "").strip() for t in (
            "title", "link", "description", "{http://purl.org/rss/1.0/modules/content/}encoded")))
    return out


def _end_of(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T23:59:59+00:00")


def test_replay_may_2026_stores_everything_once(workspace: Path) -> None:
    corpus = shared_data("replay-2026-05")
    manifest: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        manifest[entry["day"]][entry["feed"]] = entry
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Replay"\n[fetch]\nfulltext = "never"\n',
                                        encoding="utf-8")
    db = workspace / "lll.db"
    with CorpusServer(corpus, "2026-05-01") as server:
        opml = workspace / "replay.opml"
        opml.write_text((corpus / "sources.opml").read_text(encoding="utf-8")
                        .replace("http://127.0.0.1:8765", server.base_url), encoding="utf-8")
        imported = run_cli("sources", "import", str(opml))
        assert "32 added" in imported.stdout
        feed_of = {r["id"]: r["url"].rsplit("/", 1)[1].removesuffix(".xml")
                   for r in query(db, "SELECT id, url FROM sources")}
        assert set(feed_of.values()) == set(manifest["2026-05-01"])
        assert scalar(db, "SELECT name FROM sources WHERE url LIKE '%/the_batch.xml'") == \
            "The Batch (DeepLearning.AI)"

        def fetch(day: str):
            server.day = day
            with clock.frozen_at(_end_of(day)), Newsletter.open(workspace) as letter:
                return letter.fetch(policy="loopback", resolver=_no_dns)

        def counts() -> dict[str, int]:
            rows = query(db, "SELECT s.id, count(i.id) AS n FROM sources s LEFT JOIN items i "
                             "ON i.source_id = s.id GROUP BY s.id")
            return {feed_of[r["id"]]: r["n"] for r in rows}

        # Day 1: every item of every feed, once.
        day1 = fetch("2026-05-01")
        assert not day1.failed, [(o.source.name, o.error) for o in day1.failed]
        content = {feed: _items(corpus / m["path"]) for feed, m in manifest["2026-05-01"].items()}
        stored = counts()
        for feed, entry in manifest["2026-05-01"].items():
            assert stored[feed] == len(content[feed]), feed
            assert entry["items"] - stored[feed] == REPLAY_DUPLICATES.get(feed, 0), feed
        assert sum(stored.values()) == sum(m["items"] for m in manifest["2026-05-01"].values()) - 6
        assert stored["anthropic"] == 0
        undated = query(db, "SELECT published_at FROM items i JOIN sources s ON s.id = i.source_id "
                            "WHERE s.url LIKE '%/anthropic_changelog_claude_code.xml' AND NOT published_in_feed")
        assert len(undated) == 50 and {r["published_at"] for r in undated} == {"2026-05-01T23:59:59Z"}

        # Day 2: only new or changed items are written; unchanged feeds answer 304.
        writes = WriteCounter(db)
        day2 = fetch("2026-05-02")
        assert not day2.failed
        expected_new = expected_changed = 0
        for outcome in day2.outcomes:
            feed = feed_of[outcome.source.id]
            entry = manifest["2026-05-02"][feed]
            now_items = _items(corpus / entry["path"])
            new = len(set(now_items) - set(content[feed]))
            changed = sum(1 for k, v in now_items.items() if k in content[feed] and content[feed][k] != v)
            assert (outcome.new, outcome.changed) == (new, changed), feed
            assert outcome.status == ("ok" if entry["changed"] else "not_modified"), feed
            expected_new, expected_changed = expected_new + new, expected_changed + changed
            content[feed] = {**content[feed], **now_items}
        assert expected_new > 0
        assert writes.counts() == {k: v for k, v in {("insert", "items"): expected_new,
                                                     ("insert", "item_revisions"): expected_changed,
                                                     ("update", "items"): expected_changed}.items() if v}
        assert sum(counts().values()) == sum(stored.values()) + expected_new

        # Day 8: The Batch lost the trailing slash of every guid and link; nothing is duplicated.
        batch_before = {r["identity"]: r["id"] for r in query(
            db, "SELECT identity, i.id FROM items i JOIN sources s ON s.id = i.source_id "
                "WHERE s.url LIKE '%/the_batch.xml'")}
        day8 = fetch("2026-05-08")
        assert not day8.failed
        batch_file = _items(corpus / manifest["2026-05-08"]["the_batch"]["path"])
        assert all(not k.endswith("/") for k in batch_file) and len(batch_file) == 369
        union = {canonical_url(k) for k in batch_file} | {canonical_url(k) for k in content["the_batch"]}
        batch_after = {r["identity"]: r["id"] for r in query(
            db, "SELECT identity, i.id FROM items i JOIN sources s ON s.id = i.source_id "
                "WHERE s.url LIKE '%/the_batch.xml'")}
        assert len(batch_after) == len(union) == 369
        assert {k: v for k, v in batch_after.items() if k in batch_before} == batch_before
        batch_outcome = next(o for o in day8.outcomes if feed_of[o.source.id] == "the_batch")
        assert (batch_outcome.new, batch_outcome.changed) == (1, 0)
    rows = {r["name"]: r for r in json.loads(run_cli("sources", "list", "--json").stdout)}
    assert len(rows) == 32 and all(r["last_status"] in ("ok", "not_modified") for r in rows.values())
    assert rows["The Batch (DeepLearning.AI)"]["items"] == 369
