"""What can go wrong with the workspace's files, said in one line each.

- ``check_database``: an existing workspace whose SQLite database is missing or empty is an
  error — never silently a fresh, empty database (the sources and the story ledger would be
  gone, and ``draft`` would call "nothing new" verified).
- ``storage_error``: a corrupt database, a full disk or a read-only workspace, found anywhere in
  an exception's chain, becomes one ``WorkspaceError`` naming the file and what to do.
- ``set_aside``: ``lll init --force`` moves a corrupt or empty database out of the way (never
  deletes it) so that a fresh one can be made.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from lll.clock import now
from lll.errors import LLLError, WorkspaceError

_CORRUPT = ("database disk image is malformed", "file is not a database", "file is encrypted or is not a database")
_FULL = ("database or disk is full", "no space left on device")
_READ_ONLY = ("attempt to write a readonly database", "unable to open database file", "readonly database",
              "read-only file system")


class StorageFullError(WorkspaceError):
    """The disk is full: nothing half-written was kept; free space and the same command works."""

    exit_code = 1


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url  # only when a command opens a workspace: `lll --help` needs none

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _in_use(root: Path, db: Path) -> bool:
    """Signs that this workspace had a database before: issues, the lock a command leaves, a WAL."""
    issues = root / "issues"
    return ((issues.is_dir() and any(issues.iterdir())) or (root / ".lll.lock").exists()
            or Path(f"{db}-wal").exists())


def check_database(root: Path, database_url: str) -> None:
    """Raise ``WorkspaceError`` when the workspace's SQLite file is empty, or missing although the
    workspace was in use; a workspace that never had one gets it made on open as before."""
    db = sqlite_path(database_url)
    if db is None:
        return
    fix = "restore it from a backup, or run `lll init --force` to start an empty database"
    if db.is_file() and db.stat().st_size == 0:
        raise WorkspaceError(f"the database {db} is empty (0 bytes): {fix}")
    if not db.exists() and _in_use(root, db):
        raise WorkspaceError(f"the database {db} is missing: {fix}")


def set_aside(database_url: str) -> Path | None:
    """Move an empty or unreadable SQLite file (and its WAL) aside; returns where it went."""
    db = sqlite_path(database_url)
    if db is None or not db.exists():
        return None
    if db.stat().st_size > 0 and _readable(db):
        return None
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    kept = db.with_name(f"{db.name}.corrupt-{stamp}")
    db.replace(kept)
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{db}{suffix}")
        if extra.exists():
            extra.replace(Path(f"{kept}{suffix}"))
    return kept


def _readable(db: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return bool(conn.execute("PRAGMA quick_check").fetchone()[0] == "ok")
    except sqlite3.DatabaseError:
        return False


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return seen


def storage_error(exc: BaseException, root: Path, database_url: str) -> LLLError | None:
    """The one-line error for a storage fault anywhere in ``exc``'s chain, else None."""
    db = sqlite_path(database_url)
    where = str(db) if db is not None else "the database"
    for cause in _chain(exc):
        first = str(cause).splitlines()[0] if str(cause) else ""
        text = first.lower()
        number = cause.errno if isinstance(cause, OSError) else None
        if number == errno.ENOSPC or any(s in text for s in _FULL):
            filename = getattr(cause, "filename", None)
            return StorageFullError(f"no space left on the disk of {filename or where}: free space and rerun; "
                                    "nothing was lost (the interrupted write was rolled back)")
        if number in (errno.EROFS, errno.EACCES, errno.EPERM) or any(s in text for s in _READ_ONLY):
            return WorkspaceError(f"the workspace {root} is read-only ({first}): make it writable, or copy it "
                                  "somewhere writable and pass --workspace DIR")
        if isinstance(cause, sqlite3.DatabaseError) and any(s in text for s in _CORRUPT):
            return WorkspaceError(f"the database {where} is corrupt ({first}): restore it from a backup, or run "
                                  "`lll init --force` (the damaged file is kept beside it) to start an empty one")
    return None


__all__ = ["StorageFullError", "check_database", "set_aside", "sqlite_path", "storage_error"]
