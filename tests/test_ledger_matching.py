"""The vectorised ledger matching gives exactly the matches of the scan it replaced.

The reference below is the per-story scan ``classify`` used to be (the whole ledger walked
in Python, every ledger vector stacked again for every story). The ledger and the day are
shaped like real ones: 384-dimension unit vectors around a few hundred topics, similarities
spread across the follow-up threshold, entries without a vector, stories already told,
links shared between days, the same items seen again, figures and words that decide
update or repeat, and exact ties (the same vector in two entries).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from lll.stories.ledger import LedgerSettings, Match, classify, classify_all, novelty
from lll.stories.model import LedgerEntry

WORDS = ("model release benchmark agents inference training dataset safety policy compute chips "
         "funding research paper open weights reasoning coding vision speech robotics evaluation").split()

DEFAULT = LedgerSettings()


def reference(text: str, urls: frozenset[str], item_ids: frozenset[int], vector: NDArray[np.float32] | None,
              ledger: Sequence[LedgerEntry], settings: LedgerSettings = DEFAULT) -> Match:
    """The scan ``classify`` was before it was vectorised (kept here as the oracle)."""
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
            close = [k for k in np.argsort(-sims, kind="stable") if float(sims[k]) >= settings.link_cosine]
            told = [k for k in close if candidates[k].told_in]
            if close:
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


def _unit(v: NDArray[np.float64]) -> NDArray[np.float32]:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _text(rng: random.Random, topic: int) -> str:
    words = rng.sample(WORDS, 6) + [f"topic{topic}"]
    figures = [str(rng.choice([3, 7, 12, 1507, 83])) for _ in range(rng.randint(0, 2))]
    return " ".join(words + figures)


def day(ledger_size: int, groups: int, seed: int = 7) -> tuple[list[LedgerEntry], list[tuple[
        str, frozenset[str], frozenset[int], NDArray[np.float32]]]]:
    """A ledger of ``ledger_size`` stories and a day of ``groups`` stories, as real ones are shaped."""
    rng, gen = random.Random(seed), np.random.default_rng(seed)
    topics = max(8, ledger_size // 6)
    centres = gen.normal(size=(topics, 384))
    ledger: list[LedgerEntry] = []
    for n in range(ledger_size):
        topic = rng.randrange(topics)
        vector = None if rng.random() < 0.05 else _unit(centres[topic] + gen.normal(size=384) * rng.uniform(0.4, 1.6))
        if vector is not None and ledger and rng.random() < 0.03:  # the same vector twice: an exact tie
            vector = next((e.vector for e in reversed(ledger) if e.vector is not None), vector)
        told = rng.random() < 0.4
        ledger.append(LedgerEntry(
            id=f"s-{n:06d}", title=f"story {n}", text=_text(rng, topic),
            urls=frozenset({f"https://t{topic}.example/{n}"} | ({f"https://hub.example/{topic}"} if rng.random() < 0.1
                                                              else set())),
            item_ids=frozenset({n * 3, n * 3 + 1}), first_day=f"2026-05-{1 + n % 28:02d}",
            told_in=f"2026-05-{1 + n % 28:02d}" if told else None, vector=vector))
    stories = []
    for g in range(groups):
        topic = rng.randrange(topics)
        vector = _unit(centres[topic] + gen.normal(size=384) * rng.uniform(0.4, 1.8))
        earlier = ledger[rng.randrange(ledger_size)]
        urls: set[str] = {f"https://new.example/{g}"}
        if rng.random() < 0.15:
            urls |= set(earlier.urls)
        if rng.random() < 0.05:
            urls.add(f"https://hub.example/{topic}")
        item_ids = set(earlier.item_ids) if rng.random() < 0.1 else {10_000_000 + g}
        text = earlier.text if rng.random() < 0.2 else _text(rng, topic)
        stories.append((text, frozenset(urls), frozenset(item_ids), vector))
    return ledger, stories


def _same(a: Match, b: Match) -> bool:
    return (a.entry is b.entry and a.status == b.status and a.reason == b.reason
            and abs(a.similarity - b.similarity) < 1e-5)


def test_classify_and_classify_all_match_the_scan_on_a_real_shaped_day() -> None:
    ledger, stories = day(800, 250)
    expected = [reference(t, u, i, v, ledger) for t, u, i, v in stories]
    one_by_one = [classify(t, u, i, v, ledger) for t, u, i, v in stories]
    batched = classify_all(stories, ledger)
    assert all(_same(a, b) for a, b in zip(expected, one_by_one, strict=True))
    assert all(_same(a, b) for a, b in zip(expected, batched, strict=True))
    # the day exercises every branch the criteria have, so a difference would show
    statuses = {m.status for m in expected}
    reasons = " ".join(m.reason for m in expected)
    assert statuses == {"new", "update", "repeat"}
    assert "shares a link with" in reasons and "similar (" in reasons and "same items as" in reasons
    assert "adds little" in reasons


def test_a_told_story_is_preferred_and_a_tie_keeps_ledger_order() -> None:
    v = _unit(np.arange(1.0, 385.0))
    near = _unit(np.arange(1.0, 385.0) + np.linspace(0, 40, 384))
    entries = [LedgerEntry("s-a", "a", "alpha", frozenset(), frozenset({1}), "2026-05-01", vector=v),
               LedgerEntry("s-b", "b", "alpha", frozenset(), frozenset({2}), "2026-05-01", vector=v),
               LedgerEntry("s-c", "c", "alpha", frozenset(), frozenset({3}), "2026-05-01", told_in="2026-05-01",
                           vector=near)]
    assert classify("alpha 12", frozenset(), frozenset({9}), v, entries).entry is entries[2]
    untold = entries[:2]
    assert classify("alpha 12", frozenset(), frozenset({9}), v, untold).entry is entries[0]
    assert classify_all([("alpha 12", frozenset(), frozenset({9}), v)], untold)[0].entry is entries[0]


def test_an_empty_ledger_or_no_vectors_make_every_story_new() -> None:
    v = _unit(np.ones(384))
    assert classify_all([("x", frozenset(), frozenset({1}), v)], [])[0].status == "new"
    blind = [LedgerEntry("s-a", "a", "x", frozenset(), frozenset({1}), "2026-05-01")]
    assert classify("x", frozenset(), frozenset({2}), v, blind).status == "new"
    assert classify_all([], blind) == []
