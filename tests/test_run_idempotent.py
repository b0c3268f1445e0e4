"""``lll run --date D`` is the daily job: a scheduler may start it twice for one date (a retry, a
manual rerun, a timer that fires after a missed run). The second run must not duplicate
anything: one issue for D, the same bytes when nothing changed, no second copy of any ledger
row, and no item written again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lll.demo.run import corpus_root
from lll.demo.server import PLACEHOLDER, CorpusServer

from conftest import WriteCounter, intact, query, run_cli, scalar

DAY, NEXT = "2026-04-08", "2026-04-09"


@pytest.fixture
def corpus() -> Iterator[CorpusServer]:
    with CorpusServer(corpus_root(), day=DAY) as server:
        yield server


@pytest.fixture
def daily(workspace: Path, corpus: CorpusServer) -> Path:
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Daily Letters"\n[fetch]\nfulltext = "never"\n',
                                        encoding="utf-8")
    opml = workspace / "sources.opml"
    opml.write_bytes((corpus_root() / "sources.opml").read_bytes().replace(PLACEHOLDER, corpus.base_url.encode()))
    run_cli("sources", "import", str(opml))
    return workspace


def lll_run(day: str) -> str:
    return run_cli("run", "--date", day, env={"LLL_NOW": f"{day}T23:59:59Z", "LLL_ALLOW_PRIVATE": "1"}).stdout


def state(ws: Path) -> dict[str, object]:
    db = ws / "lll.db"
    issue_json = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    issue_json.pop("seconds", None)  # timings differ from run to run
    return {
        "issues": [tuple(r) for r in query(db, "SELECT date, content_hash, window_start, window_end, verified "
                                               "FROM issues ORDER BY date")],
        "md": hashlib.sha256((ws / "issues" / f"{DAY}.md").read_bytes()).hexdigest(),
        "json": issue_json,
        "items": [tuple(r) for r in query(db, "SELECT source_id, identity, content_hash FROM items ORDER BY id")],
        "stories": [tuple(r) for r in query(db, "SELECT id, first_day FROM stories ORDER BY id")],
        "units": [tuple(r) for r in query(db, "SELECT day, unit_id, story_id, item_id, status FROM story_units "
                                              "ORDER BY day, unit_id")],
        "told": [tuple(r) for r in query(db, "SELECT issue_date, story_id, role, status FROM issue_stories "
                                             "ORDER BY 1, 2")],
        "clocks": [tuple(r) for r in query(db, "SELECT id, opened_in, due, status, revisited_in FROM clocks "
                                              "ORDER BY id")],
        "files": sorted(p.name for p in (ws / "issues").iterdir()),
    }


def test_running_twice_for_a_date_changes_nothing_and_writes_no_item(daily: Path, corpus: CorpusServer) -> None:
    first_out = lll_run(DAY)
    assert "Wrote" in first_out and "verified" in first_out
    first = state(daily)
    assert len(first["issues"]) == 1 and first["units"] and first["told"]  # type: ignore[arg-type]
    writes = WriteCounter(daily / "lll.db")
    second_out = lll_run(DAY)
    assert "0 new items, 0 changed" in second_out
    assert writes.total() == 0, writes.counts()  # not one item row rewritten
    assert state(daily) == first  # the same issue, byte for byte, and not one extra ledger row
    db = daily / "lll.db"
    assert intact(db)
    # and the next day, nothing of the twice-drafted day is told as new again
    corpus.day = NEXT
    lll_run(NEXT)
    assert [r[0] for r in query(db, "SELECT date FROM issues ORDER BY date")] == [DAY, NEXT]
    assert scalar(db, "SELECT count(*) FROM (SELECT story_id FROM issue_stories WHERE status = 'new' "
                      "GROUP BY story_id HAVING count(*) > 1) AS twice") == 0


def test_a_second_run_after_new_items_replaces_the_issue_without_duplicates(daily: Path,
                                                                             corpus: CorpusServer) -> None:
    lll_run(DAY)
    first = state(daily)
    corpus.day = NEXT  # the feeds moved on before the job ran again for the same date
    lll_run(DAY)
    second = state(daily)
    assert len(second["items"]) > len(first["items"])  # type: ignore[arg-type]
    assert len(second["issues"]) == 1 and second["issues"] != first["issues"]  # replaced, not added
    assert second["files"] == first["files"] == [f"{DAY}.json", f"{DAY}.md"]
    db = daily / "lll.db"
    for table, key in (("items", "source_id, identity"), ("story_units", "day, unit_id"),
                       ("issue_stories", "issue_date, story_id"), ("clocks", "id"),
                       ("story_units", "day, item_id, span_start, span_end"),
                       ("clocks", "opened_in, item_id, sentence")):
        assert scalar(db, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} "
                          "HAVING count(*) > 1) AS twice") == 0, (table, key)
    assert scalar(db, f"SELECT count(*) FROM story_units WHERE day != '{DAY}'") == 0
    md = (daily / "issues" / f"{DAY}.md").read_bytes()
    assert hashlib.sha256(md).hexdigest() == second["issues"][0][1]  # type: ignore[index]
    run_cli("verify", str(daily / "issues" / f"{DAY}.md"))
