"""``Issues``: a newsletter's issues, held in the database and exported to ``issues/``.

The database (``issue_texts``) holds each issue's Markdown and provenance JSON, so every
machine sharing it reads, edits, verifies and publishes the same issue; ``issues/DATE.md``
and ``issues/DATE.json`` are exports, written after the commit that made them true.

An editor may still edit ``issues/DATE.md`` by hand. The next time LLL reads that issue the
file is taken into the database as an edit (the text it replaces stays in the history),
unless it is a version LLL itself wrote there, which is only ever older than the database
(a draft killed between its commit and putting the file in place): then the file is written
again from the database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lll.clock import now
from lll.errors import LLLError
from lll.memory import IssueRow, Records
from lll.store import Store
from lll.store.issue_texts import IssueText, IssueTexts, text_hash

__all__ = ["WRITTEN_HASHES_KEPT", "Issues", "written_hashes"]

WRITTEN_HASHES_KEPT = 20  # versions of a DATE.md that LLL remembers having written


def written_hashes(row: IssueRow | None) -> list[str]:
    """The sha256 of every ``DATE.md`` LLL wrote for the row's date, oldest first. More than the
    last one: a draft killed between its database commit and putting the new file in place leaves
    the previous version on disk, which is still LLL's own and not a hand edit."""
    if row is None:
        return []
    hashes = [h for h in row.summary.get("written_hashes", []) if isinstance(h, str)]
    if row.content_hash and row.content_hash not in hashes:
        hashes.append(row.content_hash)
    return hashes[-WRITTEN_HASHES_KEPT:]


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")  # bytes as they are: no newline translation
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LLLError(f"{path}: cannot read ({reason}); fix or delete the file") from exc


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(path)


class Issues:
    """The issues of one workspace: the store's rows, and their files in ``issues_dir``."""

    def __init__(self, store: Store, issues_dir: Path) -> None:
        self.texts = IssueTexts(store)
        self.records = Records(store)
        self.dir = issues_dir

    def path(self, day: str) -> Path:
        return self.dir / f"{day}.md"

    def json_path(self, day: str) -> Path:
        return self.dir / f"{day}.json"

    def days(self) -> list[str]:
        """Dates with an issue, in the database or (not yet taken in) as a file, newest first."""
        import re

        files = {p.stem for p in self.dir.glob("*.md") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.stem)} \
            if self.dir.is_dir() else set()
        return sorted(set(self.texts.days()) | files, reverse=True)

    def written(self, day: str) -> list[str]:
        return written_hashes(self.records.issue(day))

    def current(self, day: str) -> str | None:
        """The issue's text as the editor last left it; None when there is none. A hand-edited
        file is taken into the database first (see the module docstring)."""
        stored = self.texts.get(day)
        on_disk = _read(self.path(day))
        if on_disk is None:
            return stored.markdown if stored else None
        if stored is not None and on_disk == stored.markdown:
            return on_disk
        ours = text_hash(on_disk) in self.written(day)
        if stored is None:  # drafted before the issue lived in the database, or made by hand
            document = _read(self.json_path(day))
            self.texts.put(day, on_disk, document=document or "", origin="draft" if ours else "edit")
            return on_disk
        if ours:  # an older version of LLL's own, left by a kill: the database is newer
            self.export(day, stored)
            return stored.markdown
        self.texts.put(day, on_disk, origin="edit")
        return on_disk

    def document(self, day: str) -> dict[str, Any]:
        """The provenance of ``day`` (``issues/DATE.json``); empty for an issue LLL did not draft."""
        stored = self.texts.get(day)
        text = stored.document if stored is not None and stored.document else _read(self.json_path(day))
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def export(self, day: str, stored: IssueText | None = None) -> Path | None:
        """Write ``issues/DATE.md`` (and ``.json``) from the database; the Markdown's path."""
        stored = stored or self.texts.get(day)
        if stored is None:
            return None
        if stored.document:
            atomic_write(self.json_path(day), stored.document)
        atomic_write(self.path(day), stored.markdown)
        return self.path(day)

    def save_edit(self, day: str, text: str) -> tuple[Path, Path | None]:
        """Make the editor's ``text`` the issue (the database first, the old text kept in its
        history), then export it; the old text is also left in ``issues/history/DATE.STAMP.md``.
        Returns (the issue's path, that history file or None when nothing changed)."""
        old = self.current(day)
        if old is None:
            raise LLLError(f"no draft for {day}: run `lll draft --date {day}` first")
        if old == text:
            return self.path(day), None
        self.texts.put(day, text, origin="edit")
        history = self.dir / "history"
        history.mkdir(parents=True, exist_ok=True)
        stamp = now().strftime("%Y%m%dT%H%M%SZ")
        backup, n = history / f"{day}.{stamp}.md", 2
        while backup.exists():
            backup, n = history / f"{day}.{stamp}-{n}.md", n + 1
        backup.write_bytes(old.encode("utf-8"))
        atomic_write(self.path(day), text)
        return self.path(day), backup

    def backup(self, day: str) -> Path | None:
        """The issue's current text in ``issues/DATE.md.bak-YYYYmmddTHHMMSSZ`` (wall-clock time,
        ``-N`` added if taken), before a forced draft replaces it; None when there is no text."""
        text = self.current(day)
        if text is None:
            return None
        path = self.path(day)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.bak-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        return target
