"""``lll backtest`` on the bundled demo corpus: it replays three days over loopback and writes a
report a person can read (Markdown) and look at (HTML with inline SVG charts): time per stage,
new items per source per day, stories per day, model cost; the numbers in the charts are the
numbers in the tables, and the day labels under a chart never overlap."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fakes.fixtures import PRICES_TOML, llm_home, openai_server  # noqa: F401 - fixtures
from lll.backtest import STAGES, money
from lll.charts import FONT, LABEL_ANGLE, Series, heatmap, label_step, stacked_bars
from lll.demo.run import corpus_root

from conftest import intact, query, run_cli, scalar

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
    assert header[:2] == ["day", "new items"] and "verify" in header
    stage_cols = [f"{s} s" for s in STAGES]
    assert stage_cols == ["fetch s", "understand s", "write s", "verify s", "publish s"]
    assert set(stage_cols + ["total s", "model $"]) <= set(header)
    rows = rows[:len(DAYS)]  # the per-day table; the per-source table follows
    assert [r[0] for r in rows] == list(DAYS)
    for r in rows:  # the stages add up to the day, and the offline writer costs nothing
        stages = [float(r[header.index(c)]) for c in stage_cols]
        assert all(x >= 0 for x in stages) and stages[0] > 0 and stages[1] > 0
        assert sum(stages) == pytest.approx(float(r[header.index("total s")]), abs=0.03)
        assert r[header.index("publish s")] == "0.00" and r[header.index("model $")] == "0.00"
    assert all(r[header.index("verify")] == "ok" for r in rows)
    totals = dict(re.findall(r"^- ([a-z ]+): (\S+)$", md, re.M))
    assert totals["days"] == "3"
    assert int(totals["new items"]) == sum(int(r[1]) for r in rows) > 0
    assert int(totals["told"]) == sum(int(r[header.index("told")]) for r in rows) > 0
    assert totals["verification failures"] == "0" and totals["told new twice"] == "0"
    assert float(totals["seconds per day min"]) <= float(totals["seconds per day median"]) \
        <= float(totals["seconds per day max"])
    assert totals["model cost usd"] == "0.0"
    assert "## New items per source per day" in md
    for day in DAYS:  # each issue is linked and exists
        assert f"[{day}](../issues/{day}.md)" in md
        assert (workspace / "issues" / f"{day}.md").is_file() and (workspace / "issues" / f"{day}.json").is_file()


def _charts(page: str) -> dict[str, ET.Element]:
    """Every inline chart of a page by its aria-label, parsed as XML (so a browser can draw it)."""
    svgs = [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.S)]
    return {svg.get("aria-label", ""): svg for svg in svgs}


def _bars(chart: ET.Element) -> dict[str, dict[str, float]]:
    """day -> series -> value, read back from a stacked bar chart."""
    out: dict[str, dict[str, float]] = {}
    for rect in chart.iter("{http://www.w3.org/2000/svg}rect"):
        if rect.get("class") == "bar":
            out.setdefault(rect.get("data-x", ""), {})[rect.get("data-series", "")] = float(rect.get("data-value", "0"))
            assert float(rect.get("height", "-1")) >= 0
    return out


def test_the_html_report_has_inline_svg_charts_and_the_per_day_table(backtest: tuple[Path, str]) -> None:
    workspace, _ = backtest
    page = (workspace / "backtest" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<script" not in page.lower()
    charts = _charts(page)
    assert {"Seconds per day, by stage", "New items per source per day", "Stories per day: new, updated, repeated",
            "Stories told per day", "New items per day"} <= set(charts)
    assert "Model cost per day" not in charts and "Model cost $0.00" in page  # offline: said, not charted
    tables = _Tables()
    tables.feed(page)
    per_day = next(t for t in tables.tables if t and t[0][:1] == ["day"])
    header, rows = per_day[0], per_day[1:]
    assert [row[0] for row in rows] == list(DAYS)
    # time per stage: five stacked segments per day, whose values are the table's
    stages = _bars(charts["Seconds per day, by stage"])
    assert list(stages) == list(DAYS)
    for row in rows:
        segments = stages[row[0]]
        assert list(segments) == list(STAGES)
        for stage in STAGES:
            assert segments[stage] == pytest.approx(float(row[header.index(f"{stage} s")]), abs=0.006)
    told = _bars(charts["Stories told per day"])
    assert {d: v["told"] for d, v in told.items()} == {row[0]: float(row[header.index("told")]) for row in rows}
    # new items per source per day: the heatmap holds the Markdown report's per-source table
    md = (workspace / "backtest" / "report.md").read_text(encoding="utf-8")
    section = md.split("## New items per source per day", 1)[1].split("## ", 1)[0]
    expected = {}
    for line in section.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for day, cell in zip(DAYS, cells[1:-1], strict=True):
            expected[(cells[0], day)] = float(cell or 0)
    cells = {(r.get("data-row"), r.get("data-x")): float(r.get("data-value", "0"))
             for r in charts["New items per source per day"].iter("{http://www.w3.org/2000/svg}rect")
             if r.get("class") == "cell"}
    assert cells == expected and sum(cells.values()) == sum(int(r[1]) for r in rows) > 0


def _label_positions(svg: str) -> list[tuple[float, float]]:
    """(x, angle) of every x-axis label of a chart."""
    chart = ET.fromstring(svg)
    out = []
    for text in chart.iter("{http://www.w3.org/2000/svg}text"):
        if text.get("class") == "x-label":
            angle = re.search(r"rotate\((-?[\d.]+)", text.get("transform", "rotate(0"))
            out.append((float(text.get("x", "0")), abs(float(angle.group(1))) if angle else 0.0))
    return out


@pytest.mark.parametrize("n", [3, 31, 92, 365])
def test_day_labels_never_overlap(n: int) -> None:
    """Neighbouring labels turned by a° and d px apart are d·sin(a) apart across the text:
    that must hold a line of text (a flat label would need its whole width)."""
    days = [f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(n)]
    svgs = [stacked_bars("t", days, [Series("a", [1.0] * n), Series("b", [2.0] * n)]),
            heatmap("h", ["one source", "another"], days, {("one source", d): 1 for d in days})]
    for svg in svgs:
        labels = _label_positions(svg)
        assert labels, "no x labels"
        assert len(labels) >= min(n, 12)  # thinned, not dropped
        for (x1, a1), (x2, _a2) in zip(labels, labels[1:], strict=False):
            across = (x2 - x1) * math.sin(math.radians(a1)) if a1 else (x2 - x1) - 5 * FONT * 0.62
            assert across >= FONT, (n, x1, x2, a1)


def test_a_towering_first_day_is_cut_and_labelled_so_the_other_days_stay_readable() -> None:
    days = [f"2026-05-{i:02d}" for i in range(1, 32)]
    values = [2492.0] + [10.0 + i for i in range(30)]
    chart = ET.fromstring(stacked_bars("New items per day", days, [Series("new items", values)]))
    bars = {r.get("data-x"): r for r in chart.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"}
    assert float(bars[days[0]].get("data-value", "0")) == 2492  # the data is the true value …
    first, tallest_other = float(bars[days[0]].get("height", "0")), float(bars[days[-1]].get("height", "0"))
    assert first < 2 * tallest_other  # … the picture is cut (uncut it would be 64 times as tall) …
    assert tallest_other > 100  # … so that the other days use the height of the chart
    cut = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "cut"]
    assert cut == ["2,492"]  # … and says how tall the cut bar is
    plain = ET.fromstring(stacked_bars("even", days, [Series("n", [10.0 + i for i in range(31)])]))
    assert not [t for t in plain.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "cut"]


def test_label_step_thins_flat_labels_that_would_collide() -> None:
    assert label_step(40, 5, angle=0) == 1
    assert label_step(22.6, 5, angle=0) == 2  # the old report: "05-01" every 22.6 px, 9 px wide glyphs overlapped
    assert label_step(22.6, 5, angle=LABEL_ANGLE) == 1
    assert label_step(3, 5, angle=LABEL_ANGLE) >= 5


MODELS_TOML = """
[models]
cheap = "scripted-cheap"
strong = "scripted-strong"
timeout = 2.0
retries = 1
backoff = 0.01
""" + PRICES_TOML


def test_with_a_model_and_the_archive_the_report_has_cost_and_publish_time(tmp_path: Path,
                                                                            openai_server) -> None:  # noqa: F811
    """A backtest with [models] set costs money: the day's model $ is the sum of its model_calls
    rows and the issue's own cost record; with [publish] targets = ["archive"] each day is published
    to the local archive (never to a remote target) and that time is the publish stage."""
    ws = tmp_path / "bt"
    ws.mkdir()
    (ws / "lll.toml").write_text('[newsletter]\nname = "Costly Letters"\nbase_url = "https://letters.example.org"\n'
                                 '[fetch]\nfulltext = "never"\n[publish]\ntargets = ["archive", "devto"]\n'
                                 + MODELS_TOML, encoding="utf-8")
    run_cli("backtest", str(corpus_root()), "--from", DAYS[0], "--to", DAYS[0], "--workspace", str(ws))
    md = (ws / "backtest" / "report.md").read_text(encoding="utf-8")
    header, [row, *_] = _md_table(md)
    [logged] = query(ws / "lll.db", "SELECT sum(usd), count(*) FROM model_calls WHERE issue_date = ?", DAYS[0])
    targets = [r[0] for r in query(ws / "lll.db", "SELECT target FROM publications")]
    assert logged[1] > 0 and logged[0] > 0
    cost = json.loads((ws / "issues" / f"{DAYS[0]}.json").read_text(encoding="utf-8"))["cost"]
    assert row[header.index("model $")] == money(logged[0]) != "0.00"
    assert re.search(r"^- model cost usd: ([\d.]+)$", md, re.M).group(1) == str(round(logged[0], 4))  # type: ignore[union-attr]
    assert float(cost["usd"]) == pytest.approx(logged[0], abs=1e-4)  # the issue's own record agrees
    assert float(row[header.index("publish s")]) > 0 and targets == ["archive"]  # devto: never from a backtest
    assert (ws / "archive" / f"{DAYS[0]}.html").is_file() and "## Published to the archive" in md
    page = (ws / "backtest" / "report.html").read_text(encoding="utf-8")
    assert "Model cost per day" in _charts(page)


def test_the_backtest_database_agrees_with_the_report(backtest: tuple[Path, str]) -> None:
    workspace, _ = backtest
    db = workspace / "lll.db"
    assert [r[0] for r in query(db, "SELECT date FROM issues ORDER BY date")] == list(DAYS)
    assert scalar(db, "SELECT count(*) FROM issues WHERE NOT verified") == 0
    assert intact(db)


def test_clocks_opened_in_the_report_are_the_clocks_the_database_opened(backtest: tuple[Path, str]) -> None:
    """Running clocks are listed again in later issues; "opened" counts each clock once."""
    workspace, _ = backtest
    md = (workspace / "backtest" / "report.md").read_text(encoding="utf-8")
    opened = int(re.search(r"^- clocks opened: (\d+)$", md, re.M).group(1))  # type: ignore[union-attr]
    in_db = scalar(workspace / "lll.db", "SELECT count(*) FROM clocks")
    assert opened == in_db


def test_backtest_takes_workspace_after_the_command_as_the_readme_shows(tmp_path: Path) -> None:
    result = run_cli("backtest", str(corpus_root()), "--from", DAYS[0], "--to", DAYS[0],
                     "--workspace", str(tmp_path / "bt"), ok=None)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bt" / "backtest" / "report.html").is_file()
