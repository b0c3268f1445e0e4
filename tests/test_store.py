"""The store: migrations against the declared schema, and what a fetch writes — run by
``FetchRun`` against a real loopback server into a real SQLite file."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lll.clock import iso
from lll.errors import WorkspaceError
from lll.store import Store
from lll.store.db import make_engine
from lll.store.migrations import MIGRATIONS, migrate
from lll.store.schema import metadata
from lll.urls import canonical_url

from conftest import (
    FEEDS, ON_POSTGRES, PODCAST_NS, LoopbackServer, MutableFeed, Reply, Request, WriteCounter, fast_settings, feed_reply, fetch_all,
    db_url, query, rss, scalar, sqlite_only,
)

T1 = datetime(2026, 5, 1, 23, 59, tzinfo=UTC)
T2 = T1 + timedelta(days=1)
T3 = T2 + timedelta(days=1)
PAGES = FEEDS.parent / "pages"


# -- migrations ------------------------------------------------------------------------------------


# reflected names of a declared type, where the store spells it differently
_SAME_TYPE = {"DOUBLE PRECISION": "FLOAT"}


def _type(name: object) -> str:
    spelled = str(name).split("(")[0].upper()
    return _SAME_TYPE.get(spelled, spelled)


def _sqlite_type(column: sa.Column, engine: sa.Engine) -> str:
    return _type(column.type.compile(dialect=engine.dialect))


def test_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path / "m.db"))
    try:
        ran = migrate(engine)
        assert ran == [name for name, _ in MIGRATIONS]
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names()) == set(metadata.tables)
        problems = []
        for table in metadata.sorted_tables:
            reflected = {c["name"]: c for c in inspector.get_columns(table.name)}
            declared = {c.name: c for c in table.columns}
            if set(reflected) != set(declared):
                problems.append(f"{table.name}: columns {sorted(reflected)} != declared {sorted(declared)}")
                continue
            for name, column in declared.items():
                got = reflected[name]
                if _type(got["type"]) != _sqlite_type(column, engine):
                    problems.append(f"{table.name}.{name}: type {got['type']} != {column.type}")
                if not column.primary_key and got["nullable"] != column.nullable:
                    problems.append(f"{table.name}.{name}: nullable {got['nullable']} != {column.nullable}")
            pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
            if sorted(pk) != sorted(c.name for c in table.primary_key):
                problems.append(f"{table.name}: primary key {pk}")
            fks = {(tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                   for fk in inspector.get_foreign_keys(table.name)}
            want = {((fk.parent.name,), fk.column.table.name, (fk.column.name,)) for fk in table.foreign_keys}
            if fks != want:
                problems.append(f"{table.name}: foreign keys {fks} != {want}")
            uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table.name)}
            want_u = {tuple(c.name for c in con.columns) for con in table.constraints
                      if isinstance(con, sa.UniqueConstraint)}
            want_u |= {(c.name,) for c in table.columns if c.unique}
            if uniques != want_u:
                problems.append(f"{table.name}: unique {uniques} != {want_u}")
        assert not problems, "\n".join(problems)
    finally:
        engine.dispose()


def _schema_snapshot(engine: sa.Engine) -> list[tuple[str, str]]:
    """Every table, column, index and constraint, as the store reports them."""
    inspector = sa.inspect(engine)
    found = []
    for table in sorted(inspector.get_table_names()):
        found += [(table, f"column {c['name']} {c['type']} {c['nullable']}") for c in inspector.get_columns(table)]
        found += [(table, f"index {i['name']} {i['column_names']}") for i in inspector.get_indexes(table)]
        found += [(table, f"unique {u['column_names']}") for u in inspector.get_unique_constraints(table)]
        found += [(table, f"fk {f['constrained_columns']} {f['referred_table']}")
                  for f in inspector.get_foreign_keys(table)]
    return sorted(found)


def test_rerunning_migrate_is_a_no_op(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    engine = make_engine(db_url(db))
    try:
        migrate(engine)
        before = _schema_snapshot(engine)
        applied = query(db, "SELECT name, applied_at FROM schema_migrations ORDER BY name")
        assert migrate(engine) == []
        assert _schema_snapshot(engine) == before
        assert [tuple(r) for r in query(db, "SELECT name, applied_at FROM schema_migrations ORDER BY name")] == \
            [tuple(r) for r in applied]
    finally:
        engine.dispose()


def test_migration_names_are_unique_and_ordered() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert len(names) == len(set(names))
    assert names == sorted(names)
    assert all(name[:4].isdigit() and name[4] == "_" for name in names)


def test_store_keeps_data_when_reopened(db_path: Path, store: Store) -> None:
    store.add_source("https://feeds.example/a.xml", name="A", weight=2.0)
    if not ON_POSTGRES:
        assert scalar(db_path, "PRAGMA journal_mode") == "wal"
    again = Store(db_url(db_path))
    try:
        assert [(s.url, s.name, s.weight) for s in again.sources()] == [("https://feeds.example/a.xml", "A", 2.0)]
    finally:
        again.close()


@sqlite_only
def test_an_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(WorkspaceError, match=r"unusable"):
        Store(f"sqlite:///{junk}")


# -- conditional GET -------------------------------------------------------------------------------

ITEMS = [
    {"guid": "urn:post:a", "link": "https://feed.example/a", "title": "Alpha", "description": "First post.",
     "published": datetime(2026, 5, 1, 9, tzinfo=UTC)},
    {"guid": "urn:post:b", "link": "https://feed.example/b", "title": "Beta", "description": "Second post.",
     "published": datetime(2026, 5, 1, 10, tzinfo=UTC)},
    {"guid": "urn:post:c", "link": "https://feed.example/c", "title": "Gamma", "description": "Third post.",
     "published": datetime(2026, 5, 1, 11, tzinfo=UTC)},
]


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_conditional_get_second_pass_writes_no_item_row(server: LoopbackServer, store: Store, db_path: Path,
                                                        validator: str) -> None:
    kwargs = {"etag": '"rev-1"'} if validator == "etag" else {"last_modified": "Fri, 01 May 2026 12:00:00 GMT"}
    url = server.route("/feed.xml", feed_reply(rss(ITEMS), **kwargs))
    store.add_source(url, name="Conditional")
    first = fetch_all(store, at=T1)
    assert first.new_items == 3 and scalar(db_path, "SELECT count(*) FROM items") == 3
    writes = WriteCounter(db_path)
    second = fetch_all(store, at=T2)
    assert second.outcomes[0].status == "not_modified"
    assert writes.total() == 0, writes.counts()
    request = server.last("/feed.xml").headers
    assert request.get("if-none-match" if validator == "etag" else "if-modified-since") == next(iter(kwargs.values()))
    attempt = query(db_path, "SELECT * FROM fetch_attempts ORDER BY id DESC LIMIT 1")[0]
    assert (attempt["outcome"], attempt["http_status"], attempt["new_items"], attempt["changed_items"]) == \
        ("not_modified", 304, 0, 0)
    src = query(db_path, "SELECT etag, last_modified, last_status FROM sources")[0]
    assert src["last_status"] == "not_modified"
    assert (src["etag"], src["last_modified"]) == (kwargs.get("etag"), kwargs.get("last_modified"))


def test_unchanged_feed_without_validators_rewrites_nothing(server: LoopbackServer, store: Store,
                                                             db_path: Path) -> None:
    url = server.route("/feed.xml", MutableFeed(rss(ITEMS)))
    store.add_source(url)
    fetch_all(store, at=T1)
    writes = WriteCounter(db_path)
    report = fetch_all(store, at=T2)
    assert report.outcomes[0].status == "ok" and report.new_items == 0 and report.changed_items == 0
    assert writes.total() == 0, writes.counts()


# -- identity, revisions ---------------------------------------------------------------------------


def test_reordered_items_with_new_dates_keep_their_identity(server: LoopbackServer, store: Store,
                                                            db_path: Path) -> None:
    feed = MutableFeed(rss(ITEMS))
    store.add_source(server.route("/feed.xml", feed))
    fetch_all(store, at=T1)
    ids = {r["identity"]: r["id"] for r in query(db_path, "SELECT id, identity FROM items")}
    churned = [dict(item, published=item["published"] + timedelta(days=3, hours=i))
               for i, item in enumerate(reversed(ITEMS))]
    feed.set(rss(churned))
    writes = WriteCounter(db_path)
    report = fetch_all(store, at=T2)
    assert (report.new_items, report.changed_items) == (0, 0)
    assert writes.total() == 0, writes.counts()
    assert {r["identity"]: r["id"] for r in query(db_path, "SELECT id, identity FROM items")} == ids
    assert scalar(db_path, "SELECT count(*) FROM item_revisions") == 0


def test_a_changed_item_gets_a_revision_and_is_updated_in_place(server: LoopbackServer, store: Store,
                                                                db_path: Path) -> None:
    feed = MutableFeed(rss(ITEMS))
    store.add_source(server.route("/feed.xml", feed))
    fetch_all(store, at=T1)
    before = query(db_path, "SELECT * FROM items WHERE identity = 'urn:post:b'")[0]
    edited = [dict(ITEMS[0]), dict(ITEMS[1], title="Beta (updated)", description="Second post, corrected."),
              dict(ITEMS[2])]
    feed.set(rss(edited))
    writes = WriteCounter(db_path)
    report = fetch_all(store, at=T2)
    assert (report.new_items, report.changed_items) == (0, 1)
    assert writes.counts() == {("insert", "item_revisions"): 1, ("update", "items"): 1}
    after = query(db_path, "SELECT * FROM items WHERE identity = 'urn:post:b'")[0]
    assert after["id"] == before["id"]
    assert (after["title"], after["text"]) == ("Beta (updated)", "Second post, corrected.")
    assert after["content_hash"] != before["content_hash"]
    assert after["first_seen_at"] == iso(T1) and after["updated_at"] == iso(T2)
    revision = query(db_path, "SELECT * FROM item_revisions")[0]
    assert (revision["item_id"], revision["title"], revision["text"], revision["content_hash"]) == \
        (before["id"], "Beta", "Second post.", before["content_hash"])
    assert scalar(db_path, "SELECT count(*) FROM items") == 3
    writes.reset()
    fetch_all(store, at=T3)  # the same edited feed again: nothing more to record
    assert writes.total() == 0


def test_guids_losing_their_trailing_slash_do_not_duplicate(server: LoopbackServer, store: Store,
                                                            db_path: Path) -> None:
    """The Batch, 2026-05-08: every guid and link lost its trailing slash overnight."""
    slashed = [{"guid": f"https://www.batch.example/issue-{n}/", "permalink": True,
                "link": f"https://www.batch.example/issue-{n}/", "title": f"Issue {n}",
                "description": f"Issue {n} of the letter.", "published": datetime(2026, 4, n, tzinfo=UTC)}
               for n in (1, 2, 3)]
    feed = MutableFeed(rss(slashed))
    store.add_source(server.route("/feed.xml", feed))
    fetch_all(store, at=T1)
    feed.set(rss([dict(i, guid=i["guid"].rstrip("/"), link=i["link"].rstrip("/")) for i in slashed]
                 + [{"guid": "https://www.batch.example/issue-4", "permalink": True,
                     "link": "https://www.batch.example/issue-4", "title": "Issue 4",
                     "description": "Issue 4 of the letter."}]))
    writes = WriteCounter(db_path)
    report = fetch_all(store, at=T2)
    assert (report.new_items, report.changed_items) == (1, 0)
    assert writes.counts() == {("insert", "items"): 1}
    assert scalar(db_path, "SELECT count(*) FROM items") == 4


def test_duplicate_guids_in_one_file_are_stored_once(server: LoopbackServer, store: Store,
                                                     db_path: Path) -> None:
    doubled = [ITEMS[0], dict(ITEMS[0], title="Alpha (listed again)"), ITEMS[1]]
    store.add_source(server.route("/feed.xml", MutableFeed(rss(doubled))))
    report = fetch_all(store, at=T1)
    assert report.new_items == 2
    rows = query(db_path, "SELECT identity, title FROM items ORDER BY id")
    assert [(r["identity"], r["title"]) for r in rows] == [("urn:post:a", "Alpha"), ("urn:post:b", "Beta")]
    writes = WriteCounter(db_path)
    fetch_all(store, at=T2)
    assert writes.total() == 0


def test_missing_publish_date_takes_first_seen_time_and_keeps_it(server: LoopbackServer, store: Store,
                                                                 db_path: Path) -> None:
    undated = [{"guid": "urn:undated:1", "link": "https://feed.example/u1", "title": "No date",
                "description": "An item without a pubDate."}]
    feed = MutableFeed(rss(undated + ITEMS[:1]))
    store.add_source(server.route("/feed.xml", feed))
    fetch_all(store, at=T1)
    row = query(db_path, "SELECT * FROM items WHERE identity = 'urn:undated:1'")[0]
    assert (row["published_at"], row["first_seen_at"], row["published_in_feed"]) == (iso(T1), iso(T1), 0)
    dated = query(db_path, "SELECT * FROM items WHERE identity = 'urn:post:a'")[0]
    assert (dated["published_at"], dated["published_in_feed"]) == ("2026-05-01T09:00:00Z", 1)
    fetch_all(store, at=T2)  # unchanged, a day later
    feed.set(rss([dict(undated[0], description="An item without a pubDate, edited.")] + ITEMS[:1]))
    fetch_all(store, at=T3)  # changed, two days later
    row = query(db_path, "SELECT * FROM items WHERE identity = 'urn:undated:1'")[0]
    assert row["published_at"] == iso(T1) and row["first_seen_at"] == iso(T1)
    assert row["updated_at"] == iso(T3)


def test_tracking_parameters_are_removed_from_the_canonical_url(server: LoopbackServer, store: Store,
                                                                db_path: Path) -> None:
    item = {"link": "https://www.feed.example/post?id=3&utm_source=rss&utm_medium=feed&fbclid=x",
            "title": "Tracked", "description": "d", "published": datetime(2026, 5, 1, tzinfo=UTC)}
    store.add_source(server.route("/feed.xml", MutableFeed(rss([item]))))
    fetch_all(store, at=T1)
    row = query(db_path, "SELECT url, canonical_url, identity FROM items")[0]
    assert row["canonical_url"] == "https://feed.example/post?id=3"
    assert row["identity"] == "https://feed.example/post?id=3"
    assert row["url"] == item["link"]


def test_items_keep_their_links_raw_and_signals(server: LoopbackServer, store: Store, db_path: Path) -> None:
    store.add_source(server.route("/feed.xml", feed_reply((FEEDS / "rss20.xml").read_bytes())))
    fetch_all(store, at=T1)
    row = query(db_path, "SELECT * FROM items WHERE identity = 'orbit-post-0412'")[0]
    links = json.loads(row["links"])
    assert {"url": "https://orbit.example.com/docs/harness/deadlines", "text": "deadline notes"} in links
    assert "<strong>hard deadline</strong>" in row["raw"]
    assert "hard deadline" in row["text"] and "<" not in row["text"]
    assert json.loads(row["signals"]) == {}
    assert row["author"] == "Dana Whitfield" and row["published_at"] == "2026-05-01T14:30:00Z"


# -- full text and transcripts ---------------------------------------------------------------------


def _teaser_feed(server: LoopbackServer, title: str = "Batching speculative decoding") -> str:
    return rss([{"guid": "fn-42", "link": server.url("/articles/speculative.html"), "title": title,
                 "description": "We batch the verification step. Read on.",
                 "published": datetime(2026, 5, 1, 8, tzinfo=UTC)}])


def test_summary_only_item_gets_its_article_text_once(server: LoopbackServer, store: Store,
                                                      db_path: Path) -> None:
    page = (PAGES / "article.html").read_bytes()
    server.route("/articles/speculative.html", feed_reply(page, "text/html; charset=utf-8"))
    feed = MutableFeed(_teaser_feed(server))
    store.add_source(server.route("/feed.xml", feed))
    settings = fast_settings(fulltext="auto")
    report = fetch_all(store, settings, at=T1)
    assert report.pages == 1
    row = query(db_path, "SELECT * FROM items")[0]
    assert row["text_origin"] == "article"
    assert "throughput rose from 2,900 to 5,200 tokens per second" in row["text"]
    assert "All rights reserved" not in row["text"] and "Subscribe" not in row["text"]
    cached = query(db_path, "SELECT * FROM pages")
    assert [c["url"] for c in cached] == [canonical_url(server.url("/articles/speculative.html"))]
    assert cached[0]["error"] is None and "5,200 tokens" in cached[0]["text"]
    assert server.hits("/articles/speculative.html") == 1

    writes = WriteCounter(db_path)
    fetch_all(store, settings, at=T1 + timedelta(hours=1))  # unchanged feed: nothing to enrich
    assert server.hits("/articles/speculative.html") == 1 and writes.total() == 0

    feed.set(_teaser_feed(server, title="Batching speculative decoding, revisited"))
    report = fetch_all(store, settings, at=T1 + timedelta(hours=2))  # changed item: text from the cache
    assert report.changed_items == 1
    assert server.hits("/articles/speculative.html") == 1
    row = query(db_path, "SELECT * FROM items")[0]
    assert row["title"] == "Batching speculative decoding, revisited"
    assert row["text_origin"] == "article" and "5,200 tokens" in row["text"]


def test_fulltext_never_leaves_the_summary(server: LoopbackServer, store: Store, db_path: Path) -> None:
    server.route("/articles/speculative.html", feed_reply((PAGES / "article.html").read_bytes(), "text/html"))
    store.add_source(server.route("/feed.xml", MutableFeed(_teaser_feed(server))), fulltext="never")
    fetch_all(store, fast_settings(fulltext="auto"), at=T1)
    assert server.hits("/articles/speculative.html") == 0
    row = query(db_path, "SELECT text, text_origin FROM items")[0]
    assert (row["text"], row["text_origin"]) == ("We batch the verification step. Read on.", "feed")


def test_a_broken_article_page_keeps_the_summary(server: LoopbackServer, store: Store, db_path: Path) -> None:
    server.route("/articles/speculative.html", Reply(500, b"oops"))
    store.add_source(server.route("/feed.xml", MutableFeed(_teaser_feed(server))))
    report = fetch_all(store, fast_settings(fulltext="auto", retries=0), at=T1)
    assert report.outcomes[0].status == "ok" and report.new_items == 1
    row = query(db_path, "SELECT text, text_origin FROM items")[0]
    assert (row["text"], row["text_origin"]) == ("We batch the verification step. Read on.", "feed")
    page = query(db_path, "SELECT error FROM pages")[0]
    assert "HTTP 500" in page["error"]


@pytest.mark.parametrize("name, content_type", [("podcast-ep41.vtt", "text/vtt; charset=utf-8"),
                                                ("podcast-ep40.srt", "application/x-subrip"),
                                                ("podcast-ep39.json", "application/json")])
def test_podcast_transcript_becomes_the_item_text(server: LoopbackServer, store: Store, db_path: Path,
                                                  name: str, content_type: str) -> None:
    transcript_url = server.route(f"/transcripts/{name}", feed_reply((FEEDS / name).read_bytes(), content_type))
    extra = (f'<enclosure url="https://media.example.fm/{name}.mp3" length="1" type="audio/mpeg"/>'
             f'<podcast:transcript url="{transcript_url}" type="{content_type.split(";")[0]}"/>')
    episode = {"guid": "ep-1", "link": "https://pod.example.fm/episodes/1", "title": "Episode 1",
               "description": "Show notes.", "published": datetime(2026, 5, 1, 5, tzinfo=UTC), "extra": extra}
    store.add_source(server.route("/podcast.xml", MutableFeed(rss([episode], namespaces=PODCAST_NS))))
    fetch_all(store, at=T1)
    row = query(db_path, "SELECT * FROM items")[0]
    expected = (FEEDS / f"{name}.expected.txt").read_text(encoding="utf-8").strip()
    first_line = expected.split("\n")[0]
    assert row["text_origin"] == "transcript"
    assert row["text"].startswith("Show notes.\n\nTranscript:\n\n")
    assert first_line in row["text"] and "-->" not in row["text"]
    assert json.loads(row["signals"])["enclosures"] == [f"https://media.example.fm/{name}.mp3"]
    assert server.hits(f"/transcripts/{name}") == 1
    fetch_all(store, at=T1 + timedelta(hours=1))
    assert server.hits(f"/transcripts/{name}") == 1


def test_article_and_transcript_fetches_obey_the_ssrf_guard(server: LoopbackServer, store: Store,
                                                            db_path: Path) -> None:
    """A feed allowed by policy cannot make LLL fetch a private address through an item link."""
    item = {"guid": "x", "link": "http://169.254.169.254/latest/meta-data/", "title": "Metadata",
            "description": "short", "published": datetime(2026, 5, 1, tzinfo=UTC)}
    store.add_source(server.route("/feed.xml", MutableFeed(rss([item]))))
    fetch_all(store, fast_settings(fulltext="always"), at=T1)
    page = query(db_path, "SELECT error FROM pages")[0]
    assert "SSRF guard" in page["error"]
    assert query(db_path, "SELECT text_origin FROM items")[0]["text_origin"] == "feed"


# -- politeness ------------------------------------------------------------------------------------


class InFlight:
    """A slow feed handler that records how many requests were in flight at once."""

    def __init__(self, body: bytes, delay: float = 0.15) -> None:
        self.body, self.delay, self.now, self.peak = body, delay, 0, 0
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay)
        with self._lock:
            self.now -= 1
        return Reply(200, self.body, {"Content-Type": "application/rss+xml"})


@pytest.mark.parametrize("settings, limit", [(dict(per_host=2, concurrency=16), 2),
                                             (dict(per_host=8, concurrency=3), 3)],
                         ids=["per-host", "overall"])
def test_concurrency_is_bounded(server: LoopbackServer, store: Store, settings: dict, limit: int) -> None:
    handler = InFlight(rss(ITEMS).encode())
    for n in range(8):
        store.add_source(server.route(f"/feed{n}.xml", handler))
    report = fetch_all(store, fast_settings(**settings), at=T1)
    assert not report.failed and report.new_items == 24
    assert handler.peak == limit, f"peak {handler.peak} requests in flight, limit {limit}"
