"""feedparser's test corpus through LLL's real ingest (HTTP server on loopback → ``FetchRun`` →
store), reduced for CI: every 8th file, plus every sanitization case and every HTTP and
compression case (~950 of the 2,248 files). ``python bench/feedparser_corpus.py`` runs all of
them (about 20 s here) and prints the counts.

``test_parse.py`` already feeds every file to ``parse_feed`` directly; this goes through what a
user's ``lll fetch`` does: response headers taken from each file (status, content type,
redirects, ETag, compression), one source per file, the health row read back.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import shared_data

REPO = Path(__file__).resolve().parents[1]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lll_bench_feedparser", REPO / "bench" / "feedparser_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    root = shared_data("robustness", "feedparser-tests", "tests")
    files = sorted(set(bench.corpus_files(root, every=8))
                   | {p for d in ("http", "compression") for p in (root / d).iterdir() if p.is_file()})
    assert len(files) > 900
    return bench.run_corpus(files, tmp_path_factory.mktemp("feedparser"), root)


def _by_path(result) -> dict[str, object]:
    return {o.path: o for o in result.outcomes}


def test_nothing_crashes_and_every_file_has_a_health_row(result) -> None:
    assert result.run_error == ""
    assert len(result.outcomes) > 900
    assert not result.crashed, "\n".join(f"{o.path}: {o.error}" for o in result.crashed)
    assert all(o.status in ("ok", "not_modified", "error") for o in result.outcomes)


def test_each_rejection_says_why(result) -> None:
    rejected = [o for o in result.outcomes if o.group.startswith("rejected")]
    assert rejected
    for o in rejected:
        assert o.error.startswith("http://127.0.0.1:") and len(o.error.split(": ", 1)[1]) > 10, o
        assert "other" not in o.group, f"{o.path}: an unclassified reason: {o.error}"
    assert len(rejected) < 0.02 * len(result.outcomes)


def test_http_and_compression_cases_get_the_right_outcome(result) -> None:
    got = _by_path(result)
    assert "HTTP 404" in got["http/http_status_404.xml"].error
    assert "redirect without Location" in got["http/http_status_302-no-location.xml"].error
    for redirect in ("301", "302", "303", "307"):  # followed to target.xml, which is a feed
        assert got[f"http/http_status_{redirect}.xml"].group == "stored", got[f"http/http_status_{redirect}.xml"]
    assert got["http/http_redirect_to_304.xml"].status in ("ok", "not_modified", "error")
    for ok in ("compression/gzip.gz", "compression/deflate.z", "compression/deflate-no-headers.z"):
        assert got[ok].group == "stored", got[ok]
    assert "corrupt gzip body" in got["compression/gzip-struct-error.gz"].error


def test_sanitization_cases_are_stored_without_active_content(result) -> None:
    sanitize = [o for o in result.outcomes if o.path.startswith("wellformed/sanitize/")]
    assert len(sanitize) > 700
    assert all(o.group == "stored" for o in sanitize), [o for o in sanitize if o.group != "stored"][:5]
    root = shared_data("robustness", "feedparser-tests", "tests")
    with_entries = [o for o in sanitize if re.search(rb"<(entry|item)\b", (root / o.path).read_bytes())]
    assert len(with_entries) > 500
    assert all(o.items >= 1 for o in with_entries), [o.path for o in with_entries if not o.items][:5]
    assert result.leaks == [], "\n".join(result.leaks[:20])


def test_the_checker_sees_active_content() -> None:
    for bad in ('<script>alert(1)</script>', '<a href="javascript:alert(1)">x</a>', '<img src=x onerror=alert(1)>',
                '<IFRAME src="http://x">', "<a href='vbscript:msgbox'>", '<object data="data:text/html,x">'):
        assert bench.active(bad), bad
    for fine in ("<p>on the other hand = fine</p>", "<!-- <script> -->", "Scripts are fun", "<a href='https://x'>"):
        assert not bench.active(fine), fine
