"""The plain-URL shortcut of ``canonical_url``, ``is_http_url`` and link joining gives what the
general code gives, on every link of the test corpora and on spellings chosen to trip it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from lll.parse.html import _join
from lll.urls import PLAIN_URL, _canonical_general, canonical_url, is_http_url

from conftest import FEEDS, shared_data

TRICKY = [
    "https://example.com", "https://example.com/", "https://example.com//", "http://example.com/a/b/",
    "https://Example.com/a", "HTTPS://example.com/a", "https://www.example.com/a", "https://www/a",
    "https://example.com./a", "https://-x.example/a", "https://x.example:443/a", "https://x.example:8080/a",
    "https://user@x.example/a", "https://x.example/a;b", "https://x.example/a;", "https://x.example/a?",
    "https://x.example/a#", "https://x.example/a#frag", "https://x.example/a%20b", "https://x.example/a b",
    "https://x.example/é", "https://x.example/(a)*!$&'+,=:@~_.-", " https://x.example/a ", "https://1.2.3.4/a",
    "https://x.example/a/../b", "https://x.example/./a", "ftp://x.example/a", "https://", "https:///a",
    "https://x..example/a", "https://x.example/a\tb", "https://x.example\n/a",
]


def _corpus_urls() -> list[str]:
    href = re.compile(rb"""(?:href=|<link>|<guid[^>]*>)["']?(https?://[^"'<>\s]+)""", re.I)
    files = [p for p in FEEDS.iterdir() if p.is_file()]
    files += sorted(shared_data("replay-2026-05", "days", "2026-05-01", "feeds").glob("*.xml"))
    urls = {m.group(1).decode("utf-8", "replace") for p in files for m in href.finditer(p.read_bytes())}
    return sorted(urls)


@pytest.mark.parametrize("keep_fragment", [False, True])
def test_the_shortcut_agrees_with_the_general_code(keep_fragment: bool) -> None:
    urls = _corpus_urls() + TRICKY
    assert len(urls) > 1000
    plain = [u for u in urls if PLAIN_URL.fullmatch(u.strip())]
    assert len(plain) > len(urls) / 3, "most real links take the shortcut"
    wrong = [u for u in urls if canonical_url(u, keep_fragment=keep_fragment) != _canonical_general(u.strip(),
                                                                                                  keep_fragment)]
    assert not wrong, wrong[:10]


def test_is_http_url_and_joining_agree_with_urllib() -> None:
    for url in _corpus_urls() + TRICKY:
        if PLAIN_URL.fullmatch(url.strip()):
            assert is_http_url(url)
        for base in ("https://blog.example/posts/1", "http://blog.example/"):
            assert _join(base, url) == urljoin(base, url), (base, url)
