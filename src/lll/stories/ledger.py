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


@dataclass(frozen=True)
class LedgerIndex:
    """The ledger laid out once per day for matching: a URL index and one matrix of vectors.

    ``by_url`` maps a URL to the first entry (in ledger order) that has it; ``rows`` are the
    positions of the entries with a vector, in ledger order, and ``matrix`` holds those vectors."""

    entries: tuple[LedgerEntry, ...]
    by_url: dict[str, int]
    rows: tuple[int, ...]
    matrix: NDArray[np.float32]

    @classmethod
    def of(cls, ledger: Sequence[LedgerEntry]) -> LedgerIndex:
        entries = tuple(ledger)
        by_url: dict[str, int] = {}
        for n, entry in enumerate(entries):
            for url in entry.urls:
                by_url.setdefault(url, n)
        vectors = [(n, e.vector) for n, e in enumerate(entries) if e.vector is not None]
        rows = tuple(n for n, _v in vectors)
        matrix = (np.stack([v for _n, v in vectors]).astype(np.float32) if vectors
                  else np.zeros((0, 0), dtype=np.float32))
        return cls(entries, by_url, rows, matrix)

    def first_sharing(self, urls: frozenset[str]) -> LedgerEntry | None:
        """The first ledger entry that shares a URL with ``urls`` (what a scan in ledger order finds)."""
        hits = [self.by_url[u] for u in urls if u in self.by_url]
        return self.entries[min(hits)] if hits else None


def similarities(index: LedgerIndex, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Cosines of each row of ``vectors`` with every ledger vector: one groups × ledger product.
    Pure; column ``j`` is the entry at ``index.rows[j]``."""
    if not index.rows or vectors.shape[0] == 0:
        return np.zeros((vectors.shape[0], len(index.rows)), dtype=np.float32)
    product: NDArray[np.float32] = (np.asarray(vectors, dtype=np.float32) @ index.matrix.T).astype(np.float32)
    return product


def close_entries(index: LedgerIndex, sims: NDArray[np.float32], threshold: float) -> list[tuple[LedgerEntry, float]]:
    """The ledger entries at least ``threshold`` similar (one row of :func:`similarities`), most
    similar first; equal similarities keep ledger order."""
    hits = np.flatnonzero(sims >= threshold)
    order = hits[np.argsort(-sims[hits], kind="stable")]
    return [(index.entries[index.rows[int(j)]], float(sims[j])) for j in order]


def classify(text: str, urls: frozenset[str], item_ids: frozenset[int], vector: NDArray[np.float32] | None,
             ledger: Sequence[LedgerEntry], settings: LedgerSettings = LedgerSettings()) -> Match:
    """Find the ledger story this one continues (shared URL first, then similarity)."""
    index = LedgerIndex.of(ledger)
    sims = None if vector is None else similarities(index, vector[None, :])[0]
    return judge(text, urls, item_ids, sims, index, settings)


def classify_all(groups: Sequence[tuple[str, frozenset[str], frozenset[int], NDArray[np.float32]]],
                 ledger: Sequence[LedgerEntry], settings: LedgerSettings = LedgerSettings()) -> list[Match]:
    """:func:`classify` for each group of the day (text, urls, item ids, vector), with the ledger
    indexed once and one groups × ledger product: the same matches, at a cost that grows with the work."""
    index = LedgerIndex.of(ledger)
    if not groups:
        return []
    sims = similarities(index, np.stack([vector for _t, _u, _i, vector in groups]))
    return [judge(text, urls, item_ids, sims[n], index, settings)
            for n, (text, urls, item_ids, _vector) in enumerate(groups)]


def judge(text: str, urls: frozenset[str], item_ids: frozenset[int], sims: NDArray[np.float32] | None,
          index: LedgerIndex, settings: LedgerSettings = LedgerSettings()) -> Match:
    """The ledger's criteria, given the story's cosines with the ledger (a row of :func:`similarities`,
    or None without a vector): new, an update of a ledger story, or a repeat of it."""
    best = index.first_sharing(urls)
    best_sim, why = (1.0, "shares a link with") if best is not None else (0.0, "")
    if best is None and sims is not None:
        close = close_entries(index, sims, settings.link_cosine)
        told = [(e, sim) for e, sim in close if e.told_in]
        if close:  # a story the readers were told about is the one to follow up
            best, best_sim = (told or close)[0]
            why = f"similar ({best_sim:.2f}) to"
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
