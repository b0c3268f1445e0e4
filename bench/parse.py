#!/usr/bin/env python
"""Per-feed parse time of the two paths of ``parse_feed``: the fast path (feedparser_rs) and
feedparser, on the same bodies, in one process.

    python bench/parse.py                  # bench feeds (100 x 50 items) + the whole replay corpus
    python bench/parse.py --feeds 20       # fewer generated feeds

Corpora: the RSS feeds ``bench/fetch.py`` serves (generated, 50 items each), the replay corpus
(``shared/data/replay-2026-05``, 238 real feed files) and, with ``--feedparser-corpus``,
feedparser's own test files. For each: how many bodies the fast path accepts and why it refused
the others, ms per feed for each path (``parse_feed`` end to end: records built, text and links
read), the ratio, and whether the records of the two paths differ anywhere (``raw`` aside). Exit
status 1 when any record differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from lll.errors import ParseError
from lll.parse.fastfeed import read_fast
from lll.parse.feeds import parse_feed

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):(.+)$", re.M)


def _bench_feeds(n: int, items: int) -> list[tuple[str, bytes, str]]:
    spec = importlib.util.spec_from_file_location("lll_bench_fetch", REPO / "bench" / "fetch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [(f"bench/{i:04d}", module.make_feed(i, items, 2026, "http://127.0.0.1"), "application/rss+xml")
            for i in range(n)]


def _replay() -> list[tuple[str, bytes, str]]:
    root = SHARED / "replay-2026-05" / "days"
    return [(p.relative_to(root).as_posix(), p.read_bytes(), "application/rss+xml")
            for p in sorted(root.rglob("*.xml"))]


def _feedparser_corpus() -> list[tuple[str, bytes, str]]:
    root = SHARED / "robustness" / "feedparser-tests" / "tests"
    out = []
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        body = p.read_bytes()
        headers = {k.strip().lower(): v.strip() for k, v in _HEADER.findall(body)}
        out.append((p.relative_to(root).as_posix(), body, headers.get(b"content-type", b"").decode("utf-8", "replace")))
    return out


def _records(body: bytes, content_type: str, fast: bool) -> object:
    try:
        feed = parse_feed(body, url="https://feeds.example.org/feed.xml", content_type=content_type, fast=fast)
    except ParseError as exc:
        return str(exc)
    return (feed.title, feed.link, feed.kind, feed.warning,
            [{k: v for k, v in asdict(i).items() if k != "raw"} for i in feed.items])


def _time(bodies: list[tuple[str, bytes, str]], fast: bool) -> float:
    started = time.process_time()
    for _name, body, content_type in bodies:
        try:
            parse_feed(body, url="https://feeds.example.org/feed.xml", content_type=content_type, fast=fast)
        except ParseError:
            pass
    return time.process_time() - started


def report(label: str, bodies: list[tuple[str, bytes, str]]) -> int:
    refused = Counter(why.split(" (")[0][:60] for _n, b, ct in bodies if (why := read_fast(b, ct)[1]))
    accepted = [(n, b, ct) for n, b, ct in bodies if not read_fast(b, ct)[1]]
    differ = [n for n, b, ct in accepted if _records(b, ct, True) != _records(b, ct, False)]
    _time(bodies[:5], True), _time(bodies[:5], False)  # warm both paths (imports, caches of the first feeds)
    fast_s, slow_s = _time(accepted, True), _time(accepted, False)
    auto_s = _time(bodies, True)
    n, k = len(bodies), max(len(accepted), 1)
    print(f"\n{label}: {n} feeds, {len(accepted)} read by the fast path ({len(accepted) / max(n, 1):.0%})")
    print(f"  fast-accepted feeds: fast path {fast_s / k * 1000:6.2f} ms/feed, feedparser {slow_s / k * 1000:6.2f} "
          f"ms/feed  ({slow_s / max(fast_s, 1e-9):.1f}x)")
    print(f"  every feed, as parse_feed chooses: {auto_s / max(n, 1) * 1000:6.2f} ms/feed (CPU)")
    for reason, count in refused.most_common(8):
        print(f"  refused {count:4}: {reason}")
    print(f"  records that differ between the paths: {len(differ)}" + (f" ({', '.join(differ[:5])})" if differ else ""))
    return len(differ)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=100, help="generated feeds (default 100)")
    ap.add_argument("--items", type=int, default=50, help="items per generated feed (default 50)")
    ap.add_argument("--feedparser-corpus", action="store_true", help="also feedparser's 2,248 test files")
    args = ap.parse_args(argv)
    bad = report(f"bench feeds ({args.items} items)", _bench_feeds(args.feeds, args.items))
    if (SHARED / "replay-2026-05").exists():
        bad += report("replay corpus 2026-05", _replay())
    if args.feedparser_corpus:
        bad += report("feedparser's test corpus", _feedparser_corpus())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
