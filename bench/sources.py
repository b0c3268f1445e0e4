#!/usr/bin/env python
"""A large subscription list, a real user's first step: ``lll sources import`` of an OPML with
10,000 outlines and ``lll sources list`` of the 10,000 sources, each as a whole process (start-up
included), beside the baselines they replaced in the same run:

* import: one transaction per outline (``Store.add_source`` in a loop), the path before the bulk
  ``Store.add_sources``;
* list: the same rows laid out by a rich ``Table`` (what ``lll sources list`` printed before).

    python bench/sources.py                # 10,000 outlines
    python bench/sources.py --sources 2000
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _opml(n: int) -> str:
    outlines = "\n".join(f'<outline type="rss" text="Feed number {i}" xmlUrl="https://host{i % 500}.example/'
                         f'feed/{i}.xml" htmlUrl="https://host{i % 500}.example/"/>' for i in range(n))
    return f'<?xml version="1.0"?>\n<opml version="2.0"><head><title>bench</title></head><body>\n{outlines}\n' \
           f"</body></opml>\n"


def _lll(root: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lll", "--workspace", str(root), *args], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "LLL_NOW": "2026-04-10T12:00:00Z"})
    return time.perf_counter() - started


def _baseline_import(root: Path, opml: Path) -> float:
    from lll.newsletter import Newsletter
    from lll.sources.opml import read_opml_file

    started = time.perf_counter()
    found, _ = read_opml_file(opml)
    with Newsletter.open(root) as letter:
        for outline in found:
            letter.store.add_source(outline.url, name=outline.name, weight=outline.weight, kind=outline.kind,
                                    site_url=outline.site_url)
    return time.perf_counter() - started


def _baseline_list(root: Path) -> float:
    from rich.console import Console
    from rich.table import Table

    from lll.newsletter import Newsletter

    started = time.perf_counter()
    with Newsletter.open(root) as letter:
        rows = letter.health()
    table = Table(show_lines=False)
    for col in ("id", "name", "kind", "weight", "items", "last fetch", "status", "fails", "error"):
        table.add_column(col, overflow="fold")
    for h in rows:
        table.add_row(str(h.source.id), h.source.name, h.source.kind, f"{h.source.weight:g}", str(h.items),
                      h.last_fetch_at or "never", h.last_status, str(h.consecutive_failures), (h.last_error or "")[:120])
    Console(file=io.StringIO(), width=120).print(table)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        opml = Path(tmp) / "big.opml"
        opml.write_text(_opml(args.sources), encoding="utf-8")
        ours, base = Path(tmp) / "ours", Path(tmp) / "base"
        for root in (ours, base):
            _lll(root, "init")
        startup = min(_lll(ours, "--version") for _ in range(3))
        imported = _lll(ours, "sources", "import", str(opml))
        baseline_import = _baseline_import(base, opml)
        listed = _lll(ours, "sources", "list")
        as_json = _lll(ours, "sources", "list", "--json")
        baseline_list = _baseline_list(ours)
    print(f"{args.sources:,} sources; seconds per whole `lll` process (start-up {startup:.2f} s, `lll --version`)")
    print(f"  import   {imported:6.2f} s   baseline (a transaction per outline, in-process) {baseline_import:6.2f} s"
          f"   ratio {baseline_import / imported:5.1f}x")
    print(f"  list     {listed:6.2f} s   baseline (rich table, in-process)                 {baseline_list:6.2f} s"
          f"   ratio {baseline_list / listed:5.1f}x")
    print(f"  list --json {as_json:5.2f} s")


if __name__ == "__main__":
    main()
