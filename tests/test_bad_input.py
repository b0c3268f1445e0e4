"""Bad input and awkward moments answered in one line, with the right exit status, and nothing else
lost: removing a source that issues cite, verifying a file that is not an issue, a bad --date given to
`lll run`, a dry run with no key, a busy workspace."""

from __future__ import annotations

import json
import os
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


# -- 7. lll verify on files that are not issues ------------------------------------------------------


def test_verify_refuses_a_binary_file_in_one_line(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "binary.bin"
    path.write_bytes(bytes(range(256)) * 4)
    result = run_cli("verify", str(path), ok=None)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: not UTF-8 text, so not an LLL issue; `lll verify` checks an issues/DATE.md that "
        "`lll draft` wrote (edited or not)"]


def test_verify_says_a_text_file_is_not_an_issue(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# My notes\n\nOpenAI released GPT-5 on 7 August 2025 with 94.6% on AIME.\n\n"
                    "Anthropic said Claude Opus 4.1 scores 74.5% on SWE-bench.\n", encoding="utf-8")
    result = run_cli("verify", str(path), ok=None)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}: not an LLL issue") and "unsupported" not in result.stderr


def test_verify_still_checks_an_issue_edited_down_to_its_front_matter(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "2026-04-10.md"
    path.write_text('---\ntitle: "Test Letters 04/10/2026"\npublished: false\ntags: ai\n---\n\nGPT-5 scores 94.6%.\n',
                    encoding="utf-8")
    result = run_cli("verify", str(path), ok=None)
    assert result.exit_code == 1 and "unsupported claim" in result.stderr


# -- 8. arguments are checked before any work --------------------------------------------------------


def test_run_with_a_bad_date_fails_before_fetching(workspace: Path, server: Any) -> None:
    url = server.route("lab.xml", feed_reply(_feed("lab")))
    run_cli("sources", "add", url, env=ENV)
    for command in (["run", "--date", "yesterday"], ["draft", "--date", "2026-4-1"], ["run", "--date", "20260410"]):
        result = run_cli(*command, ok=None, env=ENV)
        assert result.exit_code == 2, command
        assert result.stderr.strip().splitlines() == [f"Error: --date {command[2]!r}: use YYYY-MM-DD"]
    assert server.hits("lab.xml") == 0
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM fetch_attempts") == 0


# -- 10. a busy workspace ----------------------------------------------------------------------------


def test_a_second_command_says_what_it_waits_for(workspace: Path) -> None:
    import threading
    import time

    from lll.newsletter import Newsletter

    held, release, said = threading.Event(), threading.Event(), []

    def hold() -> None:
        with Newsletter.open(workspace) as letter, letter.lock("fetch"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with Newsletter.open(workspace) as letter:
            timer = threading.Timer(0.3, release.set)
            timer.start()
            started = time.monotonic()
            with letter.lock("draft", on_wait=said.append):
                waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)
    assert said == [f"waiting for the workspace (held by lll fetch, pid {os.getpid()})"]
    assert waited >= 0.2
