"""The static archive: pages with per-story anchors, an index, and RSS 2.0, Atom and JSON
Feed 1.1 parsed back with feedparser; stable ids, absolute URLs, and later issues'
callbacks landing on the archive's own pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest
from fakes.issue import BASE_URL, DAY, DAYS, DROPPED_LINK, drop_paragraph, first_section_anchor, workspace_copy

from conftest import query
from lll.errors import PublishSettingsError
from lll.parse.feeds import parse_feed
from lll.newsletter import Newsletter
from lll.publish import Publishing, Receipt

JSON_FEED_ITEM_KEYS = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
                       "banner_image", "date_published", "date_modified", "authors", "tags", "language",
                       "attachments"}
CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


def publish(ws: Path, day: str = DAY, **kwargs: object) -> Receipt:
    with Newsletter.open(ws) as letter:
        return Publishing(letter, env={}).publish(day, "archive", **kwargs)  # type: ignore[arg-type]


def publish_all(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in DAYS:
        monkeypatch.setenv("LLL_NOW", f"{day}T23:59:00Z")
        assert publish(ws, day).action == "created"


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_pages_anchors_and_callbacks_to_the_archive(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_all(ws, monkeypatch)
    site = ws / "archive"
    assert sorted(p.name for p in site.iterdir()) == sorted(
        ["index.html", "issues.json", "feed.xml", "atom.xml", "feed.json"] + [f"{d}.html" for d in DAYS])
    page = (site / f"{DAY}.html").read_text()
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text())
    story_ids = {p["story_id"] for s in data["sections"] for p in s["paragraphs"]}
    for story_id in story_ids:
        assert f'id="{story_id}"' in page, f"no anchor for story {story_id}"
    assert 'id="lede"' in page and f'id="{first_section_anchor(ws)}"' in page
    # callbacks in the 04-10 issue are {base_url}/{DATE}.html, and those pages exist
    earlier = [h for h in hrefs(page) if h.startswith(BASE_URL + "/2026-04-0")]
    assert f"{BASE_URL}/2026-04-09.html" in earlier and f"{BASE_URL}/2026-04-08.html" in earlier
    for href in earlier:
        assert (site / href.removeprefix(BASE_URL + "/")).exists()
    assert f'<a rel="prev" href="{BASE_URL}/2026-04-09.html">' in page
    assert f'<link rel="canonical" href="{BASE_URL}/{DAY}.html">' in page
    assert 'type="application/atom+xml"' in page and 'type="application/feed+json"' in page
    assert "<script" not in page
    assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs(page)), "absolute URLs only"
    index = (site / "index.html").read_text()
    assert [m for m in re.findall(r'<a href="([^"]+\.html)">', index)] == [f"{BASE_URL}/{d}.html"
                                                                         for d in reversed(DAYS)]


def test_feeds_parse_back_with_stable_ids_and_absolute_urls(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_all(ws, monkeypatch)
    site = ws / "archive"
    urls = [f"{BASE_URL}/{d}.html" for d in reversed(DAYS)]
    for name, version, content_type in (("feed.xml", "rss20", "application/rss+xml"),
                                        ("atom.xml", "atom10", "application/atom+xml")):
        parsed = feedparser.parse((site / name).read_bytes(), response_headers={"content-type": content_type})
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert parsed.version == version
        assert parsed.feed.title == "Large Language Letters"
        assert [e.id for e in parsed.entries] == urls, name
        assert [e.link for e in parsed.entries] == urls, name
        assert parsed.entries[0].title == "Large Language Letters 04/10/2026"
        assert parsed.entries[0].published_parsed[:4] == (2026, 4, 10, 23)
        content = parsed.entries[0].content[0].value
        assert "Project Glasswing" in content and 'id="s-' in content, name
        assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs(content)), name
        assert "unsubscribe" not in content.lower()
    rss = (site / "feed.xml").read_text()
    assert '<guid isPermaLink="true">' in rss and "Fri, 10 Apr 2026 23:59:00 +0000</pubDate>" in rss
    assert f'<atom:link href="{BASE_URL}/feed.xml" rel="self"' in rss
    # JSON Feed 1.1 (feedparser 6 does not read it): the spec's required and recommended keys
    feed = json.loads((site / "feed.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1" and feed["title"] == "Large Language Letters"
    assert feed["home_page_url"] == f"{BASE_URL}/" and feed["feed_url"] == f"{BASE_URL}/feed.json"
    assert isinstance(feed["authors"], list) and "author" not in feed
    assert [i["id"] for i in feed["items"]] == urls and [i["url"] for i in feed["items"]] == urls
    assert feed["items"][0]["date_published"] == "2026-04-10T23:59:00Z"
    assert all(i["content_html"] and all(h.startswith("http") for h in hrefs(i["content_html"]))
               for i in feed["items"])
    assert all(k.startswith("_") for i in feed["items"] for k in i if k not in JSON_FEED_ITEM_KEYS)
    # and LLL's own feed reader takes all three back as the same three items
    for name in ("feed.xml", "atom.xml", "feed.json"):
        parsed_feed = parse_feed((site / name).read_bytes(), url=f"{BASE_URL}/{name}")
        assert [item.url for item in parsed_feed.items] == urls, name
        assert parsed_feed.title == "Large Language Letters" and not parsed_feed.warning


def test_republish_is_a_no_op_and_an_edit_keeps_the_id(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_all(ws, monkeypatch)
    site = ws / "archive"
    before = {p.name: p.stat().st_mtime_ns for p in site.iterdir()}
    assert publish(ws).action == "unchanged"
    assert {p.name: p.stat().st_mtime_ns for p in site.iterdir()} == before
    drop_paragraph(ws, CLAUDEONOMICS)
    monkeypatch.setenv("LLL_NOW", "2026-04-11T08:00:00Z")
    receipt = publish(ws)
    assert receipt.action == "updated" and receipt.url == f"{BASE_URL}/{DAY}.html"
    assert DROPPED_LINK not in (site / f"{DAY}.html").read_text()
    entry = feedparser.parse((site / "atom.xml").read_bytes()).entries[0]
    assert entry.id == f"{BASE_URL}/{DAY}.html"
    assert entry.published.startswith("2026-04-10T23:59") and entry.updated.startswith("2026-04-11T08:00")
    rows = query(ws / "lll.db", "SELECT state, content_hash FROM publications WHERE target = 'archive'")
    assert len(rows) == 3 and all(r["state"] == "published" for r in rows)


def test_the_archive_needs_a_base_url(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    ws = workspace_copy(tmp_path_factory, tmp_path / "ws")
    toml = ws / "lll.toml"
    toml.write_text(toml.read_text().replace(f'base_url = "{BASE_URL}/"', ""))
    with pytest.raises(PublishSettingsError, match=r"set \[newsletter\] base_url"):
        publish(ws)
    assert not (ws / "archive").exists()
