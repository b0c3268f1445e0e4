"""Duplicate removal in layers, each counted: the same URL, the same text, the
same event. Pure functions over units and their vectors; no I/O.

Units of one item are never merged with each other: a newsletter's bullets were
written as separate stories.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from lll.stories.cluster import NEWSLETTER, ClusterSettings, Doc, cluster_with
from lll.stories.embed import tfidf_vectors
from lll.stories.entities import FIELD_NAMES, GENERIC
from lll.stories.units import StoryUnit
from lll.urls import canonical_url

LAYERS = ("url", "text", "event")
_WORD = re.compile(r"\w+")
_CONTENT_WORD = re.compile(r"[A-Za-z][\w-]{3,}")
#: Below this many characters of text a unit is its title and little else (a title-only post, a
#: Hacker News link): its vector says little, so the event layer wants its words, not only a topic.
SHORT_TEXT = 200


@dataclass(frozen=True)
class DedupSettings:
    text_jaccard: float = 0.6                    # word 5-gram shingles
    event: ClusterSettings = NEWSLETTER          # the streaming clusterer's settings for "same event"


@dataclass
class Groups:
    """Union-find over unit indices that refuses to join two units of one item."""

    units: Sequence[StoryUnit]
    parent: list[int] = field(default_factory=list)
    items: list[set[int]] = field(default_factory=list)
    members: dict[int, list[int]] = field(default_factory=dict)
    merges: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAYERS, 0))

    def __post_init__(self) -> None:
        self.parent = list(range(len(self.units)))
        self.items = [{u.item.id} for u in self.units]
        self.members = {i: [i] for i in range(len(self.units))}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, layer: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb or self.items[ra] & self.items[rb]:
            return False
        self.parent[rb] = ra
        self.items[ra] |= self.items[rb]
        self.members[ra] += self.members.pop(rb)
        self.merges[layer] += 1
        return True

    def clusters(self) -> list[list[int]]:
        return sorted((sorted(m) for m in self.members.values()), key=lambda c: c[0])


SOCIAL = ("https://x.com/", "https://twitter.com/", "https://www.reddit.com/", "https://reddit.com/",
          "https://news.ycombinator.com/", "https://www.youtube.com/", "https://youtube.com/",
          "https://bsky.app/", "https://www.linkedin.com/", "https://linkedin.com/")


def url_keys(unit: StoryUnit, hubs: frozenset[str] = frozenset()) -> set[str]:
    """The canonical URLs a unit is about: its own item's (when it is the whole item)
    and the specific pages it links to — not home pages, not social posts, not the
    ``hubs`` that many units of one item link to (a newsletter's boilerplate)."""
    keys = set()
    if unit.id.endswith(":0") and unit.item.canonical_url:
        keys.add(unit.item.canonical_url)
    for link in unit.links:
        key = canonical_url(link.url)
        path = key.split("/", 3)[3] if key.count("/") >= 3 else ""
        if path and key not in hubs and not key.startswith(SOCIAL):
            keys.add(key)
    return keys


def hub_links(units: Sequence[StoryUnit], limit: int = 3) -> frozenset[str]:
    """Links found in more than ``limit`` units of one item: navigation, not a story's source."""
    counts: dict[tuple[int, str], int] = {}
    for unit in units:
        for key in {canonical_url(link.url) for link in unit.links}:
            counts[(unit.item.id, key)] = counts.get((unit.item.id, key), 0) + 1
    return frozenset(key for (_item, key), n in counts.items() if n > limit)


def merge_same_url(groups: Groups, hubs: frozenset[str] = frozenset()) -> None:
    seen: dict[str, int] = {}
    for i, unit in enumerate(groups.units):
        for key in sorted(url_keys(unit, hubs)):
            if key in seen:
                groups.union(seen[key], i, "url")
            else:
                seen[key] = i


def _shingles(text: str, n: int = 5) -> set[int]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {hash(" ".join(words))} if words else set()
    return {hash(" ".join(words[i:i + n])) for i in range(len(words) - n + 1)}


def merge_same_text(groups: Groups, threshold: float) -> None:
    """Near-identical texts (shingle Jaccard ≥ threshold), found through an inverted index of
    each text's *prefix*: its shingles in one order for all texts (rarest first), the first
    ``n - ⌈threshold · n⌉ + 1`` of its ``n``. Two texts that reach the threshold share at least
    ``⌈threshold · n⌉`` shingles of each, hence one in both prefixes (prefix filtering), so no
    pair is missed; and a shingle that most texts have (a feed's template words) is last in
    every order, indexed by none, so the work follows the near-copies, not the square of the
    day. Each candidate pair is measured exactly, earlier texts in order."""
    sets = [_shingles(u.content) for u in groups.units]
    frequency = Counter(s for shingles in sets for s in shingles)
    index: dict[int, list[int]] = {}
    for i, shingles in enumerate(sets):
        ordered = sorted(shingles, key=lambda s: (frequency[s], s))
        prefix = ordered[: len(ordered) - max(0, math.ceil(threshold * len(ordered) - 1e-9)) + 1]
        candidates: set[int] = set()
        for s in prefix:
            candidates.update(index.get(s, ()))
        for j in sorted(candidates):
            common = len(shingles & sets[j])
            union = len(shingles) + len(sets[j]) - common
            if union and common / union >= threshold:
                groups.union(j, i, "text")
        for s in prefix:
            index.setdefault(s, []).append(i)


def _stems(text: str) -> set[str]:
    return {w.lower().removesuffix("s") for w in _CONTENT_WORD.findall(text)}


def _words_of(unit: StoryUnit) -> set[str]:
    """A unit's own content words: the field's common names and the words that open any title aside."""
    return _stems(unit.content[:600]) - {w.removesuffix("s") for w in FIELD_NAMES | GENERIC}


def _links_to(unit: StoryUnit, other: StoryUnit) -> bool:
    key = other.item.canonical_url
    return bool(key) and any(canonical_url(link.url) == key for link in unit.links)


def corroborates(a: StoryUnit, b: StoryUnit) -> bool:
    """Whether the event layer may join two units of different items that the clusterer put in one
    story. A unit that is little more than a title (a post whose feed has only its title) joins only
    what links to it or uses its own words (two of them, or its one): sharing a topic or a product
    name ("How Claude Code works in large codebases" and a digest's bullet on a Claude Code pricing
    backlash) is not telling the same event. Units with text of their own keep the clusterer's say."""
    if _links_to(a, b) or _links_to(b, a):
        return True
    shorts = [u for u in (a, b) if len(u.text) < SHORT_TEXT]
    if not shorts:
        return True
    for short in shorts:
        other = b if short is a else a
        wanted = _words_of(short)
        if not wanted or len(wanted & _stems(other.content[:1500])) >= min(2, len(wanted)):
            return True
    return False


def merge_same_event(groups: Groups, vectors: NDArray[np.float32],
                     settings: ClusterSettings = NEWSLETTER) -> None:
    """Join the units that the streaming story clusterer (``cluster.cluster_stream``, the
    one ``bench/clustering.py`` measures) puts in one story: MiniLM centroids mixed with
    TF-IDF, in time order, within a window. Units of one item still never merge, and a
    unit joins a story only when it :func:`corroborates` the unit that opened it."""
    units = groups.units
    if len(units) < 2:
        return
    # time order; ties keep the units' own order (never their ids, which follow fetch order)
    order = sorted(range(len(units)), key=lambda i: (units[i].item.published, i))
    docs = [Doc(id=units[i].id, text=units[i].content, time=units[i].item.published,
                source=units[i].item.source_name) for i in order]
    text_vectors = tfidf_vectors([d.text for d in docs]) if settings.text_weight else None
    labels = cluster_with(docs, vectors[order], settings, text_vectors)
    founders: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        unit = order[position]
        opened = founders.setdefault(label, [])
        joined = next((f for f in opened if corroborates(units[f], units[unit])), None)
        if joined is None:
            opened.append(unit)
        else:
            groups.union(joined, unit, "event")


def dedup(units: Sequence[StoryUnit], vectors: NDArray[np.float32],
          settings: DedupSettings = DedupSettings(), hubs: frozenset[str] = frozenset()) -> Groups:
    """Run the three layers in order; the result holds the groups and the merge counts."""
    groups = Groups(units)
    merge_same_url(groups, hubs)
    merge_same_text(groups, settings.text_jaccard)
    merge_same_event(groups, vectors, settings.event)
    return groups
