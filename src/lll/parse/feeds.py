"""Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to ``ParsedFeed``, with the treatment
each kind of source needs: arXiv abstracts, Hacker News signals, GitHub releases,
podcast transcripts."""

from __future__ import annotations

import calendar
import hashlib
import html as html_lib
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from lll import kinds
from lll.errors import ParseError
from lll.parse.fastfeed import FeedDocument, read_fast
from lll.parse.html import (
    ESCAPED_TAG_TOKEN,
    MAX_NESTING,
    bound_nesting,
    extract_links,
    flattened,
    html_to_text,
    text_and_links,
)
from lll.parse.jsonfeed import looks_like_json_feed, parse_json_feed
from lll.records import Link, ParsedFeed, ParsedItem
from lll.urls import canonical_url, is_http_url
from lll.xmlchars import strip_xml_illegal

SHORT_SUMMARY = 600  # characters: below this, a summary-only item may need its article page
_NON_ARTICLE = re.compile(r"\.(pdf|mp3|mp4|m4a|ogg|wav|zip|gz|png|jpe?g|gif|webp|xml|json)$", re.I)
TRANSCRIPT_PREFERENCE = ("text/vtt", "application/x-subrip", "application/srt", "application/json",
                         "text/plain", "text/html")


def _first(*values: Any) -> str:
    for value in values:
        if value:
            return str(value)
    return ""


def _plain(value: str) -> str:
    """Titles and names: entities decoded, tags removed, one line."""
    return " ".join(html_to_text(strip_xml_illegal(html_lib.unescape(value or ""))).split())


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _body(entry: Any) -> tuple[str, bool]:
    """The richest markup of an entry, and whether it came from a full content element."""
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    if contents:
        return max(contents, key=len), True
    return _first(entry.get("summary"), entry.get("description")), False


def detect_kind(feed_url: str, parsed: Any) -> str:
    """Guess a source's kind from its URL and content (``lll.kinds``); "feed" when nothing special."""
    return kinds.detect(feed_url, parsed.entries)


def _signals(kind: str, entry: Any, feed_url: str, title: str, text: str) -> dict[str, Any]:
    signals = kinds.signals(kind, entry, feed_url, title, text)
    enclosures = [link.get("href") for link in entry.get("links", []) if link.get("rel") == "enclosure"]
    if enclosures:
        signals["enclosures"] = enclosures
    return signals


_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.S | re.I)
_ENTITY = re.compile(rb"""<!ENTITY\s+(%\s+)?([^\s"'>]+)\s+(?:(SYSTEM|PUBLIC)\b|(["'])(.*?)\4)""", re.S)
_ENTITY_REF = re.compile(rb"[&%](?!#)[^\s;&%]+;")


def entity_policy(body: bytes, url: str) -> str:
    """What a feed's own DTD declares, judged before any parser expands it.

    An entity whose text refers to other entities (the "billion laughs" shape) is refused
    outright; external entities are never read (the parsers do not fetch them) and the feed
    says so in its warning."""
    match = _DOCTYPE_SUBSET.search(body, 0, 1 << 16)
    if match is None:
        return ""
    external = []
    for entity in _ENTITY.finditer(match.group(1)):
        name, kind, value = entity.group(2), entity.group(3), entity.group(5)
        label = name.decode("latin-1")
        if value is not None and _ENTITY_REF.search(value):
            raise ParseError(f"{url}: the feed declares XML entities built from other entities ({label}), the shape "
                             "of an entity-expansion attack; refused without expanding them", source=url)
        if kind:
            external.append(label)
    return f"external XML entities ignored, never fetched: {', '.join(external[:5])}" if external else ""


_ARXIV_VERSION = re.compile(r"(arxiv\.org/abs/|oai:arXiv\.org:)(\d{4}\.\d{4,5})v\d+$", re.I)


def _identity(guid: str, link: str, title: str) -> str:
    """What makes an entry the same entry next time: its guid, else its link, else its
    title — never its date or position, which real feeds change. An arXiv paper's new
    version is the same paper (a revision), so the version is dropped."""
    if guid:
        key = canonical_url(guid, keep_fragment=True) if is_http_url(guid) else guid.strip()
    elif link:
        key = canonical_url(link, keep_fragment=True)
    else:
        return "title:" + hashlib.sha1(" ".join(title.lower().split()).encode()).hexdigest()
    return _ARXIV_VERSION.sub(r"\1\2", key)


def content_hash(title: str, text: str, url: str) -> str:
    return hashlib.sha256(f"{title}\n{canonical_url(url)}\n{text}".encode()).hexdigest()


def _author(obj: Any) -> str:
    """All the names of an entry's (or a feed's) authors; names, not e-mail addresses."""
    names = [a.get("name", "") for a in obj.get("authors", []) or [] if isinstance(a, dict) and a.get("name")]
    if not names:
        detail = obj.get("author_detail") or {}
        names = [detail.get("name") or obj.get("author", "")]
    return _plain(", ".join(dict.fromkeys(n for n in names if n)))


def parse_entry(entry: Any, kind: str, feed_url: str, feed_link: str, feed_author: str = "") -> ParsedItem:
    """One feedparser entry to a ``ParsedItem`` (characters XML forbids are dropped from every field)."""
    title = _plain(entry.get("title", ""))
    link = strip_xml_illegal(_first(entry.get("link"), entry.get("id") if is_http_url(entry.get("id", "")) else ""))
    markup, full = _body(entry)
    markup = strip_xml_illegal(markup)
    text, links = text_and_links(markup, link or feed_link)
    prefix = kinds.source_kind(kind).text_prefix
    if prefix is not None:
        text = prefix.sub("", text)
    published = _when(entry)
    guid = strip_xml_illegal(str(entry.get("id") or "")).strip()
    transcript = entry.get("podcast_transcript") or {}
    author = _author(entry) or feed_author
    return ParsedItem(
        identity=_identity(guid, link, title),
        guid=guid,
        url=link,
        canonical_url=canonical_url(link) if link else "",
        title=title,
        text=text,
        raw=markup,
        content_hash=content_hash(title, text, link),
        author=author,
        published=published,
        links=links,
        signals=_signals(kind, entry, feed_url, title, text),
        needs_fulltext=(not full and len(text) < SHORT_SUMMARY and is_http_url(link)
                        and not _NON_ARTICLE.search(urlsplit(link).path) and kinds.source_kind(kind).fulltext),
        transcript_url=str(transcript.get("url", "")) if is_http_url(str(transcript.get("url", ""))) else "",
        transcript_type=str(transcript.get("type", "")),
    )


def _build(url: str, kind: str, title: str, link: str, entries: list[Any], warning: str,
           author: str = "") -> ParsedFeed:
    feed_link = link or url
    parsed: list[ParsedItem] = []
    skipped = 0
    for entry in entries:
        try:
            parsed.append(parse_entry(entry, kind, url, feed_link, author))
        except (ValueError, TypeError, AttributeError, KeyError):  # one bad entry costs only itself
            skipped += 1
    kept, notes = _distinct(parsed)
    if skipped:
        notes.append(f"{skipped} malformed item(s) skipped")
    warning = "; ".join(w for w in (warning, *notes) if w)
    return ParsedFeed(title=_plain(title), link=feed_link, kind=kind, items=kept, warning=warning[:500])


def _distinct(parsed: list[ParsedItem]) -> tuple[tuple[ParsedItem, ...], list[str]]:
    """One item per identity. Entries that share a guid but link to different pages are distinct
    items: each gets the guid plus a hash of its link as identity — whatever the order of the
    feed, so reruns find the same items. Entries with the same guid and link are one item (the
    first is kept: a repost, a generator listing a post twice), and the notes say so."""
    groups: dict[str, list[ParsedItem]] = {}
    for item in parsed:
        groups.setdefault(item.identity, []).append(item)
    kept: dict[str, ParsedItem] = {}
    split = merged = 0
    for identity, group in groups.items():
        if len(group) == 1:
            kept.setdefault(identity, group[0])
            continue
        if len({i.canonical_url or i.title for i in group}) == 1:
            kept.setdefault(identity, group[0])
            merged += len(group) - 1
            continue
        for item in group:
            digest = hashlib.sha1((item.canonical_url or item.title).encode()).hexdigest()[:12]
            alias = f"{identity}#lll-{digest}"
            if alias in kept:
                merged += 1
            else:
                kept[alias] = replace(item, identity=alias)
                split += 1
    notes = []
    if split:
        notes.append(f"{split} items share a guid with another item but link to other pages: kept as "
                     "distinct items")
    if merged:
        notes.append(f"{merged} repeated entries (same guid and link, other title or text) merged into the "
                     "first")
    return tuple(kept.values()), notes


def _read_feedparser(body: bytes, url: str, content_type: str) -> FeedDocument:
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, resolve_relative_uris=True,
                              sanitize_html=True)
    is_feed = bool(parsed.entries) or bool(parsed.get("version")) or bool(parsed.feed.get("title"))
    if not is_feed:
        reason = str(parsed.get("bozo_exception") or "no RSS, Atom or JSON Feed found")
        sniff = body[:1024].lower()
        if b"<html" in sniff or "html" in content_type:
            reason = "got an HTML page, not a feed: use the feed's own URL"
        raise ParseError(f"{url}: not a feed ({reason})", source=url)
    warning = f"ill-formed feed, entries recovered: {parsed.get('bozo_exception')}" if parsed.get("bozo") else ""
    return FeedDocument(version=str(parsed.get("version") or ""), feed=parsed.feed,
                        entries=list(parsed.entries), warning=warning)


def read_document(body: bytes, *, url: str, content_type: str = "", fast: bool = True) -> FeedDocument:
    """An XML feed body in feedparser's vocabulary: read by the fast parser when it
    accepts the body (see ``lll.parse.fastfeed``), else by feedparser."""
    if fast:
        document, _why = read_fast(body, content_type)
        if document is not None:
            return document
    return _read_feedparser(_bounded_body(body), url, content_type)


def _bounded_body(body: bytes) -> bytes:
    """The body with its XML/HTML nesting bounded (``bound_nesting``) before feedparser reads it:
    feedparser's own sanitiser is slow on deep markup too. Bytes pass through latin-1 unchanged."""
    if body.count(b"<") <= MAX_NESTING and body.count(b"&lt;") <= MAX_NESTING:
        return body
    text = body.decode("latin-1")
    bounded, deepest = bound_nesting(text)
    bounded, escaped = bound_nesting(bounded, token=ESCAPED_TAG_TOKEN)
    if not deepest and not escaped:
        return body
    notes = flattened.get()
    if notes is not None:
        notes.append(max(deepest, escaped))
    return bounded.encode("latin-1")


def parse_feed(body: bytes, *, url: str, content_type: str = "", kind: str = "auto",
               fast: bool = True) -> ParsedFeed:
    """Parse a feed body. Raises ``ParseError`` when it holds no feed at all;
    an ill-formed feed whose entries could be recovered parses with a warning.
    ``fast=False`` forces feedparser (the two paths give the same records)."""
    notes: list[int] = []
    token = flattened.set(notes)
    try:
        parsed = _parse_feed(body, url=url, content_type=content_type, kind=kind, fast=fast)
    finally:
        flattened.reset(token)
    if not notes:
        return parsed
    note = (f"markup nested up to {max(notes):,} elements deep in {len(notes)} place(s): flattened below "
            f"depth {MAX_NESTING} before sanitising")
    return replace(parsed, warning="; ".join(w for w in (note, parsed.warning) if w)[:500])


def parse_job(body: bytes, url: str, content_type: str, kind: str) -> ParsedFeed | str:
    """``parse_feed`` as a parse process runs it: the parsed feed, or the error message (whatever
    one hostile feed does, nothing is raised). It lives here, not beside the fetch loop, so that a
    parse process imports the parser alone (a worker's fork server: 0.2 CPU-seconds, against 0.9
    with ``lll.fetch.run`` and the HTTP client, the store and the page fetcher it brings)."""
    try:
        return parse_feed(body, url=url, content_type=content_type, kind=kind)
    except ParseError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one hostile feed must not stop the run
        return f"{url}: parser failed ({exc.__class__.__name__}: {exc})"


def _parse_feed(body: bytes, *, url: str, content_type: str, kind: str, fast: bool) -> ParsedFeed:
    if looks_like_json_feed(body, content_type):
        meta, entries = parse_json_feed(body, url)
        effective = "feed" if kind in ("", "auto") else kind
        return _build(url, effective, meta["title"], meta["link"], entries, "", _author(meta))
    entities = entity_policy(body, url)
    doc = read_document(body, url=url, content_type=content_type, fast=fast)
    effective = detect_kind(url, doc) if kind in ("", "auto") else kind
    warning = "; ".join(w for w in (entities, doc.warning) if w)
    return _build(url, effective, str(doc.feed.get("title", "")), str(doc.feed.get("link", "") or ""),
                  doc.entries, warning, _author(doc.feed))


def with_fulltext(item: ParsedItem, text: str, raw: str, origin: str = "article") -> ParsedItem:
    """The same item whose text came from its article page (or transcript).

    ``content_hash`` stays the hash of the feed's version, so that the next fetch
    of an unchanged feed finds the item unchanged."""
    text, raw = strip_xml_illegal(text), strip_xml_illegal(raw)
    links = item.links or extract_links(raw, item.url)
    return replace(item, text=text, links=links, needs_fulltext=False, text_origin=origin)


__all__ = ["parse_feed", "parse_job", "read_document", "parse_entry", "detect_kind", "with_fulltext", "content_hash",
           "Link"]
