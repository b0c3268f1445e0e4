"""Fact cards: what the cheap model extracts from one story, grounded by LLL.

The model reads the story's units (its own sources' words, nothing else) and returns who,
what, figures and dates each with the exact words of the source that state it, and why
it matters. LLL then finds every quoted span in the item's text: a figure or date whose
span is not there, or whose span does not contain it, is dropped from the card. The card
is what the strong model writes from; the verifier still checks everything it writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from lll.stories.model import Story
from lll.stories.units import StoryUnit
from lll.text import sentence_spans
from lll.verify.claims import claims, date_keys, figure_keys, normalise

LEAD_CHARS = 1500   # of the lead unit's text: a story unit is story-sized already
# A story whose lead unit is shorter than this is its own card, made without a call. A card
# call reads the whole text, so in tokens it never pays; in dollars it pays when the strong
# model's input saved outweighs the cheap call, which at list prices (cheap ~1/20 of strong)
# starts near 200 tokens of text, ~900 characters (bench/llm_cost.py measures the effect).
SOURCE_CARD_CHARS = 900
OTHER_CHARS = 400   # of each other source's unit
MAX_UNITS = 3


class SpanFact(BaseModel):
    value: str = Field(description="the figure or date exactly as written, e.g. '83.1%' or 'April 13'")
    source_span: str = Field(description="the source's words that state it, copied character for character")


class FactCardReply(BaseModel):
    """The cheap model's answer (the JSON schema it is given)."""

    who: list[str] = Field(default_factory=list, description="people, companies, products, as the source names them")
    what: str = Field(description="what happened, in one or two plain sentences, using the source's words")
    figures: list[SpanFact] = Field(default_factory=list)
    dates: list[SpanFact] = Field(default_factory=list)
    why_it_matters: str = Field(default="", description="one sentence; no figure, name or date the source lacks")


@dataclass(frozen=True)
class GroundedFact:
    value: str
    span: str
    item_id: int
    start: int
    end: int


@dataclass(frozen=True)
class FactCard:
    story_id: str
    who: tuple[str, ...]
    what: str
    figures: tuple[GroundedFact, ...]
    dates: tuple[GroundedFact, ...]
    why_it_matters: str
    dropped: tuple[str, ...] = ()  # what the model gave that its sources do not show

    def as_input(self) -> dict[str, Any]:
        """The card as the strong model sees it (empty fields left out)."""
        card: dict[str, Any] = {"who": list(self.who), "what": self.what, "why_it_matters": self.why_it_matters,
                                "figures": [{"value": f.value, "source_span": f.span} for f in self.figures],
                                "dates": [{"value": d.value, "source_span": d.span} for d in self.dates]}
        return {k: v for k, v in card.items() if v}


def story_units(story: Story) -> list[StoryUnit]:
    """The lead unit and up to two more, from other sources."""
    chosen = [story.lead]
    for unit in story.units[1:]:
        if len(chosen) >= MAX_UNITS:
            break
        if all(unit.item.source_id != c.item.source_id for c in chosen):
            chosen.append(unit)
    return chosen


def card_input(story: Story) -> dict[str, Any]:
    return {
        "task": "fact_card",
        "title": story.title,
        "sources": [{"name": u.item.source_name, "published": u.item.published.date().isoformat(),
                     "title": u.title, "text": u.text[:LEAD_CHARS if i == 0 else OTHER_CHARS]}
                    for i, u in enumerate(story_units(story))],
    }


def find_span(text: str, span: str) -> tuple[int, int] | None:
    """Where ``span`` is in ``text``: exactly, or with any run of whitespace and curly or
    straight quotes allowed to differ."""
    span = span.strip()
    if len(span) < 3:
        return None
    at = text.find(span)
    if at >= 0:
        return at, at + len(span)
    parts = [re.escape(w) for w in span.split()]
    pattern = r"\s+".join(parts)
    for a, b in (("'", "['’‘]"), ('"', "[\"“”]"), ("’", "['’‘]"), ("“", "[\"“”]"), ("”", "[\"“”]")):
        pattern = pattern.replace(re.escape(a), b)
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else None


def _ground(fact: SpanFact, units: list[StoryUnit], kind: str) -> GroundedFact | str:
    for unit in units:
        where = find_span(unit.text, fact.source_span)
        if where is None:
            continue
        span = unit.text[where[0]:where[1]]
        if kind == "figure":
            keys = figure_keys(fact.value)
            ok = bool(keys) and keys <= figure_keys(span)
        else:
            keys = date_keys(fact.value)
            ok = keys <= date_keys(span) if keys else normalise(fact.value) in normalise(span)
        if not ok:
            return f"{kind} {fact.value!r}: not in its span"
        return GroundedFact(fact.value, span, unit.item.id, unit.start + where[0], unit.start + where[1])
    return f"{kind} {fact.value!r}: span not found in the sources"


def ground_card(story: Story, reply: FactCardReply) -> FactCard:
    """Keep what the sources show; note what they do not."""
    units = story_units(story)
    dropped: list[str] = []
    figures: list[GroundedFact] = []
    dates: list[GroundedFact] = []
    for kind, facts, out in (("figure", reply.figures, figures), ("date", reply.dates, dates)):
        for fact in facts:
            grounded = _ground(fact, units, kind)
            if isinstance(grounded, GroundedFact):
                out.append(grounded)
            else:
                dropped.append(grounded)
    corpus = normalise(" ".join(u.text for u in units) + " " + " ".join(u.item.source_name for u in units))
    who = []
    for name in reply.who:
        if normalise(name) in corpus:
            who.append(name.strip())
        else:
            dropped.append(f"name {name!r}: not in the sources")
    return FactCard(story_id=story.id, who=tuple(dict.fromkeys(who)), what=" ".join(reply.what.split()),
                    figures=tuple(figures), dates=tuple(dates),
                    why_it_matters=" ".join(reply.why_it_matters.split()), dropped=tuple(dropped))


def needs_model_card(story: Story) -> bool:
    return len(story.lead.text.strip()) >= SOURCE_CARD_CHARS


def source_card(story: Story) -> FactCard:
    """The card of a short story, made by LLL from the source's own sentences (no call)."""
    unit = story.lead
    figures: list[GroundedFact] = []
    dates: list[GroundedFact] = []
    for s, e in sentence_spans(unit.text):
        sentence = unit.text[s:e]
        for claim in claims(sentence):
            fact = GroundedFact(claim.text, sentence, unit.item.id, unit.start + s, unit.start + e)
            if claim.kind == "figure":
                figures.append(fact)
            elif claim.kind == "date":
                dates.append(fact)
    return FactCard(story_id=story.id, who=(), what=" ".join(unit.text.split()), figures=tuple(figures[:6]),
                    dates=tuple(dates[:4]), why_it_matters="")
