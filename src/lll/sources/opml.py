"""OPML import and export. An outline's ``text`` (else ``title``) is the source's
display name, the name used in prose; LLL adds ``weight`` and ``lllKind``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from lll.errors import SourceError
from lll.records import Source
from lll.urls import is_http_url

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          recover=True)
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_ENTITY = re.compile(rb"<!ENTITY", re.I)
_CLOSED = re.compile(rb"</(?:\w+:)?opml\s*>\s*$", re.I)
_BARE_AMPERSAND = re.compile(r"EntityRef")


@dataclass(frozen=True)
class OutlineSource:
    url: str
    name: str
    site_url: str = ""
    weight: float | None = None
    kind: str = ""
    category: str = ""


def _weight(value: str | None, where: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        weight = float(value)
    except ValueError as exc:
        raise SourceError(f"{where}: weight {value!r} is not a number") from exc
    if not 0 <= weight <= 100:
        raise SourceError(f"{where}: weight {weight} is outside 0..100")
    return weight


def read_opml(data: bytes, where: str = "OPML") -> tuple[list[OutlineSource], list[str]]:
    """Sources of an OPML document, and a note for every outline that was skipped (and for a
    document that is not well-formed: what could be read is imported, and the note says so)."""
    if _ENTITY.search(data):
        raise SourceError(f"{where}: refused: it declares XML entities (<!ENTITY>), which LLL never expands "
                          f"(that is how billion-laughs and external-entity files attack a reader); export the "
                          f"OPML again")
    skipped: list[str] = []
    try:
        root = etree.fromstring(data, _STRICT)
    except etree.XMLSyntaxError as strict:
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise SourceError(f"{where}: not valid XML ({exc}); export the OPML again") from exc
        if not _CLOSED.search(data):
            skipped.append(f"{where} ends before </opml> (cut short?): imported the feeds before the cut; "
                           f"check that every feed is there, or export the OPML again")
        elif not _BARE_AMPERSAND.search(str(strict)):  # a bare "&" in a title loses nothing: stay quiet
            skipped.append(f"{where} is not well-formed XML ({strict}): imported what could be read; check "
                           f"that every feed is there, or export the OPML again")
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise SourceError(f"{where}: not an OPML file (no <opml> root element)")
    found: list[OutlineSource] = []
    seen: set[str] = set()
    for outline in root.iter("{*}outline", "outline"):
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        name = (attrs.get("text") or attrs.get("title") or "").strip()
        if not url:
            continue  # a folder, or a plain link
        if not is_http_url(url):
            skipped.append(f"{name or url}: xmlUrl {url!r} is not an http(s) URL")
            continue
        if url in seen:
            skipped.append(f"{name or url}: listed twice")
            continue
        seen.add(url)
        parent = outline.getparent()
        category = ""
        if parent is not None and etree.QName(parent).localname == "outline" and not parent.get("xmlUrl"):
            category = (parent.get("text") or parent.get("title") or "").strip()
        found.append(OutlineSource(url=url, name=name or url, site_url=(attrs.get("htmlurl") or "").strip(),
                                   weight=_weight(attrs.get("weight"), f"{where}: {name or url}"),
                                   kind=(attrs.get("lllkind") or "").strip(), category=category))
    return found, skipped


def read_opml_file(path: Path) -> tuple[list[OutlineSource], list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    return read_opml(data, str(path))


def write_opml(sources: Iterable[Source], title: str, site_urls: dict[int, str] | None = None) -> str:
    """An OPML 2.0 document listing the sources, display names and weights kept."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for source in sources:
        attrs = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": source.url}
        if site_urls and site_urls.get(source.id):
            attrs["htmlUrl"] = site_urls[source.id]
        attrs["weight"] = f"{source.weight:g}"
        if source.kind not in ("", "auto"):
            attrs["lllKind"] = source.kind
        etree.SubElement(body, "outline", attrs)
    written: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="utf-8")
    return written.decode()
