"""Where the verifier finds what a link leads to: fetched items, fetched pages,
and this newsletter's own earlier issues."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lll.kinds import discussion
from lll.store import Store
from lll.store import schema as t
from lll.text import clean_title, long_date
from lll.urls import canonical_url
from lll.verify.claims import Evidence

_ISSUE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\.md|\.html|/)?$")


def _titles(title: str) -> str:
    cleaned = clean_title(title)
    return title if cleaned == title else f"{cleaned}\n{title}"


def _signals(stored: str | None) -> dict[str, Any]:
    try:
        value = json.loads(stored or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class StoreResolver:
    """url → ``Evidence`` from the workspace database; None when LLL never fetched it."""

    def __init__(self, store: Store, issues_dir: Path, issue_url: Callable[[str], str]) -> None:
        self.store = store
        self.issues_dir = issues_dir
        self.issue_url = issue_url

    def __call__(self, url: str) -> Evidence | None:
        issue = self._issue(url)
        if issue is not None:
            return issue
        key = canonical_url(url)
        query = (sa.select(t.items.c.id, t.items.c.title, t.items.c.text, t.items.c.signals, t.sources.c.name)
                 .join(t.sources, t.sources.c.id == t.items.c.source_id)
                 .where(sa.or_(t.items.c.url == url, t.items.c.canonical_url == key))
                 # the link's own item first, then by what identifies an item: many items can share a
                 # canonical URL (fragments dropped), and without an order the store picks any five
                 .order_by(sa.case((t.items.c.url == url, 0), else_=1), t.items.c.first_seen_at,
                           t.sources.c.url, t.items.c.identity)
                 .limit(5))
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
            if not rows:
                page = conn.execute(sa.select(t.pages).where(t.pages.c.url == key, t.pages.c.error.is_(None))).first()
                return Evidence(url=url, source=page.title, text=page.text) if page else None
        # the title as the writer saw it too: a scraper's glued date and category taken off
        text = "\n\n".join(f"{_titles(r.title)}\n{r.text}" for r in rows)
        recorded = tuple(dict.fromkeys(u for u in (discussion(_signals(r.signals)) for r in rows) if u))
        return Evidence(url=url, source=rows[0].name, text=text, item_id=rows[0].id, recorded=recorded)

    def _issue(self, url: str) -> Evidence | None:
        match = _ISSUE.search(url)
        if not match:
            return None
        day = match.group(1)
        if url != self.issue_url(day):
            return None
        from lll.issues import Issues  # the issue as the database holds it (any machine's)

        text = Issues(self.store, self.issues_dir).current(day)
        if text is None:
            return None
        return Evidence(url=url, source="this newsletter", text=f"{long_date(day)}, {day}\n{text}", issue_date=day)
