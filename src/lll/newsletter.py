"""``Newsletter``: the library object behind every command — a workspace, its
settings and its store, and one method per thing the editor does."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lll import kinds
from lll.errors import LLLError, SourceError, WorkspaceBusyError
from lll.fetch.guard import POLICIES, Resolver, system_resolver
from lll.records import Source
from lll.sources.opml import read_opml_file, write_opml
from lll.store import Store
from lll.store.db import RemovedSource, SourceHealth
from lll.urls import is_http_url
from lll.workspace import Workspace

if TYPE_CHECKING:  # the fetch machinery (httpx, trafilatura...) is imported by the commands that fetch
    from lll.fetch.run import FetchReport, SourceOutcome


class Newsletter:
    """A newsletter's workspace, opened. Close it (or use ``with``) when done."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.config = workspace.config
        self.store = Store(workspace.database_url)
        for decl in self.config.sources:
            self._add(decl.url, name=decl.name, weight=decl.weight, kind=decl.kind, fulltext=decl.fulltext)

    @classmethod
    def open(cls, root: Path) -> Newsletter:
        return cls(Workspace.open(root))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Newsletter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sources ---------------------------------------------------------------------------

    def _add(self, url: str, *, name: str = "", weight: float | None = None, kind: str = "",
             fulltext: str = "", site_url: str = "") -> tuple[Source, bool]:
        self._check(url, weight=weight, kind=kind, fulltext=fulltext)
        return self.store.add_source(url, name=name, weight=weight, kind=kind, fulltext=fulltext,
                                     site_url=site_url)

    @staticmethod
    def _check(url: str, *, weight: float | None = None, kind: str = "", fulltext: str = "") -> None:
        if not is_http_url(url):
            raise SourceError(f"{url!r} is not an http(s) URL: give the feed's full address")
        if kind and kind not in kinds.names() + ("auto",):
            raise SourceError(f"unknown kind {kind!r}: use one of {', '.join(kinds.names())}")
        if fulltext and fulltext not in ("auto", "always", "never"):
            raise SourceError(f"fulltext {fulltext!r}: use auto, always or never")
        if weight is not None and not 0 <= weight <= 100:
            raise SourceError(f"weight {weight} is outside 0..100")

    def add_source(self, url: str, *, name: str = "", weight: float | None = None, kind: str = "",
                   fulltext: str = "") -> tuple[Source, bool]:
        return self._add(url, name=name, weight=weight, kind=kind, fulltext=fulltext)

    def import_opml(self, path: Path) -> tuple[int, int, list[str]]:
        """Add every feed of an OPML file. Returns (added, updated, skipped notes)."""
        found, skipped = read_opml_file(path)
        if not found and not skipped:
            raise SourceError(f"{path}: no feeds found (no <outline xmlUrl=...>)")
        specs = []
        for outline in found:
            try:
                self._check(outline.url, weight=outline.weight, kind=outline.kind)
            except SourceError as exc:
                skipped.append(str(exc))
                continue
            specs.append({"url": outline.url, "name": outline.name, "weight": outline.weight, "kind": outline.kind,
                          "site_url": outline.site_url})
        created = self.store.add_sources(specs)  # one transaction: all of the file's sources, or none
        return sum(created), len(created) - sum(created), skipped

    def export_opml(self) -> str:
        health = self.store.health()
        return write_opml([h.source for h in health], f"{self.config.newsletter.name} sources",
                          {h.source.id: h.site_url for h in health})

    def remove_source(self, url: str) -> RemovedSource | None:
        return self.store.remove_source(url)

    def health(self) -> list[SourceHealth]:
        return self.store.health()

    # -- fetch -----------------------------------------------------------------------------

    def fetch_policy(self, override: str | None = None) -> str:
        if override:
            if override not in POLICIES:
                raise LLLError(f"unknown address policy {override!r}")
            return override
        return "private" if self.config.fetch.allow_private else "public"

    def fetch(self, *, policy: str | None = None, resolver: Resolver = system_resolver,
              progress: Callable[[SourceOutcome], None] | None = None,
              locate: Callable[[str], str] | None = None) -> FetchReport:
        """Fetch every source once and store what is new or changed (``locate``: where to GET
        an article page from, when not where its URL points; ``lll demo`` uses it)."""
        from lll.fetch.run import FetchRun

        sources = self.store.sources()
        run = FetchRun(self.store, self.config.fetch, policy=self.fetch_policy(policy), resolver=resolver,
                       progress=progress, locate=locate)
        return run.run(sources)

    # -- locking ---------------------------------------------------------------------------

    @contextmanager
    def lock(self, what: str, wait: bool = True,
             on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """One writer job at a time per workspace: a second waits (telling ``on_wait`` who holds
        it), or (``wait=False``) raises ``WorkspaceBusyError`` (exit status 75) naming the holder.
        On PostgreSQL the lock is the database's (a session advisory lock), so it holds across
        machines sharing the store."""
        if self.store.engine.dialect.name == "postgresql":
            with self._database_lock(what, wait):
                yield
            return
        path = self.workspace.root / ".lll.lock"
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                handle.seek(0)
                holder = handle.read().strip() or "another lll command"
                if not wait:
                    raise WorkspaceBusyError(f"the workspace is busy ({holder}); try again when it finishes") from exc
                if on_wait is not None:
                    on_wait(f"waiting for the workspace (held by {holder})")
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"lll {what}, pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _database_lock(self, what: str, wait: bool) -> Iterator[None]:
        import sqlalchemy as sa

        with self.store.engine.connect() as conn:
            key = int(conn.execute(sa.text("SELECT hashtextextended('lll-workspace:' || current_schema(), 0)"))
                      .scalar_one())
            conn.execute(sa.text("SELECT set_config('application_name', :n, false)"),
                         {"n": f"lll {what}, pid {os.getpid()}"[:63]})
            if wait:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            elif not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                holder = conn.execute(sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = :c AND l.objid::bigint = :o"),
                    {"c": (key >> 32) & 0xFFFFFFFF, "o": key & 0xFFFFFFFF}).scalar()
                conn.rollback()
                raise WorkspaceBusyError(f"the workspace is busy ({holder or 'another lll command'}); "
                                         "try again when it finishes")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
