"""An issue's Markdown body → sanitized HTML with per-story anchors, and → plain text.

The body quotes third-party text (feeds, pages, transcripts), so raw HTML in it is
escaped by the Markdown renderer (``html: False``) and the result is sanitized again
with nh3: only a small set of tags, http(s)/mailto links, no scripts, no handlers.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from lll.write.render import DISCLOSURE

ALLOWED_TAGS = {"p", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3",
                "h4", "h5", "h6", "hr", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "p": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
                      "li": {"id"}, "blockquote": {"id"}}
URL_SCHEMES = {"http", "https", "mailto"}
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_WORDS = re.compile(r"[^a-z0-9]+")


def sanitize_html(html: str) -> str:
    """Keep only harmless markup: third-party text must never carry script into a page."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def slug(text: str, limit: int = 60) -> str:
    """``"Quick Hit: GLM-5.1 Weights"`` → ``quick-hit-glm-5-1-weights``, cut at a word."""
    full = _WORDS.sub("-", text.lower()).strip("-")
    if len(full) > limit:
        full = full[:limit + 1].rsplit("-", 1)[0]
    return full or "section"


def normalise(markdown: str) -> str:
    return " ".join(markdown.split())


@dataclass(frozen=True)
class Anchor:
    """A place in an issue that can be linked to: ``{page}#{id}``."""

    id: str
    kind: str  # disclosure | lede | story | heading | paragraph
    story_id: str
    label: str


@dataclass(frozen=True)
class Rendered:
    html: str
    anchors: tuple[Anchor, ...]


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_html(body_markdown: str, stories: Mapping[str, str] | None = None, *,
                lede: str = "") -> Rendered:
    """HTML of an issue body, every paragraph and heading with a stable ``id``.

    ``stories`` maps a paragraph's Markdown (whitespace-normalised) to its story id,
    from ``issues/DATE.json``; a story's first paragraph gets the story id as anchor.
    A paragraph edited by hand falls back to ``p-N``."""
    stories = {normalise(k): v for k, v in (stories or {}).items()}
    lede_key = normalise(lede)
    md = _parser()
    tokens = md.parse(body_markdown)
    used: set[str] = set()
    anchors: list[Anchor] = []

    def unique(base: str) -> str:
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate)
        return candidate

    paragraphs = 0
    for i, token in enumerate(tokens):
        if token.type not in ("paragraph_open", "heading_open") or token.level != 0:
            continue
        inline = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].type == "inline" else None
        content = inline.content if inline is not None else ""
        key = normalise(content)
        if token.type == "heading_open":
            anchor = Anchor(unique(slug(_plain(content))), "heading", "", _plain(content))
        elif key.strip("*_ ") == DISCLOSURE:
            anchor = Anchor(unique("disclosure"), "disclosure", "", DISCLOSURE)
        elif lede_key and key == lede_key and not any(a.kind == "lede" for a in anchors):
            anchor = Anchor(unique("lede"), "lede", stories.get(key, ""), _plain(content)[:120])
        elif key in stories:
            anchor = Anchor(unique(stories[key]), "story", stories[key], _plain(content)[:120])
        else:
            paragraphs += 1
            anchor = Anchor(unique(f"p-{paragraphs}"), "paragraph", "", _plain(content)[:120])
        token.attrSet("id", anchor.id)
        anchors.append(anchor)
    html = md.renderer.render(tokens, md.options, {})
    return Rendered(html=sanitize_html(html), anchors=tuple(anchors))


def _plain(markdown: str) -> str:
    """Inline Markdown → its words: links become their text, emphasis marks go."""
    text = _LINK.sub(r"\1", markdown)
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)
    return " ".join(text.split())


def render_text(body_markdown: str, width: int = 78) -> str:
    """Plain text for the email's first part: headings underlined, links as ``text (url)``."""
    md = _parser()
    tokens = md.parse(body_markdown)
    blocks: list[str] = []
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener: Token = tokens[i - 1]
        text = _inline_text(token)
        if opener.type == "heading_open":
            mark = "=" if opener.tag in ("h1", "h2") else "-"
            blocks.append(f"{text}\n{mark * min(len(text), width)}")
        else:
            prefix = "* " if i >= 2 and tokens[i - 2].type == "list_item_open" else ""
            blocks.append(textwrap.fill(prefix + text, width=width, break_long_words=False,
                                        break_on_hyphens=False, subsequent_indent="  " if prefix else ""))
    return "\n\n".join(blocks).strip() + "\n"


def _inline_text(token: Token) -> str:
    out: list[str] = []
    href = ""
    for child in token.children or []:
        if child.type == "text" or child.type == "code_inline":
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "link_open":
            href = str(child.attrGet("href") or "")
        elif child.type == "link_close" and href:
            out.append(f" ({href})")
            href = ""
    return " ".join("".join(out).split())
