"""Issues, the story ledger and clocks in the database: what LLL remembers of earlier issues.

Above the store (it uses the stories and plans of later stages), so that the store itself
imports nothing of them.

Everything a draft for day D writes is tagged with D and replaced as a whole when
D is drafted again, so a rerun never duplicates; what a draft reads is only what
earlier days wrote.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from lll.clock import iso, now
from lll.store import schema as t
from lll.store.db import Store
from lll.store.dialect import day_lock, insert
from lll.store.issue_texts import write_text
from lll.stories.model import LedgerEntry, Story
from lll.write.plan import DueClock, Plan


@dataclass(frozen=True)
class IssueRow:
    date: str
    title: str
    path: str
    window_start: str
    window_end: str
    verified: bool
    summary: dict[str, Any]
    content_hash: str = ""  # sha256 of the DATE.md LLL wrote for this row


def _vector(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float32)


class Records:
    """Issue, ledger and clock records of one workspace database."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    # -- issues ----------------------------------------------------------------------------

    def issue(self, day: str) -> IssueRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.issues).where(t.issues.c.date == day)).first()
        return _issue(row) if row else None

    def previous_issue(self, day: str) -> IssueRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.issues).where(t.issues.c.date < day)
                               .order_by(t.issues.c.date.desc()).limit(1)).first()
        return _issue(row) if row else None

    def issues(self) -> list[IssueRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.issues).order_by(t.issues.c.date)).all()
        return [_issue(r) for r in rows]

    # -- ledger ----------------------------------------------------------------------------

    def ledger(self, day: str, horizon_days: int = 30) -> list[LedgerEntry]:
        """Stories seen on the ``horizon_days`` before ``day`` (never on ``day`` itself)."""
        since = (date.fromisoformat(day) - timedelta(days=horizon_days)).isoformat()
        query = (sa.select(t.story_units, t.items.c.text.label("item_text"), t.stories.c.first_day,
                           t.stories.c.title.label("story_title"))
                 .join(t.items, t.items.c.id == t.story_units.c.item_id)
                 .join(t.stories, t.stories.c.id == t.story_units.c.story_id)
                 .where(t.story_units.c.day < day, t.story_units.c.day >= since)
                 .order_by(t.story_units.c.day, t.story_units.c.unit_id))
        told = (sa.select(t.issue_stories.c.story_id, sa.func.max(t.issue_stories.c.issue_date).label("d"))
                .where(t.issue_stories.c.issue_date < day).group_by(t.issue_stories.c.story_id))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            told_in = {r.story_id: r.d for r in conn.execute(told)}
        grouped: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row.story_id].append(row)
        entries = []
        for story_id, units in grouped.items():
            vectors = [v for v in (_vector(u.vector) for u in units) if v is not None]
            vector = None
            if vectors:
                mean = np.mean(vectors, axis=0)
                vector = (mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32)
            entries.append(LedgerEntry(
                id=story_id, title=units[0].story_title or units[0].title,
                text="\n".join(u.item_text[u.span_start:u.span_end] for u in units)[:20000],
                urls=frozenset(url for u in units for url in json.loads(u.urls)),
                item_ids=frozenset(u.item_id for u in units), first_day=units[0].first_day,
                told_in=told_in.get(story_id), vector=vector))
        return entries

    def _clock_rows(self, *conditions: Any) -> list[Any]:
        query = (sa.select(t.clocks, t.items.c.url.label("item_url"), t.stories.c.title.label("item_title"),
                           t.sources.c.name.label("source"))
                 .join(t.items, t.items.c.id == t.clocks.c.item_id)
                 .join(t.stories, t.stories.c.id == t.clocks.c.story_id)
                 .join(t.sources, t.sources.c.id == t.items.c.source_id)
                 .where(*conditions).order_by(t.clocks.c.due, t.clocks.c.id))
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    @staticmethod
    def _due_clock(r: Any, issue_url: Any) -> DueClock:
        return DueClock(id=r.id, opened_in=r.opened_in, opened_url=issue_url(r.opened_in), sentence=r.sentence,
                        phrase=r.phrase, due=r.due, item_id=r.item_id, item_url=r.item_url, source=r.source,
                        story_id=r.story_id, title=r.item_title)

    def due_clocks(self, day: str, issue_url: Any) -> list[DueClock]:
        """Clocks of earlier issues whose date has come (and not yet revisited before ``day``)."""
        rows = self._clock_rows(t.clocks.c.due <= day, t.clocks.c.opened_in < day,
                                sa.or_(t.clocks.c.status == "open", t.clocks.c.revisited_in == day))
        return [self._due_clock(r, issue_url) for r in rows]

    def running_clocks(self, day: str, issue_url: Any) -> list[DueClock]:
        """Clocks of earlier issues still running after ``day``, soonest first."""
        rows = self._clock_rows(t.clocks.c.opened_in < day, t.clocks.c.due > day, t.clocks.c.status == "open")
        return [self._due_clock(r, issue_url) for r in rows]

    def clocks(self, status: str | None = None) -> list[Any]:
        query = (sa.select(t.clocks, t.sources.c.name.label("source"))
                 .join(t.items, t.items.c.id == t.clocks.c.item_id)
                 .join(t.sources, t.sources.c.id == t.items.c.source_id)
                 .order_by(t.clocks.c.due, t.clocks.c.id))
        if status:
            query = query.where(t.clocks.c.status == status)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    # -- saving a drafted issue ------------------------------------------------------------

    def save_issue(self, *, day: str, title: str, path: str, window: tuple[str, str], content_hash: str,
                   verified: bool, summary: dict[str, Any], stories: Sequence[Story], plan: Plan,
                   roles: dict[str, str], text: tuple[str, str] | None = None) -> None:
        """Replace everything day ``day`` wrote before with this draft, in one transaction;
        ``text``: the issue's (Markdown, provenance JSON), kept in ``issue_texts``."""
        with self.engine.begin() as conn:
            day_lock(conn, f"issue:{day}")  # two machines saving one day take turns, never interleave
            if text is not None:
                write_text(conn, day, text[0], text[1], origin="draft")
            conn.execute(t.issue_stories.delete().where(t.issue_stories.c.issue_date == day))
            conn.execute(t.clocks.delete().where(t.clocks.c.opened_in == day))
            conn.execute(t.clocks.update().where(t.clocks.c.revisited_in == day)
                         .values(status="open", revisited_in=None))
            conn.execute(t.story_units.delete().where(t.story_units.c.day == day))
            conn.execute(t.issues.delete().where(t.issues.c.date == day))
            known = {r[0] for r in conn.execute(sa.select(t.stories.c.id).where(
                t.stories.c.id.in_([s.id for s in stories])))} if stories else set()
            new_stories = [dict(id=s.id, first_day=day, title=s.title[:500]) for s in stories if s.id not in known]
            if new_stories:  # ON CONFLICT: a story first told on two days drafted at once is one row
                conn.execute(insert(conn, t.stories).on_conflict_do_nothing(index_elements=["id"]), new_stories)
            unit_rows = [dict(story_id=s.id, unit_id=u.id, item_id=u.item.id, day=day, status=s.status,
                              span_start=u.start, span_end=u.end, title=u.title[:500],
                              # the unit's own links: the ledger joins a story's units again (the
                              # story's whole list on each of its units grew with the square)
                              urls=json.dumps(_own_links(u, s)),
                              vector=None if s.vector is None else np.asarray(s.vector, np.float32).tobytes())
                         for s in stories for u in s.units]
            if unit_rows:
                conn.execute(t.story_units.insert(), unit_rows)
            conn.execute(t.issues.insert().values(
                date=day, title=title, path=path, created_at=iso(now()), window_start=window[0],
                window_end=window[1], content_hash=content_hash, verified=verified,
                summary=json.dumps(summary, sort_keys=True)))
            if roles:
                conn.execute(t.issue_stories.insert(), [
                    dict(issue_date=day, story_id=sid, role=role,
                         status=next((s.status for s in stories if s.id == sid), "new"))
                    for sid, role in roles.items()])
            clock_rows = [dict(id=f"{day}:{c.story.id}", story_id=c.story.id, item_id=c.unit.item.id, opened_in=day,
                               sentence=c.finding.sentence, phrase=c.finding.phrase, due=c.finding.due.isoformat(),
                               precision=c.finding.precision, status="open", revisited_in=None)
                          for c in plan.clocks]
            if clock_rows:
                conn.execute(t.clocks.insert(), clock_rows)
            for due in plan.due:
                conn.execute(t.clocks.update().where(t.clocks.c.id == due.id)
                             .values(status="revisited", revisited_in=day))


def _issue(row: Any) -> IssueRow:
    return IssueRow(date=row.date, title=row.title, path=row.path, window_start=row.window_start,
                    window_end=row.window_end, verified=bool(row.verified), summary=json.loads(row.summary),
                    content_hash=row.content_hash)


def _own_links(unit: Any, story: Story) -> list[str]:
    """The story's link keys that are this unit's own (``url_keys`` of the unit, hubs excluded as
    the story excludes them)."""
    from lll.stories.dedup import url_keys  # imported here to leave the module's imports as they are

    return sorted(url_keys(unit) & story.urls)
