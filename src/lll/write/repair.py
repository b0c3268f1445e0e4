"""Verify-and-repair for a model's draft, as pure functions over a ``Draft``.

A failing claim (from the verifier, the link guard or the judge) is located at a
``Spot`` — the lede, a heading, or one sentence of one paragraph. ``repair_input`` sends
each spot back to the model with the reasons and the source's words; ``apply_fixes``
puts the answers in. What still fails after the last round goes to ``fall_back``: the
offline writer's sentence for that story when one says the same thing (the source's own
words), else the sentence is dropped; a paragraph left with nothing from its source is
replaced by the offline writer's paragraph, a failing lede or heading by the offline one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, Field

from lll.text import sentence_spans
from lll.verify.claims import strip_links
from lll.verify.verifier import Failure
from lll.write.compose import ComposeContext, clean, foreign_links, overlap
from lll.write.model import ClockEntry, Draft, Paragraph
from lll.write.offline import section_of

SOURCE_CHARS = 1200


@dataclass(frozen=True)
class Spot:
    kind: str  # lede | heading | sentence | clock_heading
    block: int = -1  # section index, or clock index for clock parts
    paragraph: int = -1  # paragraph index in the section; -1 for a clock's paragraph
    sentence: int = -1

    @property
    def in_clock(self) -> bool:
        return self.kind == "clock_heading" or (self.kind == "sentence" and self.paragraph == -1)


@dataclass(frozen=True)
class Problem:
    spot: Spot
    reason: str


class Fix(BaseModel):
    id: str
    text: str = Field(default="", description="the corrected text; empty with drop=true to remove a sentence")
    drop: bool = False


class RepairReply(BaseModel):
    fixes: list[Fix]


def paragraph_at(draft: Draft, spot: Spot) -> Paragraph:
    if spot.paragraph == -1:
        return draft.clocks[spot.block].paragraph
    return draft.sections[spot.block].paragraphs[spot.paragraph]


def text_at(draft: Draft, spot: Spot) -> str:
    if spot.kind == "lede":
        return draft.lede.markdown
    if spot.kind == "heading":
        return draft.sections[spot.block].heading
    if spot.kind == "clock_heading":
        return draft.clocks[spot.block].heading
    return paragraph_at(draft, spot).sentences[spot.sentence].text


def _ordered(draft: Draft) -> list[tuple[int, int]]:
    """(block, paragraph) of every paragraph in the order the verifier numbers them."""
    out = [(i, j) for i, s in enumerate(draft.sections) for j in range(len(s.paragraphs))]
    return out + [(k, -1) for k in range(len(draft.clocks))]


def locate(failure: Failure, draft: Draft) -> list[Spot]:
    """Where a verifier failure sits in the draft."""
    if failure.where == "lede" or failure.reason.startswith("the lede must be"):
        return [Spot("lede")]
    if failure.where.startswith("heading “"):
        text = failure.where[len("heading “"):-1]
        spots = [Spot("heading", i) for i, s in enumerate(draft.sections) if s.heading == text]
        return spots + [Spot("clock_heading", k) for k, c in enumerate(draft.clocks) if c.heading == text]
    if not failure.where.startswith("section "):
        return []
    number = int(failure.where.rsplit(" ", 1)[-1])
    order = _ordered(draft)
    if not 1 <= number <= len(order):
        return []
    block, paragraph = order[number - 1]
    para = draft.clocks[block].paragraph if paragraph == -1 else draft.sections[block].paragraphs[paragraph]
    checked = strip_links(failure.sentence)
    inside = [k for k, s in enumerate(para.sentences)
              if strip_links(s.text) and (strip_links(s.text) in checked or checked in strip_links(s.text))]
    carrying = [k for k in inside if failure.claim in (para.sentences[k].text if failure.kind == "link"
                                                       else strip_links(para.sentences[k].text))]
    return [Spot("sentence", block, paragraph, k) for k in (carrying or inside)]


def guard(draft: Draft, ctx: ComposeContext) -> list[Problem]:
    """Links that are not the plan's item URLs or earlier-issue links."""
    problems = [Problem(Spot("lede"), f"link {u} is not one of the plan's item URLs")
                for u in foreign_links(draft.lede.markdown, ctx.allowed)]
    for block, paragraph in _ordered(draft):
        para = draft.clocks[block].paragraph if paragraph == -1 else draft.sections[block].paragraphs[paragraph]
        for k, sentence in enumerate(para.sentences):
            problems += [Problem(Spot("sentence", block, paragraph, k),
                                 f"link {u} is not one of the plan's item URLs or earlier-issue links")
                         for u in foreign_links(sentence.text, ctx.allowed)]
    return problems


def merge(problems: list[Problem]) -> dict[Spot, list[str]]:
    out: dict[Spot, list[str]] = {}
    for p in problems:
        reasons = out.setdefault(p.spot, [])
        if p.reason not in reasons:
            reasons.append(p.reason)
    return out


def _story_id(draft: Draft, spot: Spot) -> str:
    if spot.kind == "lede":
        return draft.lede.story_id
    if spot.kind == "clock_heading":
        return draft.clocks[spot.block].story_id
    if spot.kind == "heading":
        return ""
    return paragraph_at(draft, spot).story_id


def _closest(text: str, source: str) -> str:
    spans = [source[s:e] for s, e in sentence_spans(source)]
    return max(spans, key=lambda s: overlap(s, text), default="")


def repair_input(draft: Draft, spots: dict[Spot, list[str]],
                 ctx: ComposeContext) -> tuple[dict[str, Any], dict[str, Spot]]:
    items, ids = [], {}
    for n, (spot, reasons) in enumerate(spots.items(), 1):
        rid = f"r{n}"
        text = text_at(draft, spot)
        story_id = _story_id(draft, spot)
        if spot.kind == "heading":
            refs = [ctx.by_story[p.story_id] for p in draft.sections[spot.block].paragraphs
                    if p.story_id in ctx.by_story]
        else:
            refs = [ctx.by_story[story_id]] if story_id in ctx.by_story else []
        source = "\n".join(r.story.lead.text[:SOURCE_CHARS] if spot.kind != "heading" else r.story.title
                           for r in refs)
        item = {"id": rid, "part": spot.kind.replace("_", " "), "text": text, "problems": reasons,
                "stories": [r.story.title for r in refs],
                "source_text": source, "closest_source_sentence": _closest(text, source) if refs else "",
                "allowed_links": sorted({u for r in refs for _n, u in r.sources} |
                                        {r.callback[1] for r in refs if r.callback})}
        items.append(item)
        ids[rid] = spot
    return {"task": "repair", "items": items}, ids


def apply_fixes(draft: Draft, fixes: list[Fix], ids: dict[str, Spot]) -> Draft:
    """Put the model's corrections in; a dropped sentence becomes empty (``compact`` removes it)."""
    for fix in fixes:
        spot = ids.get(fix.id.strip())
        if spot is None:
            continue
        text = "" if fix.drop else clean(fix.text)
        if not text and spot.kind != "sentence":
            continue  # a lede or heading is never left empty: the fallback handles it
        draft = set_text(draft, spot, text)
    return draft


def set_text(draft: Draft, spot: Spot, text: str) -> Draft:
    if spot.kind == "lede":
        sentence = replace(draft.lede.sentences[0], text=text)
        return replace(draft, lede=replace(draft.lede, sentences=(sentence,)))
    if spot.kind == "heading":
        sections = list(draft.sections)
        sections[spot.block] = replace(sections[spot.block], heading=text.rstrip("."))
        return replace(draft, sections=tuple(sections))
    if spot.kind == "clock_heading":
        clocks = list(draft.clocks)
        clocks[spot.block] = replace(clocks[spot.block], heading=text.rstrip("."))
        return replace(draft, clocks=tuple(clocks))
    para = paragraph_at(draft, spot)
    sentences = list(para.sentences)
    sentences[spot.sentence] = replace(sentences[spot.sentence], text=text)
    return put_paragraph(draft, spot, replace(para, sentences=tuple(sentences)))


def put_paragraph(draft: Draft, spot: Spot, paragraph: Paragraph | None) -> Draft:
    """Replace (or with None remove) the paragraph at ``spot``."""
    if spot.paragraph == -1:
        clocks: list[ClockEntry | None] = list(draft.clocks)
        clocks[spot.block] = replace(draft.clocks[spot.block], paragraph=paragraph) if paragraph else None
        return replace(draft, clocks=tuple(c for c in clocks if c is not None))
    sections = list(draft.sections)
    paragraphs: list[Paragraph | None] = list(sections[spot.block].paragraphs)
    paragraphs[spot.paragraph] = paragraph
    sections[spot.block] = replace(sections[spot.block], paragraphs=tuple(p for p in paragraphs if p is not None))
    return replace(draft, sections=tuple(sections))


def compact(draft: Draft) -> Draft:
    """Remove emptied sentences, and paragraphs and sections left empty."""
    sections = []
    for section in draft.sections:
        paragraphs = tuple(replace(p, sentences=tuple(s for s in p.sentences if s.text.strip()))
                           for p in section.paragraphs)
        paragraphs = tuple(p for p in paragraphs if p.sentences)
        if paragraphs:
            sections.append(replace(section, paragraphs=paragraphs))
    clocks = tuple(replace(c, paragraph=replace(c.paragraph, sentences=tuple(s for s in c.paragraph.sentences
                                                                             if s.text.strip())))
                   for c in draft.clocks)
    return replace(draft, sections=tuple(sections), clocks=tuple(c for c in clocks if c.paragraph.sentences))


@dataclass
class Fallbacks:
    """What the offline writer supplied after the model's repairs, for the summary."""

    sentences_from_source: list[str]
    paragraphs_from_offline: list[str]
    dropped: list[str]
    parts_from_offline: list[str]


def fall_back(draft: Draft, spots: dict[Spot, list[str]], offline: Draft,
              plan_clock_ids: list[str]) -> tuple[Draft, Fallbacks]:
    """Each spot still failing: the offline writer's words, or nothing."""
    result = Fallbacks([], [], [], [])
    by_story = {p.story_id: p for s in offline.sections for p in s.paragraphs if p.kind == "story"}
    clocks_by_story = {c.story_id: c for c in offline.clocks[:len(plan_clock_ids)]}
    whole: set[tuple[int, int]] = set()
    for spot, reasons in spots.items():
        if spot.kind == "lede":
            draft = replace(draft, lede=offline.lede)
            result.parts_from_offline.append(f"lede ({reasons[0]})")
        elif spot.kind == "heading" and spot.block < len(draft.sections):
            section = draft.sections[spot.block]
            draft = set_text(draft, spot, section_of(section.paragraphs).heading)
            result.parts_from_offline.append(f"heading “{section.heading}” ({reasons[0]})")
        elif spot.kind == "clock_heading" and spot.block < len(draft.clocks):
            entry = clocks_by_story.get(draft.clocks[spot.block].story_id)
            if entry is not None:
                result.parts_from_offline.append(f"clock heading “{draft.clocks[spot.block].heading}”")
                draft = set_text(draft, spot, entry.heading)
        elif spot.kind == "sentence":
            para = paragraph_at(draft, spot)
            failing = para.sentences[spot.sentence]
            offline_para = (clocks_by_story[para.story_id].paragraph if spot.paragraph == -1 and
                            para.story_id in clocks_by_story else by_story.get(para.story_id))
            present = {s.text for s in para.sentences}
            candidates = [s for s in (offline_para.sentences if offline_para else ()) if s.role == "source"
                          and s.text not in present and overlap(s.text, failing.text) > 0.15]
            if candidates:
                best = max(candidates, key=lambda s: overlap(s.text, failing.text))
                sentences = list(para.sentences)
                sentences[spot.sentence] = best
                draft = put_paragraph(draft, spot, replace(para, sentences=tuple(sentences)))
                result.sentences_from_source.append(failing.text)
            else:
                draft = set_text(draft, spot, "")
                result.dropped.append(failing.text)
            whole.add((spot.block, spot.paragraph))
    # A paragraph with nothing of its source left is the offline writer's paragraph instead.
    for block, paragraph in sorted(whole, reverse=True):
        spot = Spot("sentence", block, paragraph)
        para = paragraph_at(draft, spot)
        if any(s.role == "source" and s.text.strip() for s in para.sentences):
            continue
        if paragraph == -1:
            entry = clocks_by_story.get(para.story_id)
            clocks = list(draft.clocks)
            if entry is not None:
                clocks[block] = entry
            else:
                clocks.pop(block)
            draft = replace(draft, clocks=tuple(clocks))
        else:
            draft = put_paragraph(draft, spot, by_story.get(para.story_id))
        result.paragraphs_from_offline.append(para.story_id)
    return compact(draft), result

