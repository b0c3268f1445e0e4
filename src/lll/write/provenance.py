"""``issues/DATE.json``: the issue as data, with provenance for every paragraph and
clock, the stories considered and why each was told or left out, and the cost."""

from __future__ import annotations

from typing import Any

from lll.verify.claims import claims, strip_links
from lll.verify.verifier import VerifyReport
from lll.write.model import Draft, Paragraph
from lll.write.plan import Plan

SCHEMA = "lll.issue/1"


def _paragraph(p: Paragraph) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "story_id": p.story_id,
        **({"also_story_ids": list(p.also)} if p.also else {}),
        "markdown": p.markdown,
        "sentences": [
            {
                "text": s.text,
                "role": s.role,
                "citations": [{"url": c.url, "source": c.source, "item_id": c.item_id, "issue_date": c.issue_date}
                              for c in s.citations],
                "span": {"item_id": s.span[0], "start": s.span[1], "end": s.span[2]} if s.span else None,
                "claims": [{"kind": c.kind, "text": c.text} for c in claims(s.text) if c.kind != "name"],
            }
            for s in p.sentences
        ],
    }


def written_story_ids(draft: Draft) -> set[str]:
    """The stories the draft really tells (the plan may have held more)."""
    ids = {i for section in draft.sections for p in section.paragraphs if p.kind == "story"
           for i in (p.story_id, *p.also)}
    ids |= {c.story_id for c in draft.clocks if c.paragraph.kind == "clock"}
    if draft.lede.story_id and draft.lede.kind == "lede":
        ids.add(draft.lede.story_id)
    return {i for i in ids if i}


def issue_json(draft: Draft, plan: Plan, report: VerifyReport, *, counts: dict[str, int],
               window: tuple[str, str], seconds: dict[str, float], embedder: str, writer: str,
               cost: dict[str, Any] | None = None) -> dict[str, Any]:
    told = written_story_ids(draft)
    considered: list[dict[str, Any]] = []
    for story in ([plan.lede] if plan.lede else []) + [s for sec in plan.sections for s in sec] + \
            [c.story for c in plan.clocks]:
        if story is None or any(c["id"] == story.id for c in considered):
            continue
        considered.append({
            "id": story.id, "title": story.title, "status": story.status, "score": story.score,
            "sources": list(story.source_names), "told": story.id in told,
            "previous": {"id": story.previous.id, "told_in": story.previous.told_in} if story.previous else None,
            "reasons": list(story.reasons),
            "units": [{"id": u.id, "item_id": u.item.id, "url": u.item.url, "source": u.item.source_name,
                       "span": [u.start, u.end], "title": u.title} for u in story.units],
        })
    return {
        "schema": SCHEMA,
        "date": draft.date,
        "title": draft.title,
        "tags": list(draft.tags),
        "writer": writer,
        "embedder": embedder,
        "window": {"start": window[0], "end": window[1]},
        "lede": _paragraph(draft.lede),
        "sections": [{"heading": s.heading, "paragraphs": [_paragraph(p) for p in s.paragraphs]}
                     for s in draft.sections],
        "clocks": [{"heading": c.heading, "due": c.due, "phrase": c.phrase, "precision": c.precision,
                    "story_id": c.story_id, "item_id": c.item_id, "sentence": c.sentence,
                    "paragraph": _paragraph(c.paragraph)} for c in draft.clocks],
        "clocks_due": [{"id": d.id, "opened_in": d.opened_in, "due": d.due, "sentence": d.sentence,
                        "source": d.source, "url": d.item_url} for d in plan.due],
        "stories": considered,
        "left_out": [{"id": x.id, "title": x.title, "source": x.source, "reason": x.reason,
                      "ranking": list(plan.reasons.get(x.id, ()))} for x in plan.left_out]
        + [{"id": s["id"], "title": s["title"], "source": ", ".join(s["sources"]), "ranking": s["reasons"],
            "reason": "planned, but no sentence of it could be told and verified"}
           for s in considered if not s["told"]],
        "counts": counts,
        "verification": {"ok": report.ok, "claims_checked": report.claims_checked,
                         "failures": [f.__dict__ for f in report.failures],
                         "dropped_sentences": [strip_links(d) for d in draft.dropped]},
        "cost": cost or {"model_calls": 0, "tokens_in": 0, "tokens_out": 0, "usd": 0.0},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
