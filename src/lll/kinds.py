"""The kinds of source LLL knows, in one table.

Everything that treats one kind of source differently from another reads it here: how a
feed is recognised as that kind, the signals its entries carry, how the writer names what
it put out, whether its stories are held to the field, the caps an issue puts on it. A new
kind is one ``SourceKind`` passed to ``register`` (plus its tests); no stage compares kind
names itself.

The module sits low in the layering (it imports nothing of LLL): parse, stories and write
all read it. Detection and signal readers see feed entries in feedparser's vocabulary
(``lll.parse.fastfeed`` produces the same).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Entry = Mapping[str, Any]
# (feed URL, the feed's first entries) → whether the feed is of this kind.
Detector = Callable[[str, Sequence[Entry]], bool]
# (entry, feed URL, the entry's plain title, its text) → the signals the entry carries.
SignalReader = Callable[[Entry, str, str, str], dict[str, Any]]
DETECT_ENTRIES = 20  # how many of a feed's entries detection looks at
DISCUSSION = "discussion_url"  # the signal of an item's discussion thread, as its feed gave it


@dataclass(frozen=True)
class SourceKind:
    """One kind of source and every way LLL treats it differently.

    ``verb`` introduces the source's own sentences ("Import AI reported:"), ``brief_verb`` a
    one-sentence brief of a post ("Claude Blog published “…”.")."""

    name: str
    detect: Detector | None = None  # None: never detected, only declared (or the fallback)
    signals: SignalReader | None = None
    verb: str = "reported"
    brief_verb: str = "published"
    primary: bool = False  # its own posts are announcements (a lab's blog, a release), not reports
    general_interest: bool = False  # not about the field: a story only it tells must name the field
    title_only: bool = False  # its text is counts and boilerplate: the title is what an item is about
    digest: bool = False  # a post carries many stories: its bullets are headlines, their order ranks them
    spoken: bool = False  # episodes: told from their notes, speakers unlabelled, first person not "wrote"
    fulltext: bool = False  # a summary-only entry may need its article page
    text_prefix: re.Pattern[str] | None = None  # boilerplate its entries' text opens with, dropped
    cap: str = ""  # why a story is left out when an issue holds ``max_arxiv`` of this kind ("": no cap)
    grouped: bool = False  # its stories share a section (a listing's papers are told together)
    forum: str = ""  # where its items' discussions are (their ``DISCUSSION`` signal): "discussion on …"


# --- detection and signals of the built-in kinds -------------------------------------------------

_GITHUB_FEED = re.compile(r"github\.com/([^/]+/[^/]+)/(?:releases|tags)(?:\.atom)?", re.I)
_RELEASE_TAG = re.compile(r"/releases/tag/([^/?#]+)")
# hnrss says "Points: 163 # Comments: 92"; other feeds "163 points, 92 comments".
_HN_POINTS = (re.compile(r"\bPoints:\s*(\d[\d,]*)", re.I),
              re.compile(r"(?<![\w.=/#-])(\d[\d,]*)\s+points?\b", re.I))
_HN_COMMENTS = (re.compile(r"\bComments:\s*(\d[\d,]*)", re.I),
                re.compile(r"(?<![\w.=/#-])(\d[\d,]*)\s+comments?\b", re.I))


def _first_content(entry: Entry) -> str:
    for content in entry.get("content", []):
        if content.get("value"):
            return str(content.get("value"))
    return ""


def _host(feed_url: str) -> str:
    return (urlsplit(feed_url).hostname or "").lower()


def _is_arxiv(feed_url: str, entries: Sequence[Entry]) -> bool:
    return "arxiv.org" in _host(feed_url) or bool(entries) and all("arxiv.org/abs/" in e.get("link", "")
                                                                    for e in entries)


def _is_hn(feed_url: str, entries: Sequence[Entry]) -> bool:
    return _host(feed_url) in {"hnrss.org", "news.ycombinator.com"} or bool(entries) and sum(
        "news.ycombinator.com" in e.get("comments", "") or "on Hacker News" in e.get("summary", "")
        for e in entries) > len(entries) / 2


def _is_github(feed_url: str, entries: Sequence[Entry]) -> bool:
    return bool(_GITHUB_FEED.search(feed_url))


def _is_podcast(feed_url: str, entries: Sequence[Entry]) -> bool:
    # A declared itunes namespace alone is not enough: blog platforms declare it too.
    return any(e.get("podcast_transcript") or any(link.get("rel") == "enclosure" and
               str(link.get("type", "")).startswith("audio") for link in e.get("links", [])) for e in entries)


def _is_newsletter(feed_url: str, entries: Sequence[Entry]) -> bool:
    """Most entries are long posts with many links: a digest."""
    linky = sum(len(_first_content(e)) > 1500 and _first_content(e).count("<a ") >= 4 for e in entries)
    return bool(entries) and linky > len(entries) / 2


def _number(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    """The first labelled count, else the first "N points"-style count."""
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def _hn_signals(entry: Entry, feed_url: str, title: str, text: str) -> dict[str, Any]:
    signals: dict[str, Any] = {}
    points, comments = _number(_HN_POINTS, text), _number(_HN_COMMENTS, text)
    if points is not None:
        signals["points"] = points
    if comments is not None:
        signals["comments"] = comments
    if entry.get("comments"):
        signals[DISCUSSION] = entry["comments"]
    return signals


def _github_signals(entry: Entry, feed_url: str, title: str, text: str) -> dict[str, Any]:
    project = _GITHUB_FEED.search(feed_url)
    tag = _RELEASE_TAG.search(entry.get("link", ""))
    return {"project": project.group(1) if project else "", "version": tag.group(1) if tag else title}


def _arxiv_signals(entry: Entry, feed_url: str, title: str, text: str) -> dict[str, Any]:
    link = entry.get("link", "")
    return {"arxiv_id": link.rsplit("/abs/", 1)[-1] if "/abs/" in link else "",
            "categories": [t.get("term") for t in entry.get("tags", []) if t.get("term")]}


# --- the table -----------------------------------------------------------------------------------

FALLBACK = "feed"  # any RSS/Atom/JSON feed with no special treatment
# In detection order: the first kind whose detector accepts a feed is its kind, else ``FALLBACK``.
KINDS: dict[str, SourceKind] = {k.name: k for k in (
    SourceKind("arxiv", detect=_is_arxiv, signals=_arxiv_signals, verb="published a paper",
               brief_verb="published a paper,",
               text_prefix=re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.I),
               cap="arXiv flood: an issue tells at most {cap} papers (chosen by rank)", grouped=True),
    SourceKind("hn", detect=_is_hn, signals=_hn_signals, verb="pointed to", brief_verb="pointed to",
               general_interest=True, title_only=True, forum="Hacker News", grouped=True),
    SourceKind("github", detect=_is_github, signals=_github_signals, verb="released", brief_verb="released",
               primary=True),
    SourceKind("podcast", detect=_is_podcast, verb="discussed", brief_verb="released an episode,", spoken=True),
    SourceKind("newsletter", detect=_is_newsletter, brief_verb="highlighted", digest=True, fulltext=True),
    SourceKind(FALLBACK, primary=True, fulltext=True),
)}


def register(kind: SourceKind) -> None:
    """Add a kind (detected after those already in the table), or replace one of that name."""
    KINDS[kind.name] = kind


def names() -> tuple[str, ...]:
    """The kinds a source may be declared as."""
    return tuple(KINDS)


def source_kind(name: str) -> SourceKind:
    """The kind of that name; a name the table does not know is treated as nothing special
    (and not as a primary source)."""
    found = KINDS.get(name)
    return found if found is not None else SourceKind(name)


def detect(feed_url: str, entries: Sequence[Entry]) -> str:
    """A feed's kind from its URL and first entries; ``FALLBACK`` when nothing special."""
    first = entries[:DETECT_ENTRIES]
    for kind in KINDS.values():
        if kind.detect is not None and kind.detect(feed_url, first):
            return kind.name
    return FALLBACK


def discussion(signals: Mapping[str, Any]) -> str:
    """The URL of an item's discussion thread, as its fetched feed recorded it ("" when none).

    LLL never fetches the thread; the URL came in the feed, on the item, so an issue may link
    it next to the item it belongs to (``lll.verify`` holds it to exactly that)."""
    url = signals.get(DISCUSSION)
    return url.strip() if isinstance(url, str) and url.strip().startswith(("https://", "http://")) else ""


def signals(name: str, entry: Entry, feed_url: str, title: str, text: str) -> dict[str, Any]:
    """The signals an entry of that kind carries ({} for a kind that reads none)."""
    reader = source_kind(name).signals
    return reader(entry, feed_url, title, text) if reader is not None else {}


__all__ = ["SourceKind", "KINDS", "FALLBACK", "DISCUSSION", "register", "names", "source_kind", "detect",
           "discussion", "signals"]
