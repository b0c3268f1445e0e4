"""``Publishing``: the library call behind ``lll publish DATE --to TARGET``.

verify the draft → build the ``PublishableIssue`` → the target's publisher (from the
registry) → its ``Receipt`` → the ledger. A draft that fails verification is never
published; a refused publish leaves the ledger saying so, with what to fix.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import date as Date

from lll.errors import LLLError, PublishError, PublishSettingsError, VerificationError
from lll.newsletter import Newsletter
from lll.publish.ledger import Entry, Ledger
from lll.publish.model import PublishableIssue, Receipt, load_issue
from lll.publish.registry import PublishContext, Registry, load_registry
from lll.publish.settings import Secrets

log = logging.getLogger("lll.publish")


class Publishing:
    """Publishes the issues of one newsletter. ``env`` is where keys are read
    (``os.environ`` by default); ``sleep`` is how backoff waits (tests pass a fast one)."""

    def __init__(self, letter: Newsletter, *, env: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep, registry: Registry | None = None) -> None:
        self.letter = letter
        self.env = os.environ if env is None else env
        self.sleep = sleep
        self.registry = registry or load_registry()
        self.ledger = Ledger(letter.store)

    def targets(self) -> list[str]:
        return self.registry.names()

    def issue(self, day: str) -> PublishableIssue:
        """The verified issue of ``day``; raises ``VerificationError`` if the draft fails."""
        from lll.draft import Drafter
        from lll.issues import Issues

        config = self.letter.config.newsletter
        issues = Issues(self.letter.store, self.letter.workspace.issues_dir)
        try:
            Date.fromisoformat(day)
        except ValueError as exc:
            raise LLLError(f"{day!r} is not a date: use YYYY-MM-DD") from exc
        text = issues.current(day)  # the database's (a hand-edited file taken in first)
        if text is None:
            raise PublishError(f"no draft for {day} ({issues.path(day)} is missing): "
                               f"run `lll draft --date {day}` first")
        issue = load_issue(self.letter.workspace.issues_dir, day, base_url=config.base_url, newsletter=config.name,
                           markdown=text, document=issues.document(day))
        report = Drafter(self.letter).verify_text(text)
        if not report.ok:
            first = "; ".join(report.lines()[:3])
            raise VerificationError(
                f"issues/{day}.md fails verification ({len(report.failures)} problem(s): {first}); nothing was "
                f"published: fix the draft and check it with `lll verify issues/{day}.md`")
        return issue

    def publish(self, day: str, target: str, *, dry_run: bool = False, public: bool = False) -> Receipt:
        factory = self.registry.factory(target)
        secrets = Secrets()
        slot = self.ledger.slot(target, day, secrets.redact)
        context = PublishContext(target=target, config=self.letter.config, workspace=self.letter.workspace.root,
                                 slot=slot, env=self.env, public=public, secrets=secrets, sleep=self.sleep)
        try:
            publisher = factory(context)  # settings first: a missing key is found before anything else
            if public and not getattr(publisher, "supports_public", False):
                raise PublishSettingsError(f"--public applies to devto only: {target} keeps a draft that you "
                                           f"publish from {target} itself", target=target)
        except PublishError as exc:
            raise _scrubbed(exc, secrets) from None
        issue = self.issue(day)  # no draft, or one that fails verification: nothing sent, nothing recorded
        try:
            receipt = publisher.publish(issue, dry_run=dry_run)
        except PublishError as exc:
            clean = _scrubbed(exc, secrets)
            if not dry_run:
                slot.fail(str(clean), clean.state)
            raise clean from exc.__cause__
        if not dry_run:
            slot.confirm(receipt)
        log.info("%s", secrets.redact(receipt.summary_line()))
        return receipt

    def publish_all(self, day: str, targets: list[str] | tuple[str, ...]) -> list[Receipt | LLLError]:
        """Each target in turn; one target's failure does not stop the others."""
        results: list[Receipt | LLLError] = []
        for target in targets:
            try:
                results.append(self.publish(day, target))
            except LLLError as exc:
                results.append(exc)
        return results

    def entries(self, day: str | None = None) -> list[Entry]:
        return self.ledger.entries(day)


def _scrubbed(exc: PublishError, secrets: Secrets) -> PublishError:
    """The same error with any key scrubbed from its message."""
    message = secrets.redact(str(exc))
    clone = type(exc).__new__(type(exc))
    PublishError.__init__(clone, message, target=exc.target or "", state=exc.state, status=exc.status)
    return clone
