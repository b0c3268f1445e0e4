"""The newsletter's own archive: a static site in ``[archive] path`` (default ``archive/``).

``lll publish DATE --to archive`` adds or updates one issue; the site is rebuilt from
``issues.json`` (the archived issues, the site's own record) so that every page's
previous/next links and the feeds stay consistent:

    index.html            every archived issue, newest first
    DATE.html             one page per issue; each story paragraph has its story id as anchor
    feed.xml atom.xml feed.json   RSS 2.0, Atom 1.0, JSON Feed 1.1 (the latest ``feed_items``)

Every URL is absolute under ``[newsletter] base_url``, and an issue page is
``{base_url}/{DATE}.html`` — the address the drafter already gives callbacks.
"""

from __future__ import annotations

import html as htmllib
import json
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Any

from lll.clock import iso, now
from lll.errors import PublishError, PublishSettingsError
from lll.publish.feeds import FeedInfo, FeedItem, atom, json_feed, rss
from lll.publish.model import PublishableIssue, Receipt
from lll.publish.registry import PublishContext

MANIFEST = "issues.json"
STYLE = ("body{font-family:system-ui,sans-serif;max-width:42em;margin:2em auto;padding:0 1em;line-height:1.55}"
         "header a{text-decoration:none;font-weight:bold}time{color:#555}nav{margin:2em 0;display:flex;"
         "justify-content:space-between}li{margin:.4em 0}:target{background:#fff7d6}")


@dataclass(frozen=True)
class Site:
    root: Path
    base_url: str
    info: FeedInfo

    def page_url(self, day: str) -> str:
        return f"{self.base_url}/{day}.html"


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def long_date(day: str) -> str:
    d = Date.fromisoformat(day)
    return f"{d.strftime('%B')} {d.day}, {d.year}"


class ArchivePublisher:
    name = "archive"
    supports_public = True  # the archive is public by nature

    def __init__(self, ctx: PublishContext) -> None:
        self.ctx = ctx
        config = ctx.config
        base = config.newsletter.base_url.strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise PublishSettingsError('archive: set [newsletter] base_url in lll.toml to where the archive is '
                                       'served, e.g. base_url = "https://example.com/letters"', target="archive")
        root = Path(config.archive.path)
        root = root if root.is_absolute() else ctx.workspace / root
        name = config.newsletter.name
        self.limit = max(1, config.archive.feed_items)
        self.site = Site(root=root, base_url=base, info=FeedInfo(
            title=name, description=config.archive.description or f"{name}: every issue, as published",
            author=config.archive.author or name, home=f"{base}/", rss_url=f"{base}/feed.xml",
            atom_url=f"{base}/atom.xml", json_url=f"{base}/feed.json"))

    # -- publish ---------------------------------------------------------------------------

    def publish(self, issue: PublishableIssue, *, dry_run: bool) -> Receipt:
        site = self.site
        url = site.page_url(issue.date)
        items = self.load()
        old = items.get(issue.date)
        entry = self.ctx.slot.entry()
        page = site.root / f"{issue.date}.html"
        if old and old.content_hash == issue.content_hash and page.exists() and entry and entry.done:
            return Receipt(self.name, issue.date, "unchanged", "published", page.name, url, issue.content_hash,
                           message="the archive already holds this content")
        action = "updated" if old else "created"
        if dry_run:
            return Receipt(self.name, issue.date, "would update" if old else "would create",
                           entry.state if entry else "new", page.name, url, issue.content_hash, dry_run=True,
                           message=f"would write {page} and rebuild the index and the feeds in {site.root}")
        self.ctx.slot.pending()
        stamp = iso(now())
        items[issue.date] = FeedItem(
            date=issue.date, title=issue.title, url=url, description=issue.description, tags=issue.tags,
            html=issue.html, content_hash=issue.content_hash, published=old.published if old else stamp,
            updated=stamp)
        try:
            self.write(items)
        except OSError as exc:
            raise PublishError(f"archive: cannot write {site.root} ({exc.strerror or exc}); check [archive] path "
                               "and its permissions", target=self.name) from exc
        return Receipt(self.name, issue.date, action, "published", page.name, url, issue.content_hash,
                       detail={"path": str(page)})

    # -- the site --------------------------------------------------------------------------

    def load(self) -> dict[str, FeedItem]:
        path = self.site.root / MANIFEST
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {d["date"]: FeedItem.from_dict(d) for d in data.get("issues", [])}
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"archive: {path} is damaged ({exc}); restore it from a backup or remove the "
                               "archive folder and publish the issues again", target=self.name) from exc

    def write(self, items: dict[str, FeedItem]) -> None:
        site = self.site
        site.root.mkdir(parents=True, exist_ok=True)
        ordered = sorted(items.values(), key=lambda i: i.date, reverse=True)
        manifest = {"schema": "lll.archive/1", "base_url": site.base_url, "issues": [i.to_dict() for i in ordered]}
        _atomic(site.root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for n, item in enumerate(ordered):
            newer = ordered[n - 1] if n > 0 else None
            older = ordered[n + 1] if n + 1 < len(ordered) else None
            _atomic(site.root / f"{item.date}.html", self.page(item, older, newer))
        _atomic(site.root / "index.html", self.index(ordered))
        feed_items = ordered[:self.limit]
        _atomic(site.root / "feed.xml", rss(site.info, feed_items, now()))
        _atomic(site.root / "atom.xml", atom(site.info, feed_items))
        _atomic(site.root / "feed.json", json_feed(site.info, feed_items))

    def head(self, title: str, canonical: str) -> str:
        e, info = htmllib.escape, self.site.info
        return (f'<!doctype html>\n<html lang="{e(info.language)}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{e(title)}</title>"
                f'<link rel="canonical" href="{e(canonical)}">'
                f'<link rel="alternate" type="application/rss+xml" title="{e(info.title)} (RSS)" '
                f'href="{e(info.rss_url)}">'
                f'<link rel="alternate" type="application/atom+xml" title="{e(info.title)} (Atom)" '
                f'href="{e(info.atom_url)}">'
                f'<link rel="alternate" type="application/feed+json" title="{e(info.title)} (JSON Feed)" '
                f'href="{e(info.json_url)}">'
                f"<style>{STYLE}</style></head>\n<body>\n"
                f'<header><a href="{e(info.home)}">{e(info.title)}</a></header>\n')

    def foot(self) -> str:
        e, info = htmllib.escape, self.site.info
        return (f'<footer><p>Feeds: <a href="{e(info.rss_url)}">RSS</a> · <a href="{e(info.atom_url)}">Atom</a> · '
                f'<a href="{e(info.json_url)}">JSON Feed</a></p></footer>\n</body></html>\n')

    def page(self, item: FeedItem, older: FeedItem | None, newer: FeedItem | None) -> str:
        e = htmllib.escape
        nav = ['<nav aria-label="issues">']
        nav.append(f'<a rel="prev" href="{e(older.url)}">← {e(older.title)}</a>' if older else "<span></span>")
        nav.append(f'<a rel="next" href="{e(newer.url)}">{e(newer.title)} →</a>' if newer else "<span></span>")
        nav.append("</nav>")
        return (self.head(item.title, item.url)
                + f'<main><article><h1>{e(item.title)}</h1>\n'
                f'<p><time datetime="{e(item.date)}">{e(long_date(item.date))}</time></p>\n'
                f"{item.html}\n</article>\n{''.join(nav)}</main>\n" + self.foot())

    def index(self, ordered: list[FeedItem]) -> str:
        e, info = htmllib.escape, self.site.info
        rows = "\n".join(f'<li><time datetime="{e(i.date)}">{e(i.date)}</time> '
                         f'<a href="{e(i.url)}">{e(i.title)}</a><br>{e(i.description)}</li>' for i in ordered)
        return (self.head(info.title, info.home) + f"<main><h1>{e(info.title)}</h1>\n"
                f"<p>{e(info.description)}</p>\n<ol reversed>\n{rows}\n</ol></main>\n" + self.foot())


def archived(root: Path) -> list[dict[str, Any]]:
    """The archived issues recorded in a site folder (for tools and tests)."""
    path = root / MANIFEST
    return json.loads(path.read_text(encoding="utf-8"))["issues"] if path.exists() else []


def register_publishers(register: Any) -> None:
    register("archive", ArchivePublisher)
