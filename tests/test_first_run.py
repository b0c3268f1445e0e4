"""The first run of a new user: a fresh clone (no ../shared beside it), the README's commands in
their natural order with today's date and real feeds, and what the first issue contains."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import REQUIRE_SHARED_DATA, feed_reply, rss, run_cli, scalar, shared_data

from lll.clock import iso
from lll.demo.server import CorpusServer

ROOT = Path(__file__).resolve().parents[1]


# -- 1. the tests on a clone without ../shared ---------------------------------------------------------


def test_missing_shared_data_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_SHARED_DATA, raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        shared_data("no-such-corpus-here")
    assert "shared test data missing" in str(caught.value) and "no-such-corpus-here" in str(caught.value)


def test_missing_shared_data_fails_when_it_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_SHARED_DATA, "1")
    with pytest.raises(pytest.fail.Exception) as caught:
        shared_data("no-such-corpus-here")
    assert REQUIRE_SHARED_DATA in str(caught.value)


def test_ci_requires_the_shared_data_and_the_browser() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {REQUIRE_SHARED_DATA}=1" in ci
    assert 'export CI="${CI:-1}"' in ci


# -- 2. the first natural run: today's date, real feeds ------------------------------------------------

REPLAY_LAST_DAY = "2026-05-31"
_PUBDATE = re.compile(rb"<(pubDate|lastBuildDate)>([^<]+)</\1>")


def _moved(body: bytes, delta: timedelta) -> bytes:
    """The feed with every date moved by ``delta`` (the text is the feed's own, untouched)."""

    def move(match: re.Match[bytes]) -> bytes:
        moment = parsedate_to_datetime(match.group(2).decode()) + delta
        return b"<%s>%s</%s>" % (match.group(1), format_datetime(moment.astimezone(UTC), usegmt=True).encode(),
                                 match.group(1))

    return _PUBDATE.sub(move, body)


@pytest.fixture
def todays_real_feeds(tmp_path: Path) -> Iterator[tuple[Path, datetime]]:
    """The 32 real feeds of replay-2026-05 as they stood on its last day, with their dates moved so
    that the end of that day is now: what a user's feeds look like on the day of their first run.
    Served over loopback; yields the OPML pointing at them and the moment the dates were moved to."""
    corpus = shared_data("replay-2026-05")
    served = {}
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["day"] == REPLAY_LAST_DAY:
            served[entry["feed"]] = corpus / entry["path"]
    moment = datetime.now(UTC)
    delta = moment - datetime.fromisoformat(f"{REPLAY_LAST_DAY}T23:59:59+00:00")
    root = tmp_path / "todays-feeds"
    feeds = root / "days" / REPLAY_LAST_DAY / "feeds"
    feeds.mkdir(parents=True)
    for feed, path in served.items():
        (feeds / f"{feed}.xml").write_bytes(_moved(path.read_bytes(), delta))
    with CorpusServer(root, REPLAY_LAST_DAY) as server:
        opml = tmp_path / "my-feeds.opml"
        opml.write_text((corpus / "sources.opml").read_text(encoding="utf-8")
                        .replace("http://127.0.0.1:8765", server.base_url), encoding="utf-8")
        yield opml, moment


def test_the_first_natural_run_ends_with_a_verified_issue(todays_real_feeds: tuple[Path, datetime],
                                                          _isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lll init; lll sources import my-feeds.opml; lll fetch; lll draft`, no LLL_NOW, today's date.
    (LLL_ALLOW_PRIVATE only because the feeds are served on loopback.)"""
    opml, moment = todays_real_feeds
    monkeypatch.setenv("LLL_ALLOW_PRIVATE", "1")
    assert "LLL_NOW" not in os.environ
    run_cli("init")
    assert "32 added" in run_cli("sources", "import", str(opml)).stdout
    fetched = run_cli("fetch")
    assert "32" in fetched.stdout, fetched.stdout
    drafted = run_cli("draft")
    today = datetime.now(UTC).date().isoformat()
    md, js = _isolated / "issues" / f"{today}.md", _isolated / "issues" / f"{today}.json"
    assert md.is_file() and js.is_file(), drafted.stdout
    assert "verified" in drafted.stdout
    run_cli("verify", str(md))
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["verification"]["ok"] and any(story["told"] for story in data["stories"])
    assert len(re.findall(r"^## ", md.read_text(encoding="utf-8"), re.M)) >= 1
    # 3: the first issue reads only what the feeds date within the lookback, not their archives
    db = _isolated / "lll.db"
    week_ago = iso(moment - timedelta(days=7))
    recent = scalar(db, "SELECT count(*) FROM items WHERE published_in_feed = 1 AND published_at > ?", week_ago)
    archive = scalar(db, "SELECT count(*) FROM items")
    assert 0 < recent < archive / 4, (recent, archive)
    assert data["counts"]["items"] <= recent


# -- 3. the first issue's window, 4. an empty window ---------------------------------------------------

DAY = "2026-04-10"
NOW = datetime(2026, 4, 10, 20, 0, tzinfo=UTC)


def _archive_feed(days: int) -> str:
    items = [{"guid": f"post-{n}", "link": f"https://lab.example/posts/{n}", "title": f"Lab post number {n}",
              "description": f"The lab describes its model release number {n} for agents. " * 4,
              "published": NOW - timedelta(days=n, hours=1)} for n in range(days)]
    items.append({"guid": "undated", "link": "https://lab.example/posts/undated", "title": "An undated page",
                  "description": "An old page of the archive with no date in the feed at all. " * 4})
    return rss(items, title="Lab Blog")


def test_the_first_issue_takes_only_items_published_within_the_lookback(workspace: Path, server: Any) -> None:
    url = server.route("feed.xml", feed_reply(_archive_feed(40)))
    env = {"LLL_NOW": iso(NOW), "LLL_ALLOW_PRIVATE": "1"}
    run_cli("sources", "add", url, "--name", "Lab Blog", env=env)
    run_cli("fetch", env=env)
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM items") == 41
    drafted = run_cli("draft", "--date", DAY, env=env)
    data = json.loads((workspace / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    assert data["counts"]["items"] == 7, drafted.stdout  # posts 0..6 are dated within the 7-day lookback
    units = {u["url"] for story in data["stories"] for u in story["units"]}
    assert units and all(int(u.rsplit("/", 1)[1]) < 7 for u in units), units
    # the next issue: what was first seen since this one, whatever its date says
    later = NOW + timedelta(days=1)
    server.route("feed.xml", feed_reply(_archive_feed(40).replace(
        "<item>", "<item><title>A late find</title><link>https://lab.example/posts/late</link>"
        "<guid>late</guid><pubDate>Mon, 02 Feb 2026 10:00:00 GMT</pubDate><description>"
        + "The lab found an old note about agents and published it again today. " * 4
        + "</description></item><item>", 1)))
    env["LLL_NOW"] = iso(later)
    run_cli("fetch", env=env)
    run_cli("draft", "--date", "2026-04-11", env=env)
    nxt = json.loads((workspace / "issues" / "2026-04-11.json").read_text(encoding="utf-8"))
    assert nxt["counts"]["items"] == 1
    assert nxt["window"]["start"] == data["window"]["end"]


def test_an_empty_first_issue_says_what_is_true_and_hints(workspace: Path, server: Any) -> None:
    """The README's `lll fetch; lll draft --date 2026-04-10` on a workspace fetched today: no item was
    first seen by then. The issue does not claim "nothing new since the last issue" (there is none)."""
    url = server.route("feed.xml", feed_reply(_archive_feed(3)))
    env = {"LLL_NOW": "2026-12-01T09:00:00Z", "LLL_ALLOW_PRIVATE": "1"}
    run_cli("sources", "add", url, env=env)
    run_cli("fetch", env=env)
    drafted = run_cli("draft", "--date", DAY, env=env)
    markdown = (workspace / "issues" / f"{DAY}.md").read_text(encoding="utf-8")
    assert "since the last" not in markdown
    assert "The sources have no items in this first issue's window." in markdown
    assert "dropped" not in drafted.stderr
    assert "no items in the window 2026-04-03T23:59:59Z → 2026-04-10T23:59:59Z" in drafted.stderr
    assert "the last fetch was at 2026-12-01T09:00:00Z" in drafted.stderr
    assert "LLL_NOW=2026-04-10T23:59:00Z" in drafted.stderr
    run_cli("verify", str(workspace / "issues" / f"{DAY}.md"))


# -- 14. start-up: a command imports what it needs -----------------------------------------------------


def test_the_cli_module_imports_no_heavy_library() -> None:
    """`lll --help` and `lll --version` took ~1.3 s importing the whole pipeline; each command now
    imports its own needs (the figures: bench/sources.py prints the start-up time)."""
    import subprocess
    import sys

    heavy = ("httpx", "sqlalchemy", "pydantic", "trafilatura", "numpy", "lxml", "feedparser", "rich")
    code = ("import sys, lll.cli; print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))")
    loaded = subprocess.run([sys.executable, "-c", code, *heavy], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [], loaded.stdout
