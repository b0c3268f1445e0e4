"""HTML to plain text and links, safely: no script, style or markup survives."""

from __future__ import annotations

import html as html_lib
import re
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import nh3

from lll.records import Link
from lll.urls import PLAIN_URL, canonical_url, is_http_url

BLOCK_TAGS = frozenset(
    "p div section article header footer aside nav main blockquote pre figure figcaption "
    "h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table thead tbody tr hr address details summary".split()
)
DROP_TAGS = frozenset("script style noscript template iframe object embed svg math head title form button".split())
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANKS = re.compile(r"\n\s*\n\s*(\n\s*)+")
# Feed markup LLL stores (``sanitize_html``): no script, no handler, no active URL. The policy
# is drawn so that the text read from it is the text read from feedparser's sanitizer: block
# elements feedparser keeps are kept (it drops <main> and <summary>, so they go here too), and
# the elements whose words LLL's text never holds (script, style, applet, and noscript, form,
# button, svg, math that feedparser keeps but ``html_to_text`` drops) go with their content.
_STORED_TAGS = (frozenset(nh3.ALLOWED_TAGS) - {"summary"}) | {"section", "address"}
_STORED_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "*": {"title", "lang", "dir"}}
_CONTENT_DROPPED = frozenset({"script", "style", "applet", "noscript", "form", "button", "svg", "math"})
_STORED_CLEANER = nh3.Cleaner(tags=set(_STORED_TAGS), clean_content_tags=set(_CONTENT_DROPPED),
                              attributes={k: set(v) for k, v in _STORED_ATTRIBUTES.items()}, link_rel=None,
                              url_schemes={"http", "https", "mailto"})
_MARKUP_HINT = re.compile(r"<[a-zA-Z/!][^>]*>|&[#a-zA-Z0-9]+;")


def looks_like_html(text: str) -> bool:
    return bool(_MARKUP_HINT.search(text or ""))


# The sanitiser's time grows with the square of the nesting depth (200,000 nested <div>s, 2.2 MB:
# minutes). Real markup nests a few dozen deep; deeper tags are dropped (their text kept) first.
MAX_NESTING = 100  # and under libxml2's own limit of 256, past which lxml loses the text
_TAG_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:\s[^<>]*?)?(/?)>")
# The same tags escaped, as they sit in an RSS description or an Atom type="html" element.
ESCAPED_TAG_TOKEN = re.compile(r"&lt;(/?)([A-Za-z][A-Za-z0-9:-]*)(?:\s[^<>]*?)?(/?)&gt;")
_NOT_NESTING = frozenset("area base br col embed hr img input link meta source track wbr "
                         "p li dt dd tr td th option".split())
# The deepest nesting each flattened piece of markup had, for the source's health row (see
# ``lll.parse.feeds.parse_feed``); None when nobody is collecting.
flattened: ContextVar[list[int] | None] = ContextVar("flattened", default=None)


def bound_nesting(markup: str, limit: int = MAX_NESTING,
                  token: re.Pattern[str] = _TAG_TOKEN) -> tuple[str, int]:
    """``markup`` with no element nested deeper than ``limit`` (the deeper tags dropped, their
    text kept), and how deep it was nested where it went past the limit (0 when it did not)."""
    if markup.count("<" if token is _TAG_TOKEN else "&lt;") <= limit:
        return markup, 0
    depth = deepest = 0
    pieces: list[str] = []
    last = 0
    for m in token.finditer(markup):
        if m.group(3) or m.group(2).lower() in _NOT_NESTING:
            continue
        if m.group(1):
            drop = depth > limit
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
            drop = depth > limit
        if drop:
            pieces.append(markup[last:m.start()])
            last = m.end()
    if deepest <= limit:
        return markup, 0
    pieces.append(markup[last:])
    return "".join(pieces), deepest


def sanitize_html(markup: str) -> str:
    """Markup safe to store and to show: formatting, links and images only (nesting bounded first)."""
    bounded, deepest = bound_nesting(markup)
    if deepest:
        notes = flattened.get()
        if notes is not None:
            notes.append(deepest)
    return _STORED_CLEANER.clean(bounded)


def parse_fragment(markup: str) -> lxml.html.HtmlElement | None:
    """Parse an HTML fragment into a ``<div>`` root; None for empty or hopeless input."""
    if not markup or not markup.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        try:
            return lxml.html.fromstring(f"<div>{markup}</div>")
        except (lxml.etree.ParserError, ValueError):
            return None


_LINE_BREAKS = re.compile(r"[\r\n]+")


def _flow(text: str | None, pre: bool) -> str:
    """Text as a browser flows it: a line break in the source is a space (not in <pre>)."""
    if not text:
        return ""
    if pre or ("\n" not in text and "\r" not in text):
        return text
    return _LINE_BREAKS.sub(" ", text)


def _walk(node: lxml.html.HtmlElement, out: list[str], pre: bool = False) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    if tag in DROP_TAGS or not isinstance(node.tag, str):
        out.append(_flow(node.tail, pre))
        return
    inner = pre or tag == "pre"
    block = tag in BLOCK_TAGS
    if block:
        out.append("\n\n" if tag not in ("li", "dt", "dd", "tr") else "\n")
    if tag == "br":
        out.append("\n")
    if tag == "img" and node.get("alt"):
        out.append(node.get("alt", ""))
    out.append(_flow(node.text, inner))
    for child in node:
        _walk(child, out, inner)
    if block:
        out.append("\n\n" if tag not in ("li", "dt", "dd", "tr") else "\n")
    elif tag in ("td", "th"):
        out.append(" ")
    out.append(_flow(node.tail, pre))


def tidy_text(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks, strip each line."""
    lines = [line.strip() for line in _SPACES.sub(" ", text).split("\n")]  # no run crosses a line
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def element_text(root: lxml.html.HtmlElement) -> str:
    out: list[str] = [_flow(root.text, False)]
    for child in root:
        _walk(child, out)
    return tidy_text("".join(out))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: entities decoded, markup and scripts gone,
    paragraphs separated by blank lines. Plain text input comes back tidied."""
    if not looks_like_html(markup):
        return tidy_text(markup or "")
    root = parse_fragment(markup)
    if root is None:
        return tidy_text(html_lib.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return element_text(root)


def extract_links(markup: str, base_url: str = "") -> tuple[Link, ...]:
    """Every distinct http(s) link of a fragment, resolved against ``base_url``, in order."""
    root = parse_fragment(markup) if looks_like_html(markup) else None
    return () if root is None else element_links(root, base_url)


@lru_cache(maxsize=1 << 14)
def _join(base_url: str, href: str) -> str:
    return href if PLAIN_URL.fullmatch(href) else urljoin(base_url, href)


def text_and_links(markup: str, base_url: str = "") -> tuple[str, tuple[Link, ...]]:
    """``html_to_text(markup)`` and ``extract_links(markup, base_url)``, parsing the fragment once."""
    if not looks_like_html(markup):
        return tidy_text(markup or ""), ()
    root = parse_fragment(markup)
    if root is None:
        return tidy_text(html_lib.unescape(re.sub(r"<[^>]*>", " ", markup))), ()
    return element_text(root), element_links(root, base_url)


def element_links(root: lxml.html.HtmlElement, base_url: str = "") -> tuple[Link, ...]:
    seen: set[str] = set()
    links: list[Link] = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        url = _join(base_url, href) if base_url else href
        if not is_http_url(url):
            continue
        key = canonical_url(url)
        if key in seen:
            continue
        seen.add(key)
        links.append(Link(url=url, text=tidy_text(anchor.text_content())[:300]))
    return tuple(links)
