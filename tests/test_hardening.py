"""Hardening, end to end: each hostile case of issue 6 served by a real loopback server as one
source among good ones, through a whole fetch run (``Newsletter.fetch``, as ``lll fetch`` does).

For every case the run must end within a bound, stay within a memory bound, store the good
sources' items as if nothing had happened, and leave a health row (``lll sources list --json``)
that says what went wrong — or, for what is tolerated, what was odd.

The byte-level behaviour of each defence (exact caps, redirect counting, Retry-After forms, the
SSRF policies) is tested on ``HttpClient`` alone in ``test_fetch_http.py``; this file checks that
each one holds inside a real run and costs only its own source.
"""

from __future__ import annotations

import json
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from lll.newsletter import Newsletter

from conftest import LoopbackServer, Reply, Request, Stream, fake_resolver, feed_reply, intact, query, rss, run_cli

MAX_BYTES = 2_000_000
TOML = f"""[newsletter]
name = "Hardened Letters"

[fetch]
connect_timeout = 1.0
read_timeout = 2.0
total_timeout = 1.5
retries = 1
backoff = 0.01
max_retry_after = 5.0
max_bytes = {MAX_BYTES}
fulltext = "never"
"""
HOSTS = {"intranet.test": ["10.0.0.1"], "metadata.test": ["169.254.169.254"], "router.test": ["192.168.1.1"],
         "six.test": ["fe80::1"]}


def good_feed(tag: str) -> str:
    return rss([{"guid": f"urn:{tag}:{n}", "link": f"https://{tag}.example/{n}", "title": f"{tag} post {n}",
                 "content": f"<p>Full text of {tag} post {n}.</p>", "published": datetime(2026, 5, 1, n, tzinfo=UTC)}
                for n in range(1, 4)], title=f"{tag} feed")


def _bomb(kind: str, megabytes: int = 100) -> bytes:
    chunk = bytes(1 << 20)
    if kind == "br":
        c = brotli.Compressor(quality=5)
        return b"".join(c.process(chunk) for _ in range(megabytes)) + c.finish()
    z = zlib.compressobj(9, zlib.DEFLATED, 31 if kind == "gzip" else 15)
    return b"".join(z.compress(chunk) for _ in range(megabytes)) + z.flush()


BOMBS = {kind: _bomb(kind) for kind in ("gzip", "deflate", "br")}


def _laughs() -> bytes:
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>lol</title>'
            '<item><guid>lol-1</guid><title>laughs</title><description>&j;</description></item>'
            '</channel></rss>').encode()


def _xxe(secret: Path) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">'
            f'<!ENTITY remote SYSTEM "http://metadata.test/latest/meta-data/">]>'
            '<rss version="2.0"><channel><title>xxe</title><item><guid>xxe-1</guid><title>t &xxe;</title>'
            '<description>d &xxe; &remote;</description></item></channel></rss>').encode()


def _endless(piece: bytes) -> Callable[[], Any]:
    return lambda: iter(lambda: piece, None)


@dataclass
class Case:
    """Hostile sources (name → path on the server, or a full URL) and what their health rows say."""

    routes: dict[str, Any]
    sources: dict[str, str]
    expect: dict[str, str]  # source name → text in last_error ("" = stored, nothing to say)
    status: dict[str, str] = field(default_factory=dict)  # source name → last_status (default error)
    seconds: float = 8.0
    memory: int = 8 * MAX_BYTES  # peak bytes of Python memory during the run
    hits: dict[str, int] = field(default_factory=dict)  # path → requests the server must have seen


def _storm(retry_after: str | None) -> Callable[[Request], Reply]:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return lambda req: Reply(429 if req.path.endswith("a.xml") or "429" in req.path else 503, b"slow down", headers)


def cases(secret: Path) -> dict[str, Case]:
    latin1_items = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Mixed</title>'
                    '<item><guid>m1</guid><title>Café crème</title><description>utf-8 part</description></item>'
                    ).encode() + '<item><guid>m2</guid><title>Crème brûlée</title><description>latin-1 part'.encode(
                        "latin-1") + b"</description></item></channel></rss>"
    invalid = good_feed("bad").encode().replace(b"bad post 2", b"bad post \xff\xfe\xc3(2")
    feed = good_feed("typed").encode()
    return {
        "slow drip, 1 byte a second": Case(
            {"/drip.xml": lambda req: Stream(_endless(b"<"), interval=1.0, headers={"Content-Type": "application/rss+xml"})},
            {"Drip": "/drip.xml"}, {"Drip": "no complete response within 1.5 s"}),
        "a body that never ends": Case(
            {"/endless.xml": lambda req: Stream(_endless(b"<item>" * 10000))},
            {"Endless": "/endless.xml"}, {"Endless": f"over the {MAX_BYTES:,}-byte cap"}),
        "1 GB body, declared": Case(
            {"/gig.xml": lambda req: Stream(_endless(b"x" * 65536), headers={"Content-Length": str(1 << 30)})},
            {"Gigabyte": "/gig.xml"}, {"Gigabyte": f"body of 1,073,741,824 bytes is over the {MAX_BYTES:,}-byte cap"}),
        "1 GB body, gzip of zeros, no length": Case(
            {"/gig.gz": lambda req: Stream(_endless(BOMBS["gzip"][:65536]), headers={"Content-Encoding": "gzip"})},
            {"Streamed bomb": "/gig.gz"}, {"Streamed bomb": "after decompression"}),
        "gzip, deflate and brotli bombs": Case(
            {f"/bomb.{k}": Reply(200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": k})
             for k, body in BOMBS.items()},
            {f"{k} bomb": f"/bomb.{k}" for k in BOMBS},
            {f"{k} bomb": f"over the {MAX_BYTES:,}-byte cap (after decompression)" for k in BOMBS}),
        "redirect loop": Case(
            {"/loop-a": Reply(302, b"", {"Location": "/loop-b"}), "/loop-b": Reply(301, b"", {"Location": "/loop-a"})},
            {"Loop": "/loop-a"}, {"Loop": "more than 5 redirects"}, hits={"/loop-a": 3, "/loop-b": 3}),
        "cross-scheme redirects": Case(
            {"/to-file": Reply(302, b"", {"Location": "file:///etc/passwd"}),
             "/to-ftp": Reply(301, b"", {"Location": "ftp://127.0.0.1/feed.xml"}),
             "/to-data": Reply(307, b"", {"Location": "data:application/rss+xml,<rss/>"}),
             "/to-gopher": Reply(308, b"", {"Location": "gopher://127.0.0.1:70/feed"})},
            {"To file": "/to-file", "To ftp": "/to-ftp", "To data": "/to-data", "To gopher": "/to-gopher"},
            {"To file": "redirect to 'file:///etc/passwd' refused: only http and https",
             "To ftp": "redirect to 'ftp://127.0.0.1/feed.xml' refused", "To data": "refused: only http and https",
             "To gopher": "refused: only http and https"}),
        "429 and 503 storm with Retry-After": Case(
            {f"/storm-{s}-{n}.xml": _storm("1") for s in (429, 503) for n in range(6)},
            {f"Storm {s} #{n}": f"/storm-{s}-{n}.xml" for s in (429, 503) for n in range(6)},
            {f"Storm {s} #{n}": f"HTTP {s} after 2 attempt(s); server asks to retry after 1"
             for s in (429, 503) for n in range(6)},
            hits={f"/storm-{s}-{n}.xml": 2 for s in (429, 503) for n in range(6)}),
        "429 and 503 storm with a Retry-After too long to wait": Case(
            {f"/far-{s}-{n}.xml": _storm("86400") for s in (429, 503) for n in range(4)},
            {f"Far {s} #{n}": f"/far-{s}-{n}.xml" for s in (429, 503) for n in range(4)},
            {f"Far {s} #{n}": f"HTTP {s} after 1 attempt(s); server asks to retry after 86400"
             for s in (429, 503) for n in range(4)}, seconds=4.0,
            hits={f"/far-{s}-{n}.xml": 1 for s in (429, 503) for n in range(4)}),
        "429 and 503 storm without Retry-After": Case(
            {f"/bare-{s}-{n}.xml": _storm(None) for s in (429, 503) for n in range(6)},
            {f"Bare {s} #{n}": f"/bare-{s}-{n}.xml" for s in (429, 503) for n in range(6)},
            {f"Bare {s} #{n}": f"HTTP {s} after 2 attempt(s)" for s in (429, 503) for n in range(6)},
            hits={f"/bare-{s}-{n}.xml": 2 for s in (429, 503) for n in range(6)}),
        "wrong or missing content type": Case(
            {"/as-png.xml": Reply(200, feed, {"Content-Type": "image/png"}),
             "/no-type.xml": Reply(200, feed.replace(b"typed", b"untyped"), {}),
             "/page-as-rss.xml": Reply(200, b"<!doctype html><html><head><title>A blog</title></head><body>hi</body></html>",
                                       {"Content-Type": "application/rss+xml"}),
             "/binary.xml": Reply(200, bytes(range(256)) * 40, {"Content-Type": "application/rss+xml"})},
            {"Feed as PNG": "/as-png.xml", "No content type": "/no-type.xml", "Page as RSS": "/page-as-rss.xml",
             "Binary": "/binary.xml"},
            {"Feed as PNG": "", "No content type": "", "Page as RSS": "got an HTML page, not a feed",
             "Binary": "not a feed"},
            status={"Feed as PNG": "ok", "No content type": "ok"}),
        "invalid UTF-8 and mixed encodings": Case(
            {"/invalid.xml": Reply(200, invalid, {"Content-Type": "application/rss+xml; charset=utf-8"}),
             "/mixed.xml": Reply(200, latin1_items, {"Content-Type": "application/rss+xml; charset=utf-8"}),
             "/liar.xml": Reply(200, good_feed("liar").replace("utf-8", "windows-1252").encode("utf-8")
                                .replace(b"liar post 1", "liar post “1”".encode()),
                                {"Content-Type": "application/rss+xml; charset=iso-8859-1"})},
            {"Invalid UTF-8": "/invalid.xml", "Mixed encodings": "/mixed.xml", "Lying charset": "/liar.xml"},
            {"Invalid UTF-8": "utf-8", "Mixed encodings": "utf-8", "Lying charset": ""},
            status={"Invalid UTF-8": "ok", "Mixed encodings": "ok", "Lying charset": "ok"}),
        "billion laughs and external entities": Case(
            {"/laughs.xml": Reply(200, _laughs(), {"Content-Type": "application/rss+xml"}),
             "/xxe.xml": Reply(200, _xxe(secret), {"Content-Type": "application/rss+xml"})},
            {"Laughs": "/laughs.xml", "XXE": "/xxe.xml"},
            {"Laughs": "entities built from other entities (b), the shape of an entity-expansion attack",
             "XXE": "external XML entities ignored, never fetched: xxe, remote"},
            status={"XXE": "ok"},
            seconds=2.0),  # refused before any parser expands a thing
        "DNS answers pointing to private and link-local addresses": Case(
            {"/to-metadata": Reply(302, b"", {"Location": "http://metadata.test/latest/meta-data/"}),
             "/to-literal": Reply(307, b"", {"Location": "http://10.1.2.3:8080/admin"})},
            {"Intranet": "http://intranet.test/feed.xml", "Metadata": "http://metadata.test/latest/",
             "Router": "http://router.test:8080/rss", "Link-local v6": "http://six.test/feed.xml",
             "Redirect to metadata": "/to-metadata", "Redirect to 10/8": "/to-literal"},
            {"Intranet": "resolves to a non-public address (10.0.0.1); refused by the SSRF guard",
             "Metadata": "resolves to a non-public address (169.254.169.254)",
             "Router": "resolves to a non-public address (192.168.1.1)",
             "Link-local v6": "resolves to a non-public address (fe80::1)",
             "Redirect to metadata": "169.254.169.254", "Redirect to 10/8": "10.1.2.3"},
            hits={"/to-metadata": 1, "/to-literal": 1}),
    }


SECRET = "TOP-SECRET-FILE-CONTENT-5c1d"


def _health(ws: Path) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in json.loads(run_cli("sources", "list", "--json").stdout)}


@pytest.mark.parametrize("case_name", list(cases(Path("/unused"))))
def test_a_hostile_source_costs_only_itself(case_name: str, workspace: Path, server: LoopbackServer,
                                            tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    case = cases(secret)[case_name]
    (workspace / "lll.toml").write_text(TOML, encoding="utf-8")
    for path, handler in case.routes.items():
        server.route(path, handler)
    good = {"Good A": server.route("/good-a.xml", feed_reply(good_feed("gooda"))),
            "Good B": server.route("/good-b.xml", feed_reply(good_feed("goodb")))}
    with Newsletter.open(workspace) as letter:
        for name, url in good.items():
            letter.add_source(url, name=name)
        for name, where in case.sources.items():
            letter.add_source(where if "://" in where else server.url(where), name=name)
        tracemalloc.start()
        started = time.monotonic()
        try:
            report = letter.fetch(policy="loopback", resolver=fake_resolver(HOSTS))
            elapsed = time.monotonic() - started
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert elapsed < case.seconds, f"{case_name}: the run took {elapsed:.1f} s"
    assert peak < case.memory, f"{case_name}: peak {peak:,} bytes of Python memory"
    assert len(report.outcomes) == 2 + len(case.sources)
    rows = _health(workspace)
    for name in good:  # the good sources finished as if nothing had happened
        assert rows[name]["last_status"] == "ok" and rows[name]["items"] == 3, rows[name]
        assert rows[name]["last_error"] is None
    for name, text in case.expect.items():
        row = rows[name]
        status = case.status.get(name, "error")
        if status != "any":
            assert row["last_status"] == status, (name, row)
        if status == "error":
            assert row["consecutive_failures"] == 1 and row["items"] == 0, row
        assert text in (row["last_error"] or ""), (name, row["last_error"])
    for path, n in case.hits.items():
        assert server.hits(path) == n, (path, server.hits(path))
    db = workspace / "lll.db"
    assert intact(db)
    stored = " ".join(f"{r['title']} {r['text']} {r['raw']}" for r in query(db, "SELECT title, text, raw FROM items"))
    assert SECRET not in stored  # an external entity is never read
    assert max((len(r["text"]) for r in query(db, "SELECT text FROM items")), default=0) < MAX_BYTES


def test_the_tolerated_cases_store_readable_text(workspace: Path, server: LoopbackServer, tmp_path: Path) -> None:
    """What is stored from a wrong content type or a broken encoding is the feed's text, decoded."""
    case = cases(tmp_path / "none")["invalid UTF-8 and mixed encodings"]
    (workspace / "lll.toml").write_text(TOML, encoding="utf-8")
    for path, handler in case.routes.items():
        server.route(path, handler)
    with Newsletter.open(workspace) as letter:
        for name, where in case.sources.items():
            letter.add_source(server.url(where), name=name)
        letter.fetch(policy="loopback")
    titles = {r["title"] for r in query(workspace / "lll.db", "SELECT title FROM items")}
    assert {"Café crème", "Crème brûlée"} <= titles, titles
    assert "liar post “1”" in titles, titles  # UTF-8 bytes under a latin-1 header: decoded as what they are
    assert {"bad post 1", "bad post 3"} <= titles and any(t.startswith("bad post ") and t.endswith("(2")
                                                          for t in titles), titles  # the bad bytes cost nothing else
