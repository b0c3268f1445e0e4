"""Frozen data passed between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Source:
    """A source the editor follows; ``name`` is the display name used in prose."""

    id: int
    url: str
    name: str
    kind: str = "feed"  # a name in lll.kinds
    weight: float = 1.0
    fulltext: str = ""
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchedBody:
    """What one HTTP exchange returned (after redirects and decompression)."""

    url: str
    final_url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0
    attempts: int = 1
    warnings: tuple[str, ...] = ()  # what was odd but tolerated (e.g. a plain body labelled gzip)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Link:
    """A link found in an item's content: where it points and the words that carry it."""

    url: str
    text: str = ""


@dataclass(frozen=True)
class ParsedItem:
    """One entry of a feed, ready to store.

    ``identity`` is what keeps an item the same item across runs: the canonical
    guid (or link) rather than its position or date, which real feeds change.
    """

    identity: str
    guid: str
    url: str
    canonical_url: str
    title: str
    text: str
    raw: str
    content_hash: str
    author: str = ""
    published: datetime | None = None
    links: tuple[Link, ...] = ()
    signals: dict[str, Any] = field(default_factory=dict)
    needs_fulltext: bool = False
    transcript_url: str = ""
    transcript_type: str = ""
    text_origin: str = "feed"  # feed | article | transcript


# A podcast item's text is its show notes, then this line, then the transcript ("Speaker: words").
TRANSCRIPT_HEADING = "Transcript:"


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its own metadata, its items, and a note when it was ill-formed."""

    title: str
    link: str
    kind: str
    items: tuple[ParsedItem, ...]
    warning: str = ""
