#!/usr/bin/env python
"""feedparser's test corpus through LLL's real ingest: HTTP server → ``FetchRun`` → store.

    python bench/feedparser_corpus.py                 # all 2,248 files
    python bench/feedparser_corpus.py --every 8       # every 8th file + every sanitization case (CI's subset)

Every file of ``shared/data/robustness/feedparser-tests/tests`` is served by a real HTTP server on
127.0.0.1 the way feedparser's own test server serves it: the ``Header: Name: value`` lines of the
file's leading comment become response headers (``Status``, ``Content-Type``, ``Location``,
``ETag``, ``Last-Modified``…; ``localhost:8097`` in them is rewritten to this server), files under
``compression/`` are sent with ``Content-Encoding: gzip`` or ``deflate`` as their names say, and
conditional requests get 304. Each file is one source of a fresh workspace database; one
``FetchRun`` (the code behind ``lll fetch``, loopback policy, no DNS, no article pages) fetches
them all. Then every source's health row is read back:

- **stored**: status ok (or 304) — with how many items;
- **rejected**: status error with a reason, grouped (not a feed, HTTP status, redirect, bad
  compression, …);
- **crashed**: the run raised, a source was never attempted, or its error is the safety net's
  ("parser failed (…Error" / "unexpected …Error"): an exception nobody translated.

It also checks that no stored title, text or raw HTML carries active content (``<script``,
``<iframe``, ``<object``, ``<embed``, ``<applet``, ``<meta``, ``<style``, ``on…=`` handlers,
``javascript:``/``vbscript:``/``data:text/html`` URLs) and that every stored link is http(s).
Comments are ignored (they cannot run). Exit status 0 when nothing crashed and nothing leaked.
"""

from __future__ import annotations

import argparse
import mimetypes
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from lll.config import FetchSettings
from lll.fetch.run import FetchReport, FetchRun
from lll.store import Store

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "robustness" / "feedparser-tests" / "tests"
SANITIZE = "wellformed/sanitize/"

_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):(.+)$", re.M)
ACTIVE = re.compile(r"<\s*(script|iframe|object|embed|applet|meta|style|frame|frameset|base|link)\b"
                    r"|javascript\s*:|vbscript\s*:|data\s*:\s*text/html|\son[a-z]+\s*=", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
CRASH = re.compile(r"parser failed \(|: unexpected [A-Za-z]+(Error|Exception)")
REASONS = [  # (group, pattern): the first that matches names a rejection
    ("not a feed", re.compile(r"not a feed")),
    ("HTTP error status", re.compile(r"HTTP \d{3}")),
    ("redirect refused or broken", re.compile(r"redirect")),
    ("corrupt or unknown compression", re.compile(r"corrupt .* body|Content-Encoding")),
    ("too large", re.compile(r"byte cap")),
    ("timed out", re.compile(r"timed out|no complete response")),
    ("blocked address", re.compile(r"SSRF|refused")),
    ("connection failed", re.compile(r"connection (failed|broke)")),
]


def corpus_files(root: Path = CORPUS, every: int = 1) -> list[Path]:
    """Every file, or every ``every``-th file (sorted) plus every sanitization case."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if every <= 1:
        return files
    return [p for i, p in enumerate(files) if i % every == 0 or p.relative_to(root).as_posix().startswith(SANITIZE)]


class FeedparserServer:
    """feedparser's test HTTP server, re-created: serves ``root`` at ``/tests/…``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                owner.answer(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> FeedparserServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: Path) -> str:
        return f"{self.base_url}/tests/{path.relative_to(self.root).as_posix()}"

    def _send(self, h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        h.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            h.send_header(name, value)
        h.end_headers()
        if body and status not in (204, 304):
            h.wfile.write(body)

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path == "/-/return-304.xml":
            self._send(h, 304, {"Content-Type": "text/xml"}, b"")
            return
        rel = path.removeprefix("/tests/")
        file = (self.root / rel).resolve()
        if not path.startswith("/tests/") or not file.is_file() or self.root.resolve() not in file.parents:
            self._send(h, 404, {"Content-Type": "text/plain"}, b"not found\n")
            return
        body = file.read_bytes()
        headers: dict[str, str]
        if rel.startswith("compression/"):
            headers = {"Content-Encoding": "gzip" if rel.endswith("gz") else "deflate",
                       "Content-Type": "application/xml"}
        else:
            headers = {k.decode("utf-8", "replace").strip(): v.decode("utf-8", "replace").strip()
                       .replace("http://localhost:8097", self.base_url)
                       for k, v in _HEADER.findall(body)}
        status = int(headers.pop("Status", "200"))
        if h.headers.get("If-None-Match") and h.headers.get("If-None-Match") == headers.get("ETag") or (
                h.headers.get("If-Modified-Since") and h.headers.get("If-Modified-Since") == headers.get("Last-Modified")):
            status = 304
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self._send(h, status, headers, body)


@dataclass
class Outcome:
    path: str
    status: str
    items: int
    error: str
    group: str  # stored | rejected: <reason> | crashed


@dataclass
class CorpusResult:
    outcomes: list[Outcome]
    leaks: list[str]
    seconds: float
    run_error: str = ""
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def stored(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.group == "stored"]

    @property
    def crashed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.group == "crashed"]

    def table(self) -> str:
        n = len(self.outcomes)
        with_items = sum(1 for o in self.stored if o.items)
        lines = [f"files: {n} ({self.seconds:.1f} s, {n / max(self.seconds, 1e-9):.0f} files/s)",
                 f"stored:   {len(self.stored):5}  ({with_items} with items, {len(self.stored) - with_items} "
                 f"without entries; {sum(o.items for o in self.stored)} items)"]
        rejected = Counter(o.group.removeprefix("rejected: ") for o in self.outcomes if o.group.startswith("rejected"))
        lines.append(f"rejected: {sum(rejected.values()):5}")
        lines += [f"  {count:5}  {reason}" for reason, count in rejected.most_common()]
        lines.append(f"crashed:  {len(self.crashed):5}" + (f"  (run: {self.run_error})" if self.run_error else ""))
        lines += [f"  {o.path}: {o.error[:160]}" for o in self.crashed[:20]]
        lines.append(f"active content in stored text: {len(self.leaks)}")
        lines += [f"  {leak}" for leak in self.leaks[:20]]
        return "\n".join(lines)


def classify(status: str, error: str) -> str:
    if status in ("ok", "not_modified"):
        return "stored"
    if status != "error" or not error.strip() or CRASH.search(error):
        return "crashed"
    for group, pattern in REASONS:
        if pattern.search(error):
            return f"rejected: {group}"
    return "rejected: other (" + re.sub(r"https?://\S+: ", "", error)[:60] + ")"


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no DNS here ({host})")


def settings() -> FetchSettings:
    """What ``lll fetch`` uses, with small timeouts, no retries and no article pages."""
    return FetchSettings(concurrency=16, per_host=16, connect_timeout=2.0, read_timeout=5.0, total_timeout=10.0,
                         retries=0, backoff=0.01, fulltext="never")


def run_corpus(files: list[Path], work: Path, root: Path = CORPUS) -> CorpusResult:
    """Serve ``files``, add each as a source of a fresh database under ``work``, fetch, classify."""
    db = work / "lll.db"
    store = Store(f"sqlite:///{db}")
    run_error = ""
    try:
        with FeedparserServer(root) as server:
            by_url = {server.url(p): p.relative_to(root).as_posix() for p in files}
            for url in by_url:
                store.add_source(url, name=by_url[url])
            started = time.perf_counter()
            try:
                report: FetchReport | None = FetchRun(store, settings(), policy="loopback", resolver=_no_dns).run()
            except Exception as exc:  # noqa: BLE001 - the one thing this bench must report, not raise
                report, run_error = None, f"{exc.__class__.__name__}: {exc}"
            seconds = time.perf_counter() - started
    finally:
        store.close()
    outcomes = []
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT s.url, s.last_status, coalesce(s.last_error, ''), "
                           "(SELECT count(*) FROM items i WHERE i.source_id = s.id) FROM sources s").fetchall()
        for url, status, error, items in rows:
            group = classify(status, error) if status != "never" else "crashed"
            outcomes.append(Outcome(by_url[url], status, items, error, group))
        leaks = stored_leaks(con, by_url)
    finally:
        con.close()
    del report
    return CorpusResult(sorted(outcomes, key=lambda o: o.path), leaks, seconds, run_error)


def active(value: str) -> str | None:
    match = ACTIVE.search(_COMMENT.sub("", value or ""))
    return match.group(0) if match else None


def stored_leaks(con: sqlite3.Connection, by_url: dict[str, str]) -> list[str]:
    """Active content in any stored title, text or raw HTML; links that are not http(s)."""
    import json

    leaks = []
    rows = con.execute("SELECT s.url, i.title, i.text, i.raw, i.links, i.url FROM items i "
                       "JOIN sources s ON s.id = i.source_id")
    for source, title, text, raw, links, item_url in rows:
        for name, value in (("title", title), ("text", text), ("raw", raw)):
            hit = active(value)
            if hit:
                leaks.append(f"{by_url[source]} {name}: {hit!r} in {value[:100]!r}")
        for link in json.loads(links or "[]"):
            if not str(link.get("url", "")).startswith(("http://", "https://")):
                leaks.append(f"{by_url[source]} link: {link.get('url')!r}")
        if item_url and not item_url.startswith(("http://", "https://")) and active(item_url):
            leaks.append(f"{by_url[source]} url: {item_url!r}")
    return leaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=1, help="every N-th file plus all sanitization cases")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--list", choices=("rejected", "crashed", "stored"), help="also list these files")
    args = parser.parse_args()
    files = corpus_files(args.corpus, args.every)
    with tempfile.TemporaryDirectory(prefix="lll-feedparser-") as work:
        result = run_corpus(files, Path(work), args.corpus)
    print(result.table())
    if args.list:
        for o in result.outcomes:
            if o.group.startswith(args.list):
                print(f"  {o.path}: {o.status} {o.items} items {o.error[:200]}")
    return 1 if result.crashed or result.run_error or result.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
