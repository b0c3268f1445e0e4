"""Ranking the day's stories, with the reasons kept for ``issues/DATE.json``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from lll.stories.model import Story

_FIGURE = re.compile(r"\d")


@dataclass(frozen=True)
class RankSettings:
    per_source: float = 1.2     # per independent source beyond the first (log-scaled)
    weight: float = 0.6         # the best source weight
    new: float = 1.0
    update: float = 0.8
    fresh_hours: float = 36.0
    fresh: float = 0.5
    hn_points: float = 0.25     # per decade of Hacker News points
    short_text: int = 200
    short_penalty: float = 0.8
    relevance_floor: float = -0.5   # below: off-topic (engine.OFF_TOPIC); a cosine otherwise
    off_topic: float = 2.0


def score(story: Story, now: datetime, settings: RankSettings = RankSettings()) -> tuple[float, tuple[str, ...]]:
    """The story's score and one reason per term that counted."""
    reasons: list[str] = []
    total = 0.0
    n_sources = len(story.source_ids)
    if n_sources > 1:
        gain = settings.per_source * math.log2(n_sources)
        total += gain
        reasons.append(f"{n_sources} independent sources (+{gain:.2f})")
    best_weight = max(u.item.source_weight for u in story.units)
    total += settings.weight * best_weight
    reasons.append(f"source weight {best_weight:g} (+{settings.weight * best_weight:.2f})")
    novelty = settings.new if story.status == "new" else settings.update if story.status == "update" else 0.0
    total += novelty
    reasons.append(f"{story.status} (+{novelty:.2f})")
    newest = max(u.item.published for u in story.units)
    age_hours = (now - newest).total_seconds() / 3600
    if age_hours <= settings.fresh_hours:
        total += settings.fresh
        reasons.append(f"published {max(0, age_hours):.0f} h ago (+{settings.fresh:.2f})")
    points = max((int(u.item.signals.get("points", 0) or 0) for u in story.units), default=0)
    if points > 0:
        gain = settings.hn_points * math.log10(1 + points)
        total += gain
        reasons.append(f"{points} Hacker News points (+{gain:.2f})")
    if story.relevance < settings.relevance_floor:
        total -= settings.off_topic
        reasons.append(f"off-topic: only general-interest sources, nothing of the field (-{settings.off_topic:.2f})")
    if len(story.lead.text) < settings.short_text:
        total -= settings.short_penalty
        reasons.append(f"short text, {len(story.lead.text)} chars (-{settings.short_penalty:.2f})")
    elif _FIGURE.search(story.lead.text):
        total += 0.1
        reasons.append("carries figures (+0.10)")
    return round(total, 4), tuple(reasons)
