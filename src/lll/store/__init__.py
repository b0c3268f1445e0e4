"""Store: SQLite (WAL) through SQLAlchemy Core, so PostgreSQL works later by URL."""

from lll.store.db import Store

__all__ = ["Store"]
