"""The text of each issue in the database (``issue_texts``), and every text it had before
(``issue_history``); migration ``0006_pg_issue_texts``.

One row per date holds the issue's Markdown and its provenance JSON, exactly the bytes of
``issues/DATE.md`` and ``issues/DATE.json`` (which ``lll.issues`` exports from here). A
write that changes the Markdown first keeps the old one in ``issue_history``, in the same
transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lll.clock import iso, now
from lll.store import schema as t
from lll.store.db import Store
from lll.store.dialect import insert

__all__ = ["IssueText", "IssueTexts", "Kept", "text_hash", "write_text"]


def text_hash(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssueText:
    date: str
    markdown: str
    document: str  # the JSON text of issues/DATE.json ("" for an issue LLL did not draft)
    content_hash: str
    origin: str  # draft | edit
    updated_at: str


@dataclass(frozen=True)
class Kept:
    """A text an issue had before it was replaced."""

    id: int
    date: str
    markdown: str
    content_hash: str
    origin: str
    kept_at: str


def write_text(conn: sa.Connection, day: str, markdown: str, document: str | None, origin: str) -> bool:
    """Make ``markdown`` the text of ``day`` inside the caller's transaction; ``document``
    None keeps the stored one. The text replaced is kept in ``issue_history``. Returns
    whether anything changed."""
    # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock): two writers
    # of one day take turns, so each keeps what the other wrote in the history
    old = conn.execute(sa.select(t.issue_texts).where(t.issue_texts.c.date == day).with_for_update()).first()
    stamp = iso(now())
    if old is not None:
        if old.markdown == markdown and (document is None or old.document == document) and old.origin == origin:
            return False
        if old.markdown != markdown:
            conn.execute(t.issue_history.insert().values(date=day, markdown=old.markdown,
                                                          content_hash=old.content_hash, origin=old.origin,
                                                          kept_at=stamp))
    row = dict(markdown=markdown, content_hash=text_hash(markdown), origin=origin, updated_at=stamp,
               document=document if document is not None else (old.document if old is not None else ""))
    conn.execute(insert(conn, t.issue_texts).values(date=day, **row)
                 .on_conflict_do_update(index_elements=["date"], set_=row))
    return True


def _text(row: Any) -> IssueText:
    return IssueText(date=row.date, markdown=row.markdown, document=row.document, content_hash=row.content_hash,
                     origin=row.origin, updated_at=row.updated_at)


class IssueTexts:
    """Reads and writes of ``issue_texts`` and ``issue_history``; each write one transaction."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def get(self, day: str) -> IssueText | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.issue_texts).where(t.issue_texts.c.date == day)).first()
        return _text(row) if row else None

    def days(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(t.issue_texts.c.date).order_by(t.issue_texts.c.date))]

    def put(self, day: str, markdown: str, *, document: str | None = None, origin: str = "edit") -> bool:
        with self.engine.begin() as conn:
            return write_text(conn, day, markdown, document, origin)

    def history(self, day: str) -> list[Kept]:
        """The texts ``day`` had before, oldest first."""
        query = (sa.select(t.issue_history).where(t.issue_history.c.date == day)
                 .order_by(t.issue_history.c.id))
        with self.engine.connect() as conn:
            return [Kept(id=r.id, date=r.date, markdown=r.markdown, content_hash=r.content_hash, origin=r.origin,
                         kept_at=r.kept_at) for r in conn.execute(query)]
