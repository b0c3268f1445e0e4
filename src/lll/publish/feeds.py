"""The archive's own feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1, from archived issues.

Shared rules (publishing-contracts.md §5): one item per archived issue, newest first;
the id is the issue page's URL and never changes when the issue is edited; full HTML
with absolute URLs and no per-reader tokens; RFC 822 dates in RSS, RFC 3339 in Atom
and JSON Feed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urljoin
from xml.sax.saxutils import escape, quoteattr

from lll.clock import parse_instant
from lll.xmlchars import strip_xml_illegal

_HREF = re.compile(r'href="([^"]*)"')


@dataclass(frozen=True)
class FeedItem:
    """One archived issue, as every feed and page sees it."""

    date: str
    title: str
    url: str
    description: str
    tags: tuple[str, ...]
    html: str
    content_hash: str
    published: str  # ISO 8601 UTC: first archived
    updated: str  # ISO 8601 UTC: last changed

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeedItem:
        return cls(date=str(data["date"]), title=str(data["title"]), url=str(data["url"]),
                   description=str(data.get("description", "")), tags=tuple(data.get("tags", ())),  # type: ignore[arg-type]
                   html=str(data["html"]), content_hash=str(data["content_hash"]),
                   published=str(data["published"]), updated=str(data["updated"]))

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date, "title": self.title, "url": self.url, "description": self.description,
                "tags": list(self.tags), "html": self.html, "content_hash": self.content_hash,
                "published": self.published, "updated": self.updated}


@dataclass(frozen=True)
class FeedInfo:
    title: str
    description: str
    author: str
    home: str  # the archive index URL
    rss_url: str
    atom_url: str
    json_url: str
    language: str = "en"


def absolute(html: str, page_url: str) -> str:
    """Every href absolute: relative links resolved against the page, fragments too."""

    def fix(match: re.Match[str]) -> str:
        href = match.group(1)
        if href.startswith(("http://", "https://", "mailto:")):
            return match.group(0)
        return f'href="{urljoin(page_url, href)}"'

    return _HREF.sub(fix, html)


def rfc822(value: str) -> str:
    return format_datetime(parse_instant(value), usegmt=True).replace("GMT", "+0000")


def rfc3339(value: str) -> str:
    return parse_instant(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _latest(items: Sequence[FeedItem]) -> str:
    return max((i.updated for i in items), default="1970-01-01T00:00:00Z")


def rss(info: FeedInfo, items: Sequence[FeedItem], built: datetime) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel>",
        f"<title>{escape(info.title)}</title>",
        f"<link>{escape(info.home)}</link>",
        f"<description>{escape(info.description)}</description>",
        f"<language>{escape(info.language)}</language>",
        f"<lastBuildDate>{format_datetime(built, usegmt=True).replace('GMT', '+0000')}</lastBuildDate>",
        f'<atom:link href={quoteattr(info.rss_url)} rel="self" type="application/rss+xml"/>',
    ]
    for item in items:
        parts += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(item.url)}</link>",
            f'<guid isPermaLink="true">{escape(item.url)}</guid>',
            f"<pubDate>{rfc822(item.published)}</pubDate>",
            f"<description>{escape(item.description)}</description>",
            f"<content:encoded>{_cdata(absolute(item.html, item.url))}</content:encoded>",
            *(f"<category>{escape(tag)}</category>" for tag in item.tags),
            "</item>",
        ]
    parts += ["</channel>", "</rss>", ""]
    return strip_xml_illegal("\n".join(parts))


def atom(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(info.language)}>',
        f"<id>{escape(info.home)}</id>",
        f"<title>{escape(info.title)}</title>",
        f"<subtitle>{escape(info.description)}</subtitle>",
        f"<updated>{rfc3339(_latest(items))}</updated>",
        f"<author><name>{escape(info.author)}</name></author>",
        f'<link rel="self" type="application/atom+xml" href={quoteattr(info.atom_url)}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(info.home)}/>',
    ]
    for item in items:
        parts += [
            "<entry>",
            f"<id>{escape(item.url)}</id>",
            f"<title>{escape(item.title)}</title>",
            f'<link rel="alternate" type="text/html" href={quoteattr(item.url)}/>',
            f"<published>{rfc3339(item.published)}</published>",
            f"<updated>{rfc3339(item.updated)}</updated>",
            f"<summary>{escape(item.description)}</summary>",
            f'<content type="html">{escape(absolute(item.html, item.url))}</content>',
            *(f"<category term={quoteattr(tag)}/>" for tag in item.tags),
            "</entry>",
        ]
    parts += ["</feed>", ""]
    return strip_xml_illegal("\n".join(parts))


def json_feed(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.home,
        "feed_url": info.json_url,
        "description": info.description,
        "language": info.language,
        "authors": [{"name": info.author, "url": info.home}],
        "items": [{
            "id": item.url,
            "url": item.url,
            "title": item.title,
            "content_html": absolute(item.html, item.url),
            "summary": item.description,
            "date_published": rfc3339(item.published),
            "date_modified": rfc3339(item.updated),
            "tags": list(item.tags),
            "_lll": {"issue_date": item.date, "content_hash": item.content_hash},
        } for item in items],
    }
    return json.dumps(feed, indent=2, ensure_ascii=False) + "\n"
