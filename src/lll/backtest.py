"""``lll backtest``: replay a corpus day by day — serve ``days/D/`` over loopback,
fetch at the end of D, draft D — and report what LLL would have written."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from lll.clock import frozen_at
from lll.demo.server import PLACEHOLDER, CorpusServer
from lll.draft import Drafter, DraftResult, end_of_day
from lll.errors import LLLError
from lll.fetch.run import FetchReport
from lll.newsletter import Newsletter
from lll.store import schema as t
from lll.workspace import Workspace


@dataclass(frozen=True)
class DayRecord:
    day: str
    fetch: FetchReport
    draft: DraftResult
    fetch_seconds: float
    draft_seconds: float
    per_source_new: dict[str, int] = field(default_factory=dict)

    @property
    def callbacks(self) -> int:
        return sum(1 for s in self.draft.draft.sections for p in s.paragraphs
                   if any(x.role == "callback" and p.kind == "story" for x in p.sentences))


@dataclass(frozen=True)
class BacktestReport:
    corpus: Path
    workspace: Path
    days: tuple[DayRecord, ...]
    told_new_twice: tuple[str, ...]
    failed_days: tuple[tuple[str, str], ...] = ()  # (day, why): a day that could not be drafted

    @property
    def failures(self) -> int:
        return sum(len(d.draft.report.failures) for d in self.days) + len(self.failed_days)


def _days(first: str, last: str) -> list[str]:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise LLLError(f"--from/--to must be YYYY-MM-DD ({exc})") from exc
    if end < start:
        raise LLLError(f"--to {last} is before --from {first}")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def told_new_twice(letter: Newsletter) -> list[str]:
    query = (sa.select(t.issue_stories.c.story_id).where(t.issue_stories.c.status == "new")
             .group_by(t.issue_stories.c.story_id).having(sa.func.count() > 1))
    with letter.store.engine.connect() as conn:
        return [r[0] for r in conn.execute(query)]


def run_backtest(corpus: Path, first: str, last: str, workspace: Path,
                 on_day: Callable[[DayRecord], None] | None = None) -> BacktestReport:
    """Replay ``corpus`` from ``first`` to ``last`` into ``workspace`` (created if needed)."""
    if not (corpus / "sources.opml").exists():
        raise LLLError(f"{corpus}: not a replay corpus (no sources.opml); see shared/data/README.md for the layout")
    ws = Workspace.init(workspace)
    records: list[DayRecord] = []
    failed: list[tuple[str, str]] = []
    with Newsletter(ws) as letter, CorpusServer(corpus, day=first) as server:
        drafter = Drafter(letter)
        staged = ws.cache_dir / "backtest-sources.opml"
        staged.parent.mkdir(exist_ok=True)
        staged.write_bytes((corpus / "sources.opml").read_bytes().replace(PLACEHOLDER, server.base_url.encode()))
        letter.import_opml(staged)
        for day in _days(first, last):
            server.day = day
            with frozen_at(end_of_day(day)):
                t0 = time.perf_counter()
                fetched = letter.fetch(policy="sealed")  # loopback only, no DNS
                t1 = time.perf_counter()
                try:
                    drafted = drafter.draft(day)
                except LLLError as exc:  # one bad day is reported; the replay goes on
                    failed.append((day, str(exc)))
                    continue
                t2 = time.perf_counter()
            per_source = {o.source.name: o.new for o in fetched.outcomes if o.new}
            record = DayRecord(day, fetched, drafted, t1 - t0, t2 - t1, per_source)
            records.append(record)
            if on_day:
                on_day(record)
        twice = told_new_twice(letter)
    report = BacktestReport(corpus, workspace, tuple(records), tuple(twice), tuple(failed))
    write_report(report, workspace / "backtest")
    return report


# -- the report ------------------------------------------------------------------------------------

COLUMNS = ("day", "new items", "units", "merged url/text/event", "new/upd/rep", "told", "callbacks",
           "clocks opened", "clocks listed", "clocks due", "dropped", "verify", "fetch s", "draft s")


def _row(d: DayRecord) -> list[str]:
    c = d.draft.counts
    return [d.day, str(d.fetch.new_items), str(c.get("units", 0)),
            f"{c.get('merged_url', 0)}/{c.get('merged_text', 0)}/{c.get('merged_event', 0)}",
            f"{c.get('new', 0)}/{c.get('update', 0)}/{c.get('repeat', 0)}", str(len(d.draft.plan.told)),
            str(d.callbacks), str(len(d.draft.plan.clocks)), str(len(d.draft.draft.clocks)),
            str(len(d.draft.plan.due)),
            str(len(d.draft.draft.dropped)), "ok" if d.draft.report.ok else f"{len(d.draft.report.failures)} failed",
            f"{d.fetch_seconds:.1f}", f"{d.draft_seconds:.1f}"]


def totals(report: BacktestReport) -> dict[str, float]:
    days = report.days
    return {
        "days": len(days),
        "new_items": sum(d.fetch.new_items for d in days),
        "told": sum(len(d.draft.plan.told) for d in days),
        "callbacks": sum(d.callbacks for d in days),
        "clocks_opened": sum(len(d.draft.plan.clocks) for d in days),
        "clocks_listed": sum(len(d.draft.draft.clocks) for d in days),
        "clocks_revisited": sum(len(d.draft.plan.due) for d in days),
        "dropped_sentences": sum(len(d.draft.draft.dropped) for d in days),
        "verification_failures": report.failures,
        "told_new_twice": len(report.told_new_twice),
        "days_not_drafted": len(report.failed_days),
        "fetch_seconds": round(sum(d.fetch_seconds for d in days), 2),
        "draft_seconds": round(sum(d.draft_seconds for d in days), 2),
    }


def render_markdown(report: BacktestReport) -> str:
    lines = [f"# Backtest of {report.corpus.name}", "",
             f"{len(report.days)} days, {report.days[0].day} to {report.days[-1].day}." if report.days else "No days.", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(d)) + " |" for d in report.days]
    lines += ["", "## Totals", ""] + [f"- {k.replace('_', ' ')}: {v}" for k, v in totals(report).items()]
    if report.failed_days:
        lines += ["", "## Days that could not be drafted", ""] + [f"- {d}: {why}" for d, why in report.failed_days]
    lines += ["", "## Issues", ""] + [f"- [{d.day}](../issues/{d.day}.md): {d.draft.draft.lede.markdown}"
                                      for d in report.days]
    return "\n".join(lines) + "\n"


def _bars(title: str, series: dict[str, float], width: int = 760, height: int = 180) -> str:
    """A bar chart as inline SVG."""
    if not series:
        return ""
    top = max(series.values()) or 1.0
    n = len(series)
    bar = (width - 60) / n
    parts = [f'<svg viewBox="0 0 {width} {height + 40}" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="0" y="14" font-size="13">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(series.items()):
        h = (value / top) * (height - 30)
        x, y = 50 + i * bar, height - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 3, 1):.1f}" height="{h:.1f}" fill="#3b6ea8">'
                     f'<title>{html.escape(label)}: {value:g}</title></rect>')
        if n <= 40 and i % max(1, n // 16) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="9">{html.escape(label[-5:])}</text>')
    parts.append(f'<text x="0" y="{height - (height - 30) + 4}" font-size="9">{top:g}</text></svg>')
    return "".join(parts)


def render_html(report: BacktestReport) -> str:
    days = report.days
    charts = [
        _bars("New items per day", {d.day: d.fetch.new_items for d in days}),
        _bars("Stories told per day", {d.day: len(d.draft.plan.told) for d in days}),
        _bars("Seconds per day (fetch + draft)", {d.day: round(d.fetch_seconds + d.draft_seconds, 2) for d in days}),
    ]
    sources = sorted({s for d in days for s in d.per_source_new})
    source_rows = "".join(
        f"<tr><td>{html.escape(s)}</td>" + "".join(f"<td>{d.per_source_new.get(s, '') or ''}</td>" for d in days) + "</tr>"
        for s in sources)
    table = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _row(d)) + "</tr>" for d in days)
    total = "".join(f"<li>{html.escape(k.replace('_', ' '))}: {v}</li>" for k, v in totals(report).items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backtest {html.escape(report.corpus.name)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}td:first-child{{text-align:left}}</style></head><body>
<h1>Backtest of {html.escape(report.corpus.name)}</h1><ul>{total}</ul>{''.join(charts)}
<h2>Per day</h2><table><tr>{''.join(f'<th>{html.escape(c)}</th>' for c in COLUMNS)}</tr>{table}</table>
<h2>New items per source per day</h2><table><tr><th>source</th>{''.join(f'<th>{d.day[5:]}</th>' for d in days)}</tr>{source_rows}</table>
</body></html>
"""


def write_report(report: BacktestReport, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(render_markdown(report), encoding="utf-8")
    page.write_text(render_html(report), encoding="utf-8")
    return md, page
