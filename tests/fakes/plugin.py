"""A third-party publishing plugin, as another package would ship it: one hook, one class."""

from __future__ import annotations

from typing import Any

from lll.publish import PublishableIssue, PublishContext, Receipt

SENT: list[tuple[str, str]] = []


class NotebookPublisher:
    """Keeps issues in a list; does nothing when the ledger already holds this content."""

    name = "notebook"

    def __init__(self, ctx: PublishContext) -> None:
        self.ctx = ctx

    def publish(self, issue: PublishableIssue, *, dry_run: bool) -> Receipt:
        entry = self.ctx.slot.entry()
        if entry and entry.done and entry.content_hash == issue.content_hash:
            return Receipt(self.name, issue.date, "unchanged", entry.state, entry.remote_id or "",
                           content_hash=issue.content_hash)
        if not dry_run:
            SENT.append((issue.date, issue.content_hash))
        return Receipt(self.name, issue.date, "created", "draft", f"page-{len(SENT)}",
                       content_hash=issue.content_hash, dry_run=dry_run)


def register_publishers(register: Any) -> None:
    register("notebook", NotebookPublisher)
    register("devto", NotebookPublisher)  # a name a built-in already has: ignored, reported
