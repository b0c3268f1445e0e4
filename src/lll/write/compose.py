"""The strong model's part: the issue composed from the plan and the fact cards only.

``compose_input`` is all the strong model sees: the plan's skeleton (lede, sections in
order, clocks), and for each story its card, its sources' names and URLs, and its
callback to an earlier issue. Stories get short ids (``s1``…) so that the model cannot
mangle them. ``assemble`` maps the structured reply onto the same ``Draft`` the offline
writer makes, so that the same verifier runs on it; whatever the reply lacks (a story,
a clock, a heading) comes from the offline writer's draft of the same plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, Field

from lll.kinds import source_kind
from lll.stories.model import Story
from lll.text import long_date
from lll.verify.claims import figure_keys, links, strip_links
from lll.write.facts import FactCard
from lll.write.model import Citation, ClockEntry, Draft, Paragraph, Section, Sentence
from lll.write.offline import IssueLink, section_of, thread_of, with_short_note
from lll.write.plan import Plan

ROLES = {"report": "source", "analysis": "analysis", "callback": "callback"}


class ReplySentence(BaseModel):
    text: str = Field(description="one sentence of Markdown; links as [text](url)")
    kind: str = Field(default="report", description="report | analysis | callback")


class ReplyParagraph(BaseModel):
    story: str = Field(description="the story's id, e.g. s3")
    sentences: list[ReplySentence]


class ReplySection(BaseModel):
    heading: str
    paragraphs: list[ReplyParagraph]


class ReplyClock(BaseModel):
    story: str
    heading: str
    sentences: list[ReplySentence]


class ComposeReply(BaseModel):
    """The strong model's answer (the JSON schema it is given)."""

    lede: str = Field(description="one sentence, at most 25 words, no link")
    sections: list[ReplySection]
    clocks: list[ReplyClock] = Field(default_factory=list)


@dataclass
class StoryRef:
    alias: str
    story: Story
    sources: list[tuple[str, str]]  # (name, url)
    callback: tuple[str, str] | None  # (earlier issue date, its URL)

    @property
    def lead(self) -> Citation:
        unit = self.story.lead
        return Citation(url=unit.item.url, source=unit.item.source_name, item_id=unit.item.id)

    def citation(self, url: str) -> Citation | None:
        for unit in self.story.units:
            if unit.item.url == url:
                return Citation(url=url, source=unit.item.source_name, item_id=unit.item.id)
        for unit in self.story.units:  # a discussion thread cites the item the feed recorded it on
            if thread_of(unit) == url:
                return Citation(url=unit.item.url, source=unit.item.source_name, item_id=unit.item.id)
        if self.callback and url == self.callback[1]:
            return Citation(url=url, source="this newsletter", issue_date=self.callback[0])
        return None


@dataclass
class ComposeContext:
    """The plan's stories by alias, and every link the issue may carry."""

    refs: dict[str, StoryRef] = field(default_factory=dict)
    by_story: dict[str, StoryRef] = field(default_factory=dict)
    allowed: set[str] = field(default_factory=set)


def build_context(plan: Plan, issue_link: IssueLink) -> ComposeContext:
    ctx = ComposeContext()
    stories = ([plan.lede] if plan.lede else []) + [s for sec in plan.sections for s in sec] + \
        [c.story for c in plan.clocks]
    for story in stories:
        if story.id in ctx.by_story:
            continue
        sources = list(dict.fromkeys((u.item.source_name, u.item.url) for u in story.units))[:4]
        callback = None
        if story.status == "update" and story.previous is not None and story.previous.told_in:
            callback = (story.previous.told_in, issue_link(story.previous.told_in))
        ref = StoryRef(f"s{len(ctx.refs) + 1}", story, sources, callback)
        ctx.refs[ref.alias] = ref
        ctx.by_story[story.id] = ref
        ctx.allowed.update(u.item.url for u in story.units)
        ctx.allowed.update(thread_of(u) for u in story.units if thread_of(u))
        if callback:
            ctx.allowed.add(callback[1])
    for clock in (*plan.due, *plan.running):
        ctx.allowed.update({clock.item_url, clock.opened_url})
    return ctx


def compose_input(plan: Plan, ctx: ComposeContext, cards: dict[str, FactCard], newsletter: str) -> dict[str, Any]:
    def story(ref: StoryRef, previous: Story | None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": ref.alias, "title": ref.story.title, "card": cards[ref.story.id].as_input(),
                               "sources": [_source(ref, n, u) for n, u in ref.sources]}
        if previous is not None and previous.lead.item.id == ref.story.lead.item.id:
            out["same_item"] = True
        if ref.callback:
            out["callback"] = {"date": long_date(ref.callback[0]), "url": ref.callback[1]}
        return out

    sections = []
    for planned in plan.sections:
        told = [s for s in planned if s.id in cards]
        sections.append([story(ctx.by_story[s.id], told[i - 1] if i else None) for i, s in enumerate(told)])
    clocks = [{"story": ctx.by_story[c.story.id].alias, "title": c.story.title,
               "source": {"name": c.unit.item.source_name, "url": c.unit.item.url},
               "sentence": c.finding.sentence, "when": c.finding.phrase, "due": c.finding.due.isoformat(),
               "card": cards[c.story.id].as_input() if c.story.id in cards else None}
              for c in plan.clocks]
    lede = ctx.by_story[plan.lede.id].alias if plan.lede and plan.lede.id in cards else None
    return {"task": "compose", "newsletter": newsletter, "date": plan.date, "long_date": long_date(plan.date),
            "lede_story": lede, "sections": [s for s in sections if s], "clocks": clocks}


def _source(ref: StoryRef, name: str, url: str) -> dict[str, Any]:
    """A story's source as the model sees it; with the discussion thread its feed recorded on
    the item (a Hacker News thread), which the issue may link beside the item."""
    out: dict[str, Any] = {"name": name, "url": url}
    unit = next((u for u in ref.story.units if u.item.url == url and thread_of(u)), None)
    if unit is not None:
        out["discussion"] = {"text": f"discussion on {source_kind(unit.item.source_kind).forum}",
                             "url": thread_of(unit)}
    return out


def clean(text: str) -> str:
    """One line of Markdown: no line breaks, no heading marks."""
    return " ".join(text.replace("\r", " ").split()).lstrip("#> ").strip()


def _sentence(reply: ReplySentence, ref: StoryRef, card: FactCard | None) -> Sentence:
    text = clean(reply.text)
    cited = [c for c in (ref.citation(u) for u in links(text)) if c is not None]
    span = None
    if card is not None:
        keys = figure_keys(strip_links(text))
        hit = next((f for f in card.figures if figure_keys(f.value) & keys), None)
        span = (hit.item_id, hit.start, hit.end) if hit else None
    return Sentence(text, citations=tuple(cited) or (ref.lead,), span=span,
                    role=ROLES.get(reply.kind.strip().lower(), "source"))


def _attributed(sentences: list[Sentence], ref: StoryRef, newsletter: str) -> list[Sentence]:
    """A paragraph names and links its source, and an update links the earlier issue: when the
    model left either out, the offline writer's wording goes first."""
    text = " ".join(s.text for s in sentences)
    out = list(sentences)
    if not any(u in text for _n, u in ref.sources):
        unit = ref.story.lead
        out.insert(0, Sentence(f"[{unit.item.source_name}]({unit.item.url}) reported:", citations=(ref.lead,),
                               role="attribution"))
    if ref.callback and ref.callback[1] not in text:
        day, link = ref.callback
        out.insert(0, Sentence(f"Following up on the story discussed here on [{long_date(day)}]({link}):",
                               citations=(Citation(url=link, source=newsletter, issue_date=day),), role="callback"))
    return out


def ensure_attribution(draft: Draft, ctx: ComposeContext, newsletter: str) -> Draft:
    """Every story paragraph still names and links one of its sources (a repair may have
    taken the link out with the words it fixed)."""
    sections = []
    for section in draft.sections:
        paragraphs = []
        for p in section.paragraphs:
            ref = ctx.by_story.get(p.story_id)
            if p.kind == "story" and ref is not None:
                p = replace(p, sentences=tuple(_attributed(list(p.sentences), ref, newsletter)))
            paragraphs.append(p)
        sections.append(replace(section, paragraphs=tuple(paragraphs)))
    clocks = []
    for c in draft.clocks:
        ref = ctx.by_story.get(c.story_id)
        unit = ref.story.lead if ref else None
        if c.paragraph.kind == "clock" and ref and unit and not any(u in c.paragraph.markdown for _n, u in ref.sources):
            attribution = Sentence(f"[{unit.item.source_name}]({unit.item.url}) noted:", citations=(ref.lead,),
                                   role="attribution")
            c = replace(c, paragraph=replace(c.paragraph, sentences=(attribution, *c.paragraph.sentences)))
        clocks.append(c)
    return replace(draft, sections=tuple(sections), clocks=tuple(clocks))


@dataclass
class Assembly:
    draft: Draft
    from_offline: list[str]  # what the offline writer supplied, and why
    ignored: list[str]


def assemble(plan: Plan, reply: ComposeReply, ctx: ComposeContext, cards: dict[str, FactCard],
             offline: Draft, newsletter: str) -> Assembly:
    """The reply as a ``Draft`` in the plan's order; the offline writer's parts fill the gaps."""
    offline_paragraphs = {p.story_id: p for s in offline.sections for p in s.paragraphs if p.kind == "story"}
    offline_clocks = {c.story_id: c for c in offline.clocks[:len(plan.clocks)]}
    from_offline: list[str] = []
    ignored: list[str] = []
    written: dict[str, ReplyParagraph] = {}
    heading_of: dict[str, str] = {}  # story id -> heading of the reply section that told it
    for section in reply.sections:
        for paragraph in section.paragraphs:
            ref = ctx.refs.get(paragraph.story.strip())
            if ref is None or ref.story.id not in cards:
                ignored.append(f"a paragraph for unknown story {paragraph.story!r}")
                continue
            written.setdefault(ref.story.id, paragraph)
            heading_of.setdefault(ref.story.id, clean(section.heading).rstrip("."))
    sections: list[Section] = []
    for planned in plan.sections:
        paragraphs: list[Paragraph] = []
        for story in planned:
            ref = ctx.by_story[story.id]
            mine = written.get(story.id)
            if mine is not None and any(clean(s.text) for s in mine.sentences):
                sentences = [_sentence(s, ref, cards.get(story.id)) for s in mine.sentences if clean(s.text)]
                paragraphs.append(Paragraph(tuple(_attributed(sentences, ref, newsletter)), story_id=story.id,
                                            title=story.title))
            elif story.id in offline_paragraphs:
                paragraphs.append(offline_paragraphs[story.id])
                from_offline.append(f"story “{story.title[:80]}”: " +
                                    ("no fact card" if story.id not in cards else "the model did not write it"))
        if not paragraphs:
            continue
        heading = next((heading_of[s.id] for s in planned if heading_of.get(s.id)), "")
        sections.append(Section(heading, tuple(paragraphs)) if heading else section_of(tuple(paragraphs)))
    sections += [s for s in offline.sections if s.paragraphs and all(p.kind == "revisit" for p in s.paragraphs)]
    clocks = [_clock(c, reply, ctx, cards, offline_clocks, from_offline) for c in plan.clocks]
    clocks += list(offline.clocks[len(plan.clocks):])  # clocks of earlier issues, listed again
    lede = offline.lede
    if plan.lede is not None and plan.lede.id in cards and clean(reply.lede):
        lede = Paragraph((Sentence(clean(reply.lede), citations=(ctx.by_story[plan.lede.id].lead,), role="source"),),
                         story_id=plan.lede.id, kind="lede")
    draft = replace(offline, lede=lede, sections=tuple(sections), clocks=tuple(c for c in clocks if c), note="")
    return Assembly(with_short_note(draft, plan.short), from_offline, ignored)


def _clock(planned: Any, reply: ComposeReply, ctx: ComposeContext, cards: dict[str, FactCard],
           offline_clocks: dict[str, ClockEntry], from_offline: list[str]) -> ClockEntry | None:
    ref = ctx.by_story[planned.story.id]
    mine = next((c for c in reply.clocks if c.story.strip() == ref.alias), None)
    fallback = offline_clocks.get(planned.story.id)
    if mine is None or not any(clean(s.text) for s in mine.sentences) or not clean(mine.heading):
        from_offline.append(f"clock “{planned.story.title[:80]}”: the model did not write it")
        return fallback
    sentences = [_sentence(s, ref, cards.get(planned.story.id)) for s in mine.sentences if clean(s.text)]
    unit = planned.unit
    if unit.item.url not in " ".join(s.text for s in sentences):
        sentences.insert(0, Sentence(f"[{unit.item.source_name}]({unit.item.url}) noted:", citations=(ref.lead,),
                                     role="attribution"))
    return ClockEntry(heading=clean(mine.heading).rstrip("."), paragraph=Paragraph(tuple(sentences),
                      story_id=planned.story.id, kind="clock"), due=planned.finding.due.isoformat(),
                      phrase=planned.finding.phrase, precision=planned.finding.precision,
                      story_id=planned.story.id, item_id=unit.item.id, sentence=planned.finding.sentence)


def foreign_links(text: str, allowed: set[str]) -> list[str]:
    """Links in ``text`` that are not among the plan's item URLs or earlier-issue links."""
    return [u for u in links(text) if u not in allowed]


_WORD = re.compile(r"[a-z0-9']+")


def overlap(a: str, b: str) -> float:
    """Word overlap (Jaccard) of two sentences, links reduced to their text."""
    x, y = set(_WORD.findall(strip_links(a).lower())), set(_WORD.findall(strip_links(b).lower()))
    return len(x & y) / len(x | y) if x and y else 0.0
