#!/usr/bin/env python
"""Editorial quality of the May replay: what an editor would strike, counted per run (issue 10).

    python bench/editorial.py                                  # lll backtest May 1–31 (this tree), then the figures
    python bench/editorial.py --read /work/bt-main             # the figures of an existing backtest workspace
    python bench/editorial.py --compare ac2102f                # before (REV, in a temporary git worktree) / after
    python bench/editorial.py --compare ac2102f --before-read /work/bt-main --read WS   # both already run

Per run: forum residues, fragments, ledes that are not one whole 6–30-word sentence (and those of the
"X reports." headline form), headings over 12 words (and cut ones), duplicate clocks (in an issue, and
repeated from the issue before), days without an issue, callback precision/recall against
``bench/data/callback-labels.jsonl``, the verifier's counts (from ``issues/DATE.json``) and seconds per
drafted day (target <= 20 s). The checks are the pure functions of ``bench/editorial_checks.py``.

The replay is always drafted by the offline writer (a fresh backtest workspace has no model set).
``--details`` prints every residue, fragment, bad lede, long heading and callback found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import editorial_checks as ec  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "replay-2026-05"
LABELS = REPO / "bench" / "data" / "callback-labels.jsonl"
MAX_HEADING_WORDS = 12


def day_range(first: str, last: str) -> list[str]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def run_backtest(src: Path, corpus: Path, first: str, last: str, workspace: Path) -> tuple[int, float]:
    """``python -m lll backtest`` with the code of ``src`` (PYTHONPATH), the offline writer."""
    if workspace.exists() and any(workspace.iterdir()):
        raise SystemExit(f"{workspace}: already exists; a backtest replays into a new folder (or --read it)")
    env = {k: v for k, v in os.environ.items() if k not in ("LLL_NOW", "LLL_WORKSPACE")}
    env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "lll", "--workspace", str(workspace), "backtest", str(corpus),
           "--from", first, "--to", last]
    print(f"$ PYTHONPATH={src} " + " ".join(cmd), flush=True)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    tail = proc.stdout.strip().splitlines()[-3:]
    print("  " + "\n  ".join(tail), flush=True)
    return proc.returncode, wall


def load_labels(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not JSON ({exc}); fix or remove the line") from exc
    return out


def report_seconds(workspace: Path) -> dict[str, list[float]]:
    """Per-day seconds from ``backtest/report.md`` (total, and the draft stages)."""
    md = workspace / "backtest" / "report.md"
    out: dict[str, list[float]] = {"total": [], "draft": []}
    if not md.exists():
        return out
    lines = md.read_text(encoding="utf-8").splitlines()
    header = next((i for i, x in enumerate(lines) if x.startswith("| day |")), None)
    if header is None:
        return out
    names = [c.strip() for c in lines[header].strip("|").split("|")]
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        row = dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=False))
        out["total"].append(float(row["total s"]))
        out["draft"].append(sum(float(row[k]) for k in ("understand s", "write s", "verify s")))
    return out


def not_drafted(workspace: Path) -> dict[str, str]:
    md = workspace / "backtest" / "report.md"
    text = md.read_text(encoding="utf-8") if md.exists() else ""
    part = text.split("## Days that could not be drafted", 1)
    if len(part) < 2:
        return {}
    listed = part[1].split("\n## ")[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^- (\d{4}-\d\d-\d\d): (.*)$", listed, re.M)}


@dataclass
class Figures:
    name: str
    days: int = 0
    issues: int = 0
    missing: list[str] = field(default_factory=list)
    quiet: int = 0
    told: int = 0
    sentences: int = 0
    residues: Counter[str] = field(default_factory=Counter)
    fragments: Counter[str] = field(default_factory=Counter)
    ledes_bad: int = 0
    ledes_headline: int = 0
    ledes_bare: int = 0        # "Today's top story comes from X.": says where, not what
    planned_untold: int = 0    # planned, but no sentence of it could be told
    headings: int = 0
    headings_long: int = 0
    headings_cut: int = 0
    clocks: int = 0
    clocks_dup: int = 0
    clocks_repeated: int = 0
    clocks_distinct: int = 0
    clocks_backward: int = 0
    score: ec.CallbackScore | None = None
    claims: int = 0
    failures: int = 0
    dropped: int = 0
    unverified: int = 0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    wall: float | None = None
    details: list[str] = field(default_factory=list)


def measure(name: str, workspace: Path, first: str, last: str, labels: list[dict[str, Any]],
            wall: float | None = None) -> Figures:
    f = Figures(name, wall=wall)
    days = day_range(first, last)
    f.days = len(days)
    failed = not_drafted(workspace)
    issues: dict[str, dict[str, Any]] = {}
    for day in days:
        path = workspace / "issues" / f"{day}.json"
        if not path.exists() or not (workspace / "issues" / f"{day}.md").exists():
            f.missing.append(day + (f" ({failed[day][:90]})" if day in failed else ""))
            continue
        issues[day] = json.loads(path.read_text(encoding="utf-8"))
    f.issues = len(issues)
    previous_clocks: list[dict[str, Any]] = []
    distinct: dict[str, dict[str, Any]] = {}
    made: list[tuple[ec.Story, ec.Story]] = []
    told: list[ec.Story] = []
    for day, issue in issues.items():
        leads = ec.told_leads(issue)
        f.told += len(leads)
        f.quiet += not leads
        told += list(ec.told_stories(issue).values())
        # residue: everything a reader sees (fixed wording quotes titles); fragments: the body sentences
        seen = [s["text"] for p in [issue.get("lede", {}), *ec._paragraphs(issue)] for s in p.get("sentences", [])]
        for text in seen + ec.headings(issue):
            for kind, match in ec.residues(text):
                f.residues[kind] += 1
                f.details.append(f"{day} residue [{kind}] {match!r} in {ec.strip_links(text)[:100]!r}")
        for text in ec.prose(issue):
            parts = ec.sentences(text)
            f.sentences += len(parts)
            for why, sentence in ec.fragments(text):
                f.fragments[re.sub(r" '.*'", "", why)] += 1
                f.details.append(f"{day} fragment [{why}] {sentence[:120]!r}")
        lede = issue.get("lede", {}).get("markdown", "")
        f.ledes_bare += lede.startswith("Today's top story comes from")
        for left in issue.get("left_out", []):
            if str(left.get("reason", "")).startswith("planned, but"):
                f.planned_untold += 1
                f.details.append(f"{day} planned, not told: {left.get('source')} {str(left.get('title'))[:80]!r}")
        problem = ec.lede_problem(lede)
        if problem:
            f.ledes_bad += 1
            f.ledes_headline += problem.startswith("headline")
            f.details.append(f"{day} lede [{problem}] {ec.strip_links(lede)[:120]!r}")
        for heading in ec.headings(issue):
            f.headings += 1
            n = ec.heading_words(heading)
            if n > MAX_HEADING_WORDS:
                f.headings_long += 1
                f.details.append(f"{day} heading [{n} words] {heading!r}")
            if ec.heading_cut(heading):
                f.headings_cut += 1
                f.details.append(f"{day} heading [cut] {heading!r}")
        clocks = issue.get("clocks", [])
        f.clocks += len(clocks)
        f.clocks_dup += ec.duplicate_clocks(clocks)
        f.clocks_repeated += ec.repeated_clocks(previous_clocks, clocks)
        previous_clocks = clocks
        for c in clocks:
            distinct.setdefault(ec.clock_key(c), c)
        for cb in ec.callbacks(issue):
            before = ec.told_stories(issues.get(cb.earlier_date, {})).get(cb.earlier_id) \
                or ec.Story(cb.earlier_date, "", "")
            after = ec.told_stories(issue).get(cb.story_id) or ec.Story(day, cb.title, cb.url)
            made.append((before, after))
            f.details.append(f"{day} callback {cb.title[:60]!r} -> {cb.earlier_date} {before.title[:60]!r}")
        v = issue.get("verification", {})
        f.claims += int(v.get("claims_checked", 0))
        f.failures += len(v.get("failures", []))
        f.dropped += len(v.get("dropped_sentences", []))
        f.unverified += not v.get("ok", False)
    f.clocks_distinct = len(distinct)
    for c in distinct.values():
        backward = ec.clock_backward(c)
        if backward:
            f.clocks_backward += 1
            said = ec.strip_links(str(c.get("sentence")))[:100]
            f.details.append(f"clock [{backward}] {c.get('phrase')!r} in {said!r}")
    f.score = ec.score_callbacks(made, told, labels) if labels else None
    if f.score:
        f.details += [f"unlabelled callback: {u}" for u in f.score.unlabelled]
    f.seconds = report_seconds(workspace)
    return f


def _ratio(x: float | None, n: int) -> str:
    return "-" if x is None else f"{x:.2f} ({n})"


def rows(f: Figures) -> list[tuple[str, str]]:
    s = f.score
    secs = f.seconds.get("total") or []
    draft = f.seconds.get("draft") or []
    kinds = ", ".join(f"{k} {v}" for k, v in f.residues.most_common())
    why = ", ".join(f"{k} {v}" for k, v in f.fragments.most_common())
    return [
        ("days / issues written", f"{f.days} / {f.issues}"),
        ("days without an issue (target 0)", str(len(f.missing))),
        ("issues with no story told", str(f.quiet)),
        ("stories told", str(f.told)),
        ("forum residues (target 0)", str(sum(f.residues.values()))),
        ("  by kind", kinds or "-"),
        ("fragments (target 0)", f"{sum(f.fragments.values())} of {f.sentences} sentences"),
        ("  by reason", why or "-"),
        ("ledes not one whole 6-30-word sentence", f"{f.ledes_bad} of {f.issues}"),
        ("  of the 'X reports.' headline form", str(f.ledes_headline)),
        ("ledes that only say where the story comes from", f"{f.ledes_bare} of {f.issues}"),
        ("stories planned but not told", str(f.planned_untold)),
        ("ledes well formed (target >= 95%)",
         f"{(f.issues - f.ledes_bad) / f.issues:.0%}" if f.issues else "-"),
        (f"headings over {MAX_HEADING_WORDS} words (target 0)", f"{f.headings_long} of {f.headings}"),
        ("headings cut off", str(f.headings_cut)),
        ("clocks listed", str(f.clocks)),
        ("duplicate clocks within an issue (target 0)", str(f.clocks_dup)),
        ("clocks repeated from the issue before", str(f.clocks_repeated)),
        ("distinct clocks / not forward-looking", f"{f.clocks_distinct} / {f.clocks_backward}"),
        ("callbacks made", str(s.made) if s else "-"),
        ("  labelled / unlabelled", f"{s.labelled} / {len(s.unlabelled)}" if s else "-"),
        ("callback precision (target >= 0.9)", _ratio(s.precision, s.labelled) if s else "no labels"),
        ("callback recall", _ratio(s.recall, s.true_pairs_told) if s else "no labels"),
        ("verifier: claims checked", str(f.claims)),
        ("verifier: failures / dropped sentences", f"{f.failures} / {f.dropped}"),
        ("verifier: issues not verified", str(f.unverified)),
        ("seconds per drafted day, median / max (<= 20)",
         f"{statistics.median(secs):.2f} / {max(secs):.2f}" if secs else "-"),
        ("  draft stages only, median / max", f"{statistics.median(draft):.2f} / {max(draft):.2f}" if draft else "-"),
        ("wall clock of the backtest", f"{f.wall:.0f} s" if f.wall is not None else "(read)"),
    ]


def _first_number(value: str) -> float | None:
    m = re.match(r"-?\d+(?:\.\d+)?", value)
    return float(m.group(0)) if m else None


def change(key: str, before: str, after: str) -> str:
    """after − before of a row's first figure; for seconds, also the ratio after/before."""
    a, b = _first_number(after), _first_number(before)
    if a is None or b is None:
        return ""
    if "seconds" in key or "median" in key or "wall clock" in key:
        return f"x{a / b:.2f}" if b else ""
    d = a - b
    return f"{d:+.2f}".rstrip("0").rstrip(".") if d % 1 else f"{int(d):+d}"


def print_table(runs: list[Figures]) -> None:
    table = [[(k, v) for k, v in rows(f) if k.strip() not in ("by kind", "by reason")] for f in runs]
    width = max(len(k) for k, _ in table[0])
    cols = [max(len(f.name), *(len(v) for _, v in t)) for f, t in zip(runs, table, strict=True)]
    print()
    head = "  ".join(f"{f.name:<{c}}" for f, c in zip(runs, cols, strict=True))
    print(f"{'':<{width}}  {head}" + ("  change" if len(runs) == 2 else ""))
    for i, (key, _) in enumerate(table[0]):
        values = [t[i][1] for t in table]
        line = f"{key:<{width}}  " + "  ".join(f"{v:<{c}}" for v, c in zip(values, cols, strict=True))
        if len(runs) == 2:
            line += "  " + change(key, values[0], values[1])
        print(line.rstrip())
    print()
    for f in runs:
        extra = dict(rows(f))
        print(f"[{f.name}] residues by kind: {extra['  by kind']}")
        print(f"[{f.name}] fragments by reason: {extra['  by reason']}")
        if f.missing:
            print(f"[{f.name}] days without an issue: {', '.join(f.missing)}")


def worktree_of(rev: str, into: Path) -> Path:
    """A temporary ``git worktree`` of ``rev`` (detached), to run that revision's code."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(into), rev], check=True,
                   stdout=subprocess.DEVNULL)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--from", dest="first", default="2026-05-01")
    parser.add_argument("--to", dest="last", default="2026-05-31")
    parser.add_argument("--workspace", type=Path, help="Where this tree's backtest replays (default: temporary).")
    parser.add_argument("--read", type=Path, help="Read this backtest workspace instead of running one.")
    parser.add_argument("--compare", metavar="REV", help="Run REV's code (a temporary git worktree): before/after.")
    parser.add_argument("--before-read", type=Path, help="With --compare: read REV's backtest workspace instead.")
    parser.add_argument("--before-workspace", type=Path, help="With --compare: where REV's backtest replays.")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--details", action="store_true", help="Print every finding.")
    args = parser.parse_args()
    if not args.read and not (args.corpus / "sources.opml").exists():
        print(f"{args.corpus}: no replay corpus (sources.opml); pass --corpus or --read WORKSPACE", file=sys.stderr)
        return 2
    for p in (args.read, args.before_read):
        if p and not (p / "issues").is_dir():
            print(f"{p}: not a backtest workspace (no issues/ folder); run lll backtest into it first",
                  file=sys.stderr)
            return 2
    labels = load_labels(args.labels)
    print(f"labels: {args.labels} ({len(labels)} pairs, {sum(1 for x in labels if x['label'])} true)")
    runs: list[Figures] = []
    tmp = Path(tempfile.mkdtemp(prefix="lll-editorial-"))
    try:
        if args.compare:
            if args.before_read:
                runs.append(measure(f"before {args.compare}", args.before_read, args.first, args.last, labels))
            else:
                tree = worktree_of(args.compare, tmp / "tree")
                ws = args.before_workspace or tmp / "before"
                _, wall = run_backtest(tree / "src", args.corpus, args.first, args.last, ws)
                runs.append(measure(f"before {args.compare}", ws, args.first, args.last, labels, wall))
        if args.read:
            runs.append(measure(f"after {args.read.name}" if args.compare else str(args.read), args.read,
                                args.first, args.last, labels))
        else:
            ws = args.workspace or tmp / "after"
            _, wall = run_backtest(REPO / "src", args.corpus, args.first, args.last, ws)
            runs.append(measure("after (this tree)" if args.compare else "this tree", ws, args.first, args.last,
                                labels, wall))
            print(f"workspace: {ws}")
    finally:
        if (tmp / "tree").exists():
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tmp / "tree")], check=False)
    if args.details:
        for f in runs:
            print(f"\n== {f.name}: details")
            print("\n".join(f.details))
    print_table(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
