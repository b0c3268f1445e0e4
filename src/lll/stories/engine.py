"""From a window of stored items to the day's ranked stories.

items → filter (reasons kept) → story units → vectors → dedup layers → ledger
(new / update / repeat) → rank. Pure apart from the embedder it is given.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from lll.kinds import source_kind
from lll.stories.dedup import LAYERS, DedupSettings, dedup, hub_links, url_keys
from lll.stories.embed import Embedder
from lll.stories.entities import shared, specific_in_order
from lll.stories.ledger import LedgerSettings, Match, classify, classify_all
from lll.stories.model import LedgerEntry, LeftOut, Story
from lll.stories.rank import RankSettings, score
from lll.stories.units import ItemView, StoryUnit, split_item

# What the newsletter is about, as text to compare stories with (relevance to the field).
FIELD_QUERIES = {
    "AI": "artificial intelligence: AI models, large language models, machine learning research, "
          "AI labs and AI products, agents, benchmarks, GPUs and AI compute, AI safety and policy",
}
# Words that put a general-interest item (Hacker News) inside the field.
FIELD_WORDS = {
    "AI": re.compile(r"\b(AI|AGI|LLMs?|GPT[-\w.]*|Claude|Gemini|Gemma|Llama|Grok|Mistral|DeepSeek|Qwen|OpenAI|"
                     r"Anthropic|DeepMind|Copilot|Cursor|Codex|agents?|agentic|models?|neural|machine learning|"
                     r"inference|GPUs?|tokens?|transformers?|chatbots?|prompts?|embeddings?|fine-tun\w*|"
                     r"vibe cod\w*|artificial intelligence|diffusion|RAG|MCP)\b", re.I),
}
OFF_TOPIC = -1.0  # the relevance of a story outside the field
MAX_TEXT = 200_000


def off_topic(units: Sequence[StoryUnit], field: str) -> bool:
    """A story told only by general-interest sources and naming nothing of the field."""
    pattern = FIELD_WORDS.get(field)
    if pattern is None or not all(source_kind(u.item.source_kind).general_interest for u in units):
        return False
    return not any(pattern.search(u.content) for u in units)


def field_query(name: str) -> str:
    """The text that stands for a field; a field LLL has no text for stands for itself."""
    return FIELD_QUERIES.get(name, name)
EMBED_CHARS = 320  # the opening of a unit says what it is about; MiniLM time grows with every token
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
    """Why an item cannot feed a story ("" when it can). A lab's post whose feed carries only
    its title is still a story: it is told as a one-sentence brief."""
    body = item.text.strip() or item.title.strip()
    titled = source_kind(item.source_kind).primary and len(item.title.split()) >= 3
    if len(body) < MIN_TEXT and not titled:
        return f"no usable text ({len(body)} characters)"
    if len(item.text) > MAX_TEXT:
        return f"text of {len(item.text):,} characters is beyond the {MAX_TEXT:,}-character limit"
    if item.published < published_after:
        return f"published {item.published:%Y-%m-%d}, before the window (archive backfill)"
    if not english(item.title if source_kind(item.source_kind).title_only else body):
        return "not English text"
    return ""


_URL = re.compile(r"https?://\S+")


def english(text: str) -> bool:
    """Roughly: mostly Latin letters and, when long enough, some common English words."""
    sample = _URL.sub(" ", text[:3000])
    letters = [c for c in sample if c.isalpha()]
    foreign = sum(not ("a" <= c.lower() <= "z" or "\u00c0" <= c <= "\u024f") for c in letters)
    if letters and foreign > 0.3 * len(letters):
        return False
    words = [w.lower() for w in _WORDS.findall(sample)]
    return len(words) < 20 or sum(w in _ENGLISH for w in words) / len(words) >= 0.04


def _item_order(item: ItemView) -> tuple[datetime, int, str, str, str]:
    """The order items are read in: first seen, then what identifies them in their source.
    Never the database id, which follows the order concurrent fetches were committed in."""
    return (item.first_seen, item.source_id, item.canonical_url, item.url, item.title)


def _lead_order(unit: StoryUnit) -> tuple[int, float, int, int, int, str, str, int]:
    """The unit that leads a story: the one who made the news (a lab's own post) before those
    who report on it, then source weight, figures and length."""
    primary = int(source_kind(unit.item.source_kind).primary and unit.kind == "story")
    has_figure = int(bool(re.search(r"\d", unit.text)))
    return (-primary, -unit.item.source_weight, -has_figure, -min(len(unit.text), 2000), unit.item.source_id,
            unit.item.canonical_url, unit.item.title, unit.start)


# A source saying that its story continues an earlier one: "the architecture we described on
# April 8", "Yesterday we passed on Z.ai's promise", "announced last week".
REFERS_BACK = re.compile(
    r"\b(?:we|I)\s+(?:first\s+)?(?:described|announced|previewed|introduced|"
    r"reported|covered|promised|teased|wrote about|discussed|passed on)\b[^.]{0,60}?\b(?:on (?:Mon|Tues|Wednes|"
    r"Thurs|Fri|Satur|Sun)day|on (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{1,2}|last (?:week|month)|"
    r"earlier this (?:week|month)|yesterday)\b|\bYesterday (?:we|I) (?:passed on|reported|described|covered)\b")


def _story_entities(story_units: Sequence[StoryUnit]) -> frozenset[str]:
    """The specific names a story's titles give: what the story is about, not what it mentions."""
    return frozenset().union(*(title_names(unit.title) for unit in story_units[:6]))


def _entry_entities(entry: LedgerEntry) -> frozenset[str]:
    return title_names(entry.title)


def title_names(title: str) -> frozenset[str]:
    """The name a title is about: its first specific name, a maker's own name left out
    ("Anthropic launched Claude Opus 4.8, an update over Opus 4.7" is about Claude Opus 4.8)."""
    names = [n for n in specific_in_order(title) if not _organisation(n)]
    return frozenset(names[:1])


_ORGANISATION = re.compile(r"\b(?:ai|labs?|inc|research|institute|university|foundation|news|blog)$")


def _organisation(name: str) -> bool:
    """"Mistral AI", "Scale AI", "Anthropic Research": a maker, in many of its stories; not one story."""
    return bool(_ORGANISATION.search(name))


def continues(mine: frozenset[str], entry_names: frozenset[str], df: dict[str, int], rare: int) -> str:
    """The name that makes a story the continuation of a ledger story — one both name that few
    other ledger stories do ("GPT-5.5 Instant", not "agents") — or "" when none does."""
    # the same name in both; a part of a name only when it carries a version ("Opus 4.8" in
    # "Claude Opus 4.8"), not a product family ("Google AI Edge" in "Google AI Edge Gallery")
    both = (mine & entry_names) | {n for n in shared(mine, entry_names) if any(c.isdigit() for c in n)}
    specific = sorted(n for n in both if df.get(n, 0) <= rare and (" " in n or any(c.isdigit() for c in n)))
    return specific[0] if specific else ""


@dataclass(frozen=True)
class LedgerNames:
    """The specific names of each ledger story's title, how many stories name each, and which."""

    names: dict[str, frozenset[str]]
    df: dict[str, int]
    by_name: dict[str, tuple[LedgerEntry, ...]]
    rare: int

    @classmethod
    def of(cls, ledger: Sequence[LedgerEntry]) -> LedgerNames:
        names = {entry.id: _entry_entities(entry) for entry in ledger}
        by_name: dict[str, list[LedgerEntry]] = {}
        for entry in ledger:
            for name in names[entry.id]:
                by_name.setdefault(name, []).append(entry)
        return cls(names, {n: len(e) for n, e in by_name.items()}, {n: tuple(e) for n, e in by_name.items()},
                   max(2, len(ledger) // 150))  # "few other ledger stories"


def _continuation(match: Match, story_units: Sequence[StoryUnit], vector: NDArray[np.float32] | None,
                  text: str, ledger: LedgerNames, settings: LedgerSettings) -> Match:
    """A ledger match by similarity alone becomes "new" unless the two name the same specific
    thing: a shared topic is not a continuing story, and a callback to it would be false. When
    the closest story names nothing of it, a close one that does (the same launch) is taken."""
    if match.entry is None or "similar (" not in match.reason:
        return match
    mine = _story_entities(story_units)
    name = continues(mine, ledger.names.get(match.entry.id, frozenset()), ledger.df, ledger.rare)
    if name:
        return replace(match, reason=f"{match.reason} (both name {name})")
    back = next((m for u in story_units for m in [REFERS_BACK.search(u.text)] if m), None)
    if back is not None:
        return replace(match, reason=f"{match.reason} (the source refers back: “{back.group(0)}”)")
    if vector is not None:
        others = {e.id: e for n in sorted(mine) for e in ledger.by_name.get(n, ()) if e is not match.entry}
        scored = sorted(((float(e.vector @ vector), e.id) for e in others.values() if e.vector is not None
                         and continues(mine, ledger.names[e.id], ledger.df, ledger.rare)), reverse=True)
        for similarity, entry_id in scored:
            found = classify(text, frozenset(), frozenset(u.item.id for u in story_units), vector,
                             [others[entry_id]], settings)
            if found.entry is not None:
                named = continues(mine, ledger.names[entry_id], ledger.df, ledger.rare)
                return replace(found, reason=f"{found.reason} (both name {named}; closer at {similarity:.2f} "
                                             f"than the stories that name nothing of it)")
    return Match(None, "new", match.similarity,
                 f"{match.reason} but names nothing of it: a shared topic, not the same story")


def _story_id(unit: StoryUnit) -> str:
    key = f"{unit.item.source_id}|{unit.item.canonical_url}|{unit.title}"
    return "s-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def _centroid(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    mean: NDArray[np.float32] = vectors.mean(axis=0)
    return (mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32)


def _ledger_keepers(grouped: Sequence[tuple[tuple[StoryUnit, ...], Match]]) -> dict[str, int]:
    """For each ledger story that groups of the day continue, the group that keeps its id: the
    closest one (then the one whose own id sorts first). Another group continuing it gets an id of
    its own. Never the first in unit order: that follows the database ids, i.e. fetch order."""
    best: dict[str, tuple[tuple[float, str], int]] = {}
    for n, (story_units, match) in enumerate(grouped):
        if match.entry is None:
            continue
        key = (-match.similarity, _story_id(story_units[0]))
        if match.entry.id not in best or key < best[match.entry.id][0]:
            best[match.entry.id] = (key, n)
    return {entry: n for entry, (_key, n) in best.items()}


def build_stories(items: Sequence[ItemView], ledger: Sequence[LedgerEntry], embedder: Embedder, *,
                  now: datetime, published_after: datetime, field: str = "AI",
                  settings: EngineSettings = EngineSettings()) -> DayStories:
    left_out: list[LeftOut] = []
    units: list[StoryUnit] = []
    for item in sorted(items, key=_item_order):
        reason = unfit(item, published_after)
        if reason:
            left_out.append(LeftOut(id=f"item:{item.id}", title=item.title, source=item.source_name, reason=reason))
            continue
        units.extend(split_item(item))
    counts: dict[str, int] = {"items": len(items), "items_usable": len(items) - len(left_out), "units": len(units)}
    if not units:
        counts.update({f"merged_{layer}": 0 for layer in LAYERS} | {"new": 0, "update": 0, "repeat": 0})
        return DayStories((), tuple(left_out), counts, getattr(embedder, "name", "none"))
    encoded = embedder.encode([u.content[:EMBED_CHARS] for u in units] + [field_query(field)])
    vectors, field_vector = encoded[:-1], encoded[-1]
    hubs = hub_links(units)
    groups = dedup(units, vectors, settings.dedup, hubs)
    names = LedgerNames.of(ledger)
    counts.update({f"merged_{layer}": n for layer, n in groups.merges.items()})
    shaped = []
    for members in groups.clusters():
        ordered = sorted(members, key=lambda i: _lead_order(units[i]))
        story_units = tuple(units[i] for i in ordered)
        vector = _centroid(vectors[ordered])
        text = "\n".join(u.content for u in story_units)
        urls: frozenset[str] = frozenset().union(*(url_keys(u, hubs) for u in story_units))
        shaped.append((story_units, text, urls, frozenset(u.item.id for u in story_units), vector))
    matches = classify_all([(text, urls, ids, vector) for _su, text, urls, ids, vector in shaped], ledger,
                           settings.ledger)
    grouped = [(su, vector, urls, _continuation(match, su, vector, text, names, settings.ledger))
               for (su, text, urls, _i, vector), match in zip(shaped, matches, strict=True)]
    keepers = _ledger_keepers([(units_, match) for units_, _, _, match in grouped])
    by_id: dict[str, Story] = {}
    for n, (story_units, vector, urls, match) in enumerate(grouped):
        keeps = match.entry is not None and keepers[match.entry.id] == n
        story_id = match.entry.id if match.entry is not None and keeps else _story_id(story_units[0])
        relevance = OFF_TOPIC if off_topic(story_units, field) else float(vector @ field_vector)
        story = Story(id=story_id, units=story_units, status=match.status, previous=match.entry,
                      reasons=(match.reason,), vector=vector, relevance=relevance, urls=urls)
        total, why = score(story, now, settings.rank)
        by_id[story_id] = replace(story, score=total, reasons=(match.reason, *why))
    stories = sorted(by_id.values(), key=lambda s: (-s.score, s.id))
    for status in ("new", "update", "repeat"):
        counts[status] = sum(s.status == status for s in stories)
    return DayStories(tuple(stories), tuple(left_out), counts, getattr(embedder, "name", type(embedder).__name__))
