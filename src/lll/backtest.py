"""``lll backtest``: replay a corpus day by day — serve ``days/D/`` over loopback,
fetch at the end of D, draft D — and report what LLL would have written."""

from __future__ import annotations

import html
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from lll.charts import Series, heatmap, stacked_bars
from lll.clock import frozen_at
from lll.demo.server import PLACEHOLDER, CorpusServer
from lll.draft import Drafter, DraftResult, end_of_day
from lll.errors import LLLError
from lll.fetch.run import FetchReport
from lll.newsletter import Newsletter
from lll.store import schema as t
from lll.workspace import Workspace

# The only target a backtest publishes to (when ``[publish] targets`` names it): a local folder.
# Remote targets (DEV, email, ...) are never sent a replayed issue.
BACKTEST_TARGET = "archive"


STAGES = ("fetch", "understand", "write", "verify", "publish")


@dataclass(frozen=True)
class DayRecord:
    day: str
    fetch: FetchReport
    draft: DraftResult
    fetch_seconds: float
    draft_seconds: float
    per_source_new: dict[str, int] = field(default_factory=dict)
    publish_seconds: float = 0.0
    model_usd: float = 0.0  # what the models cost for this day's draft (model_calls); 0 offline
    published: str = ""  # the archive receipt's line, or why publishing failed; "" when not configured

    @property
    def callbacks(self) -> int:
        return sum(1 for s in self.draft.draft.sections for p in s.paragraphs
                   if any(x.role == "callback" and p.kind == "story" for x in p.sentences))

    @property
    def stages(self) -> dict[str, float]:
        """Seconds per stage: fetch; understand (load the window's items, build the stories);
        write (plan, writer, the issue files); verify (and repair); publish (the archive)."""
        timed = self.draft.seconds
        understand = timed.get("load", 0.0) + timed.get("stories", 0.0)
        verify = timed.get("verify", 0.0)
        write = max(0.0, self.draft_seconds - understand - verify)
        return {"fetch": self.fetch_seconds, "understand": understand, "write": write, "verify": verify,
                "publish": self.publish_seconds}

    @property
    def seconds(self) -> float:
        return self.fetch_seconds + self.draft_seconds + self.publish_seconds


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
    """Replay ``corpus`` from ``first`` to ``last`` into ``workspace`` (created if needed).

    The network is sealed to loopback (the ``sealed`` address policy): the corpus is served on
    127.0.0.1, and any other host — an article page linked from a summary-only item — is refused
    without a DNS lookup. Each drafted day is published to the static archive when ``[publish]
    targets`` names it, never to a remote target."""
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
        publish = BACKTEST_TARGET in letter.config.publish.targets
        for day in _days(first, last):
            server.day = day
            with frozen_at(end_of_day(day)):
                t0 = time.perf_counter()
                fetched = letter.fetch(policy="sealed", locate=server.locate)  # loopback only, no DNS
                t1 = time.perf_counter()
                calls_before = _last_model_call(letter)
                try:
                    drafted = drafter.draft(day)
                except LLLError as exc:  # one bad day is reported; the replay goes on
                    failed.append((day, str(exc)))
                    continue
                t2 = time.perf_counter()
                published = _publish(letter, day) if publish else ""
                t3 = time.perf_counter()
            per_source = {o.source.name: o.new for o in fetched.outcomes if o.new}
            record = DayRecord(day, fetched, drafted, t1 - t0, t2 - t1, per_source, publish_seconds=t3 - t2,
                               model_usd=_model_usd(letter, day, calls_before), published=published)
            records.append(record)
            if on_day:
                on_day(record)
        twice = told_new_twice(letter)
    report = BacktestReport(corpus, workspace, tuple(records), tuple(twice), tuple(failed))
    write_report(report, workspace / "backtest")
    return report


def _last_model_call(letter: Newsletter) -> int:
    with letter.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.model_calls.c.id), 0))).scalar_one())


def _model_usd(letter: Newsletter, day: str, after_id: int) -> float:
    """Dollars of the model calls logged for ``day`` since ``after_id`` (this draft's calls)."""
    query = (sa.select(sa.func.coalesce(sa.func.sum(t.model_calls.c.usd), 0.0))
             .where(t.model_calls.c.id > after_id, t.model_calls.c.issue_date == day))
    with letter.store.engine.connect() as conn:
        return float(conn.execute(query).scalar_one())


def _publish(letter: Newsletter, day: str) -> str:
    """Publish ``day`` to the archive; the receipt's line, or the error (the replay goes on)."""
    from lll.publish import Publishing

    try:
        return Publishing(letter).publish(day, BACKTEST_TARGET).summary_line()
    except LLLError as exc:
        return f"{BACKTEST_TARGET}: not published: {exc}"


# -- the report ------------------------------------------------------------------------------------

COLUMNS = ("day", "new items", "units", "merged url/text/event", "new/upd/rep", "told", "callbacks",
           "clocks opened", "clocks listed", "clocks due", "dropped", "verify",
           "fetch s", "understand s", "write s", "verify s", "publish s", "total s", "model $")


def _row(d: DayRecord) -> list[str]:
    c = d.draft.counts
    stages = d.stages
    return [d.day, str(d.fetch.new_items), str(c.get("units", 0)),
            f"{c.get('merged_url', 0)}/{c.get('merged_text', 0)}/{c.get('merged_event', 0)}",
            f"{c.get('new', 0)}/{c.get('update', 0)}/{c.get('repeat', 0)}", str(len(d.draft.plan.told)),
            str(d.callbacks), str(len(d.draft.plan.clocks)), str(len(d.draft.draft.clocks)),
            str(len(d.draft.plan.due)),
            str(len(d.draft.draft.dropped)), "ok" if d.draft.report.ok else f"{len(d.draft.report.failures)} failed",
            *(f"{stages[s]:.2f}" for s in STAGES), f"{d.seconds:.2f}", money(d.model_usd)]


def money(usd: float) -> str:
    """Dollars for the report: 0.00 when nothing was spent, cents, or 4 decimals under a cent."""
    return f"{usd:.4f}" if 0 < usd < 0.01 else f"{usd:.2f}"


def totals(report: BacktestReport) -> dict[str, float]:
    days = report.days
    per_day = sorted(d.seconds for d in days)
    stage_totals = {f"{s}_seconds": round(sum(d.stages[s] for d in days), 2) for s in STAGES}
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
        **stage_totals,
        "draft_seconds": round(sum(d.draft_seconds for d in days), 2),
        "total_seconds": round(sum(per_day), 2),
        "seconds_per_day_min": round(per_day[0], 2) if per_day else 0.0,
        "seconds_per_day_median": round(statistics.median(per_day), 2) if per_day else 0.0,
        "seconds_per_day_max": round(per_day[-1], 2) if per_day else 0.0,
        "model_cost_usd": round(sum(d.model_usd for d in days), 4),
    }


def render_markdown(report: BacktestReport) -> str:
    lines = [f"# Backtest of {report.corpus.name}", "",
             f"{len(report.days)} days, {report.days[0].day} to {report.days[-1].day}." if report.days
             else "No days.", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(d)) + " |" for d in report.days]
    lines += ["", "## Totals", ""] + [f"- {k.replace('_', ' ')}: {v}" for k, v in totals(report).items()]
    if report.failed_days:
        lines += ["", "## Days that could not be drafted", ""] + [f"- {d}: {why}" for d, why in report.failed_days]
    published = [(d.day, d.published) for d in report.days if d.published]
    if published:
        lines += ["", "## Published to the archive", ""] + [f"- {d}: {line}" for d, line in published]
    sources = _sources(report)
    if sources:
        days = [d.day for d in report.days]
        lines += ["", "## New items per source per day", "",
                  "| source | " + " | ".join(d[5:] for d in days) + " | total |", "|" + "---|" * (len(days) + 2)]
        lines += ["| " + s.replace("|", "/") + " | " + " | ".join(
            str(d.per_source_new.get(s, "")) for d in report.days) \
            + f" | {sum(d.per_source_new.get(s, 0) for d in report.days)} |"
            for s in sources]
    lines += ["", "## Issues", ""] + [f"- [{d.day}](../issues/{d.day}.md): {d.draft.draft.lede.markdown}"
                                      for d in report.days]
    return "\n".join(lines) + "\n"


def _sources(report: BacktestReport) -> list[str]:
    """Sources with new items, the busiest first."""
    count: dict[str, int] = {}
    for d in report.days:
        for name, n in d.per_source_new.items():
            count[name] = count.get(name, 0) + n
    return sorted(count, key=lambda name: (-count[name], name.lower()))


def charts(report: BacktestReport) -> list[str]:
    """The report's charts, as inline SVG: what a person looks at first."""
    days = report.days
    labels = [d.day for d in days]
    if not days:
        return []
    c = [d.draft.counts for d in days]
    out = [
        stacked_bars("Seconds per day, by stage", labels,
                     [Series(s, [round(d.stages[s], 3) for d in days]) for s in STAGES], unit="seconds"),
        heatmap("New items per source per day", _sources(report), labels,
                {(name, d.day): n for d in days for name, n in d.per_source_new.items()}),
        stacked_bars("Stories per day: new, updated, repeated", labels,
                     [Series("new", [x.get("new", 0) for x in c]), Series("updated", [x.get("update", 0) for x in c]),
                      Series("repeated", [x.get("repeat", 0) for x in c])], unit="stories"),
        stacked_bars("Stories told per day", labels, [Series("told", [len(d.draft.plan.told) for d in days])],
                     unit="stories"),
        stacked_bars("New items per day", labels, [Series("new items", [d.fetch.new_items for d in days])],
                     unit="items"),
    ]
    if any(d.model_usd for d in days):
        out.append(stacked_bars("Model cost per day", labels, [Series("model cost", [d.model_usd for d in days])],
                                unit="US$"))
    return out


def render_html(report: BacktestReport) -> str:
    days = report.days
    table = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _row(d)) + "</tr>" for d in days)
    total = totals(report)
    items = "".join(f"<li>{html.escape(k.replace('_', ' '))}: {v}</li>" for k, v in total.items())
    cost = total["model_cost_usd"]
    cost_note = (f"Model cost ${cost:.2f} in all." if cost else
                 "Model cost $0.00: the offline writer drafted every day "
                 "(set [models] in lll.toml to write with a model).")
    figure = "".join(f"<figure>{svg}</figure>" for svg in charts(report))
    name = html.escape(report.corpus.name)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backtest {name}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1100px;color:#123}}figure{{margin:1.5em 0}}
table{{border-collapse:collapse;font-size:11px}}td,th{{border:1px solid #ccc;padding:2px 4px;text-align:right}}
td:first-child{{text-align:left;white-space:nowrap}}.totals{{columns:3;font-size:13px}}</style></head><body>
<h1>Backtest of {html.escape(report.corpus.name)}</h1>
<p>{len(days)} days{f", {html.escape(days[0].day)} to {html.escape(days[-1].day)}" if days else ""};
{total['verification_failures']} verification failures, {total['told_new_twice']} stories told as new twice;
{total['total_seconds']} s in all ({total['seconds_per_day_median']} s per day at the median). {html.escape(cost_note)}
The first day takes in everything the feeds hold; a bar far taller than the rest is cut, with its value above it.</p>
{figure}
<h2>Totals</h2><ul class="totals">{items}</ul>
<h2>Per day</h2><table><tr>{''.join(f'<th>{html.escape(c)}</th>' for c in COLUMNS)}</tr>{table}</table>
</body></html>
"""


def write_report(report: BacktestReport, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(render_markdown(report), encoding="utf-8")
    page.write_text(render_html(report), encoding="utf-8")
    return md, page
