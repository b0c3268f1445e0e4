"""The tables, as the code expects them after every migration has run.

A test checks that a database built by the migrations matches these definitions.
Times are stored as ISO 8601 UTC text (``2026-04-10T23:59:00Z``): sortable and
identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Auto-increment ids and the columns that refer to them: 64-bit on both stores (SQLite's
# INTEGER is; PostgreSQL's is BIGINT, as its BIGSERIAL keys are).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("applied_at", sa.String, nullable=False),
)

sources = sa.Table(
    "sources", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("url", sa.String, nullable=False, unique=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("detected_kind", sa.String, nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("fulltext", sa.String, nullable=False),
    sa.Column("site_url", sa.String, nullable=False),
    sa.Column("feed_title", sa.String, nullable=False),
    sa.Column("added_at", sa.String, nullable=False),
    sa.Column("etag", sa.String),
    sa.Column("last_modified", sa.String),
    sa.Column("last_fetch_at", sa.String),
    sa.Column("last_ok_at", sa.String),
    sa.Column("last_status", sa.String, nullable=False),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("last_error", sa.String),
    sa.Column("consecutive_failures", sa.Integer, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("command", sa.String, nullable=False),
    sa.Column("started_at", sa.String, nullable=False),
    sa.Column("finished_at", sa.String),
    sa.Column("summary", sa.String),
)

fetch_attempts = sa.Table(
    "fetch_attempts", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("run_id", ID, sa.ForeignKey("runs.id")),
    sa.Column("source_id", ID, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("url", sa.String, nullable=False),
    sa.Column("started_at", sa.String, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("outcome", sa.String, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("new_items", sa.Integer, nullable=False),
    sa.Column("changed_items", sa.Integer, nullable=False),
    sa.Column("error", sa.String),
)

items = sa.Table(
    "items", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("source_id", ID, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("identity", sa.String, nullable=False),
    sa.Column("guid", sa.String, nullable=False),
    sa.Column("url", sa.String, nullable=False),
    sa.Column("canonical_url", sa.String, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("published_at", sa.String, nullable=False),
    sa.Column("published_in_feed", sa.Boolean, nullable=False),
    sa.Column("first_seen_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_origin", sa.String, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("links", sa.Text, nullable=False),
    sa.Column("signals", sa.Text, nullable=False),
    sa.UniqueConstraint("source_id", "identity", name="uq_items_source_identity"),
)

item_revisions = sa.Table(
    "item_revisions", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("item_id", ID, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("seen_at", sa.String, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
)

pages = sa.Table(
    "pages", metadata,
    sa.Column("url", sa.String, primary_key=True),
    sa.Column("fetched_at", sa.String, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("content_type", sa.String, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("error", sa.String),
)

stories = sa.Table(
    "stories", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("first_day", sa.String, nullable=False),
    sa.Column("title", sa.String, nullable=False),
)

story_units = sa.Table(
    "story_units", metadata,
    sa.Column("story_id", sa.String, sa.ForeignKey("stories.id"), nullable=False),
    sa.Column("unit_id", sa.String, primary_key=True),
    sa.Column("item_id", ID, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("day", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("span_start", sa.Integer, nullable=False),
    sa.Column("span_end", sa.Integer, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("urls", sa.Text, nullable=False),
    sa.Column("vector", sa.LargeBinary),
)

issues = sa.Table(
    "issues", metadata,
    sa.Column("date", sa.String, primary_key=True),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("window_start", sa.String, nullable=False),
    sa.Column("window_end", sa.String, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
)

issue_stories = sa.Table(
    "issue_stories", metadata,
    sa.Column("issue_date", sa.String, sa.ForeignKey("issues.date"), primary_key=True),
    sa.Column("story_id", sa.String, sa.ForeignKey("stories.id"), primary_key=True),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
)

clocks = sa.Table(
    "clocks", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("story_id", sa.String, sa.ForeignKey("stories.id"), nullable=False),
    sa.Column("item_id", ID, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("opened_in", sa.String, nullable=False),
    sa.Column("sentence", sa.Text, nullable=False),
    sa.Column("phrase", sa.String, nullable=False),
    sa.Column("due", sa.String, nullable=False),
    sa.Column("precision", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("revisited_in", sa.String),
)

publications = sa.Table(
    "publications", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("target", sa.String, nullable=False),
    sa.Column("date", sa.String, nullable=False),
    sa.Column("remote_id", sa.String),
    sa.Column("url", sa.String),
    sa.Column("content_hash", sa.String),  # of the content last confirmed on the target
    sa.Column("state", sa.String, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("detail", sa.Text, nullable=False),  # JSON: what a target needs to remember
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
    sa.Column("confirmed_at", sa.String),
    sa.UniqueConstraint("target", "date", name="uq_publications_target_date"),
)

model_calls = sa.Table(
    "model_calls", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("issue_date", sa.String),
    sa.Column("role", sa.String, nullable=False),  # cheap | strong | judge
    sa.Column("model", sa.String, nullable=False),
    sa.Column("purpose", sa.String, nullable=False),  # fact_card:STORY | compose | repair:N | judge
    sa.Column("prompt", sa.String, nullable=False),
    sa.Column("prompt_version", sa.String, nullable=False),
    sa.Column("cache_key", sa.String, nullable=False),
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("cached_tokens", sa.Integer, nullable=False),  # the provider's prompt-cache hits
    sa.Column("usd", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.String, nullable=False),  # ok | cached | invalid | error | budget
    sa.Column("error", sa.String),
    sa.Column("created_at", sa.String, nullable=False),
)

# Answers by content hash (prompt version + model + inputs): drafting again with nothing new
# makes no call.
model_cache = sa.Table(
    "model_cache", metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("model", sa.String, nullable=False),
    sa.Column("prompt", sa.String, nullable=False),
    sa.Column("prompt_version", sa.String, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
)

# Story-unit embeddings by content hash (``lll.stories.vectors``): float32 rows, little-endian.
unit_vectors = sa.Table(
    "unit_vectors", metadata,
    sa.Column("key", sa.String, primary_key=True),  # sha256 of the embedder's key and the text
    sa.Column("embedder", sa.String, nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Index("ix_unit_vectors_created", "created_at"),
)

# The issue's own text (``issues/DATE.md``) and provenance (``issues/DATE.json``), of which the
# files are exports. origin: draft (LLL wrote it) | edit (an editor's text, from the review page
# or adopted from a hand-edited file).
issue_texts = sa.Table(
    "issue_texts", metadata,
    sa.Column("date", sa.String, primary_key=True),
    sa.Column("markdown", sa.Text, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),  # sha256 of markdown
    sa.Column("origin", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
)

issue_history = sa.Table(
    "issue_history", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("date", sa.String, nullable=False),
    sa.Column("markdown", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("origin", sa.String, nullable=False),
    sa.Column("kept_at", sa.String, nullable=False),
    sa.Index("ix_issue_history_date", "date", "id"),
)
