"""Bad input and awkward moments answered in one line, with the right exit status, and nothing else
lost: removing a source that issues cite, verifying a file that is not an issue, a bad --date given to
`lll run`, a dry run with no key, a busy workspace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import feed_reply, query, rss, run_cli, scalar

NOW = datetime(2026, 4, 10, 20, 0, tzinfo=UTC)
ENV = {"LLL_NOW": "2026-04-10T20:00:00Z", "LLL_ALLOW_PRIVATE": "1"}


def _feed(prefix: str, n: int = 3) -> str:
    return rss([{"guid": f"{prefix}-{k}", "link": f"https://{prefix}.example/posts/{k}",
                 "title": f"{prefix.title()} ships agent toolkit {k}",
                 "description": f"{prefix.title()} released version {k}.2 of its agent toolkit on Thursday. "
                                f"The release adds {k + 3} new evaluation suites for coding agents. " * 2,
                 "published": NOW - timedelta(hours=3 + k)} for k in range(n)], title=prefix.title())


def _drafted(workspace: Path, server: Any) -> tuple[str, str]:
    lab = server.route("lab.xml", feed_reply(_feed("lab")))
    other = server.route("other.xml", feed_reply(_feed("other", 2)))
    run_cli("sources", "add", lab, "--name", "Lab News", env=ENV)
    run_cli("sources", "add", other, "--name", "Other Blog", env=ENV)
    run_cli("fetch", env=ENV)
    run_cli("draft", "--date", "2026-04-10", env=ENV)
    return lab, other


# -- 6. lll sources remove ---------------------------------------------------------------------------


def test_removing_a_source_that_an_issue_cites_keeps_the_issue_verifiable(workspace: Path, server: Any) -> None:
    lab, other = _drafted(workspace, server)
    db = workspace / "lll.db"
    cited = {r["item_id"] for r in query(db, "SELECT item_id FROM story_units")}
    lab_items = {r["id"] for r in query(db, "SELECT i.id FROM items i JOIN sources s ON s.id = i.source_id "
                                            "WHERE s.url = ?", lab)}
    assert cited & lab_items, "the issue should cite the lab's items"
    result = run_cli("sources", "remove", lab)
    assert result.stdout.startswith(f"Removed Lab News <{lab}>: ")
    assert f"kept {len(cited & lab_items)} that earlier issues cite" in result.stdout
    assert {r["id"] for r in query(db, "SELECT id FROM items")} >= cited  # the issue's items are all there
    run_cli("verify", str(workspace / "issues" / "2026-04-10.md"), env=ENV)
    listed = json.loads(run_cli("sources", "list", "--json").stdout)
    assert [s["url"] for s in listed] == [other]
    assert lab not in run_cli("sources", "export").stdout
    before = server.hits("lab.xml")
    run_cli("fetch", env=ENV)
    assert server.hits("lab.xml") == before  # a removed source is not fetched
    again = run_cli("sources", "remove", lab, ok=None)
    assert again.exit_code == 2 and "no source with URL" in again.stderr
    assert run_cli("sources", "add", lab, env=ENV).stdout.startswith("Added source")
    run_cli("fetch", env=ENV)
    assert server.hits("lab.xml") == before + 1
    assert scalar(db, "SELECT count(*) FROM items i JOIN sources s ON s.id = i.source_id WHERE s.url = ?", lab) == 3


def test_removing_a_source_no_issue_cites_deletes_it_and_its_items(workspace: Path, server: Any) -> None:
    url = server.route("lab.xml", feed_reply(_feed("lab")))
    run_cli("sources", "add", url, env=ENV)
    run_cli("fetch", env=ENV)
    assert "3 items deleted" in run_cli("sources", "remove", url).stdout
    db = workspace / "lll.db"
    assert scalar(db, "SELECT count(*) FROM sources") == 0 and scalar(db, "SELECT count(*) FROM items") == 0
