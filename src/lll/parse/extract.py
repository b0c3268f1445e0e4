"""Full text of an article page with trafilatura: the main text, its title, its links."""

from __future__ import annotations

from dataclasses import dataclass

from lll.parse.html import html_to_text

MAX_PAGE_CHARS = 3_000_000


@dataclass(frozen=True)
class Article:
    text: str
    title: str
    html: str


def extract_article(page: str, url: str = "") -> Article:
    """Extract an article's main content; an empty ``Article`` when none is found."""
    if not page.strip():
        return Article("", "", "")
    page = page[:MAX_PAGE_CHARS]
    import trafilatura  # imported here: ~150 ms that a fetch with no article page should not pay

    try:
        markup = trafilatura.extract(page, url=url or None, output_format="html", include_links=True,
                                     include_comments=False, include_tables=True, favor_precision=True)
        meta = trafilatura.extract_metadata(page, default_url=url or None)
    except Exception:  # noqa: BLE001 - trafilatura raises many things on hostile pages
        return Article("", "", "")
    if not markup:
        return Article("", "", "")
    title = meta.title if meta is not None and meta.title else ""
    return Article(text=html_to_text(markup), title=title or "", html=markup)
