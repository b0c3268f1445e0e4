"""Publish: a verified issue out to where readers are, exactly once.

    issues/DATE.md + .json → PublishableIssue → Publisher (a plugin) → Receipt → ledger

Targets are plugins registered through one hook (``registry.py``); the built-ins —
``devto``, ``email``, ``buttondown``, ``ghost``, ``archive`` — register the same way a
third-party package does. The publication ledger (``ledger.py``) makes every publish
idempotent: rerunning, or retrying after a timeout or a crash, never makes a second
article or email.
"""

from lll.publish.ledger import Entry, Ledger, RemoteObject, Slot, publish_once
from lll.publish.model import PublishableIssue, Receipt, load_issue
from lll.publish.registry import ENTRY_POINT_GROUP, PublishContext, Publisher, PublisherFactory, Registry, load_registry
from lll.publish.service import Publishing

__all__ = [
    "ENTRY_POINT_GROUP",
    "Entry",
    "Ledger",
    "PublishContext",
    "PublishableIssue",
    "Publisher",
    "PublisherFactory",
    "Publishing",
    "Receipt",
    "Registry",
    "RemoteObject",
    "Slot",
    "load_issue",
    "load_registry",
    "publish_once",
]
