"""The two ways a feed is read — the fast path (feedparser_rs) and feedparser — give the same
records, and which one reads a feed is decided by the body alone.

Every golden feed, a sample of the replay corpus (every feed's first day, then every 6th
file) and a sample of feedparser's own test corpus go through ``parse_feed`` both ways; every
record must match field for field (``raw`` aside: each path sanitizes markup with its own
sanitizer, and the text read from either is the same). ``python bench/parse.py`` runs the
whole corpora and prints the time each path takes.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from lll.errors import ParseError
from lll.parse import fastfeed
from lll.parse.fastfeed import read_fast, refusal
from lll.parse.feeds import parse_feed

from conftest import FEEDS, rss, shared_data

_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):(.+)$", re.M)
URL = "https://feeds.example.org/feed.xml"


def _records(body: bytes, content_type: str, fast: bool) -> Any:
    try:
        feed = parse_feed(body, url=URL, content_type=content_type, fast=fast)
    except ParseError as exc:
        return ("ParseError", str(exc))
    items = []
    for item in feed.items:
        record = asdict(item)
        record.pop("raw")
        items.append(record)
    return {"title": feed.title, "link": feed.link, "kind": feed.kind, "warning": feed.warning, "items": items}


def _differences(body: bytes, content_type: str) -> list[str]:
    slow, fast = _records(body, content_type, False), _records(body, content_type, True)
    if slow == fast:
        return []
    if not (isinstance(slow, dict) and isinstance(fast, dict)):
        return [f"feedparser: {str(slow)[:200]} / fast: {str(fast)[:200]}"]
    out = [f"{key}: {slow[key]!r} / {fast[key]!r}" for key in ("title", "link", "kind", "warning")
           if slow[key] != fast[key]]
    if len(slow["items"]) != len(fast["items"]):
        out.append(f"{len(slow['items'])} items / {len(fast['items'])}")
    for n, (a, b) in enumerate(zip(slow["items"], fast["items"], strict=False)):
        out += [f"item {n} {key}: {str(a[key])[:150]!r} / {str(b[key])[:150]!r}" for key in a if a[key] != b[key]]
    return out


def _golden() -> list[Path]:
    return sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".atom"))


def _replay_sample() -> list[Path]:
    root = shared_data("replay-2026-05", "days")
    first = sorted((root / "2026-05-01" / "feeds").glob("*.xml"))
    rest = sorted(p for p in root.rglob("*.xml") if p not in set(first))
    return first + rest[::6]


def _feedparser_sample() -> list[tuple[Path, str]]:
    root = shared_data("robustness", "feedparser-tests", "tests")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    chosen = [p for i, p in enumerate(files)
              if i % 4 == 0 or p.relative_to(root).as_posix().startswith("wellformed/sanitize/")]
    out = []
    for path in chosen:
        headers = {k.strip().lower(): v.strip() for k, v in _HEADER.findall(path.read_bytes())}
        out.append((path, headers.get(b"content-type", b"").decode("utf-8", "replace")))
    return out


@pytest.mark.parametrize("path", _golden(), ids=lambda p: p.name)
def test_golden_feeds_read_the_same_both_ways(path: Path) -> None:
    assert _differences(path.read_bytes(), "") == []


def test_replay_feeds_read_the_same_both_ways() -> None:
    files = _replay_sample()
    assert len(files) >= 60
    fast, diffs = 0, []
    for path in files:
        body = path.read_bytes()
        fast += read_fast(body, "application/rss+xml")[0] is not None
        diffs += [f"{path.parent.parent.name}/{path.name}: {d}" for d in _differences(body, "application/rss+xml")]
    assert not diffs, "\n".join(diffs[:20])
    assert fast >= len(files) - 3, "the fast path should read nearly every real feed of the replay corpus"


def test_feedparser_corpus_reads_the_same_both_ways() -> None:
    """feedparser's own tests, hostile ones included: wherever the fast path accepts a file,
    the records are feedparser's; what it cannot read alike, it refuses."""
    files = _feedparser_sample()
    fast, diffs = 0, []
    for path, content_type in files:
        body = path.read_bytes()
        if read_fast(body, content_type)[0] is None:
            continue
        fast += 1
        diffs += [f"{path.name}: {d}" for d in _differences(body, content_type)]
    assert not diffs, "\n".join(diffs[:20])
    assert fast >= 200


def test_golden_feeds_of_each_common_kind_take_the_fast_path() -> None:
    taken = {p.name for p in _golden() if read_fast(p.read_bytes(), "")[0] is not None}
    assert {"hn-hnrss.xml", "hn-points.xml", "github-releases.atom", "podcast.xml", "arxiv.xml"} <= taken


# -- the decision --------------------------------------------------------------------------------

ITEM = {"title": "Hello", "link": "https://blog.example/hello", "guid": "https://blog.example/hello",
        "permalink": True, "description": "<p>Hi <a href='https://x.example/'>there</a></p>"}


def _feed(**changes: Any) -> bytes:
    return rss([{**ITEM, **changes}]).encode()


@pytest.mark.parametrize("body, content_type, reason", [
    (b"", "", "empty body"),
    (_feed().decode().replace("utf-8", "iso-8859-1").encode("latin-1"), "", ""),  # ASCII: same under any charset
    (_feed(title="Café").decode().replace("utf-8", "iso-8859-1").encode("latin-1"), "", "not UTF-8"),
    (_feed(title="Café"), "text/xml", "text/xml without a charset"),
    (_feed(title="Café"), "application/rss+xml; charset=windows-1252", "declared charset windows-1252"),
    (_feed(title="Café"), "application/rss+xml; charset=utf-8", ""),
    (_feed().replace(b"<rss", b'<!DOCTYPE rss [<!ENTITY x "y">]><rss', 1), "", "a DOCTYPE"),
    (_feed().replace(b"</channel>", b"", 1), "", "not well-formed XML"),
    (_feed(extra="<itunes:summary>s</itunes:summary>").replace(
        b"<rss ", b'<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" ', 1), "",
     "element 'http://www.itunes.com/dtds/podcast-1.0.dtd summary'"),
    (_feed().replace(b"<channel>", b'<channel xml:base="https://base.example/">', 1), "", "xml:base"),
    (_feed(extra="<category>AI<image><url>https://i.example/x.png</url></image></category>"), "",
     "an element inside <category>"),
])
def test_refusal_is_decided_by_the_body_and_its_type(body: bytes, content_type: str, reason: str) -> None:
    first, second = refusal(body, content_type), refusal(body, content_type)
    assert first == second
    assert first.startswith(reason) if reason else first == ""


@pytest.mark.parametrize("changes, reason", [
    ({"link": "http://127.0.0.1:8765/post", "guid": "p1", "permalink": False}, "a link the fast parser left out"),
    ({"extra": "<author>Ann Lee &lt;ann@localhost&gt;</author>"}, "an author given in a form"),
    ({"description": "<p>ok</p><script>alert(1)</script>"}, "script, style, comment or CDATA"),
    ({"description": "<p>a</p><!-- hidden -->"}, "script, style, comment or CDATA"),
    ({"extra": "<pubDate>the day after tomorrow</pubDate>"}, "a date the fast parser could not read"),
])
def test_entries_the_fast_path_would_read_otherwise_go_to_feedparser(changes: dict[str, Any], reason: str) -> None:
    body = _feed(**changes)
    assert refusal(body, "") == ""
    document, why = read_fast(body, "")
    assert document is None and why.startswith(reason)
    assert _differences(body, "") == []  # and the records are feedparser's, whichever way


def test_the_fast_path_reads_authors_transcripts_and_repairs_text_as_feedparser_does() -> None:
    podcast = 'xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    items = [
        {**ITEM, "extra": "<author>ann@example.org (Ann Lee)</author>"},
        {**ITEM, "guid": "b", "permalink": False, "extra": "<dc:creator>Bo Chen &lt;bo@example.org&gt;</dc:creator>"},
        {**ITEM, "guid": "c", "permalink": False, "extra": "<author>cy@example.org</author>"},
        {**ITEM, "guid": "d", "permalink": False, "title": "It\u0092s here",  # Windows-1252 as C1
         "extra": '<podcast:transcript url="https://t.example/1.srt" type="application/x-subrip"/>'
                  '<podcast:transcript url="https://t.example/1.vtt" type="text/vtt"/>'},
        {**ITEM, "guid": "e", "permalink": False, "title": "â\u0080\u009cquotedâ\u0080\u009d"},  # UTF-8 read as Latin-1
    ]
    body = rss(items, namespaces=podcast).encode()
    assert read_fast(body, "")[0] is not None
    assert _differences(body, "") == []
    feed = parse_feed(body, url=URL)
    assert [i.author for i in feed.items] == ["Ann Lee", "Bo Chen", "cy@example.org", "", ""]
    assert [i.title for i in feed.items[3:]] == ["It’s here", "“quoted”"]
    assert (feed.items[3].transcript_url, feed.items[3].transcript_type) == ("https://t.example/1.vtt", "text/vtt")


def test_markup_read_fast_is_sanitized() -> None:
    hostile = ('<p onclick="steal()">Read <a href="javascript:alert(1)">this</a> and '
               '<a href="https://ok.example/a" onmouseover="x()">that</a>'
               '<img src="https://i.example/p.png" onerror="x()" alt="pic"></p>'
               '<iframe src="https://evil.example/"></iframe><object data="x.swf"></object>'
               '<form action="https://evil.example/"><input name="q"><button>Go</button></form>')
    body = _feed(description=hostile)
    document, why = read_fast(body, "")
    assert document is not None, why
    item = parse_feed(body, url=URL).items[0]
    for bad in ("onclick", "javascript:", "onmouseover", "onerror", "<iframe", "<object", "<form", "<input"):
        assert bad not in item.raw.lower()
    assert [link.url for link in item.links] == ["https://ok.example/a"]
    assert _differences(body, "") == []


def test_fast_parse_is_read_again_by_feedparser_when_the_fast_parser_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(fastfeed.feedparser_rs, "parse", broken)
    body = _feed()
    assert read_fast(body, "") == (None, "fast parser failed (RuntimeError)")
    assert parse_feed(body, url=URL).items[0].title == "Hello"
