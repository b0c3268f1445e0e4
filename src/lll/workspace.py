"""The workspace: a folder with ``lll.toml``, the database and ``issues/``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lll.config import Config, default_toml, load_config
from lll.errors import WorkspaceError

CONFIG_NAME = "lll.toml"
DB_NAME = "lll.db"


def resolve_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``--workspace``, else ``LLL_WORKSPACE``, else the current folder."""
    chosen = explicit or os.environ.get("LLL_WORKSPACE") or "."
    return Path(chosen).expanduser().resolve()


@dataclass
class Workspace:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def database_url(self) -> str:
        """``LLL_DATABASE_URL``, else ``[database] url`` of ``lll.toml``, else ``lll.db`` in the folder.
        The environment keeps a PostgreSQL password out of the workspace's files (libpq's
        ``PGPASSWORD`` and ``~/.pgpass`` work too, with no password in the URL at all)."""
        return (os.environ.get("LLL_DATABASE_URL", "").strip() or self.config.database_url
                or f"sqlite:///{self.root / DB_NAME}")

    @classmethod
    def init(cls, root: Path, name: str = "Large Language Letters") -> Workspace:
        """Create the workspace (idempotent: an existing ``lll.toml`` is kept)."""
        root.mkdir(parents=True, exist_ok=True)
        ws = cls(root)
        if not ws.config_path.exists():
            tmp = ws.config_path.with_suffix(".toml.tmp")
            tmp.write_text(default_toml(name), encoding="utf-8")
            tmp.replace(ws.config_path)
        ws.issues_dir.mkdir(exist_ok=True)
        return ws

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace, or fail saying to run ``lll init``."""
        ws = cls(root)
        if not ws.config_path.exists():
            raise WorkspaceError(
                f"no LLL workspace in {root} (no {CONFIG_NAME}): run `lll init` there, "
                "or pass --workspace DIR / set LLL_WORKSPACE"
            )
        ws.config  # noqa: B018 - read now so a broken file fails early and clearly
        return ws
