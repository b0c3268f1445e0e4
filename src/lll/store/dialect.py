"""What differs between the two stores LLL supports: SQLite (the embedded default) and
PostgreSQL (``postgresql+psycopg://…``, the ``postgres`` extra).

Everything else in ``lll.store`` is written once, in SQLAlchemy Core, for both: the
engine and its pool (:func:`make_engine`), the column types the migrations spell
(:data:`TYPES`), real upserts (:func:`insert`, ``INSERT … ON CONFLICT`` on both), the
lock that serialises migrations (:func:`migration_lock`), and how a database URL is
shown: never with its password (:func:`safe_url`, :func:`scrub`).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["TYPES", "day_lock", "dialect_of", "insert", "insert_for", "make_engine", "migration_lock", "safe_url",
           "scrub"]

# Placeholders of the migrations' SQL, per dialect. ``{pk}`` an auto-increment primary key;
# ``{ref}`` a column that holds such a key (a foreign key), so both are the same width;
# ``{blob}`` raw bytes (float32 vectors).
TYPES: dict[str, dict[str, str]] = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ref": "INTEGER", "blob": "BLOB"},
    "postgresql": {"pk": "BIGSERIAL PRIMARY KEY", "ref": "BIGINT", "blob": "BYTEA"},
}

# pg_advisory_xact_lock key of the migrations (any constant 64-bit number; this one spells "lllmigr").
MIGRATION_LOCK_KEY = 0x6C6C6C6D696772


def dialect_of(bind: sa.Engine | sa.Connection) -> str:
    name = bind.dialect.name
    return name if name in TYPES else "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, so DDL is transactional too
    cur = dbapi_conn.cursor()
    # the wait first: switching a fresh file to WAL takes its lock, and processes opening it at
    # once must queue for it, not fail at the driver's 5-second default ("database is locked")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, "") or default))
    except ValueError:
        return default


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``. SQLite: WAL, foreign keys, ``BEGIN IMMEDIATE`` (two writers wait
    instead of deadlocking). PostgreSQL: a small pool (``LLL_DB_POOL_SIZE``, default 5, plus
    as many again on demand), connections checked before use and renewed after an hour, a
    10-second connect timeout, and ``application_name=lll`` so ``pg_stat_activity`` says who."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    size = _int_env("LLL_DB_POOL_SIZE", 5)
    args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        args = {"connect_timeout": 10, "application_name": "lll"}
    return sa.create_engine(url, pool_size=max(1, size), max_overflow=max(1, size), pool_pre_ping=True,
                            pool_recycle=3600, pool_timeout=60, connect_args=args)


def insert(bind: sa.Engine | sa.Connection, table: sa.Table) -> Any:
    """``table.insert()`` in the dialect's own form, with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (SQLite ≥ 3.24 and PostgreSQL spell them the same way)."""
    return insert_for(dialect_of(bind), table)


def insert_for(dialect: str, table: sa.Table) -> Any:
    """:func:`insert` by dialect name, for statements built once at import time."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def migration_lock(conn: sa.Connection) -> None:
    """Serialise migrations across processes and machines for the rest of this transaction.
    SQLite: ``BEGIN IMMEDIATE`` already holds the database's write lock. PostgreSQL: a
    transaction-scoped advisory lock, so two processes opening a fresh database do not both
    create the same tables."""
    if dialect_of(conn) == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})


def day_lock(conn: sa.Connection, key: str) -> None:
    """Serialise, for the rest of this transaction, every writer that takes the same ``key``
    (the date of an issue being saved). SQLite: its write lock already does."""
    if dialect_of(conn) == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"lll:{key}"})


# -- credentials never shown -------------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_PASSWORD_ARG = re.compile(r"(?i)\b(password|passwd|pwd)=([^&\s'\"]+)")


def safe_url(url: str) -> str:
    """``url`` as it may be shown: the password replaced by ``***`` (also one given as a
    ``?password=`` query argument)."""
    return _PASSWORD_ARG.sub(r"\1=***", _USERINFO.sub(r"\g<scheme>\g<user>:***@", url))


def scrub(text: str, url: str = "") -> str:
    """``text`` with every credential removed: any ``scheme://user:password@`` it contains,
    ``password=`` arguments, and the password of ``url`` wherever it appears on its own
    (a driver may quote it in an error message), raw or URL-encoded."""
    cleaned = safe_url(text)
    secret = _password(url)
    if len(secret) >= 4:  # a shorter one would blank out ordinary words; it protects nothing anyway
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            cleaned = cleaned.replace(form, "***")
    return cleaned


def _password(url: str) -> str:
    if not url:
        return ""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        match = _USERINFO.search(url)
        return match.group("pw") if match else ""
    password = parsed.password
    if password is None:
        password = parsed.query.get("password")  # type: ignore[assignment]
    return str(password or "") if not isinstance(password, tuple) else str(password[0])
