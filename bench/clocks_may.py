"""The watch lists of a backtest: how many issues close with "N Clocks Worth Watching", how many
clocks they open, and every clock's sentence with its due date, so that a reader can check each one
is forward-looking and grounded.

Run a backtest first (``python -m lll --workspace WS backtest ../shared/data/replay-2026-05
--from 2026-05-01 --to 2026-05-31``), then::

    python bench/clocks_may.py --workspace WS [--baseline WS_MAIN] [--labels bench/data/clock-labels-may.jsonl]

``--baseline`` is the same backtest run with today's main: its figures print beside these, with the
ratio. ``--labels`` holds one JSON object a line, ``{"date", "sentence", "label": "right"|"wrong",
"why"}``, written by reading each clock; the bench then prints the precision of the labelled clocks
and lists the clocks that have no label yet. A clock listed again (opened by an earlier issue, its
paragraph says "First flagged here") counts as listed, not as opened.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figures:
    issues: int = 0
    not_verified: int = 0
    with_list: int = 0
    with_spec_list: int = 0  # 2 to 5 items, as the spec asks
    listed: int = 0
    opened: int = 0
    relisted: int = 0
    distinct: int = 0
    rows: list[tuple[str, bool, dict[str, Any]]] = field(default_factory=list)  # (issue date, relisted, clock)

    @property
    def per_issue(self) -> float:
        return self.listed / self.issues if self.issues else 0.0

    @property
    def per_list(self) -> float:
        return self.listed / self.with_list if self.with_list else 0.0


def key(sentence: str) -> str:
    """A clock's identity: its source sentence as lowercase words."""
    return " ".join(re.findall(r"[a-z0-9]+", sentence.lower()))


def relisted(clock: dict[str, Any]) -> bool:
    paragraph = clock.get("paragraph") or {}
    return "First flagged here" in str(paragraph.get("markdown", ""))


def read(workspace: Path) -> Figures:
    folder = workspace / "issues"
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise SystemExit(f"{folder}: no issues/*.json — run `lll backtest` with --workspace {workspace} first")
    f = Figures()
    seen: set[str] = set()
    for path in paths:
        try:
            issue = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: cannot read the issue ({exc}); rerun the backtest") from exc
        f.issues += 1
        if not (issue.get("verification") or {}).get("ok", False):
            f.not_verified += 1
        clocks = issue.get("clocks") or []
        f.with_list += bool(clocks)
        f.with_spec_list += 2 <= len(clocks) <= 5
        for clock in clocks:
            again = relisted(clock)
            f.listed += 1
            f.relisted += again
            f.opened += not again
            seen.add(key(str(clock.get("sentence", ""))))
            f.rows.append((path.stem, again, clock))
    f.distinct = len(seen)
    return f


def labels(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[(row["date"], key(row["sentence"]))] = row
        except (ValueError, KeyError) as exc:
            raise SystemExit(f"{path}:{n}: not a label line ({exc}); each line is "
                             '{"date", "sentence", "label": "right"|"wrong", "why"}') from exc
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--labels", type=Path)
    args = parser.parse_args(argv)
    after = read(args.workspace)
    before = read(args.baseline) if args.baseline else None
    table = [
        ("issues", "issues"), ("issues not verified", "not_verified"), ("issues with a watch list", "with_list"),
        ("issues with 2 to 5 clocks", "with_spec_list"),
        ("clocks listed", "listed"), ("clocks opened", "opened"), ("clocks listed again (running)", "relisted"),
        ("distinct clocks", "distinct"), ("clocks per issue", "per_issue"), ("clocks per watch list", "per_list"),
    ]
    print(f"{'figure':34} {'baseline':>9} {'this':>9} {'ratio':>7}")
    for name, attr in table:
        value = getattr(after, attr)
        if before is None:
            print(f"{name:34} {'':>9} {value:>9.4g}")
            continue
        base = getattr(before, attr)
        ratio = f"{value / base:.2f}" if base else "n/a"
        print(f"{name:34} {base:>9.4g} {value:>9.4g} {ratio:>7}")
    known = labels(args.labels) if args.labels else {}
    print("\nEvery clock (issue date, due, phrase, source sentence):")
    right = wrong = 0
    unlabelled = []
    for day, again, clock in after.rows:
        sentence = str(clock.get("sentence", ""))
        mark = ""
        if known:
            row = known.get((day, key(sentence)))
            if row is None and again:
                row = next((r for (d, k), r in known.items() if k == key(sentence)), None)
            if row is None:
                unlabelled.append(day)
                mark = " [unlabelled]"
            else:
                if not again:  # a clock listed again was counted where it was opened
                    right += row["label"] == "right"
                    wrong += row["label"] == "wrong"
                mark = f" [{row['label']}]"
        tag = " (listed again)" if again else ""
        print(f"{day} due {clock.get('due')} {clock.get('phrase')!r}{tag}{mark}\n    {sentence}")
    if known:
        total = right + wrong
        precision = f"{right / total:.2f}" if total else "n/a"
        print(f"\nopened clocks labelled {total}: right {right}, wrong {wrong}, precision {precision}; "
              f"clocks without a label: {len(unlabelled)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
