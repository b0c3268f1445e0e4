"""The publication ledger, and the one algorithm that makes a remote publish happen once.

One row per (target, issue date) in ``publications``. States::

    pending     a publish started and has not finished (a crash leaves this)
    draft       the target holds this content as a draft      ─┐
    public      the target holds this content, public           │ "done": a rerun with
    sent        every recipient got the email                   │ the same content hash
    published   the archive page and feeds hold this content   ─┘ sends nothing
    partial     some recipients got the email, some did not
    failed      the target refused; nothing changed there in this attempt; ``error`` says what to fix
    unclear     the request may have reached the target; the next run looks it up before retrying

``content_hash`` is the hash of the content last *confirmed* on the target, so a failed
update leaves the truth: the remote still holds the older content.

``publish_once`` is shared by every target that keeps an object (DEV, Buttondown, Ghost):
look the ledger up first; same content → no call; a known remote id → update it; no id
→ look the target up (a lost ledger, a crash, an unclear attempt) and adopt what is
found; only then create. After an unclear failure (timeout, 5xx after sending, a 422
that still created the object) it looks the object up again before any retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from lll.clock import iso, now
from lll.errors import PublishError
from lll.publish.model import DONE_STATES, PublishableIssue, Receipt
from lll.store import Store
from lll.store import schema as t
from lll.store.dialect import insert


@dataclass(frozen=True)
class Entry:
    target: str
    date: str
    remote_id: str | None
    url: str | None
    content_hash: str | None
    state: str
    error: str | None
    detail: dict[str, Any]
    attempts: int
    created_at: str
    updated_at: str
    confirmed_at: str | None

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES


def _entry(row: Any) -> Entry:
    return Entry(target=row.target, date=row.date, remote_id=row.remote_id, url=row.url,
                 content_hash=row.content_hash, state=row.state, error=row.error,
                 detail=json.loads(row.detail or "{}"), attempts=row.attempts, created_at=row.created_at,
                 updated_at=row.updated_at, confirmed_at=row.confirmed_at)


class Ledger:
    """Reads and writes of the ``publications`` table; each write is one transaction."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def entry(self, target: str, day: str) -> Entry | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.publications).where(
                t.publications.c.target == target, t.publications.c.date == day)).first()
        return _entry(row) if row else None

    def entries(self, day: str | None = None, target_prefix: str | None = None) -> list[Entry]:
        query = sa.select(t.publications).order_by(t.publications.c.date, t.publications.c.target)
        if day:
            query = query.where(t.publications.c.date == day)
        if target_prefix:
            query = query.where(t.publications.c.target.startswith(target_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def write(self, target: str, day: str, *, attempt: bool = False, **values: Any) -> Entry:
        """Insert or update the row of (target, day) with ``values``."""
        if "detail" in values:
            values["detail"] = json.dumps(values["detail"], sort_keys=True, ensure_ascii=False)
        stamp = iso(now())
        with self.engine.begin() as conn:
            # ON CONFLICT: the (target, date) row is made once, whoever writes it first
            conn.execute(insert(conn, t.publications).values(
                target=target, date=day, state="pending", detail="{}", attempts=0, created_at=stamp,
                updated_at=stamp).on_conflict_do_nothing(index_elements=["target", "date"]))
            changes = dict(values, updated_at=stamp)
            if attempt:
                changes["attempts"] = t.publications.c.attempts + 1
            conn.execute(t.publications.update().where(
                t.publications.c.target == target, t.publications.c.date == day).values(**changes))
            fresh = conn.execute(sa.select(t.publications).where(
                t.publications.c.target == target, t.publications.c.date == day)).one()
        return _entry(fresh)

    def slot(self, target: str, day: str, redact: Callable[[str], str] = lambda s: s) -> Slot:
        return Slot(self, target, day, redact)


@dataclass
class Slot:
    """The ledger row of one target and one issue, as a publisher sees it."""

    ledger: Ledger
    target: str
    date: str
    redact: Callable[[str], str] = field(default=lambda s: s)

    def entry(self) -> Entry | None:
        return self.ledger.entry(self.target, self.date)

    def pending(self) -> Entry:
        """A request is about to go out: a crash from here on leaves ``pending``."""
        return self.ledger.write(self.target, self.date, attempt=True, state="pending", error=None)

    def remember(self, remote_id: str, url: str = "", **detail: Any) -> Entry:
        """Keep the remote id the moment it is known (right after a 201, or a lookup)."""
        merged = dict(self._detail(), **detail)
        return self.ledger.write(self.target, self.date, remote_id=str(remote_id), url=url or None,
                                 detail=merged)

    def forget(self) -> Entry:
        """The remote object is gone (deleted on the target): the next publish creates anew."""
        return self.ledger.write(self.target, self.date, remote_id=None, url=None, content_hash=None)

    def confirm(self, receipt: Receipt) -> Entry:
        detail = dict(self._detail(), **dict(receipt.detail))
        return self.ledger.write(self.target, self.date, state=receipt.state, remote_id=receipt.remote_id or None,
                                 url=receipt.url or None, content_hash=receipt.content_hash or None,
                                 error=self.redact(receipt.message) if not receipt.ok else None,
                                 detail=detail, confirmed_at=iso(now()))

    def fail(self, message: str, state: str = "failed") -> Entry:
        return self.ledger.write(self.target, self.date, state=state, error=self.redact(message)[:2000])

    def _detail(self) -> dict[str, Any]:
        entry = self.entry()
        return dict(entry.detail) if entry else {}


# -- the shared algorithm --------------------------------------------------------------------------


class Unclear(PublishError):
    """The request may have reached the target. ``retry``: whether sending it again could
    succeed once the lookup has shown nothing was made (a timeout: yes; a 422: no)."""

    def __init__(self, message: str, *, target: str = "", status: int | None = None, retry: bool = True) -> None:
        super().__init__(message, target=target, state="unclear", status=status)
        self.retry = retry


class Gone(PublishError):
    """The remote object the ledger names no longer exists (deleted, or not ours)."""


@dataclass(frozen=True)
class RemoteObject:
    """An object on a target as a publisher sees it after a call or a lookup."""

    id: str
    url: str = ""
    state: str = "draft"  # draft | public
    same: bool = False  # its content is already this issue's
    detail: dict[str, Any] = field(default_factory=dict)


class RemoteOps(Protocol):
    """What a target that keeps an object provides to ``publish_once``."""

    name: str
    public: bool

    def find(self, issue: PublishableIssue) -> RemoteObject | None: ...

    def create(self, issue: PublishableIssue) -> RemoteObject: ...

    def update(self, remote_id: str, issue: PublishableIssue, detail: dict[str, Any]) -> RemoteObject: ...


def publish_once(slot: Slot, issue: PublishableIssue, ops: RemoteOps, *, dry_run: bool,
                 attempts: int = 3) -> Receipt:
    """Put ``issue`` on the target exactly once (see the module docstring). Writes the
    ledger's intermediate states itself (``pending``, the remote id as soon as it is
    known); the caller records the returned receipt, or the ``PublishError`` raised."""
    entry = slot.entry()
    if entry and entry.done and entry.content_hash == issue.content_hash and (
            not ops.public or entry.state == "public"):
        return Receipt(ops.name, issue.date, "unchanged", entry.state, entry.remote_id or "", entry.url or "",
                       issue.content_hash, message="the target already holds this content; nothing sent")
    if dry_run:
        return _plan(entry, issue, ops)
    slot.pending()
    remote = _known(entry)
    if remote is None:
        remote = ops.find(issue)  # no id: a lost ledger, a crash or an unclear attempt may have made one
        if remote is not None:
            slot.remember(remote.id, remote.url, **remote.detail)
            if remote.same and (not ops.public or remote.state == "public"):
                return _receipt(ops, issue, remote, "adopted")
    last: PublishError | None = None
    for _ in range(max(1, attempts)):
        try:
            if remote is not None:
                try:
                    done = ops.update(remote.id, issue, (slot.entry() or entry or _empty(slot)).detail)
                except Gone:
                    slot.forget()
                    remote = None
                    continue
                return _receipt(ops, issue, done, "updated")
            made = ops.create(issue)
            slot.remember(made.id, made.url, **made.detail)
            return _receipt(ops, issue, made, "created")
        except Unclear as exc:
            last = exc
            found = ops.find(issue)
            if found is None:
                if not exc.retry:  # the lookup shows nothing was made: a plain refusal
                    raise PublishError(str(exc), target=ops.name, status=exc.status) from exc
                continue
            slot.remember(found.id, found.url, **found.detail)
            if found.same and (not ops.public or found.state == "public"):
                return _receipt(ops, issue, found, "adopted")
            remote = found
    raise last or PublishError(f"{ops.name}: gave up after {attempts} attempts", target=ops.name,
                               state="unclear")


def _known(entry: Entry | None) -> RemoteObject | None:
    if entry is None or not entry.remote_id:
        return None
    return RemoteObject(id=entry.remote_id, url=entry.url or "", detail=dict(entry.detail))


def _empty(slot: Slot) -> Entry:
    return Entry(slot.target, slot.date, None, None, None, "pending", None, {}, 0, "", "", None)


def _receipt(ops: RemoteOps, issue: PublishableIssue, obj: RemoteObject, action: str) -> Receipt:
    return Receipt(ops.name, issue.date, action, obj.state, obj.id, obj.url, issue.content_hash,
                   detail=obj.detail)


def _plan(entry: Entry | None, issue: PublishableIssue, ops: RemoteOps) -> Receipt:
    visibility = "public" if ops.public else "draft"
    if entry and entry.remote_id:
        action, note = "would update", f"would update {entry.remote_id} with the new content ({visibility})"
    elif entry and entry.state in ("pending", "unclear"):
        action, note = "would look up", "an earlier attempt may have reached the target: would look it up first"
    else:
        action, note = "would create", f"would look the target up, then create a {visibility}"
    return Receipt(ops.name, issue.date, action, entry.state if entry else "new", entry.remote_id or "" if entry
                   else "", entry.url or "" if entry else "", issue.content_hash, message=note, dry_run=True)
