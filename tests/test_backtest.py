"""``lll backtest`` on the bundled demo corpus: it replays three days over loopback and writes a
report a person can read (Markdown) and look at (HTML with inline SVG charts)."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lll.demo.run import corpus_root

from conftest import run_cli

DAYS = ("2026-04-08", "2026-04-09", "2026-04-10")


class _Tables(HTMLParser):
    """Rows of every <table> of a page, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workspace = tmp_path_factory.mktemp("backtest") / "ws"
    result = run_cli("--workspace", str(workspace), "backtest", str(corpus_root()),
                     "--from", DAYS[0], "--to", DAYS[-1])
    return workspace, result.stdout


def _md_table(md: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in md.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return header, rows


def test_backtest_prints_one_line_per_day_and_the_totals(backtest: tuple[Path, str]) -> None:
    workspace, out = backtest
    for day in DAYS:
        assert re.search(rf"^{day}: \d+ items, .*verified.*\[fetch [\d.]+ s, draft [\d.]+ s\]$", out, re.M), out
    for total in ("days: 3", "verification failures: 0", "told new twice: 0", "days not drafted: 0"):
        assert f"  {total}\n" in out, out
    assert f"Report: {workspace / 'backtest' / 'report.md'} and {workspace / 'backtest' / 'report.html'}" in out


def test_the_markdown_report_has_a_row_per_day_and_totals_that_add_up(backtest: tuple[Path, str]) -> None:
    workspace, _ = backtest
    md = (workspace / "backtest" / "report.md").read_text(encoding="utf-8")
    header, rows = _md_table(md)
    assert header[:2] == ["day", "new items"] and "verify" in header and "draft s" in header
    assert [r[0] for r in rows] == list(DAYS)
    assert all(r[header.index("verify")] == "ok" for r in rows)
    totals = dict(re.findall(r"^- ([a-z ]+): (\S+)$", md, re.M))
    assert totals["days"] == "3"
    assert int(totals["new items"]) == sum(int(r[1]) for r in rows) > 0
    assert int(totals["told"]) == sum(int(r[header.index("told")]) for r in rows) > 0
    assert totals["verification failures"] == "0" and totals["told new twice"] == "0"
    for day in DAYS:  # each issue is linked and exists
        assert f"[{day}](../issues/{day}.md)" in md
        assert (workspace / "issues" / f"{day}.md").is_file() and (workspace / "issues" / f"{day}.json").is_file()


def test_the_html_report_has_inline_svg_charts_and_the_per_day_table(backtest: tuple[Path, str]) -> None:
    workspace, _ = backtest
    page = (workspace / "backtest" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<script" not in page.lower()
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svgs) >= 3
    for svg in svgs:
        chart = ET.fromstring(svg)  # well-formed XML, so a browser draws it
        bars = chart.findall("rect")
        assert len(bars) == len(DAYS) and chart.get("aria-label")
        heights = [float(b.get("height", "0")) for b in bars]
        assert max(heights) > 0 and all(h >= 0 for h in heights)
    tables = _Tables()
    tables.feed(page)
    per_day = next(t for t in tables.tables if t and t[0][:1] == ["day"])
    assert [row[0] for row in per_day[1:]] == list(DAYS)
    per_source = next(t for t in tables.tables if t and t[0][:1] == ["source"])
    assert len(per_source) > 1 and per_source[0][1:] == [d[5:] for d in DAYS]


def test_the_backtest_database_agrees_with_the_report(backtest: tuple[Path, str]) -> None:
    workspace, _ = backtest
    con = sqlite3.connect(workspace / "lll.db")
    try:
        assert [r[0] for r in con.execute("SELECT date FROM issues ORDER BY date")] == list(DAYS)
        assert con.execute("SELECT count(*) FROM issues WHERE NOT verified").fetchone()[0] == 0
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_clocks_opened_in_the_report_are_the_clocks_the_database_opened(backtest: tuple[Path, str]) -> None:
    """Running clocks are listed again in later issues; "opened" counts each clock once."""
    workspace, _ = backtest
    md = (workspace / "backtest" / "report.md").read_text(encoding="utf-8")
    opened = int(re.search(r"^- clocks opened: (\d+)$", md, re.M).group(1))  # type: ignore[union-attr]
    con = sqlite3.connect(workspace / "lll.db")
    try:
        in_db = con.execute("SELECT count(*) FROM clocks").fetchone()[0]
    finally:
        con.close()
    assert opened == in_db


def test_backtest_takes_workspace_after_the_command_as_the_readme_shows(tmp_path: Path) -> None:
    result = run_cli("backtest", str(corpus_root()), "--from", DAYS[0], "--to", DAYS[0],
                     "--workspace", str(tmp_path / "bt"), ok=None)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bt" / "backtest" / "report.html").is_file()
