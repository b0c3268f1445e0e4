"""JSON Feed 1.0/1.1 (https://jsonfeed.org) read into the same shape feedparser
gives, so every feed kind takes one path through ``parse_entry``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from lll.errors import ParseError

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json_feed(body: bytes, content_type: str = "") -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and (b"jsonfeed.org" in body[:4096] or "json" in content_type.lower())


def _struct(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()


def _authors(obj: dict[str, Any]) -> list[dict[str, str]]:
    authors = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    return [{"name": str(a.get("name", ""))} for a in authors if isinstance(a, dict) and a.get("name")]


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    content = []
    if isinstance(item.get("content_html"), str):
        content.append({"value": item["content_html"], "type": "text/html"})
    elif isinstance(item.get("content_text"), str):
        content.append({"value": item["content_text"], "type": "text/plain"})
    links = [{"rel": "enclosure", "href": a.get("url"), "type": a.get("mime_type", "")}
             for a in item.get("attachments", []) or [] if isinstance(a, dict) and a.get("url")]
    authors = _authors(item)
    return {
        "id": str(item.get("id", "") or ""),
        "link": str(item.get("url") or item.get("external_url") or ""),
        "title": str(item.get("title", "") or ""),
        "summary": str(item.get("summary", "") or ""),
        "content": content,
        "published_parsed": _struct(item.get("date_published")),
        "updated_parsed": _struct(item.get("date_modified")),
        "authors": authors,
        "tags": [{"term": str(tag)} for tag in item.get("tags", []) or []],
        "links": links,
    }


def parse_json_feed(body: bytes, url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(feed metadata, entries) in feedparser's vocabulary; ``ParseError`` when not a JSON Feed."""
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        raise ParseError(f"{url}: not a feed (invalid JSON: {exc})", source=url) from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(VERSION_PREFIX):
        raise ParseError(f"{url}: JSON but not a JSON Feed (no version {VERSION_PREFIX}…)", source=url)
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{url}: JSON Feed without an items list", source=url)
    feed = {"title": str(data.get("title", "")), "link": str(data.get("home_page_url", "") or ""),
            "authors": _authors(data)}
    return feed, [_entry(i) for i in items if isinstance(i, dict)]
