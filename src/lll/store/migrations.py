"""Named, append-only schema migrations, each run in its own transaction.

Never edit a migration that has shipped: add a new one at the end. Placeholders are
replaced per dialect (``lll.store.dialect.TYPES``): ``{pk}`` an auto-increment primary
key, ``{ref}`` a column holding one (the same width), ``{blob}`` raw bytes. On SQLite
the SQL is exactly what it always was.

Migrations run under a lock (``dialect.migration_lock``): two processes opening a
fresh database wait for each other instead of both creating the same tables.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from lll.clock import iso, now
from lll.store.dialect import TYPES, dialect_of, migration_lock

Migration = tuple[str, list[str]]

MIGRATIONS: list[Migration] = [
    (
        "0001_initial",
        [
            """CREATE TABLE sources (
                id {pk}, url VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL,
                kind VARCHAR NOT NULL, detected_kind VARCHAR NOT NULL, weight FLOAT NOT NULL,
                fulltext VARCHAR NOT NULL, site_url VARCHAR NOT NULL, feed_title VARCHAR NOT NULL,
                added_at VARCHAR NOT NULL, etag VARCHAR, last_modified VARCHAR,
                last_fetch_at VARCHAR, last_ok_at VARCHAR, last_status VARCHAR NOT NULL,
                last_http_status INTEGER, last_error VARCHAR, consecutive_failures INTEGER NOT NULL)""",
            """CREATE TABLE runs (
                id {pk}, command VARCHAR NOT NULL, started_at VARCHAR NOT NULL,
                finished_at VARCHAR, summary VARCHAR)""",
            """CREATE TABLE fetch_attempts (
                id {pk}, run_id {ref} REFERENCES runs (id),
                source_id {ref} NOT NULL REFERENCES sources (id), url VARCHAR NOT NULL,
                started_at VARCHAR NOT NULL, seconds FLOAT NOT NULL, outcome VARCHAR NOT NULL,
                http_status INTEGER, bytes INTEGER NOT NULL, attempts INTEGER NOT NULL,
                new_items INTEGER NOT NULL, changed_items INTEGER NOT NULL, error VARCHAR)""",
            "CREATE INDEX ix_fetch_attempts_source ON fetch_attempts (source_id, started_at)",
            """CREATE TABLE items (
                id {pk}, source_id {ref} NOT NULL REFERENCES sources (id),
                identity VARCHAR NOT NULL, guid VARCHAR NOT NULL, url VARCHAR NOT NULL,
                canonical_url VARCHAR NOT NULL, title VARCHAR NOT NULL, author VARCHAR NOT NULL,
                published_at VARCHAR NOT NULL, published_in_feed BOOLEAN NOT NULL,
                first_seen_at VARCHAR NOT NULL, updated_at VARCHAR NOT NULL, text TEXT NOT NULL,
                text_origin VARCHAR NOT NULL, raw TEXT NOT NULL, content_hash VARCHAR NOT NULL,
                links TEXT NOT NULL, signals TEXT NOT NULL,
                CONSTRAINT uq_items_source_identity UNIQUE (source_id, identity))""",
            "CREATE INDEX ix_items_canonical_url ON items (canonical_url)",
            "CREATE INDEX ix_items_first_seen ON items (first_seen_at)",
            """CREATE TABLE item_revisions (
                id {pk}, item_id {ref} NOT NULL REFERENCES items (id), seen_at VARCHAR NOT NULL,
                content_hash VARCHAR NOT NULL, title VARCHAR NOT NULL, text TEXT NOT NULL,
                raw TEXT NOT NULL)""",
            "CREATE INDEX ix_item_revisions_item ON item_revisions (item_id)",
            """CREATE TABLE pages (
                url VARCHAR NOT NULL PRIMARY KEY, fetched_at VARCHAR NOT NULL, http_status INTEGER,
                content_type VARCHAR NOT NULL, title VARCHAR NOT NULL, text TEXT NOT NULL,
                raw TEXT NOT NULL, error VARCHAR)""",
        ],
    ),
    (
        "0002_ledger_issues_clocks",
        [
            """CREATE TABLE stories (
                id VARCHAR NOT NULL PRIMARY KEY, first_day VARCHAR NOT NULL, title VARCHAR NOT NULL)""",
            """CREATE TABLE story_units (
                story_id VARCHAR NOT NULL REFERENCES stories (id), unit_id VARCHAR NOT NULL,
                item_id {ref} NOT NULL REFERENCES items (id), day VARCHAR NOT NULL,
                status VARCHAR NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,
                title VARCHAR NOT NULL, urls TEXT NOT NULL, vector {blob},
                PRIMARY KEY (day, unit_id))""",
            "CREATE INDEX ix_story_units_story ON story_units (story_id)",
            "CREATE INDEX ix_story_units_item ON story_units (item_id)",
            """CREATE TABLE issues (
                date VARCHAR NOT NULL PRIMARY KEY, title VARCHAR NOT NULL, path VARCHAR NOT NULL,
                created_at VARCHAR NOT NULL, window_start VARCHAR NOT NULL, window_end VARCHAR NOT NULL,
                content_hash VARCHAR NOT NULL, verified BOOLEAN NOT NULL, summary TEXT NOT NULL)""",
            """CREATE TABLE issue_stories (
                issue_date VARCHAR NOT NULL REFERENCES issues (date),
                story_id VARCHAR NOT NULL REFERENCES stories (id), role VARCHAR NOT NULL,
                status VARCHAR NOT NULL, PRIMARY KEY (issue_date, story_id))""",
            """CREATE TABLE clocks (
                id VARCHAR NOT NULL PRIMARY KEY, story_id VARCHAR NOT NULL REFERENCES stories (id),
                item_id {ref} NOT NULL REFERENCES items (id), opened_in VARCHAR NOT NULL,
                sentence TEXT NOT NULL, phrase VARCHAR NOT NULL, due VARCHAR NOT NULL,
                precision VARCHAR NOT NULL, status VARCHAR NOT NULL, revisited_in VARCHAR)""",
            "CREATE INDEX ix_clocks_due ON clocks (status, due)",
        ],
    ),
    (
        "0003_publications",
        [
            # The publication ledger: one row per (target, issue date). No foreign key to
            # issues: redrafting a day replaces its issues row, and the ledger must survive.
            """CREATE TABLE publications (
                id {pk}, target VARCHAR NOT NULL, date VARCHAR NOT NULL, remote_id VARCHAR,
                url VARCHAR, content_hash VARCHAR, state VARCHAR NOT NULL, error TEXT,
                detail TEXT NOT NULL, attempts INTEGER NOT NULL, created_at VARCHAR NOT NULL,
                updated_at VARCHAR NOT NULL, confirmed_at VARCHAR,
                CONSTRAINT uq_publications_target_date UNIQUE (target, date))""",
            "CREATE INDEX ix_publications_date ON publications (date)",
        ],
    ),
    (
        "0004_model_calls",
        [
            # Every model call of a draft, and the answers cached by content hash.
            """CREATE TABLE model_calls (
                id {pk}, issue_date VARCHAR, role VARCHAR NOT NULL, model VARCHAR NOT NULL,
                purpose VARCHAR NOT NULL, prompt VARCHAR NOT NULL, prompt_version VARCHAR NOT NULL,
                cache_key VARCHAR NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
                cached_tokens INTEGER NOT NULL, usd FLOAT NOT NULL, seconds FLOAT NOT NULL,
                attempts INTEGER NOT NULL, status VARCHAR NOT NULL, error VARCHAR,
                created_at VARCHAR NOT NULL)""",
            "CREATE INDEX ix_model_calls_issue ON model_calls (issue_date)",
            """CREATE TABLE model_cache (
                key VARCHAR NOT NULL PRIMARY KEY, model VARCHAR NOT NULL, prompt VARCHAR NOT NULL,
                prompt_version VARCHAR NOT NULL, response TEXT NOT NULL, tokens_in INTEGER NOT NULL,
                tokens_out INTEGER NOT NULL, created_at VARCHAR NOT NULL)""",
        ],
    ),
    (
        "0005_unit_vectors",
        [
            # Story-unit embeddings by content hash (embedder key + text), so that a day drafted
            # again, or the next day's overlapping window, does not embed the same text twice.
            # IF NOT EXISTS: a half-applied copy of this migration is finished, not an error.
            """CREATE TABLE IF NOT EXISTS unit_vectors (
                key VARCHAR NOT NULL PRIMARY KEY, embedder VARCHAR NOT NULL, dim INTEGER NOT NULL,
                vector {blob} NOT NULL, created_at VARCHAR NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS ix_unit_vectors_created ON unit_vectors (created_at)",
        ],
    ),
    (
        "0006_pg_issue_texts",
        [
            # The issue itself lives in the database, so any machine sharing it can read, edit,
            # verify and publish it; issues/DATE.md and .json are exports of these rows.
            """CREATE TABLE issue_texts (
                date VARCHAR NOT NULL PRIMARY KEY, markdown TEXT NOT NULL, document TEXT NOT NULL,
                content_hash VARCHAR NOT NULL, origin VARCHAR NOT NULL, updated_at VARCHAR NOT NULL)""",
            # Every text an issue had before it was replaced (a redraft, an edit).
            """CREATE TABLE issue_history (
                id {pk}, date VARCHAR NOT NULL, markdown TEXT NOT NULL, content_hash VARCHAR NOT NULL,
                origin VARCHAR NOT NULL, kept_at VARCHAR NOT NULL)""",
            "CREATE INDEX ix_issue_history_date ON issue_history (date, id)",
        ],
    ),
]


def applied(conn: sa.Connection) -> set[str]:
    conn.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at VARCHAR NOT NULL)"
    ))
    return {row[0] for row in conn.execute(sa.text("SELECT name FROM schema_migrations"))}


def render(statement: str, dialect: str) -> str:
    """A migration statement with its placeholders replaced for ``dialect``."""
    types = TYPES.get(dialect, TYPES["sqlite"])
    for name, sql in types.items():
        statement = statement.replace("{" + name + "}", sql)
    return statement


def migrate(engine: sa.Engine, on_apply: Callable[[str], None] | None = None) -> list[str]:
    """Apply every pending migration in order, each in one transaction; return their names."""
    dialect = dialect_of(engine)
    with engine.begin() as conn:
        migration_lock(conn)
        done = applied(conn)
    ran: list[str] = []
    for name, statements in MIGRATIONS:
        if name in done:
            continue
        with engine.begin() as conn:
            migration_lock(conn)
            if name in applied(conn):  # another process got there first
                continue
            for statement in statements:
                conn.execute(sa.text(render(statement, dialect)))
            conn.execute(sa.text("INSERT INTO schema_migrations (name, applied_at) VALUES (:n, :t)"),
                         {"n": name, "t": iso(now())})
        ran.append(name)
        if on_apply:
            on_apply(name)
    return ran
