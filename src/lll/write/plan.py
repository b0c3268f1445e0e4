"""The plan of an issue: what is told, where, and what is left out — decided
before any prose is written, the same for every writer. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from lll.stories.model import LeftOut, Story
from lll.stories.units import StoryUnit
from lll.text import MONTHS


@dataclass(frozen=True)
class ClockFinding:
    """A forward-looking sentence found in a unit, resolved to a due date."""

    sentence: str
    start: int  # in the item's text
    end: int
    phrase: str
    due: date
    precision: str


@dataclass(frozen=True)
class PlannedClock:
    story: Story
    unit: StoryUnit
    finding: ClockFinding


@dataclass(frozen=True)
class DueClock:
    """A clock opened by an earlier issue whose date has come."""

    id: str
    opened_in: str
    opened_url: str
    sentence: str
    phrase: str
    due: str
    item_id: int
    item_url: str
    source: str
    story_id: str
    title: str = ""


@dataclass(frozen=True)
class PlanSettings:
    max_stories: int = 12
    min_score: float = 0.5      # below it a story is not worth the reader's time
    per_source: int = 6
    max_clocks: int = 5
    min_clocks: int = 2
    min_stories: int = 3
    join_cosine: float = 0.45
    section_size: int = 4


@dataclass(frozen=True)
class Plan:
    date: str
    lede: Story | None
    sections: tuple[tuple[Story, ...], ...]
    clocks: tuple[PlannedClock, ...]
    due: tuple[DueClock, ...]
    left_out: tuple[LeftOut, ...]
    short: bool
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    running: tuple[DueClock, ...] = ()  # clocks of earlier issues still running, listed again

    @property
    def told(self) -> tuple[Story, ...]:
        body = tuple(s for section in self.sections for s in section)
        return body + tuple(c.story for c in self.clocks if c.story not in body)


def _cos(a: Story, b: Sequence[Story]) -> float:
    if a.vector is None or not b or any(s.vector is None for s in b):
        return 0.0
    centre = np.mean([s.vector for s in b], axis=0)
    return float(a.vector @ centre / (np.linalg.norm(centre) + 1e-9))


def _choose(stories: Sequence[Story], settings: PlanSettings) -> tuple[list[Story], list[LeftOut]]:
    chosen: list[Story] = []
    left: list[LeftOut] = []
    per_source: dict[str, int] = {}
    for rank, story in enumerate(stories, 1):
        what = dict(id=story.id, title=story.title, source=", ".join(story.source_names))
        if story.status == "repeat":
            told = f" (told on {story.previous.told_in})" if story.previous and story.previous.told_in else ""
            left.append(LeftOut(**what, reason=f"repeat of ledger story {story.previous.id if story.previous else ''}{told}"))
            continue
        if story.score < settings.min_score:
            left.append(LeftOut(**what, reason=f"score {story.score:.2f} is below the bar of {settings.min_score:g}"))
            continue
        lead_source = story.lead.item.source_name
        if per_source.get(lead_source, 0) >= settings.per_source:
            left.append(LeftOut(**what, reason=f"{lead_source} already leads {settings.per_source} stories"))
            continue
        if len(chosen) >= settings.max_stories:
            left.append(LeftOut(**what, reason=f"ranked {rank} (score {story.score:.2f}), below the cut"))
            continue
        chosen.append(story)
        per_source[lead_source] = per_source.get(lead_source, 0) + 1
    return chosen, left


def _group(stories: Sequence[Story], settings: PlanSettings) -> list[list[Story]]:
    """Sections: stories of one item stay together, similar stories join, 2 to 5 sections."""
    if not stories:
        return []
    target = max(2, min(5, math.ceil(len(stories) / 3))) if len(stories) >= 2 else 1
    sections: list[list[Story]] = []
    for story in stories:
        same_item = [s for s in sections if any(story.lead.item.id == o.lead.item.id for o in s)]
        if same_item and len(same_item[0]) < settings.section_size + 1:
            same_item[0].append(story)
            continue
        scored = sorted(((_cos(story, s), i) for i, s in enumerate(sections) if len(s) < settings.section_size),
                        reverse=True)
        if scored and (scored[0][0] >= settings.join_cosine or len(sections) >= target):
            sections[scored[0][1]].append(story)
        elif len(sections) < target or not scored:
            sections.append([story])
        else:
            sections[scored[0][1]].append(story)
    if len(sections) == 1 and len(sections[0]) >= 2:
        half = math.ceil(len(sections[0]) / 2)
        sections = [sections[0][:half], sections[0][half:]]
    return sections


_CALENDAR = frozenset(m.lower() for m in MONTHS) | {"monday", "tuesday", "wednesday", "thursday", "friday",
                                                    "saturday", "sunday", "this", "that", "with", "will", "from"}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z][\w-]{3,}", text)} - _CALENDAR


def same_clock(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Two (due, sentence) pairs that watch the same thing: one date, two shared words."""
    return a[0] == b[0] and len(_words(a[1]) & _words(b[1])) >= 2


def plan_issue(day: str, stories: Sequence[Story], *, find_clocks: Callable[[StoryUnit], list[ClockFinding]],
               due: Sequence[DueClock] = (), left_out: Sequence[LeftOut] = (),
               running: Sequence[DueClock] = (), settings: PlanSettings = PlanSettings()) -> Plan:
    """Choose and arrange the day's stories: the lede, the sections, the clocks. A clock
    already running (opened by an earlier issue) is not opened again; when the day opens
    fewer than ``min_clocks``, the running clocks due soonest fill the watch list."""
    chosen, left = _choose(stories, settings)
    clocks: list[PlannedClock] = []
    open_keys = [(c.due, c.sentence) for c in running]
    for story in [s for s in stories if s.status != "repeat" and s.score >= settings.min_score]:
        if len(clocks) >= settings.max_clocks:
            break
        for finding in find_clocks(story.lead):
            key = (finding.due.isoformat(), finding.sentence)
            if any(same_clock(key, other) for other in open_keys):
                continue
            clocks.append(PlannedClock(story=story, unit=story.lead, finding=finding))
            open_keys.append(key)
            break
    lede = chosen[0] if chosen else None
    clock_ids = {c.story.id for c in clocks}
    body = [s for s in chosen if s.id not in clock_ids or s is lede]
    if lede is not None and lede.id in clock_ids:
        clocks = [c for c in clocks if c.story.id != lede.id]
    left = [entry for entry in left if entry.id not in {c.story.id for c in clocks}]
    short = len(body) < settings.min_stories
    sections = _group(body, settings)
    listed = list(running[: max(0, settings.min_clocks - len(clocks))])
    return Plan(date=day, lede=lede, sections=tuple(tuple(s) for s in sections), clocks=tuple(clocks),
                due=tuple(due), left_out=tuple(left_out) + tuple(left), short=short,
                reasons={s.id: s.reasons for s in stories}, running=tuple(listed))
