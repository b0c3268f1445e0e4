"""Claims in a sentence — figures, dates, quoted phrases, proper names — and
whether a body of evidence supports each. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from lll.text import MONTHS

_FIGURE = re.compile(
    r"(?<![\w.])[$€£]?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>(?:\.\d+)+)?(?:st|nd|rd|th)?(?![\w])"
    r"(?:\s*(?P<pct>%|percent\b|per cent\b))?"
)
_MONTH = "|".join(m[:3] + "(?:" + m[3:] + ")?" for m in MONTHS) + "|Sept"
_DATE_MD = re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b")
_DATE_DM = re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{_MONTH})\b")
_DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_QUOTE = re.compile(r"[\"“]([^\"“”]{3,}?)[\"”]")
_NAME = re.compile(r"(?<![\w'’])(?:[A-Z][\w&'’-]*\w|[a-z]+[A-Z][\w-]*\w|[A-Z])(?![\w])")
_WS = re.compile(r"\s+")
# An inline link with what CommonMark allows around its target: spaces, <angle brackets>, and a
# "double", 'single' or (parenthesised) title. Only for reducing links to their text: which links a
# piece of Markdown *has* is the renderer's parser's answer (``links``).
_LINK = re.compile(r"""\[([^\]]*)\]\(\s*(?:<[^>\n]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)""")
# The parser the renderers use (lll.publish.render, lll.review.render): the same settings, so a link
# it sees is a link every rendering of the issue carries.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@dataclass(frozen=True)
class Claim:
    kind: str  # figure | date | quote | name
    text: str
    key: str


def strip_links(markdown: str) -> str:
    return _LINK.sub(r"\1", markdown)


def links(markdown: str) -> list[str]:
    """Every link target (and image source) in ``markdown``, in order, as the renderer's Markdown
    parser sees them: titles, <angle brackets>, autolinks and reference links included."""
    return list(_links(markdown))


@lru_cache(maxsize=4096)
def _links(markdown: str) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[Token] = list(reversed(_MARKDOWN.parse(markdown)))
    while stack:
        token = stack.pop()
        if token.type == "link_open" and token.attrGet("href"):
            found.append(str(token.attrGet("href")))
        elif token.type == "image" and token.attrGet("src"):
            found.append(str(token.attrGet("src")))
        stack.extend(reversed(token.children or []))
    return tuple(found)


def _month(name: str) -> int:
    lowered = name.lower()[:3]
    return next(i for i, m in enumerate(MONTHS, 1) if m.lower().startswith(lowered))


def figure_keys(text: str) -> set[str]:
    """'1507', '83.1%': numbers as written, commas dropped, percent kept as a mark."""
    keys = set()
    for m in _FIGURE.finditer(text):
        number = m.group("num").replace(",", "") + (m.group("dec") or "")
        keys.add(number)
        if m.group("pct"):
            keys.add(number + "%")
    return keys


def date_keys(text: str) -> set[str]:
    keys = {f"{_month(m.group('m')):02d}-{int(m.group('d')):02d}" for m in _DATE_MD.finditer(text)}
    keys |= {f"{_month(m.group('m')):02d}-{int(m.group('d')):02d}" for m in _DATE_DM.finditer(text)}
    keys |= {f"{m.group('m')}-{m.group('d')}" for m in _DATE_ISO.finditer(text)}
    return keys


def normalise(text: str) -> str:
    # quotation marks of any style are one mark: a quote that nests its source's double quotes
    # as single ones (“… 'Magnifica humanitas'”) still says the source's words
    text = text.replace("’", "'").replace("‘", "'").replace("“", "'").replace("”", "'").replace('"', "'")
    text = text.replace("—", "-").replace("–", "-")
    return _WS.sub(" ", text).strip().lower()


def _date_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for pattern in (_DATE_MD, _DATE_DM):
        spans += [(m.start(), m.end(), f"{_month(m.group('m')):02d}-{int(m.group('d')):02d}")
                  for m in pattern.finditer(text)]
    spans += [(m.start(), m.end(), f"{m.group('m')}-{m.group('d')}") for m in _DATE_ISO.finditer(text)]
    return spans


def claims(sentence: str) -> list[Claim]:
    """Every checkable claim of a sentence (links reduced to their text). A date is one
    claim in whatever spelling: its day, month and year are not also figures or names."""
    plain = strip_links(sentence)
    dates = _date_spans(plain)

    def in_date(m: re.Match[str]) -> bool:
        return any(start <= m.start() and m.end() <= end for start, end, _key in dates)

    found = [Claim("date", plain[s:e], key) for s, e, key in sorted(dates)]
    for m in _FIGURE.finditer(plain):
        if not in_date(m):
            number = m.group("num").replace(",", "") + (m.group("dec") or "")
            found.append(Claim("figure", m.group(0).strip(), number + ("%" if m.group("pct") else "")))
    for m in _QUOTE.finditer(plain):
        quoted = m.group(1).strip().strip(".,;:!?").strip()
        if quoted:
            found.append(Claim("quote", quoted, normalise(quoted)))
    for m in _NAME.finditer(plain):
        word = m.group(0).strip("'’-")
        if word and not word.isdigit() and not in_date(m):
            found.append(Claim("name", word, word.lower().replace("’", "'")))
    return found


@dataclass(frozen=True)
class Evidence:
    """What a paragraph's links lead to: the text of fetched items (or earlier issues)."""

    url: str
    source: str
    text: str
    item_id: int | None = None
    issue_date: str | None = None
    # URLs the fetched feed recorded on these items (a Hacker News thread): LLL did not fetch
    # them, but a paragraph that cites the item may link them; they add no evidence.
    recorded: tuple[str, ...] = ()


class EvidenceIndex:
    """The figures, dates, words and text of a set of evidence, for fast look-ups."""

    def __init__(self, evidence: list[Evidence], extra_names: frozenset[str] = frozenset()) -> None:
        joined = "\n".join(f"{e.source}\n{e.text}" for e in evidence)
        self.text = normalise(joined)
        self.figures = figure_keys(joined)
        self.dates = date_keys(joined)
        compounds = set(re.findall(r"[\w&'-]+", self.text))
        self.words = compounds | {part for word in compounds for part in re.split(r"[-']", word) if part}
        self.names = {w.lower() for name in extra_names for w in re.findall(r"[\w&'’-]+", name)}

    def supports(self, claim: Claim) -> str:
        """"" when supported, else the reason it is not."""
        if claim.kind == "figure":
            return "" if claim.key in self.figures else f"figure {claim.text} is not in the cited items"
        if claim.kind == "date":
            return "" if claim.key in self.dates else f"date {claim.text} is not in the cited items"
        if claim.kind == "quote":
            return "" if claim.key in self.text else f"quoted words “{claim.text}” are not in the cited items"
        key = claim.key.replace("’", "'")
        if key in self.words or key in self.names or key.removesuffix("'s") in self.words:
            return ""
        parts = [p for p in re.split(r"[-']", key) if p]
        if parts and all(p in self.words or p in self.names for p in parts):
            return ""
        return f"name {claim.text} is not in the cited items"
