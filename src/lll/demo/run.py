"""``lll demo``: the whole pipeline on the bundled corpus, served over loopback HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from lll.clock import frozen_at
from lll.demo.server import PLACEHOLDER, CorpusServer
from lll.draft import Drafter, DraftResult
from lll.errors import WorkspaceError
from lll.fetch.run import FetchReport
from lll.newsletter import Newsletter
from lll.workspace import DB_NAME, Workspace

MARKER = ".lll-demo"


def corpus_root() -> Path:
    return Path(str(resources.files("lll.demo") / "corpus"))


def end_of_day(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d").replace(hour=23, minute=59, tzinfo=UTC)


@dataclass(frozen=True)
class DemoDay:
    day: str
    fetch: FetchReport
    draft: DraftResult


def prepare_workspace(root: Path) -> Workspace:
    """A fresh demo workspace: the demo starts over each time, and never touches a real one."""
    marker = root / MARKER
    if (root / DB_NAME).exists() and not marker.exists():
        raise WorkspaceError(f"{root} holds a workspace that is not a demo: give `lll demo` another --workspace")
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
        (root / name).unlink(missing_ok=True)
    if (root / "issues").exists():
        shutil.rmtree(root / "issues")
    ws = Workspace.init(root, "Large Language Letters")
    marker.write_text("This folder is an `lll demo` workspace; the demo resets it on every run.\n")
    return ws


def run_demo(root: Path, on_day: Callable[[DemoDay], None] | None = None) -> list[DemoDay]:
    """Replay every day of the bundled corpus: import its sources, then each day fetch and draft."""
    corpus = corpus_root()
    ws = prepare_workspace(root)
    results: list[DemoDay] = []
    with Newsletter(ws) as letter:
        drafter = Drafter(letter)
        first = None
        with CorpusServer(corpus, day="0000-00-00") as server:
            for day in server.index.days:
                server.day = day
                with frozen_at(end_of_day(day)):
                    if first is None:
                        first = day
                        opml = (corpus / "sources.opml").read_bytes().replace(PLACEHOLDER, server.base_url.encode())
                        staged = ws.cache_dir / "demo-sources.opml"
                        staged.parent.mkdir(exist_ok=True)
                        staged.write_bytes(opml)
                        letter.import_opml(staged)
                    # loopback only, no DNS: the corpus's pages, canonical on SITE, are served here
                    report = letter.fetch(policy="sealed", locate=server.locate)
                    drafted = drafter.draft(day)
                result = DemoDay(day=day, fetch=report, draft=drafted)
                results.append(result)
                if on_day:
                    on_day(result)
    return results
