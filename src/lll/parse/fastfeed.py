"""The fast path of feed parsing: feedparser_rs, a compiled parser about 20× faster than
feedparser here, reads the common feed — well-formed UTF-8 RSS 2.0 or Atom 1.0 made of
the elements listed below — into the vocabulary feedparser gives, so that ``parse_entry``
treats both alike and makes the same records of them.

Everything else goes to feedparser, and the choice depends on the body and its
Content-Type alone: ``refusal`` says why a body is refused before the fast parse (encoding,
well-formedness as feedparser's own XML parser judges it, an element the fast path does not
know), ``read_fast`` why a parse is refused after it (a cap reached, a link it blanked, an
author with an e-mail address to take apart…). Entry markup is sanitized here with
``lll.parse.html.sanitize_html``, so no active HTML is stored whichever path read the feed.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass
from typing import Any

import feedparser_rs

from lll.parse.html import looks_like_html, sanitize_html

FAST_VERSIONS = frozenset({"rss20", "atom10"})
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"})
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)
_XML_MEDIA = ("application/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xhtml+xml", "application/octet-stream")

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
_NS = {"atom": ATOM, "content": "http://purl.org/rss/1.0/modules/content/",
       "dc": "http://purl.org/dc/elements/1.1/", "media": "http://search.yahoo.com/mrss/",
       "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0",
       "arxiv": "http://arxiv.org/schemas/atom", "sy": "http://purl.org/rss/1.0/modules/syndication/",
       "slash": "http://purl.org/rss/1.0/modules/slash/", "wfw": "http://wellformedweb.org/CommentAPI/"}


def _names(prefix: str, words: str) -> set[str]:
    """Element names as expat spells them with namespace processing: "uri local"."""
    uri = _NS.get(prefix, "")
    return {f"{uri} {w}" if uri else w for w in words.split()}


# Elements the fast path reads as feedparser does (checked on every golden, replay and
# feedparser-corpus feed: tests/test_parse_paths.py). A feed with any other element — an
# extension feedparser folds into the title, summary, author or dates (itunes:summary,
# media:title, dcterms:created…) or a legacy one (xhtml:body, content:fullitem) — goes to
# feedparser. Elements LLL never reads and neither parser folds into what it does are listed too.
_SHARED = (_names("atom", "link") | _names("content", "encoded") | _names("dc", "creator date rights language")
           | _names("media", "thumbnail content") | _names("sy", "updatePeriod updateFrequency updateBase")
           | _names("slash", "comments") | _names("wfw", "commentRss comment")
           | _names("itunes", "duration episode episodeType explicit image type block season author owner name "
                            "email category")
           | _names("podcast", "transcript guid locked medium") | _names("arxiv", "announce_type"))
_RSS_ELEMENTS = frozenset(_names("", "rss channel title link description language copyright managingEditor "
                                     "webMaster pubDate lastBuildDate category generator docs cloud ttl image "
                                     "url width height rating textInput name skipHours skipDays hour day "
                                     "item author comments enclosure guid source") | _SHARED)
_ATOM_ELEMENTS = frozenset(_names("atom", "feed entry title subtitle link id updated published author name "
                                          "email uri contributor category content summary rights generator "
                                          "icon logo") | _SHARED)
_ROOTS = {"rss": _RSS_ELEMENTS, f"{ATOM} feed": _ATOM_ELEMENTS}

# A content type other than text, HTML or XHTML: feedparser decodes such content as base64.
_CONTENT_TYPE_ATTR = re.compile(rb"""<(?:[\w.-]+:)?(?:title|subtitle|summary|content|rights|description)\b"""
                                rb"""[^>]*?\b(?:type|mode)\s*=\s*["']\s*([^"']*)["']""", re.I)
_TEXT_TYPE_VALUES = frozenset({b"text", b"html", b"xhtml", b"text/plain", b"text/html", b"application/xhtml+xml",
                               b"escaped", b"xml"})
# Markup on which HTML tokenizers disagree (feedparser's and html5ever's): script and style
# bodies, comments, CDATA, raw-text elements. Rare in real feeds; those go to feedparser.
_TRICKY_MARKUP = re.compile(r"<\s*/?\s*(?:script|style|applet|textarea|xmp|plaintext|noembed|noframes|title)\b"
                            r"|<!--|<!\[CDATA\[|<\?", re.I)
# RSS elements that hold text only; one holding an element instead (an <image> inside a
# <category>…) is read differently by each parser.
_RSS_NESTED = re.compile(rb"<(title|link|guid|category|author|comments|pubDate|description)\b[^>]*>[^<]*<(?![/!])")
_EMAIL = r"[A-Za-z0-9_.+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,4}"
# "email (Name)", "Name (email)", "Name <email>", "email": the forms whose name feedparser
# and the fast path take apart alike. Any other author with an "@" goes to feedparser.
_ADDRESS_FORMS = (re.compile(rf"^\s*({_EMAIL})\s*\(([^@()<>]*)\)\s*$"),
                  re.compile(rf"^\s*([^@()<>]*?)\s*[(<]({_EMAIL})[)>]\s*$"),
                  re.compile(rf"^\s*({_EMAIL})()\s*$"))
_LIMITS = feedparser_rs.ParserLimits()
# Counts at which feedparser_rs silently stops reading; feedparser has no such caps.
_CAPS = {"links": _LIMITS.max_links_per_entry, "tags": _LIMITS.max_tags, "authors": _LIMITS.max_authors,
         "content": _LIMITS.max_content_blocks, "enclosures": _LIMITS.max_enclosures}


@dataclass(frozen=True)
class FeedDocument:
    """A parsed feed in feedparser's vocabulary: mappings and lists."""

    version: str
    feed: Any  # a mapping: title, link, authors…
    entries: list[Any]  # mappings: id, link, title, summary, content, links, tags…
    warning: str = ""  # why the feed is ill-formed, when its entries were recovered


class _Doctype(Exception):
    pass


def _refuse_doctype(*_args: Any) -> None:
    raise _Doctype


def _declared_charsets(body: bytes, content_type: str) -> tuple[str, str]:
    http = _CHARSET.search(content_type or "")
    xml_decl = _XML_DECL_ENCODING.match(body[:512].lstrip(b"\xef\xbb\xbf"))
    return ((http.group(1).lower() if http else ""),
            (xml_decl.group(1).decode("ascii", "replace").lower() if xml_decl else ""))


def _encoding_refusal(body: bytes, content_type: str) -> str:
    """The body must be UTF-8 and every declared charset must say so, or the body must be
    plain ASCII, which reads the same under any of them. feedparser takes text/* without a
    charset as US-ASCII (and flags the feed), so non-ASCII bodies served so go to it."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x4c\x6f\xa7\x94")):
        return "UTF-16/32 or EBCDIC byte order"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    ascii_only = body.isascii()
    http, declared_xml = _declared_charsets(body, content_type)
    for declared in (http, declared_xml):
        if declared and declared not in _UTF8_NAMES and not (ascii_only and declared in _ASCII_NAMES):
            return f"declared charset {declared}"
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and not ascii_only and not http and not media.startswith(_XML_MEDIA):
        return f"{media} without a charset"
    return ""


def _element_refusal(body: bytes) -> str:
    """Well-formed as feedparser's strict XML parser (expat, namespaces on) sees it, no DTD,
    and only elements the fast path knows. About 0.2 ms for a 36 KB feed."""
    seen: dict[str, Any] = {}
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = seen.setdefault
    parser.StartDoctypeDeclHandler = _refuse_doctype
    try:
        parser.Parse(body, True)
    except _Doctype:
        return "a DOCTYPE"
    except xml.parsers.expat.ExpatError as exc:
        return f"not well-formed XML ({exc})"
    root = next(iter(seen), "")
    known = _ROOTS.get(root)
    if known is None:
        return f"root element {root or 'missing'}"
    if known is _RSS_ELEMENTS and (nested := _RSS_NESTED.search(body)):
        return f"an element inside <{nested.group(1).decode()}>"
    first_item = body.find(b"<item")
    if first_item >= 0 and body.find(b":category", first_item) >= 0:
        return "an itunes: or media:category in an item (feedparser makes it a tag)"
    unknown = [name for name in seen if name not in known and not (known is _ATOM_ELEMENTS and
                                                                  name.startswith(XHTML + " "))]
    return f"element {unknown[0]!r}" if unknown else ""


def refusal(body: bytes, content_type: str = "") -> str:
    """Why ``body`` must be read by feedparser rather than the fast path; "" when it may be
    read fast. Pure: the same body and Content-Type always get the same answer."""
    if not body:
        return "empty body"
    if b"xml:base" in body:
        return "xml:base (feedparser resolves relative links against it)"
    for match in _CONTENT_TYPE_ATTR.finditer(body):
        if match.group(1).strip().lower() not in _TEXT_TYPE_VALUES:
            return f"content of type {match.group(1)[:40].decode('utf-8', 'replace')}"
    return _encoding_refusal(body, content_type) or _element_refusal(body)


def _get(obj: Any, key: str) -> Any:
    value = getattr(obj, key, None)
    return value if value not in (None, "") else None


# feedparser repairs two common encoding slips in every text value; so does the fast path.
_C1_TO_CP1252 = {c: bytes([c]).decode("cp1252") for c in range(0x80, 0xA0) if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def _repaired(value: str) -> str:
    """UTF-8 that was read as Latin-1 and re-encoded, read again; Windows-1252 punctuation
    given as C1 control characters, mapped to what it meant."""
    if value.isascii():
        return value
    try:
        value = value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return value.translate(_C1_TO_CP1252)


def _text(value: Any) -> str:
    return _repaired(str(value))


def _markup(value: Any) -> str:
    """Entry markup, sanitized when it is markup at all: plain text is kept as written
    (as feedparser keeps it), so its line breaks and bare ampersands survive."""
    text = _repaired(str(value))
    return sanitize_html(text) if looks_like_html(text) else text


def _address(value: str) -> dict[str, str] | None:
    """An author string as feedparser takes it apart: {"name": …} and/or {"email": …};
    None for a form the fast path does not take apart the same way."""
    if "@" not in value:
        return {"name": value} if value else {}
    for form in _ADDRESS_FORMS:
        match = form.match(value)
        if match:
            first, second = match.groups()
            name, email = (second, first) if "@" in first else (first, second)
            return {k: v for k, v in (("name", name.strip()), ("email", email)) if v}
    return None


def _person(person: Any) -> dict[str, str] | None:
    name = _text(person.name or "")
    detail = _address(name)
    if detail is not None and person.email:
        detail.setdefault("email", _text(person.email))
    return detail


def _people(e: Any) -> list[dict[str, str]] | None:
    """An entry's (or feed's) authors: Atom <author>s and dc:creators as listed; an RSS
    <author>, which the fast parser gives only as a string, from that string."""
    if e.authors:
        found = [_person(p) for p in e.authors]
    elif e.author:
        found = [_address(_text(e.author))]
    else:
        return []
    people = [p for p in found if p]
    if len(people) < len(found) or (len(people) > 1 and any("name" not in p for p in people)):
        return None  # several authors without names: feedparser's "author" is then the last one's
    return people


def _entry(e: Any) -> dict[str, Any]:
    """One feedparser_rs entry as the dict feedparser would have given (the keys LLL reads)."""
    out: dict[str, Any] = {}
    for key in ("id", "link", "comments", "author"):
        if (value := _get(e, key)) is not None:
            out[key] = _text(value)
    for key in ("title", "summary"):
        if (value := _get(e, key)) is not None:
            out[key] = _markup(value)
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if (value := _get(e, key)) is not None:
            out[key] = value
    content = [{"value": _markup(c.value or ""), "type": str(c.type or "")} for c in e.content or []]
    if content:
        out["content"] = content
    out["links"] = [{k: _text(v) for k in ("rel", "href", "type") if (v := _get(link, k)) is not None}
                    for link in e.links or []]
    tags = [{"term": _text(t.term)} for t in e.tags or [] if t.term]
    if tags:
        out["tags"] = tags
    authors = _people(e) or []
    if authors:
        out["authors"] = authors
        out["author_detail"] = authors[-1]
        if "name" not in authors[-1]:  # an e-mail address alone is the author feedparser gives
            out["author"] = authors[-1]["email"]
    transcripts = e.podcast_transcripts or []
    if transcripts:  # feedparser keeps the last <podcast:transcript> of an item
        out["podcast_transcript"] = {k: _text(v) for k in ("url", "type")
                                     if (v := _get(transcripts[-1], k)) is not None}
    return out


_TEXT_TYPES = frozenset({"text/plain", "text/html", "application/xhtml+xml"})


def _unlike_feedparser(e: Any) -> str:
    """Why feedparser would read this entry otherwise, as far as the fast parse shows; "" when not."""
    for key, cap in _CAPS.items():
        if len(getattr(e, key, None) or []) >= cap:
            return f"an entry has {cap}+ {key}"
    if any(not link.href for link in e.links or []) or any(not enc.href for enc in e.enclosures or []):
        return "a link the fast parser left out"  # it blanks private and loopback addresses
    details = [e.title_detail, e.summary_detail, *(e.content or [])]
    if any(d is not None and d.type and d.type not in _TEXT_TYPES for d in details):
        return "non-text content (feedparser decodes it as base64)"
    if _people(e) is None:
        return "an author given in a form feedparser takes apart otherwise"
    if e.itunes is not None and e.itunes.author and len(e.authors or []) > 1:
        return "itunes:author beside other authors (feedparser lists them in document order)"
    for value in (e.title, e.summary, *(c.value for c in e.content or [])):
        if value and _TRICKY_MARKUP.search(value):
            return "script, style, comment or CDATA in the markup"
    for raw, parsed in ((e.published, e.published_parsed), (e.updated, e.updated_parsed),
                        (e.created, e.created_parsed), (e.dc_date, e.dc_date_parsed)):
        if raw and parsed is None:
            return f"a date the fast parser could not read ({raw[:40]})"
    return ""


def read_fast(body: bytes, content_type: str = "") -> tuple[FeedDocument | None, str]:
    """(document, "") when the fast parser read the body cleanly; (None, why) when feedparser
    must read it instead."""
    why = refusal(body, content_type)
    if why:
        return None, why
    try:
        parsed = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # noqa: BLE001 - any failure of the fast parser means "use feedparser"
        return None, f"fast parser failed ({exc.__class__.__name__})"
    if parsed.bozo:
        return None, f"ill-formed ({parsed.bozo_exception})"
    if parsed.version not in FAST_VERSIONS:
        return None, f"version {parsed.version or 'unknown'}"
    if len(parsed.entries) >= _LIMITS.max_entries:
        return None, f"{_LIMITS.max_entries}+ entries"
    for e in parsed.entries:
        if why := _unlike_feedparser(e):
            return None, why
    entries = [_entry(e) for e in parsed.entries]
    meta = parsed.feed
    feed: dict[str, Any] = {"title": _text(meta.title or ""), "link": _text(meta.link or "")}
    if _TRICKY_MARKUP.search(meta.title or ""):
        return None, "script, style, comment or CDATA in the feed title"
    authors = _people(meta)
    if meta.itunes is not None and meta.itunes.author and len(meta.authors or []) > 1:
        return None, "itunes:author beside other feed authors"
    if authors is None:
        return None, "a feed author given in a form feedparser takes apart otherwise"
    if authors:
        feed["authors"] = authors
        feed["author_detail"] = authors[-1]
        if "name" not in authors[-1]:
            feed["author"] = authors[-1]["email"]
    if (author := _get(meta, "author")) is not None:
        feed["author"] = _text(author)
    return FeedDocument(version=str(parsed.version), feed=feed, entries=entries), ""


__all__ = ["FeedDocument", "FAST_VERSIONS", "read_fast", "refusal"]
