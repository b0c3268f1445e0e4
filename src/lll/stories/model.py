"""The story stage's frozen data: a story of the day and a story in the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from lll.stories.units import StoryUnit

STATUSES = ("new", "update", "repeat")


@dataclass(frozen=True)
class LedgerEntry:
    """A story the ledger already holds (from earlier days)."""

    id: str
    title: str
    text: str
    urls: frozenset[str]
    item_ids: frozenset[int]
    first_day: str
    told_in: str | None = None
    told_url: str | None = None
    vector: NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Story:
    """One story of the day: its units (lead first), its place in the ledger, its rank."""

    id: str
    units: tuple[StoryUnit, ...]
    status: str
    previous: LedgerEntry | None = None
    score: float = 0.0
    reasons: tuple[str, ...] = ()
    vector: NDArray[np.float32] | None = field(default=None, compare=False, repr=False)
    relevance: float = 1.0  # cosine to the newsletter's field
    urls: frozenset[str] = field(default=frozenset(), compare=False)  # what the ledger matches links on

    @property
    def lead(self) -> StoryUnit:
        return self.units[0]

    @property
    def title(self) -> str:
        return self.lead.title

    @property
    def source_names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for unit in self.units:
            seen.setdefault(unit.item.source_name, None)
        return tuple(seen)

    @property
    def source_ids(self) -> frozenset[int]:
        return frozenset(u.item.source_id for u in self.units)

    @property
    def item_ids(self) -> frozenset[int]:
        return frozenset(u.item.id for u in self.units)


@dataclass(frozen=True)
class LeftOut:
    """A unit or story not told, and why (kept in ``issues/DATE.json``)."""

    id: str
    title: str
    source: str
    reason: str
