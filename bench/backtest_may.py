#!/usr/bin/env python
"""The backtest of May 2026: ``lll backtest`` over all of ``shared/data/replay-2026-05``.

    python bench/backtest_may.py                       # 2026-05-01 .. 2026-05-31, picture in docs/
    python bench/backtest_may.py --to 2026-05-07       # a shorter replay
    python bench/backtest_may.py --no-png              # skip the screenshot

What it does:

1. runs ``lll --workspace TMP backtest CORPUS --from D1 --to D2`` as a subprocess (the command as a
   user types it), timing the whole process;
2. reads the report it wrote (``backtest/report.md``) and the workspace database, and prints the
   figures the issue asks for: seconds per day (min, median, max), verification failures
   (target 0), stories told as new twice (target 0), callbacks, clocks opened and revisited;
3. renders ``backtest/report.html`` to ``docs/backtest-report.png`` with Debian's ``chromium``
   (headless) when it is installed — the picture the README shows.

Exit status: 0 when both targets (0 verification failures, 0 stories told as new twice) are met.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lll.backtest import STAGES

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "replay-2026-05"
PNG = REPO / "docs" / "backtest-report.png"


def run_backtest(corpus: Path, first: str, last: str, workspace: Path) -> tuple[int, float, str]:
    """``lll backtest`` in a subprocess; its output is streamed and returned."""
    cmd = [sys.executable, "-m", "lll", "--workspace", str(workspace), "backtest", str(corpus),
           "--from", first, "--to", last]
    print("$ " + " ".join(cmd), flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LLL_NOW", "LLL_WORKSPACE")}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        print("  " + line, end="", flush=True)
    code = proc.wait()
    return code, time.perf_counter() - started, "".join(lines)


def day_rows(report_md: Path) -> list[dict[str, str]]:
    """The per-day table of ``report.md`` as dicts keyed by its column names."""
    lines = report_md.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| day |"))
    names = [c.strip() for c in lines[header_at].strip("|").split("|")]
    rows = []
    for line in lines[header_at + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def totals_from(output: str) -> dict[str, str]:
    """The ``  key: value`` totals ``lll backtest`` prints."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^  ([a-z ]+): (\S+)$", output, re.M)}


def database_figures(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        one = lambda sql: int(con.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "issues": one("SELECT count(*) FROM issues"),
            "issues verified": one("SELECT count(*) FROM issues WHERE verified"),
            "stories told": one("SELECT count(*) FROM issue_stories"),
            "told as new twice": one("SELECT count(*) FROM (SELECT story_id FROM issue_stories WHERE status = 'new' "
                                     "GROUP BY story_id HAVING count(*) > 1)"),
            "clocks in the database": one("SELECT count(*) FROM clocks"),
            "clocks revisited": one("SELECT count(*) FROM clocks WHERE status = 'revisited'"),
            "items": one("SELECT count(*) FROM items"),
            "integrity ok": int(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"),
        }
    finally:
        con.close()


def screenshot(html: Path, png: Path) -> str:
    """Render the report with headless chromium; returns a note for the summary."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        return "chromium is not installed: no picture (apt-get install -y chromium)"
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lll-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
               "--hide-scrollbars", f"--screenshot={png}", "--window-size=1200,2400", html.as_uri()]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not png.exists():
        return f"chromium failed ({result.returncode}): {result.stderr.strip()[-300:]}"
    return f"wrote {png} ({png.stat().st_size:,} bytes)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--from", dest="first", default="2026-05-01")
    parser.add_argument("--to", dest="last", default="2026-05-31")
    parser.add_argument("--workspace", type=Path, help="Keep the workspace here (default: a temporary folder).")
    parser.add_argument("--png", type=Path, default=PNG, help="Where to save the picture of the report.")
    parser.add_argument("--no-png", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "sources.opml").exists():
        print(f"no replay corpus at {args.corpus}", file=sys.stderr)
        return 2

    # A temporary workspace is kept, so the report and the issues can be opened afterwards.
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="lll-backtest-")) / "ws"
    code, wall, output = run_backtest(args.corpus, args.first, args.last, workspace)
    report_md, report_html = workspace / "backtest" / "report.md", workspace / "backtest" / "report.html"
    if not report_md.exists():
        print(f"lll backtest exited {code} without a report", file=sys.stderr)
        return 1
    rows = day_rows(report_md)
    per_day = [float(r["total s"]) for r in rows]
    printed = totals_from(output)
    db = database_figures(workspace / "lll.db")
    slowest = max(rows, key=lambda r: float(r["total s"])) if rows else None
    figures = [
        ("command", f"lll backtest {args.corpus.name} --from {args.first} --to {args.last}"),
        ("exit status", str(code)),
        ("days drafted", f"{len(rows)} (not drafted: {printed.get('days not drafted', '?')})"),
        ("wall clock, whole command", f"{wall:.1f} s"),
        ("seconds per day (all stages)",
         f"min {min(per_day):.2f}, median {statistics.median(per_day):.2f}, mean {statistics.mean(per_day):.2f}, "
         f"max {max(per_day):.2f} ({slowest['day'] if slowest else '-'})" if per_day else "-"),
        ("seconds, total (fetch / understand / write / verify / publish)",
         f"{printed.get('total seconds', '?')} ({' / '.join(printed.get(f'{s} seconds', '?') for s in STAGES)})"),
        ("model cost, US$", printed.get("model cost usd", "?")),
        ("new items", printed.get("new items", "?")),
        ("stories told", printed.get("told", "?")),
        ("verification failures (target 0)", printed.get("verification failures", "?")),
        ("stories told as new twice (target 0)",
         f"{printed.get('told new twice', '?')} (database: {db['told as new twice']})"),
        ("callbacks", printed.get("callbacks", "?")),
        ("clocks opened / revisited",
         f"{printed.get('clocks opened', '?')} / {printed.get('clocks revisited', '?')}"),
        ("clocks in the database (revisited)", f"{db['clocks in the database']} ({db['clocks revisited']})"),
        ("sentences dropped by the verifier", printed.get("dropped sentences", "?")),
        ("issues in the database (verified)", f"{db['issues']} ({db['issues verified']})"),
        ("database integrity_check", "ok" if db["integrity ok"] else "FAILED"),
        ("report", f"{report_md} and {report_html}"),
    ]
    if not args.no_png:
        figures.append(("picture", screenshot(report_html, args.png)))
    width = max(len(k) for k, _ in figures)
    print()
    for key, value in figures:
        print(f"{key:<{width}}  {value}")
    ok = printed.get("verification failures") == "0" and db["told as new twice"] == 0 and db["integrity ok"]
    return 0 if ok and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
