#!/usr/bin/env python
"""Importing a big OPML file: ``Newsletter.import_opml`` (one transaction) against the baseline
of one ``Store.add_source`` transaction per outline (how LLL imported before issue 12).

    python bench/opml_import.py                  # 100,000 outlines
    python bench/opml_import.py --outlines 20000

Prints the seconds of each, outlines per second, and the ratio. Both runs start from a fresh
workspace and end with the same sources stored (checked).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from lll.newsletter import Newsletter
from lll.sources.opml import read_opml_file
from lll.workspace import Workspace


def opml(path: Path, n: int) -> Path:
    rows = "".join(f'<outline type="rss" text="Feed {i}" xmlUrl="https://feeds{i % 997}.example/{i}.xml"/>\n'
                   for i in range(n))
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>\n{rows}</body></opml>\n', encoding="utf-8")
    return path


def fresh(root: Path) -> Newsletter:
    return Newsletter(Workspace.init(root, "Bench"))


def urls(root: Path) -> set[str]:
    with sqlite3.connect(root / "lll.db") as conn:
        return {r[0] for r in conn.execute("SELECT url FROM sources")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlines", type=int, default=100_000)
    n = parser.parse_args().outlines
    with tempfile.TemporaryDirectory() as tmp:
        path = opml(Path(tmp) / "big.opml", n)
        base_root, new_root = Path(tmp) / "baseline", Path(tmp) / "bulk"
        with fresh(base_root) as letter:
            t0 = time.perf_counter()
            found, _skipped = read_opml_file(path)
            for o in found:
                letter.store.add_source(o.url, name=o.name, weight=o.weight, kind=o.kind, site_url=o.site_url)
            baseline = time.perf_counter() - t0
        with fresh(new_root) as letter:
            t0 = time.perf_counter()
            added, _updated, _notes = letter.import_opml(path)
            bulk = time.perf_counter() - t0
        assert added == n and urls(base_root) == urls(new_root), "both ways must store the same sources"
    print(f"outlines: {n:,}")
    print(f"baseline (one transaction per outline): {baseline:8.2f} s  {n / baseline:10,.0f} outlines/s")
    print(f"import_opml (one transaction):          {bulk:8.2f} s  {n / bulk:10,.0f} outlines/s")
    print(f"ratio: {baseline / bulk:.1f}x faster")


if __name__ == "__main__":
    main()
