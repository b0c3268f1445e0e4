#!/usr/bin/env python
"""Callback candidates of a backtest workspace, to be labelled by reading both stories.

    python bench/callback_candidates.py /work/bt-main > /tmp/candidates.jsonl

One JSON line each: every "Following up on …" callback the run made; for every told story its most
similar earlier told story (cosine of the ledger's story vectors, kept in ``story_units``) when no
callback was written, any earlier told story closer than ``--close``, and earlier told stories that
share a rare name (a model or product token: "Opus 4.8", "GPT-Realtime-2") — the near misses recall
is measured on. Each line
carries both stories' dates, lead titles and URLs and the text the issue told, so a person can
label it; ``bench/data/callback-labels.jsonl`` keeps the labels (``label``, ``reason``)."""

from __future__ import annotations

import argparse
import json
import re
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
    parser.add_argument("--min-similarity", type=float, default=0.45,
                        help="A nearest earlier story at least this close.")
    parser.add_argument("--close", type=float, default=0.6, help="Any earlier story at least this close.")
    parser.add_argument("--max-name-stories", type=int, default=4,
                        help="A name shared by at most this many told stories makes a candidate pair.")
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
    emitted = set(made)
    names = {t: _names(t[2] + " " + told_text(issues[t[0]], t[1])[:300]) for t in told}
    counts: dict[str, int] = {}
    for found in names.values():
        for name in found:
            counts[name] = counts.get(name, 0) + 1
    for later in told:
        vl = vectors.get((later[1], later[0]))
        if vl is None:
            continue
        scored: list[tuple[float, tuple[str, str, str, str]]] = []
        for earlier in told:
            if earlier[0] >= later[0] or earlier[1] == later[1] and earlier[3] == later[3]:
                continue
            ve = vectors.get((earlier[1], earlier[0]))
            if ve is not None:
                scored.append((float(ve @ vl), earlier))
        scored.sort(key=lambda x: -x[0])
        for rank, (sim, earlier) in enumerate(scored):
            key = (earlier[0], earlier[1], later[0], later[1])
            if key in emitted:
                continue
            rare = {n for n in names[earlier] & names[later] if counts[n] <= args.max_name_stories}
            kind = ("nearest" if rank == 0 and sim >= args.min_similarity else
                    "close" if sim >= args.close else "shared name " + ", ".join(sorted(rare)) if rare else "")
            if kind:
                emitted.add(key)
                line(kind, earlier, later, sim)
    return 0


_NAME = re.compile(r"\b(?:[A-Z][A-Za-z]*[-\s]?\d[\w.]*|[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}[a-z]*\w*|\w+-\d[\w.]*)")
_COMMON = {"AI", "AINews", "API", "LLM", "LLMs", "HN", "OP", "GPU", "GPUs", "CPU", "RL", "MCP", "SDK", "CLI", "UI",
           "US", "OpenAI", "GitHub", "YouTube", "TPUs", "TPU"}


def _names(text: str) -> set[str]:
    """Distinctive names of a story: model/product tokens with a figure, CamelCase, acronyms."""
    return {m.group(0).strip() for m in _NAME.finditer(text)} - _COMMON


if __name__ == "__main__":
    sys.exit(main())
