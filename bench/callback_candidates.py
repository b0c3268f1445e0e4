#!/usr/bin/env python
"""Callback candidates of a backtest workspace, to be labelled by reading both stories.

    python bench/callback_candidates.py /work/bt-main > /tmp/candidates.jsonl

Two kinds, one JSON line each: every "Following up on …" callback the run made, and for every
told story its most similar earlier told story (cosine of the ledger's story vectors, kept in
``story_units``) when no callback was written — the near misses recall is measured on. Each line
carries both stories' dates, lead titles and URLs and the text the issue told, so a person can
label it; ``bench/data/callback-labels.jsonl`` keeps the labels (``label``, ``reason``)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import editorial_checks as ec  # noqa: E402


def told_text(issue: dict[str, Any], story_id: str) -> str:
    parts = []
    if issue.get("lede", {}).get("story_id") == story_id:
        parts.append(issue["lede"]["markdown"])
    for p in ec._paragraphs(issue):
        if p.get("story_id") == story_id:
            parts.append(" ".join(s["text"] for s in p["sentences"] if s.get("role") != "callback"))
    return ec.strip_links(" ".join(parts))[:600]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--min-similarity", type=float, default=0.45)
    args = parser.parse_args()
    paths = sorted((args.workspace / "issues").glob("*.json"))
    issues = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    con = sqlite3.connect(args.workspace / "lll.db")
    vectors: dict[tuple[str, str], np.ndarray] = {}
    for story_id, day, blob in con.execute("SELECT story_id, day, vector FROM story_units WHERE vector IS NOT NULL"):
        vectors.setdefault((story_id, day), np.frombuffer(blob, dtype=np.float32))
    told: list[tuple[str, str, str, str]] = []  # (day, id, title, url)
    for day, issue in issues.items():
        told += [(day, sid, title, url) for sid, title, url in ec.told_leads(issue)]
    shared: set[tuple[str, str]] = set()
    for day, issue in issues.items():
        urls = [u for _, _, u in ec.told_leads(issue)]
        shared |= {(day, u) for u in urls if urls.count(u) > 1 or "news.smol.ai" in u}
    made: set[tuple[str, str, str, str]] = set()

    def line(kind: str, e: tuple[str, str, str, str], lt: tuple[str, str, str, str], sim: float | None) -> None:
        print(json.dumps({
            "kind": kind, "similarity": None if sim is None else round(sim, 3),
            "earlier_date": e[0], "earlier_url": e[3], "earlier_title": e[2],
            "earlier_shared_url": (e[0], e[3]) in shared,
            "later_date": lt[0], "later_url": lt[3], "later_title": lt[2], "later_shared_url": (lt[0], lt[3]) in shared,
            "earlier_text": told_text(issues[e[0]], e[1]) if e[0] in issues else "",
            "later_text": told_text(issues[lt[0]], lt[1]),
        }, ensure_ascii=False))

    for day, issue in issues.items():
        for cb in ec.callbacks(issue):
            earlier = next(((cb.earlier_date, sid, t, u) for sid, t, u in ec.told_leads(issues.get(cb.earlier_date, {}))
                            if sid == cb.earlier_id), (cb.earlier_date, cb.earlier_id, "", ""))
            later = (day, cb.story_id, cb.title, cb.url)
            made.add((earlier[0], earlier[1], day, cb.story_id))
            ve, vl = vectors.get((earlier[1], earlier[0])), vectors.get((cb.story_id, day))
            line("callback", earlier, later, float(ve @ vl) if ve is not None and vl is not None else None)
    for later in told:
        vl = vectors.get((later[1], later[0]))
        if vl is None:
            continue
        best: tuple[float, tuple[str, str, str, str]] | None = None
        for earlier in told:
            if earlier[0] >= later[0] or earlier[1] == later[1] and earlier[3] == later[3]:
                continue
            ve = vectors.get((earlier[1], earlier[0]))
            if ve is None:
                continue
            sim = float(ve @ vl)
            if best is None or sim > best[0]:
                best = (sim, earlier)
        if best and best[0] >= args.min_similarity and (best[1][0], best[1][1], later[0], later[1]) not in made:
            line("nearest", best[1], later, best[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
