"""Story units: one item is not one story.

A newsletter post carries many stories, each with its own links. ``split_item``
cuts an item by its structure — story-sized list items (the AINews shape),
headings with the paragraphs under them, or paragraphs that open with a bold
title — and keeps each unit's span in the item's text, so provenance can point
at the exact words. Anything else is one unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import lxml.html

from lll.kinds import source_kind
from lll.parse.html import element_text, parse_fragment
from lll.records import Link
from lll.text import sentences
from lll.urls import is_http_url

MIN_UNIT_CHARS = 80
HEADINGS = ("h1", "h2", "h3", "h4")
# A recap section whose bullets are forum threads, not reporting: "AI Reddit Recap", "AI Discords".
_COMMUNITY_SECTION = re.compile(r"\b(reddit|discords?|subreddits?|/r/|forums?|community)\b", re.I)
# A digest's re-run of its own bullets ("Top tweets (by engagement)"): the stories are told above.
_RERUN_SECTION = re.compile(r"^top (tweets|posts|stories)\b", re.I)
# A forum thread's engagement as a recap writes it, right after the thread's title.
ACTIVITY = re.compile(r"\s*\((?:Activity|Score|Upvotes|Engagement):\s*([\d,]+)\)\s*:?", re.I)
# Links that lead nowhere a reader wants: social handles, unsubscribe, sharing.
_NOISE_LINK = ("unsubscribe", "/share", "twitter.com/intent", "mailto:")


@dataclass(frozen=True)
class ItemView:
    """The fields of a stored item that splitting and ranking need."""

    id: int
    source_id: int
    source_name: str
    source_weight: float
    source_kind: str
    url: str
    canonical_url: str
    title: str
    text: str
    raw: str
    published: datetime
    first_seen: datetime
    links: tuple[Link, ...] = ()
    signals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoryUnit:
    """One story told by one item: its words are ``item.text[start:end]``."""

    id: str
    item: ItemView
    title: str
    text: str
    start: int
    end: int
    links: tuple[Link, ...] = ()
    theme: str = ""
    kind: str = "story"  # story | community (a forum thread a digest recaps)
    activity: int = 0  # a forum thread's engagement, when the digest gives it
    theme_index: int = 0  # the digest's n-th theme (its order is the digest's own salience), 0 when none
    theme_part: int = 0   # the unit's place under its theme: 0 opens it, later ones follow it up

    @property
    def source_name(self) -> str:
        return self.item.source_name

    @property
    def content(self) -> str:
        """What the unit is about, for comparing it with others. A Hacker News item's
        text is only its points and rank (the same words for every item): its title is
        what it is about."""
        if source_kind(self.item.source_kind).title_only:
            return self.title
        return f"{self.title}. {self.text}" if self.title and not self.text.startswith(self.title) else self.text


def _top_level_items(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [li for li in root.iter("li") if not any(a.tag == "li" for a in li.iterancestors())]


def _lead_title(element: lxml.html.HtmlElement) -> str:
    """The bold words an element opens with, if it opens with bold words (also inside the
    first paragraph of a list item, the shape of a recapped forum thread)."""
    first = next(iter(element), None)
    if first is not None and first.tag == "p" and not (element.text or "").strip():
        element, first = first, next(iter(first), None)
    if first is not None and first.tag in ("strong", "b") and not (element.text or "").strip():
        return " ".join(first.text_content().split()).rstrip(":").strip()
    return ""


def _section_names(root: lxml.html.HtmlElement) -> dict[lxml.html.HtmlElement, tuple[str, str]]:
    """For each element, the top-level heading (h1/h2) and the nearest heading it sits under."""
    names: dict[lxml.html.HtmlElement, tuple[str, str]] = {}
    top = near = ""
    for el in root.iter():
        if el.tag in ("h1", "h2"):
            text = " ".join(el.text_content().split())
            top = text if el.tag == "h1" or not top else f"{top} / {text}"
            near = text
        elif el.tag in ("h3", "h4"):
            near = " ".join(el.text_content().split())
        names[el] = (top, near)
    return names


def _thread_parts(li: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """A recapped forum thread is its first paragraph; the nested list under it is comments."""
    first = next(iter(li), None)
    if first is not None and first.tag == "p" and not (li.text or "").strip() and li.find("ul") is not None:
        return [first]
    return [li]


def _links(elements: list[lxml.html.HtmlElement]) -> tuple[Link, ...]:
    found: dict[str, Link] = {}
    for element in elements:
        for anchor in element.iter("a"):
            href = (anchor.get("href") or "").strip()
            if is_http_url(href) and not any(n in href for n in _NOISE_LINK) and href not in found:
                found[href] = Link(url=href, text=" ".join(anchor.text_content().split())[:200])
    return tuple(found.values())


Group = tuple[str, list[lxml.html.HtmlElement], str, str]  # title, elements, theme, kind


def _groups(root: lxml.html.HtmlElement) -> list[Group]:
    """(title, elements, theme, kind) for each story-sized part, by the first structure that fits."""
    story_items = [li for li in _top_level_items(root)
                   if len(li.text_content()) >= MIN_UNIT_CHARS and li.find(".//a") is not None]
    if len(story_items) >= 3:
        sections = _section_names(root)
        groups: list[Group] = []
        for li in story_items:
            parent = li.getparent()
            theme_el = parent.getprevious() if parent is not None else None
            theme = _lead_title(theme_el) if theme_el is not None and theme_el.tag == "p" else ""
            top, near = sections.get(li, ("", ""))
            if _RERUN_SECTION.match(theme or near):
                continue
            kind = "community" if _COMMUNITY_SECTION.search(top) else "story"
            groups.append((_lead_title(li), _thread_parts(li), theme or near, kind))
        return groups
    blocks = [el for el in root.iter() if el.tag in HEADINGS or el.tag in ("p", "ul", "ol", "blockquote")
              and not any(a.tag in ("li", "blockquote") for a in el.iterancestors())]
    if sum(el.tag in HEADINGS for el in blocks) >= 2:
        current: list[lxml.html.HtmlElement] = []
        groups, title = [], ""
        for el in blocks:
            if el.tag in HEADINGS:
                if current:
                    groups.append((title, current, "", "story"))
                title, current = " ".join(el.text_content().split()), [el]
            elif current:
                current.append(el)
        if current:
            groups.append((title, current, "", "story"))
        return groups
    leads = [el for el in blocks if el.tag == "p" and _lead_title(el)]
    if len(leads) >= 3:
        groups, current = [], []
        for el in blocks:
            if el in leads:
                if current:
                    groups.append((_lead_title(current[0]), current, "", "story"))
                current = [el]
            elif current:
                current.append(el)
        if current:
            groups.append((_lead_title(current[0]), current, "", "story"))
        return groups
    return []


def _span(text: str, part: str, cursor: int) -> tuple[int, int] | None:
    """Where ``part`` (tidied text of some elements) sits in the item text, from ``cursor`` on."""
    head = part[:60]
    start = text.find(head, cursor)
    if start < 0:
        return None
    tail = part[-40:]
    end = text.find(tail, start + max(0, len(part) - len(tail) - 200))
    end = end + len(tail) if end >= 0 else min(len(text), start + len(part))
    return start, end


def _opening(text: str, limit: int = 12) -> str:
    """A title for a unit that has none: its first sentence, or its first words."""
    first = (sentences(text) or [text])[0]
    cut = first.split()
    return " ".join(cut[:limit]).rstrip(",;:") if len(cut) > limit else first.rstrip(".")


def split_item(item: ItemView) -> list[StoryUnit]:
    """Cut an item into story units (one unit when it has no story structure)."""
    whole = StoryUnit(id=f"{item.id}:0", item=item, title=item.title, text=item.text, start=0,
                      end=len(item.text), links=item.links)
    root = parse_fragment(item.raw) if item.raw and len(item.text) > 2 * MIN_UNIT_CHARS else None
    if root is None:
        return [whole]
    units: list[StoryUnit] = []
    cursor = 0
    for title, elements, theme, kind in _groups(root):
        part = "\n\n".join(t for t in (element_text(el) for el in elements) if t)
        if len(part) < MIN_UNIT_CHARS:
            continue
        span = _span(item.text, part, cursor)
        if span is None:
            continue
        start, end = span
        cursor = end
        text = item.text[start:end]
        activity = ACTIVITY.match(text, len(title)) if title and text.startswith(title) else None
        units.append(StoryUnit(id=f"{item.id}:{len(units) + 1}", item=item, title=title or _opening(part),
                               text=text, start=start, end=end, links=_links(elements),
                               theme=theme, kind=kind,
                               activity=int(activity.group(1).replace(",", "")) if activity else 0))
    return _with_theme_order(units) if len(units) >= 2 else [whole]


def _with_theme_order(units: list[StoryUnit]) -> list[StoryUnit]:
    """Number the digest's themes in its order, and each unit's place under its theme."""
    themes: dict[tuple[str, str], int] = {}  # (kind, theme) → its number among the kind's themes
    per_kind: dict[str, int] = {}
    parts: dict[tuple[str, str], int] = {}
    out = []
    for unit in units:
        if not unit.theme:
            out.append(unit)
            continue
        key = (unit.kind, unit.theme)
        if key not in themes:
            per_kind[unit.kind] = themes[key] = per_kind.get(unit.kind, 0) + 1
        part = parts.get(key, 0)
        parts[key] = part + 1
        out.append(replace(unit, theme_index=themes[key], theme_part=part))
    return out
