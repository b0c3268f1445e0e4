"""Article pages and podcast transcripts: fetched once, cached in the ``pages`` table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from lll.clock import now, parse_instant
from lll.config import FetchSettings
from lll.errors import FetchError
from lll.fetch.http import HttpClient
from lll.parse.extract import extract_article
from lll.parse.feeds import with_fulltext
from lll.parse.transcript import transcript_to_text
from lll.records import TRANSCRIPT_HEADING, ParsedItem
from lll.store import Store
from lll.urls import canonical_url

RETRY_FAILED_AFTER = timedelta(hours=20)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
TRANSCRIPT_ACCEPT = "text/vtt, application/x-subrip, application/json, text/plain;q=0.9, text/html;q=0.5"


def where_it_points(url: str) -> str:
    return url


class PageFetcher:
    """Turns summary-only items into full-text items, and podcast items into transcripts.

    ``locate`` says where to GET a page from (``lll demo`` serves its corpus's canonical page
    addresses over loopback); the item and the page cache keep the page's own URL."""

    def __init__(self, client: HttpClient, store: Store, settings: FetchSettings,
                 locate: Callable[[str], str] = where_it_points) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.locate = locate
        self.fetched = 0

    async def enrich(self, item: ParsedItem) -> ParsedItem:
        if item.transcript_url:
            text, _raw = await self._text(item.transcript_url, transcript=True, hint=item.transcript_type)
            if text:
                notes = item.text.strip()
                body = f"{notes}\n\n{TRANSCRIPT_HEADING}\n\n{text}" if notes else text
                return with_fulltext(item, body, item.raw, origin="transcript")
            return item
        text, raw = await self._text(item.url, transcript=False)
        if text and len(text) > len(item.text):
            return with_fulltext(item, text, raw or item.raw, origin="article")
        return item

    async def _text(self, url: str, *, transcript: bool, hint: str = "") -> tuple[str, str]:
        """The page's text and the markup it came from; ("", "") when there is none."""
        key = canonical_url(url)
        cached = self.store.cached_pages([key]).get(key)
        if cached is not None:
            if not cached.error:
                return str(cached.text), str(cached.raw)
            if now() - parse_instant(cached.fetched_at) < RETRY_FAILED_AFTER:
                return "", ""
        try:
            body = await self.client.get(self.locate(url), accept=TRANSCRIPT_ACCEPT if transcript else PAGE_ACCEPT,
                                         max_bytes=min(self.settings.max_bytes, 5_000_000))
        except FetchError as exc:
            self.store.put_page(key, http_status=exc.status, content_type="", title="", text="", raw="",
                                error=str(exc))
            return "", ""
        self.fetched += 1
        content_type = body.content_type or hint
        decoded = body.body.decode(_charset(content_type), errors="replace")
        if transcript:
            text, title, raw = transcript_to_text(decoded, content_type), "", ""
        else:
            article = extract_article(decoded, url)
            text, title, raw = article.text, article.title, article.html
        self.store.put_page(key, http_status=body.status, content_type=content_type, title=title,
                            text=text, raw=raw, error=None if text else "no text found")
        return text, raw


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            candidate = value.strip().strip('"')
            try:
                "".encode(candidate)
            except LookupError:
                return "utf-8"
            return candidate
    return "utf-8"
