"""A real drafted issue for the publishing tests.

The bundled demo corpus is replayed once per test session (``lll.demo.run.run_demo``:
a loopback corpus server, fetch, draft and verify for three days, ~7 s) into a workspace
whose ``[newsletter] base_url`` is set, so callbacks link ``{base_url}/{DATE}.html``.
Each test gets its own copy of that workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lll.demo.run import run_demo

BASE_URL = "https://letters.example.org/archive"
DAYS = ("2026-04-08", "2026-04-09", "2026-04-10")
DAY = "2026-04-10"

_built: Path | None = None

NEWSLETTER_TOML = f"""[newsletter]
name = "Large Language Letters"
tags = ["ai"]
base_url = "{BASE_URL}/"
"""

FAST_PUBLISH_TOML = """
[publish]
timeout = 0.8
retries = 2
backoff = 0.01
max_retry_after = 5.0
write_interval = 0.0
"""


def built_demo(factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, drafted once per session."""
    global _built
    if _built is None:
        root = factory.mktemp("demo-built")
        (root / "lll.toml").write_text(NEWSLETTER_TOML, encoding="utf-8")
        from conftest import shared_databases

        with shared_databases():  # kept for the whole run, like the folder
            run_demo(root)
        _built = root
    return _built


def workspace_copy(factory: pytest.TempPathFactory, dest: Path, extra_toml: str = "",
                   publish_toml: str = FAST_PUBLISH_TOML) -> Path:
    """A private copy of the demo workspace at ``dest``; its lll.toml gets small timeouts
    and backoff (``publish_toml``) and ``extra_toml`` (other sections)."""
    from conftest import copy_database  # the database too, when it is not a file in the folder

    shutil.copytree(built_demo(factory), dest)
    copy_database(built_demo(factory) / "lll.db", dest / "lll.db")
    toml = dest / "lll.toml"
    toml.write_text(NEWSLETTER_TOML + publish_toml + extra_toml, encoding="utf-8")
    return dest


#: The link of the story paragraph the editing tests drop (The Algorithmic Bridge on chain of thought).
DROPPED_LINK = "thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding"


def first_section_anchor(workspace: Path, day: str = DAY) -> str:
    """The anchor of the issue's first section heading (which stories share a section follows
    the embeddings, so tests read it from the draft rather than spell it out)."""
    from lll.publish.render import slug

    markdown = (workspace / "issues" / f"{day}.md").read_text(encoding="utf-8")
    heading = next(line[3:] for line in markdown.splitlines() if line.startswith("## "))
    return slug(heading)


def drop_paragraph(workspace: Path, starts_with: str, day: str = DAY) -> None:
    """Edit the draft as an editor would: remove one story paragraph (it still verifies)."""
    path = workspace / "issues" / f"{day}.md"
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    kept = [b for b in blocks if not b.startswith(starts_with)]
    assert len(kept) == len(blocks) - 1, f"no paragraph starts with {starts_with!r}"
    path.write_text("\n\n".join(kept), encoding="utf-8")
