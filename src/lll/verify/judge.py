"""The optional LLM judge (``[models] judge``): a third model that reads each sentence
beside its story's fact card and flags what the deterministic checks cannot see — a
claim stronger than the source, a fact given to the wrong source, analysis worded as
reported fact.

The judge only adds: it runs after the deterministic verifier has passed, its flags go
through the same repair as the verifier's failures, and it can never clear a sentence
the verifier failed. When the judge fails (no answer, bad JSON, no budget) the draft
goes on without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


class Flag(BaseModel):
    id: str
    reason: str = Field(description="what the card does not support, in a few words")


class JudgeReply(BaseModel):
    flags: list[Flag] = Field(default_factory=list)


@dataclass(frozen=True)
class Judged:
    """One sentence put to the judge."""

    id: str
    story: str
    text: str
    kind: str
    card: dict[str, Any]


def judge_input(sentences: list[Judged]) -> dict[str, Any]:
    stories: dict[str, dict[str, Any]] = {}
    for s in sentences:
        entry = stories.setdefault(s.story, {"story": s.story, "card": s.card, "sentences": []})
        entry["sentences"].append({"id": s.id, "text": s.text, "kind": s.kind})
    return {"task": "judge", "stories": list(stories.values())}


def flags_by_id(reply: JudgeReply, asked: list[Judged]) -> dict[str, str]:
    known = {s.id for s in asked}
    return {f.id.strip(): f.reason.strip() or "unsupported" for f in reply.flags if f.id.strip() in known}
