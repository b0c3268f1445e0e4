"""The story ledger's decision: is a story of the day new, an update of a story
already in the ledger, or a repeat of it? Pure: no database, no model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lll.stories.cluster import FOLLOWUP_THRESHOLD
from lll.stories.model import LedgerEntry

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


@dataclass(frozen=True)
class LedgerSettings:
    link_cosine: float = FOLLOWUP_THRESHOLD  # a story this close to a ledger story continues it (tuned)
    repeat_novelty: float = 0.35   # below this share of new words (and no new figure): a repeat


@dataclass(frozen=True)
class Match:
    entry: LedgerEntry | None
    status: str
    similarity: float
    reason: str


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def novelty(text: str, earlier: str) -> tuple[float, set[str]]:
    """Share of content words of ``text`` absent from ``earlier``, and its new figures."""
    words = {w.lower() for w in _WORD.findall(text)}
    before = {w.lower() for w in _WORD.findall(earlier)}
    share = len(words - before) / len(words) if words else 0.0
    return share, numbers(text) - numbers(earlier)


def classify(text: str, urls: frozenset[str], item_ids: frozenset[int], vector: NDArray[np.float32] | None,
             ledger: Sequence[LedgerEntry], settings: LedgerSettings = LedgerSettings()) -> Match:
    """Find the ledger story this one continues (shared URL first, then similarity)."""
    best: LedgerEntry | None = None
    best_sim, why = 0.0, ""
    for entry in ledger:
        if urls & entry.urls:
            best, best_sim, why = entry, 1.0, "shares a link with"
            break
    if best is None and vector is not None:
        candidates = [e for e in ledger if e.vector is not None]
        if candidates:
            sims = np.stack([e.vector for e in candidates]) @ vector  # type: ignore[misc]
            close = [k for k in np.argsort(-sims) if float(sims[k]) >= settings.link_cosine]
            told = [k for k in close if candidates[k].told_in]
            if close:  # a story the readers were told about is the one to follow up
                k = int((told or close)[0])
                best, best_sim, why = candidates[k], float(sims[k]), f"similar ({float(sims[k]):.2f}) to"
    if best is None:
        return Match(None, "new", best_sim, "no earlier story like it")
    if item_ids <= best.item_ids:
        return Match(best, "repeat", best_sim, f"same items as ledger story {best.id}")
    share, new_figures = novelty(text, best.text)
    if not new_figures and share < settings.repeat_novelty:
        return Match(best, "repeat", best_sim,
                     f"{why} ledger story {best.id} and adds little ({share:.0%} new words, no new figure)")
    return Match(best, "update", best_sim,
                 f"{why} ledger story {best.id}; adds {share:.0%} new words, {len(new_figures)} new figure(s)")
