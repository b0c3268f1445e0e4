"""From a window of stored items to the day's ranked stories.

items → filter (reasons kept) → story units → vectors → dedup layers → ledger
(new / update / repeat) → rank. Pure apart from the embedder it is given.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from lll.stories.dedup import LAYERS, DedupSettings, url_keys, dedup
from lll.stories.embed import Embedder
from lll.stories.ledger import LedgerSettings, classify
from lll.stories.model import LedgerEntry, LeftOut, Story
from lll.stories.rank import RankSettings, score
from lll.stories.units import ItemView, StoryUnit, split_item

MAX_TEXT = 200_000
EMBED_CHARS = 700  # the opening of a unit says what it is about; more costs time, not accuracy
MIN_TEXT = 40
_ENGLISH = frozenset("the of and to in a is that for on with as by it are this was from at be an has have "
                     "will new model models ai its their".split())
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class EngineSettings:
    dedup: DedupSettings = field(default_factory=DedupSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    rank: RankSettings = field(default_factory=RankSettings)


@dataclass(frozen=True)
class DayStories:
    stories: tuple[Story, ...]
    left_out: tuple[LeftOut, ...]
    counts: dict[str, int]
    embedder: str


def unfit(item: ItemView, published_after: datetime) -> str:
    """Why an item cannot feed a story ("" when it can)."""
    body = item.text.strip() or item.title.strip()
    if len(body) < MIN_TEXT:
        return f"no usable text ({len(body)} characters)"
    if len(item.text) > MAX_TEXT:
        return f"text of {len(item.text):,} characters is beyond the {MAX_TEXT:,}-character limit"
    if item.published < published_after:
        return f"published {item.published:%Y-%m-%d}, before the window (archive backfill)"
    words = [w.lower() for w in _WORDS.findall(body[:3000])]
    if len(words) >= 20 and sum(w in _ENGLISH for w in words) / len(words) < 0.04:
        return "not English text"
    return ""


def _lead_order(unit: StoryUnit) -> tuple[float, int, int, str]:
    has_figure = int(bool(re.search(r"\d", unit.text)))
    return (-unit.item.source_weight, -has_figure, -min(len(unit.text), 2000), unit.id)


def _story_id(unit: StoryUnit) -> str:
    return "s-" + hashlib.sha1(f"{unit.item.source_id}|{unit.item.canonical_url}|{unit.title}".encode()).hexdigest()[:12]


def _centroid(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    mean = vectors.mean(axis=0)
    return (mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32)


def build_stories(items: Sequence[ItemView], ledger: Sequence[LedgerEntry], embedder: Embedder, *,
                  now: datetime, published_after: datetime,
                  settings: EngineSettings = EngineSettings()) -> DayStories:
    left_out: list[LeftOut] = []
    units: list[StoryUnit] = []
    for item in items:
        reason = unfit(item, published_after)
        if reason:
            left_out.append(LeftOut(id=f"item:{item.id}", title=item.title, source=item.source_name, reason=reason))
            continue
        units.extend(split_item(item))
    counts: dict[str, int] = {"items": len(items), "items_usable": len(items) - len(left_out), "units": len(units)}
    if not units:
        counts.update({f"merged_{layer}": 0 for layer in LAYERS} | {"new": 0, "update": 0, "repeat": 0})
        return DayStories((), tuple(left_out), counts, getattr(embedder, "name", "none"))
    vectors = embedder.encode([f"{u.title}. {u.text[:EMBED_CHARS]}" for u in units])
    groups = dedup(units, vectors, settings.dedup)
    counts.update({f"merged_{layer}": n for layer, n in groups.merges.items()})
    by_id: dict[str, Story] = {}
    for members in groups.clusters():
        ordered = sorted(members, key=lambda i: _lead_order(units[i]))
        story_units = tuple(units[i] for i in ordered)
        vector = _centroid(vectors[ordered])
        text = "\n".join(u.text for u in story_units)
        urls = frozenset().union(*(url_keys(u) for u in story_units))
        match = classify(text, urls, frozenset(u.item.id for u in story_units), vector, ledger, settings.ledger)
        story_id = match.entry.id if match.entry else _story_id(story_units[0])
        if story_id in by_id:  # two groups continue one ledger story: they are one story
            earlier = by_id[story_id]
            story_units = earlier.units + story_units
            vector = _centroid(np.stack([earlier.vector, vector]))  # type: ignore[list-item]
        story = Story(id=story_id, units=story_units, status=match.status, previous=match.entry,
                      reasons=(match.reason,), vector=vector)
        total, why = score(story, now, settings.rank)
        by_id[story_id] = Story(id=story.id, units=story.units, status=story.status, previous=story.previous,
                                score=total, reasons=(match.reason, *why), vector=vector)
    stories = sorted(by_id.values(), key=lambda s: (-s.score, s.id))
    for status in ("new", "update", "repeat"):
        counts[status] = sum(s.status == status for s in stories)
    return DayStories(tuple(stories), tuple(left_out), counts, getattr(embedder, "name", type(embedder).__name__))
