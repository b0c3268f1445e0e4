"""A backtest is sealed to loopback: it serves its corpus on 127.0.0.1 and reaches nothing else —
not even DNS. With ``[fetch] fulltext = "auto"`` a summary-only item linking a real host would
have its article page fetched; in a backtest that fetch is refused at once, without looking the
name up, and the refusal is recorded in the page cache. Pages on the corpus's own server are
still fetched."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from lll.errors import BlockedAddressError
from lll.fetch.guard import check_url

from conftest import query, run_cli

DAY = "2026-05-01"
EXTERNAL = "https://external-news.example/2026/05/01/a-story"
OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>tiny</title></head><body>
<outline text="Tiny Lab" type="rss" xmlUrl="http://127.0.0.1:8765/feeds/tiny.xml"/>
</body></opml>
"""
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Tiny Lab</title><link>http://127.0.0.1:8765/</link><description>t</description>
<item><guid>urn:tiny:1</guid><title>Tiny Lab releases a small model</title>
<link>{external}</link><pubDate>Fri, 01 May 2026 09:00:00 GMT</pubDate>
<description>Tiny Lab released a small model.</description></item>
<item><guid>urn:tiny:2</guid><title>Tiny Lab opens its evaluation suite</title>
<link>http://127.0.0.1:8765/pages/eval.html</link><pubDate>Fri, 01 May 2026 10:00:00 GMT</pubDate>
<description>An evaluation suite.</description></item>
</channel></rss>
"""
PAGE = """<!doctype html><html><head><title>Tiny Lab opens its evaluation suite</title></head><body><article>
<h1>Tiny Lab opens its evaluation suite</h1>
<p>Tiny Lab said on Friday that its evaluation suite for small language models is now open to everyone.
The suite holds 1,200 tasks in reading, arithmetic and code, and every result is published with the prompts.</p>
<p>The lab said it will add tasks in other languages in June, and that outside researchers may submit tasks.</p>
</article></body></html>
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "tiny-corpus"
    (root / "days" / DAY / "feeds").mkdir(parents=True)
    (root / "days" / DAY / "pages").mkdir(parents=True)
    (root / "sources.opml").write_text(OPML, encoding="utf-8")
    (root / "days" / DAY / "feeds" / "tiny.xml").write_text(FEED.format(external=EXTERNAL), encoding="utf-8")
    (root / "days" / DAY / "pages" / "eval.html").write_text(PAGE, encoding="utf-8")
    return root


class Lookups:
    """``socket.getaddrinfo`` that records every call; a name (not an IP literal) fails the call."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.names: list[str] = []
        self.literals: list[str] = []

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name.split("%", 1)[0])
        except OSError:
            self.names.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"test: no DNS lookup allowed ({name!r})") from None
        self.literals.append(name)
        return self.real(host, *args, **kwargs)


def test_a_backtest_never_looks_a_name_up_and_records_why_a_page_was_not_fetched(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = Lookups(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", lookups)
    ws = tmp_path / "bt"
    ws.mkdir()
    (ws / "lll.toml").write_text('[newsletter]\nname = "Tiny Letters"\n[fetch]\nfulltext = "auto"\n',
                                 encoding="utf-8")
    started = time.monotonic()
    result = run_cli("backtest", str(corpus), "--from", DAY, "--to", DAY, "--workspace", str(ws), ok=None)
    assert time.monotonic() - started < 60
    assert "days: 1" in result.stdout, result.output
    assert lookups.names == [], f"the backtest asked DNS for {lookups.names}"
    assert len(query(ws / "lll.db", "SELECT id FROM items")) == 2  # the corpus itself was served
    pages = {r["url"]: r for r in query(ws / "lll.db", "SELECT url, error, text FROM pages")}
    external = next(r for url, r in pages.items() if "external-news.example" in url)
    assert "sealed to loopback" in external["error"] and "was not looked up" in external["error"]
    own = next(r for url, r in pages.items() if url.endswith("/pages/eval.html"))
    assert own["error"] is None and "1,200 tasks" in own["text"]  # the corpus's own pages still come in


def test_the_sealed_policy_refuses_names_without_calling_the_resolver() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolver called for {host}")

    for url in (EXTERNAL, "http://localhost:8080/feed.xml", "http://intranet/feed.xml"):
        with pytest.raises(BlockedAddressError, match=r"sealed to loopback.*was not looked up"):
            asyncio.run(check_url(url, "sealed", resolver))
    for url in ("http://10.0.0.1/feed.xml", "http://169.254.169.254/latest/", "http://93.184.216.34/"):
        with pytest.raises(BlockedAddressError, match=r"sealed to loopback; .* is not a loopback address"):
            asyncio.run(check_url(url, "sealed", resolver))
    asyncio.run(check_url("http://127.0.0.1:8765/feed.xml", "sealed", resolver))
    asyncio.run(check_url("http://[::1]:8765/feed.xml", "sealed", resolver))
