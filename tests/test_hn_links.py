"""Hacker News items link both their article and their discussion (issue 11, item 14): the article
as the story, "discussion on Hacker News" to the thread. The thread URL came in the fetched feed,
recorded on the item, so the verifier accepts it exactly where the paragraph cites that item.

The feeds are ours, served over loopback: a lab's blog, and an hnrss-shaped Hacker News feed
(``<comments>`` with the thread, "Points: N # Comments: M" in the description)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import feed_reply, rss, run_cli

from lll.verify.claims import links

NOW = datetime(2026, 4, 10, 20, 0, tzinfo=UTC)
ENV = {"LLL_NOW": "2026-04-10T20:00:00Z", "LLL_ALLOW_PRIVATE": "1"}
DAY = "2026-04-10"
TOOLKIT = "https://lab.example/posts/agent-toolkit"
ZIG = "https://zig-llm.example/"
TOOLKIT_THREAD = "https://news.ycombinator.com/item?id=47722471"
ZIG_THREAD = "https://news.ycombinator.com/item?id=47719944"


def _lab_feed() -> str:
    text = ("Lab released Agent Toolkit 2.0, an open-source framework for building AI agents, on Thursday. "
            "The release adds 14 evaluation suites for coding agents and cuts tool-call latency by 38%. "
            "Agent Toolkit 2.0 is available today under the Apache 2.0 license.")
    return rss([{"guid": "lab-1", "link": TOOLKIT, "title": "Lab launches Agent Toolkit 2.0 for AI agents",
                 "description": text, "published": NOW - timedelta(hours=6)}], title="Lab News",
               link="https://lab.example/")


def _hn_item(title: str, article: str, thread: str, points: int, comments: int, hours: int) -> dict[str, Any]:
    description = (f'<p>Article URL: <a href="{article}">{article}</a></p>\n'
                   f'<p>Comments URL: <a href="{thread}">{thread}</a></p>\n'
                   f"<p>Points: {points}</p>\n<p># Comments: {comments}</p>")
    return {"guid": thread, "link": article, "title": title, "description": description,
            "published": NOW - timedelta(hours=hours), "extra": f"<comments>{thread}</comments>"}


def _hn_feed() -> str:
    return rss([_hn_item("Lab launches Agent Toolkit 2.0 for AI agents", TOOLKIT, TOOLKIT_THREAD, 163, 92, 4),
                _hn_item("Show HN: A tiny LLM inference server in Zig", ZIG, ZIG_THREAD, 377, 64, 3)],
               title="Hacker News: Front Page", link="https://news.ycombinator.com/")


@pytest.fixture
def drafted(workspace: Path, server: Any) -> str:
    run_cli("sources", "add", server.route("lab.xml", feed_reply(_lab_feed())), "--name", "Lab News", env=ENV)
    run_cli("sources", "add", server.route("hn.xml", feed_reply(_hn_feed())), "--name", "Hacker News", env=ENV)
    run_cli("fetch", env=ENV)
    run_cli("draft", "--date", DAY, env=ENV)
    return (workspace / "issues" / f"{DAY}.md").read_text(encoding="utf-8")


def _paragraph(markdown: str, needle: str) -> str:
    return next(p for p in markdown.split("\n\n") if needle in p)


def test_a_hacker_news_story_links_its_article_and_its_discussion(drafted: str) -> None:
    told = _paragraph(drafted, ZIG)
    assert ('Hacker News pointed to: "[Show HN: A tiny LLM inference server in Zig](https://zig-llm.example/)", '
            f"with 377 points and 64 comments in the [discussion on Hacker News]({ZIG_THREAD}).") in told
    assert "[Hacker News](" not in drafted  # the name "Hacker News" never links an article


def test_hacker_news_coverage_links_the_discussion_not_the_article_again(drafted: str) -> None:
    covered = _paragraph(drafted, TOOLKIT_THREAD)
    assert f"[Lab News]({TOOLKIT})" in covered
    assert f"It was also covered by a [discussion on Hacker News]({TOOLKIT_THREAD})." in covered
    assert links(covered).count(TOOLKIT) == 1


def test_the_verifier_accepts_a_thread_only_beside_the_item_it_is_recorded_on(workspace: Path,
                                                                             drafted: str) -> None:
    path = workspace / "issues" / f"{DAY}.md"
    run_cli("verify", str(path), env=ENV)  # the draft as written verifies
    # The thread of one item in the paragraph of another: that paragraph does not cite its item.
    moved = drafted.replace(f"[discussion on Hacker News]({TOOLKIT_THREAD})",
                            f"[discussion on Hacker News]({ZIG_THREAD})")
    assert moved != drafted
    path.write_text(moved, encoding="utf-8")
    failed = run_cli("verify", str(path), env=ENV, ok=None)
    assert failed.exit_code == 1 and f"link {ZIG_THREAD} is not a URL LLL fetched" in failed.stdout + failed.stderr
    # A Hacker News thread no fetched feed recorded, beside a cited Hacker News item.
    invented = re.sub(re.escape(ZIG_THREAD), "https://news.ycombinator.com/item?id=1", drafted)
    path.write_text(invented, encoding="utf-8")
    failed = run_cli("verify", str(path), env=ENV, ok=None)
    assert "link https://news.ycombinator.com/item?id=1 is not a URL LLL fetched" in failed.stdout + failed.stderr
