"""The current time, as LLL sees it: ``LLL_NOW`` when set, else the real clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from lll.errors import LLLError


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant; a naive value is taken as UTC."""
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise LLLError(
            f"cannot read the time {value!r}: use ISO 8601, e.g. 2026-04-10T23:59:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_override: datetime | None = None


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, ``now()`` is ``moment`` (for replays: one day after another)."""
    global _override
    previous, _override = _override, moment.astimezone(UTC)
    try:
        yield
    finally:
        _override = previous


def now() -> datetime:
    """Aware UTC now, honouring ``frozen_at`` and then ``LLL_NOW`` (replays and tests depend on it)."""
    if _override is not None:
        return _override
    forced = os.environ.get("LLL_NOW")
    if forced:
        return parse_instant(forced)
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A compact, sortable UTC ISO string (``2026-04-10T23:59:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
