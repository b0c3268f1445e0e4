"""Is a worker alive? Each worker holds a lock named by its executor id for as long as it runs;
the operating system (a file lock) or PostgreSQL (a session advisory lock) drops it when the
process dies, however it dies. A lock that can be taken belongs to a dead worker."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from lll.newsletter import Newsletter


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def postgres_engine(url: str) -> sa.Engine:
    """An engine for a PostgreSQL URL, with psycopg 3 when no driver is named."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


class Liveness:
    """``hold(id)`` for this worker; ``claim(other)`` yields True when ``other`` is dead."""

    @staticmethod
    def for_letter(letter: Newsletter) -> Liveness:
        url = letter.workspace.database_url
        if url.startswith("sqlite"):
            return FileLiveness(letter.workspace.root / ".lll-workers")
        return PostgresLiveness(url)

    def hold(self, executor_id: str) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def renew(self) -> bool:
        """Hold this worker's lock again if it was lost while the worker lives: whether it was."""
        return False  # a file lock lasts as long as the process

    @contextmanager
    def claim(self, executor_id: str) -> Iterator[bool]:
        raise NotImplementedError
        yield False  # pragma: no cover


class FileLiveness(Liveness):
    """One machine: ``DIR/<executor id>.lock``, held with ``flock`` by the worker."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: IO[str] | None = None
        self._path: Path | None = None

    def hold(self, executor_id: str) -> None:
        self.folder.mkdir(exist_ok=True)
        self._path = self.folder / f"{executor_id}.lock"
        self._held = open(self._path, "a+")  # noqa: SIM115 - held for the worker's whole life
        fcntl.flock(self._held, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._held is not None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            self._held.close()
            self._held = None

    @contextmanager
    def claim(self, executor_id: str) -> Iterator[bool]:
        path = self.folder / f"{executor_id}.lock"
        if not path.exists():
            yield False  # not a worker of this machine (or already recovered and cleaned up)
            return
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                path.unlink(missing_ok=True)
                fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(conn: sa.Connection, key: int) -> bool:
    """Take the session advisory lock ``key`` on ``conn`` if it is free: whether it was taken."""
    got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
    conn.commit()
    return got


class PostgresLiveness(Liveness):
    """Several machines: a session advisory lock per worker, on its own connection. The lock ends
    with that session, so a database restart or a dropped connection ends it under a live worker,
    and the others would then take the worker's running workflows for a dead one's, again at each
    of their looks: :meth:`renew`, called at each of the worker's own looks, takes it again."""

    def __init__(self, url: str) -> None:
        self.engine = postgres_engine(url)
        self._conn: Any = None
        self._key: int | None = None

    def hold(self, executor_id: str) -> None:
        self._key = advisory_key(f"lll-worker:{executor_id}")
        self._conn = self.engine.connect()
        self._conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": self._key})
        self._conn.commit()

    def renew(self) -> bool:
        if self._key is None:
            return False  # never held (or released)
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1")).scalar()
                self._conn.commit()
                return False  # the session, and with it the lock, is alive
            except sa.exc.DBAPIError:
                self._conn.close()
                self._conn = None
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError:
            return False  # the database is still away: the next look tries again
        try:
            got = _try_lock(conn, self._key)
        except sa.exc.DBAPIError:
            got = False
        if not got:  # (or a peer is claiming the lock this moment, to find this worker's workflows gone)
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        self._key = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    @contextmanager
    def claim(self, executor_id: str) -> Iterator[bool]:
        key = advisory_key(f"lll-worker:{executor_id}")
        with self.engine.connect() as conn:
            got = _try_lock(conn, key)
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
