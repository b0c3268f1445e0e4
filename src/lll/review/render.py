"""An issue's Markdown → the review page's article: sanitized HTML in which every
sentence is its own element, tied to what ``issues/DATE.json`` says it rests on.

Pure: no files, no database. Sentences are matched to the provenance by their exact
Markdown; a sentence the editor changed matches nothing and is shown as edited. The
Markdown renderer escapes raw HTML (``html: False``) and the whole article is
sanitized again with nh3, so third-party words can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from lll.publish.render import ALLOWED_TAGS, URL_SCHEMES
from lll.text import sentence_spans
from lll.verify.claims import strip_links
from lll.verify.verifier import Failure
from lll.write.render import DISCLOSURE

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use marks around a failing claim, made <mark> after rendering
_LINK_TARGET = re.compile(r"\]\([^)\s]+\)")
_ISSUE_HREF = re.compile(r'href="(\d{4}-\d{2}-\d{2})\.md"')  # a callback to an earlier issue
SENTENCE_CLASSES = {"sentence", "flagged", "edited", "source", "attribution", "callback", "analysis"}
_TAGS = ALLOWED_TAGS | {"span", "mark"}
_ATTRIBUTES = {"a": {"href", "title"}, "span": {"id", "tabindex"}, "h2": {"id"}, "h3": {"id"},
               "h4": {"id"}, "p": {"id"}}
_CLASSES = {"span": SENTENCE_CLASSES, "mark": {"claim"}, "h2": {"flagged"}, "h3": {"flagged"},
            "h4": {"flagged"}, "p": {"disclosure", "note"}}


def sanitize(html: str) -> str:
    """The article's own markup only: no script, no handler, http(s)/mailto or relative links,
    each opening in a new tab (so the editor's unsaved text stays where it is)."""
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, allowed_classes=_CLASSES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow", strip_comments=True,
                     set_tag_attribute_values={"a": {"target": "_blank"}})


def known_sentences(issue: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Sentence Markdown → its provenance entry (citations, span, role), from ``DATE.json``."""
    paragraphs = [issue.get("lede") or {}]
    paragraphs += [p for s in issue.get("sections", []) for p in s.get("paragraphs", [])]
    paragraphs += [c.get("paragraph") or {} for c in issue.get("clocks", [])]
    known: dict[str, Mapping[str, Any]] = {}
    for paragraph in paragraphs:
        for sentence in paragraph.get("sentences", []):
            if sentence.get("text"):
                known.setdefault(sentence["text"], sentence)
    return known


def split_known(text: str, known: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any] | None]]:
    """Cut a paragraph into sentences: the longest provenance sentence that starts here,
    else the next sentence by the usual rules (an edit: no provenance)."""
    by_length = sorted(known, key=len, reverse=True)
    out: list[tuple[str, Mapping[str, Any] | None]] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        hit = next((k for k in by_length if text.startswith(k, pos)
                    and (pos + len(k) == end or text[pos + len(k)].isspace())), None)
        if hit is not None:
            out.append((hit, known[hit]))
            pos += len(hit)
            continue
        spans = sentence_spans(text[pos:])
        stop = pos + (spans[0][1] if spans else end - pos)
        out.append((text[pos:stop], None))
        pos = stop
    return out


def closest(markdown: str, known: Mapping[str, Mapping[str, Any]], at_least: float = 0.6) -> Mapping[str, Any] | None:
    """The provenance sentence an edited sentence most resembles (what it was before the edit)."""
    best, score = None, at_least
    for text, entry in known.items():
        if not 0.5 <= len(text) / max(1, len(markdown)) <= 2:
            continue
        matcher = SequenceMatcher(None, markdown, text, autojunk=False)
        if matcher.quick_ratio() >= score and (ratio := matcher.ratio()) >= score:
            best, score = entry, ratio
    return best


@dataclass(frozen=True)
class ShownSentence:
    """One sentence of the article as the page shows it."""

    number: int
    markdown: str
    provenance: Mapping[str, Any] | None  # None: edited, not in DATE.json
    failures: tuple[Failure, ...] = ()
    was: Mapping[str, Any] | None = None  # edited: the provenance sentence it most resembles

    @property
    def id(self) -> str:
        return f"s-{self.number}"

    @property
    def classes(self) -> str:
        role = str(self.provenance.get("role", "source")) if self.provenance else "edited"
        bits = ["sentence", role if role in SENTENCE_CLASSES else "source"]
        if self.failures:
            bits.append("flagged")
        return " ".join(bits)


@dataclass(frozen=True)
class Article:
    html: str
    sentences: tuple[ShownSentence, ...]
    flagged_headings: tuple[str, ...] = ()
    anchors: Mapping[int, str] = field(default_factory=dict)  # index of a failure → id of where it shows


def _carries(sentence: str, failure: Failure) -> bool:
    """Whether a shown sentence is (part of) the one a failure was found in, and holds its claim."""
    mine, theirs = strip_links(sentence).strip(), strip_links(failure.sentence).strip()
    if not mine or not theirs or (mine not in theirs and theirs not in mine):
        return False
    return failure.claim in (sentence if failure.kind == "link" else strip_links(sentence))


def _mark_claims(markdown: str, claims: Iterable[str]) -> str:
    """Put the private-use marks around the first occurrence of each claim that is not
    inside a link's URL."""
    for claim in dict.fromkeys(c for c in claims if c):
        targets = [(m.start(), m.end()) for m in _LINK_TARGET.finditer(markdown)]
        start = markdown.find(claim)
        while start != -1 and any(s <= start < e for s, e in targets):
            start = markdown.find(claim, start + 1)
        if start != -1:
            markdown = f"{markdown[:start]}{_OPEN}{claim}{_CLOSE}{markdown[start + len(claim):]}"
    return markdown


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _assign(sentences: Sequence[str], failures: Sequence[Failure]) -> list[tuple[int, ...]]:
    """For each sentence, the indexes of the failures it shows. A failure whose claim no
    shown sentence carries (the text around it was re-split) goes to the sentences it overlaps."""
    hits: list[list[int]] = [[] for _ in sentences]
    for n, f in enumerate(failures):
        if f.kind == "structure" or f.where.startswith("heading"):
            continue
        carrying = [i for i, s in enumerate(sentences) if _carries(s, f)]
        if not carrying:
            theirs = strip_links(f.sentence)
            carrying = [i for i, s in enumerate(sentences) if strip_links(s).strip() and strip_links(s) in theirs]
        for i in carrying:
            hits[i].append(n)
    return [tuple(h) for h in hits]


def render_article(body: str, known: Mapping[str, Mapping[str, Any]],
                   failures: Sequence[Failure] = ()) -> Article:
    """The article HTML: every paragraph's sentences wrapped (``<span class="sentence" id="s-N">``),
    failing claims in ``<mark>``, failing headings flagged. ``body`` has no front matter."""
    md = _parser()
    tokens = md.parse(body.replace(_OPEN, "").replace(_CLOSE, ""))
    heading_failures = {f.sentence for f in failures if f.where.startswith("heading")}
    paragraphs: list[tuple[Token, list[tuple[str, Mapping[str, Any] | None]]]] = []
    flagged_headings: list[str] = []
    anchors: dict[int, str] = {}
    for i, token in enumerate(tokens):
        if token.type != "inline" or i == 0:
            continue
        opener = tokens[i - 1]
        text = " ".join(line.strip() for line in token.content.splitlines())
        if opener.type == "heading_open" and text in heading_failures:
            hid = f"h-{len(flagged_headings) + 1}"
            opener.attrSet("id", hid)
            opener.attrSet("class", "flagged")
            flagged_headings.append(text)
            anchors.update({n: hid for n, f in enumerate(failures)
                            if f.where.startswith("heading") and f.sentence == text and n not in anchors})
        elif opener.type == "paragraph_open":
            if text.strip("*_ ") == DISCLOSURE or (text.startswith("*") and "short issue" in text.lower()):
                opener.attrSet("class", "disclosure" if DISCLOSURE in text else "note")
            else:
                paragraphs.append((token, split_known(text, known)))
    flat = [markdown for _, parts in paragraphs for markdown, _ in parts]
    hits = iter(_assign(flat, failures))
    shown: list[ShownSentence] = []
    for token, parts in paragraphs:
        html_parts = []
        for markdown, provenance in parts:
            mine = next(hits)
            sentence = ShownSentence(len(shown) + 1, markdown, provenance, tuple(failures[n] for n in mine),
                                     None if provenance is not None else closest(markdown, known))
            shown.append(sentence)
            for n in mine:
                anchors.setdefault(n, sentence.id)
            inner = md.renderInline(_mark_claims(markdown, (failures[n].claim for n in mine)))
            html_parts.append(f'<span class="{sentence.classes}" id="{sentence.id}" tabindex="0">{inner}</span>')
        html_token = Token("html_inline", "", 0)
        html_token.content = " ".join(html_parts)
        token.children = [html_token]
    html = md.renderer.render(tokens, md.options, {})
    html = html.replace(_OPEN, '<mark class="claim">').replace(_CLOSE, "</mark>")
    html = _ISSUE_HREF.sub(r'href="/issues/\1"', sanitize(html))
    return Article(html, tuple(shown), tuple(flagged_headings), anchors)
