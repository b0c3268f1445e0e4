"""``HttpClient`` against a real HTTP server on 127.0.0.1: validators, encodings, caps,
redirects, retries, timeouts and the SSRF guard."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

import brotli
import pytest

from lll.config import FetchSettings
from lll.errors import BlockedAddressError, FetchError
from lll.fetch.guard import address_allowed, check_url, system_resolver
from lll.fetch.http import HttpClient, retry_after_seconds
from lll.records import FetchedBody

from conftest import (
    FEEDS, Hang, LoopbackServer, Reply, Request, Stream, fake_resolver, fast_settings, feed_reply, get,
)

FEED = (FEEDS / "rss20.xml").read_bytes()


# -- headers and validators ------------------------------------------------------------------------


def test_sends_an_honest_user_agent_and_accepts_compression(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", feed_reply(FEED))
    settings = fast_settings()
    get(url, settings)
    headers = server.last("/feed.xml").headers
    assert headers["user-agent"] == settings.user_agent
    assert headers["user-agent"].startswith("LLL/") and "http" in headers["user-agent"]
    for encoding in ("gzip", "deflate", "br"):
        assert encoding in headers["accept-encoding"]
    assert "application/rss+xml" in headers["accept"]


def test_etag_gives_304_and_an_empty_body(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", feed_reply(FEED, etag='"v1"'))
    first = get(url)
    assert (first.status, first.etag, first.body) == (200, '"v1"', FEED)
    second = get(url, etag=first.etag)
    assert server.last("/feed.xml").headers["if-none-match"] == '"v1"'
    assert second.status == 304 and second.not_modified and second.body == b""


def test_last_modified_gives_304(server: LoopbackServer) -> None:
    stamp = "Fri, 01 May 2026 10:00:00 GMT"
    url = server.route("/feed.xml", feed_reply(FEED, last_modified=stamp))
    first = get(url)
    assert first.last_modified == stamp and first.etag is None
    second = get(url, last_modified=first.last_modified)
    assert server.last("/feed.xml").headers["if-modified-since"] == stamp
    assert second.not_modified


# -- content encodings -----------------------------------------------------------------------------


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),          # zlib-wrapped, as the RFC says
    ("deflate", _raw_deflate),           # raw deflate, as some servers send
    ("br", brotli.compress),
    ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),
], ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br", "gzip+br"])
def test_compressed_bodies_are_decoded(server: LoopbackServer, encoding: str, encode) -> None:
    body = encode(FEED)
    url = server.route("/feed.xml", Reply(200, body, {"Content-Type": "application/rss+xml",
                                                       "Content-Encoding": encoding}))
    fetched = get(url)
    assert fetched.body == FEED


def test_corrupt_gzip_fails_cleanly(server: LoopbackServer) -> None:
    body = gzip.compress(FEED)
    url = server.route("/feed.xml", Reply(200, body[:20] + b"\x00garbage" * 50,
                                          {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match=r"corrupt gzip body"):
        get(url)


JSON_FEED = b'\n  {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}\n'


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "br", "gzip, br"])
@pytest.mark.parametrize("body", [FEED, b"\xef\xbb\xbf" + FEED, b"\r\n\t " + FEED, JSON_FEED, FEED[:200]],
                         ids=["xml", "bom-xml", "whitespace-xml", "json", "short-xml"])
def test_a_plain_document_labelled_compressed_is_used_as_sent_with_a_warning(
        server: LoopbackServer, encoding: str, body: bytes) -> None:
    """Real servers label plain bodies gzip; the body reads as a document, so it is kept."""
    url = server.route("/feed.xml", Reply(200, body, {"Content-Type": "application/rss+xml",
                                                      "Content-Encoding": encoding}))
    fetched = get(url)
    assert fetched.body == body
    assert fetched.warnings and all("but the body is not" in w and "used it as sent" in w for w in fetched.warnings)
    assert encoding.split(",")[-1].strip() in fetched.warnings[0]


def test_a_plain_document_dripped_byte_by_byte_under_a_gzip_label_is_kept(server: LoopbackServer) -> None:
    """The sniffing waits for enough bytes, however the body is cut into chunks."""
    url = server.route("/drip.xml", lambda req: Stream(lambda: (FEED[i:i + 7] for i in range(0, len(FEED), 7)),
                                                       headers={"Content-Encoding": "gzip"}))
    fetched = get(url)
    assert fetched.body == FEED and fetched.warnings


@pytest.mark.parametrize("body", [b"hello, this is not gzip", b"<rss>\x00\x01\x02\x03" + b"\x07" * 600,
                                  b"\x1f\x8b\x08" + b"<rss>" * 100],
                         ids=["text-not-a-document", "control-bytes", "gzip-magic-then-garbage"])
def test_what_does_not_read_as_a_document_is_still_a_corrupt_body(server: LoopbackServer, body: bytes) -> None:
    url = server.route("/feed.xml", Reply(200, body, {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError, match=r"corrupt gzip body"):
        get(url)


def test_a_real_gzip_body_is_decoded_and_carries_no_warning(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(200, gzip.compress(FEED), {"Content-Encoding": "gzip"}))
    fetched = get(url)
    assert fetched.body == FEED and fetched.warnings == ()


def test_a_mislabelled_plain_body_is_still_capped(server: LoopbackServer) -> None:
    """Used as sent does not mean unbounded: the cap holds for the raw body too."""
    url = server.route("/endless.xml", lambda req: Stream(
        lambda: iter(lambda: b"<item>" + b"x" * 65530, None), headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=r"over the 1,000,000-byte cap"):
            get(url, fast_settings(max_bytes=1_000_000))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000, peak


def test_unknown_content_encoding_is_refused(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(200, b"xxxx", {"Content-Encoding": "compress"}))
    with pytest.raises(FetchError, match=r"unsupported Content-Encoding 'compress'"):
        get(url)


# -- size caps -------------------------------------------------------------------------------------


def test_declared_content_length_over_the_cap_fails_before_reading(server: LoopbackServer) -> None:
    size = 5_000_000
    url = server.route("/big.xml", lambda req: Stream(lambda: (b"x" * 65536 for _ in range(80)),
                                                      headers={"Content-Length": str(size)}))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        get(url, fast_settings(max_bytes=1_000_000))
    assert "5,000,000 bytes is over the 1,000,000-byte cap" in str(info.value)
    assert time.monotonic() - started < 1.5


def test_endless_body_without_length_is_cut_at_the_cap(server: LoopbackServer) -> None:
    """A "1 GB feed": no Content-Length, bytes until the client gives up."""
    url = server.route("/endless.xml", lambda req: Stream(lambda: iter(lambda: b"<x/>" * 16384, None)))
    with pytest.raises(FetchError, match=r"over the 1,000,000-byte cap"):
        get(url, fast_settings(max_bytes=1_000_000))


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """100 MB of zeros, compressed three ways (about 100 KB for gzip/deflate, 165 bytes for br)."""
    chunk, n = bytes(1 << 20), 100
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    df = zlib.compressobj(9, zlib.DEFLATED, 15)
    br = brotli.Compressor(quality=5)
    out = {"gzip": b"", "deflate": b"", "br": b""}
    gz_parts, df_parts, br_parts = [], [], []
    for _ in range(n):
        gz_parts.append(gz.compress(chunk))
        df_parts.append(df.compress(chunk))
        br_parts.append(br.process(chunk))
    out["gzip"] = b"".join(gz_parts) + gz.flush()
    out["deflate"] = b"".join(df_parts) + df.flush()
    out["br"] = b"".join(br_parts) + br.finish()
    return out


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compression_bomb_fails_cleanly_with_little_memory(server: LoopbackServer, bombs: dict[str, bytes],
                                                           encoding: str) -> None:
    body = bombs[encoding]
    assert len(body) < 1_000_000  # the wire size is under the cap: only decoding can catch it
    url = server.route("/bomb.xml", Reply(200, body, {"Content-Type": "application/rss+xml",
                                                      "Content-Encoding": encoding}))
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as info:
            get(url, fast_settings(max_bytes=1_000_000))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "over the 1,000,000-byte cap (after decompression)" in str(info.value)
    assert peak < 16_000_000, f"decoding a bomb peaked at {peak:,} bytes of Python memory"


def test_body_just_under_the_cap_after_decompression_is_kept(server: LoopbackServer) -> None:
    body = b"<rss>" + b" " * 999_000 + b"</rss>"
    url = server.route("/ok.xml", Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"}))
    assert get(url, fast_settings(max_bytes=1_000_000)).body == body


# -- redirects -------------------------------------------------------------------------------------


def _chain(server: LoopbackServer, n: int, statuses=(301, 302, 303, 307, 308)) -> str:
    for i in range(n):
        status = statuses[i % len(statuses)]
        target = f"/hop{i + 1}" if i + 1 < n else "/final.xml"
        server.route(f"/hop{i}", Reply(status, b"", {"Location": target}))
    server.route("/final.xml", feed_reply(FEED))
    return server.url("/hop0")


def test_five_redirects_are_followed(server: LoopbackServer) -> None:
    fetched = get(_chain(server, 5))
    assert fetched.body == FEED
    assert fetched.final_url == server.url("/final.xml")
    assert server.hits("/final.xml") == 1


def test_a_sixth_redirect_is_refused(server: LoopbackServer) -> None:
    with pytest.raises(FetchError, match=r"more than 5 redirects"):
        get(_chain(server, 6))
    assert server.hits("/final.xml") == 0


def test_redirect_loop_is_refused_with_a_clear_message(server: LoopbackServer) -> None:
    server.route("/a", Reply(302, b"", {"Location": "/b"}))
    server.route("/b", Reply(302, b"", {"Location": server.url("/a")}))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        get(server.url("/a"))
    message = str(info.value)
    assert "redirect" in message and server.url("/a") in message
    assert server.hits("/a") + server.hits("/b") <= 6  # bounded, not a spin
    assert time.monotonic() - started < 2


def test_relative_redirect_is_resolved(server: LoopbackServer) -> None:
    server.route("/old/feed", Reply(301, b"", {"Location": "../new/feed.xml"}))
    server.route("/new/feed.xml", feed_reply(FEED))
    assert get(server.url("/old/feed")).final_url == server.url("/new/feed.xml")


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml",
                                      "gopher://127.0.0.1:70/"])
def test_redirect_to_a_non_http_scheme_is_refused(server: LoopbackServer, location: str) -> None:
    url = server.route("/feed.xml", Reply(302, b"", {"Location": location}))
    with pytest.raises(BlockedAddressError, match=r"only http and https URLs are fetched"):
        get(url)


def test_redirect_to_an_unparsable_location_is_refused_naming_the_location(server: LoopbackServer) -> None:
    """A hostile ``Location: javascript:alert(1)`` must be blamed on the redirect, not on the
    feed's own (valid) URL."""
    url = server.route("/feed.xml", Reply(302, b"", {"Location": "javascript:alert(1)"}))
    with pytest.raises(FetchError) as info:
        get(url)
    assert "javascript:alert(1)" in str(info.value), str(info.value)


def test_redirect_without_location_fails(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(302, b"", {}))
    with pytest.raises(FetchError, match=r"redirect without Location"):
        get(url)


# -- retries ---------------------------------------------------------------------------------------


def _then_ok(first: Reply, failures: int = 1):
    def handle(req):
        return first if req.number <= failures else Reply(200, FEED, {"Content-Type": "application/rss+xml"})
    return handle


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_honoured(server: LoopbackServer, status: int) -> None:
    url = server.route("/feed.xml", _then_ok(Reply(status, b"busy", {"Retry-After": "1"})))
    fetched = get(url, fast_settings(retries=2, backoff=0.01))
    assert fetched.body == FEED and fetched.attempts == 2
    assert server.hits("/feed.xml") == 2
    first, second = [r for r in server.requests if r.path == "/feed.xml"]
    assert second.at - first.at >= 0.95, "the client did not wait the Retry-After second"


def test_retries_on_5xx_with_backoff_until_exhausted(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(502, b"bad gateway"))
    with pytest.raises(FetchError) as info:
        get(url, fast_settings(retries=2, backoff=0.01))
    assert server.hits("/feed.xml") == 3
    assert "HTTP 502 after 3 attempt(s)" in str(info.value)
    assert info.value.status == 502


def test_retry_after_beyond_the_limit_fails_at_once_naming_the_header(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(429, b"slow down", {"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        get(url, fast_settings(retries=3, max_retry_after=5))
    assert time.monotonic() - started < 1.5
    assert server.hits("/feed.xml") == 1
    assert "HTTP 429" in str(info.value) and "retry after 3600" in str(info.value)


def test_client_errors_are_not_retried(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(404, b"gone"))
    with pytest.raises(FetchError, match=r"HTTP 404 after 1 attempt"):
        get(url, fast_settings(retries=3))
    assert server.hits("/feed.xml") == 1


def test_retry_after_forms() -> None:
    now = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 7 ") == 7.0
    assert retry_after_seconds("Fri, 01 May 2026 10:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Fri, 01 May 2026 09:00:00 GMT", now=now) == 0.0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


# -- timeouts and broken connections ---------------------------------------------------------------


def test_total_timeout_ends_a_slow_drip(server: LoopbackServer) -> None:
    """Each byte arrives well within the read timeout; only the whole-response limit can end it."""
    url = server.route("/drip.xml", lambda req: Stream(lambda: iter(lambda: b"<", None), interval=0.05,
                                                       headers={"Content-Type": "application/rss+xml"}))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        get(url, fast_settings(total_timeout=1.0, read_timeout=5.0))
    elapsed = time.monotonic() - started
    assert "no complete response within 1 s" in str(info.value)
    assert 0.9 <= elapsed < 3.0


def test_server_that_never_answers_times_out(server: LoopbackServer) -> None:
    url = server.route("/hang.xml", lambda req: Hang())
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete response within 1 s|timed out"):
        get(url, fast_settings(total_timeout=1.0, read_timeout=5.0))
    assert time.monotonic() - started < 3.0


def _gather(urls: list[str], settings: FetchSettings) -> list[FetchedBody | BaseException]:
    """``HttpClient.get`` of every URL at once through one client (in list order), as a fetch run does."""

    async def run() -> list[FetchedBody | BaseException]:
        async with HttpClient(settings, policy="loopback") as client:
            return await asyncio.gather(*(client.get(u) for u in urls), return_exceptions=True)

    return asyncio.run(run())


def _slow(seconds: float) -> Callable[[Request], Reply | Stream | Hang]:
    serve = feed_reply(FEED)

    def answer(req: Request) -> Reply | Stream | Hang:
        time.sleep(seconds)
        return serve(req)
    return answer


def test_waiting_for_a_busy_host_does_not_count_against_the_timeout(server: LoopbackServer) -> None:
    """Four feeds of one host, one at a time (``per_host = 1``), each answered in 0.4 s: the last
    waits 1.2 s for its turn, more than ``total_timeout``, and still gets its whole answer."""
    urls = [server.route(f"/slow{n}.xml", _slow(0.4)) for n in range(4)]
    got = _gather(urls, fast_settings(per_host=1, concurrency=4, total_timeout=1.0, retries=0))
    assert [g.status if isinstance(g, FetchedBody) else repr(g) for g in got] == [200] * 4


def test_a_busy_host_holds_back_no_other_host(server: LoopbackServer) -> None:
    """Six slow feeds of one host listed before two feeds of another: with one request per host and
    two overall, the second host is fetched at once, not after the first host's queue has drained."""
    other = LoopbackServer().start()
    try:
        slow = [server.route(f"/slow{n}.xml", _slow(0.3)) for n in range(6)]
        quick = [other.route(f"/quick{n}.xml", feed_reply(FEED)) for n in range(2)]
        got = _gather(slow + quick, fast_settings(per_host=1, concurrency=2, total_timeout=5.0, retries=0))
        assert all(isinstance(g, FetchedBody) and g.status == 200 for g in got)
        second_slow = sorted(r.at for r in server.requests)[1]
        assert max(r.at for r in other.requests) < second_slow, "the quick host waited for the slow one"
    finally:
        other.stop()


def test_connection_refused_is_a_clean_error() -> None:
    probe = LoopbackServer()
    url = probe.url("/feed.xml")
    probe.httpd.server_close()  # the port is now closed
    with pytest.raises(FetchError, match=r"connection failed"):
        get(url)


# -- the SSRF guard --------------------------------------------------------------------------------


def test_loopback_refused_by_default_naming_the_switch(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", feed_reply(FEED))
    with pytest.raises(BlockedAddressError) as info:
        get(url, policy="public")
    assert "LLL_ALLOW_PRIVATE" in str(info.value) and "127.0.0.1" in str(info.value)
    assert server.hits("/feed.xml") == 0, "the guard must refuse before connecting"


def test_loopback_allowed_under_loopback_policy(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", feed_reply(FEED))
    assert get(url, policy="loopback").body == FEED


def test_localhost_name_and_ipv6_loopback_refused_by_default(server: LoopbackServer) -> None:
    server.route("/feed.xml", feed_reply(FEED))
    for url in (f"http://localhost:{server.port}/feed.xml", f"http://[::1]:{server.port}/feed.xml",
                f"http://0.0.0.0:{server.port}/feed.xml"):
        with pytest.raises(BlockedAddressError, match=r"SSRF guard"):
            get(url, policy="public", resolver=system_resolver)
    assert server.hits("/feed.xml") == 0


HOSTILE = {
    "intranet.test": ["10.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "six.test": ["::1"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "mixed.test": ["93.184.216.34", "192.168.1.20"],  # one bad address is enough to refuse
    "ula.test": ["fd00::1"],
}


@pytest.mark.parametrize("host", sorted(HOSTILE))
def test_names_resolving_to_private_addresses_are_refused(host: str) -> None:
    policy = "public" if host == "six.test" else "loopback"
    with pytest.raises(BlockedAddressError) as info:
        get(f"http://{host}/feed.xml", policy=policy, resolver=fake_resolver(HOSTILE))
    assert "refused by the SSRF guard" in str(info.value)
    assert HOSTILE[host][-1] in str(info.value)


def test_redirect_to_a_private_address_is_refused(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(302, b"", {"Location": "http://metadata.test/latest/meta-data/"}))
    with pytest.raises(BlockedAddressError) as info:
        get(url, policy="loopback", resolver=fake_resolver(HOSTILE))
    assert "169.254.169.254" in str(info.value)
    assert server.hits("/feed.xml") == 1


def test_redirect_from_loopback_host_to_literal_private_ip_is_refused(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", Reply(307, b"", {"Location": "http://10.1.2.3:8080/admin"}))
    with pytest.raises(BlockedAddressError, match=r"10\.1\.2\.3"):
        get(url, policy="loopback")


def test_unresolvable_host_is_a_clear_error() -> None:
    with pytest.raises(BlockedAddressError, match=r"cannot resolve nowhere\.test"):
        get("http://nowhere.test/feed.xml", policy="public", resolver=fake_resolver({}))


def test_address_policies() -> None:
    assert address_allowed("93.184.216.34", "public")
    assert not address_allowed("127.0.0.1", "public")
    assert address_allowed("127.0.0.1", "loopback") and address_allowed("::1", "loopback")
    assert not address_allowed("10.0.0.1", "loopback")
    assert not address_allowed("169.254.169.254", "loopback")
    assert not address_allowed("::ffff:127.0.0.1", "public")
    assert address_allowed("10.0.0.1", "private") and address_allowed("192.168.0.1", "private")
    assert not address_allowed("0.0.0.0", "public")
    assert not address_allowed("224.0.0.1", "private")


def test_private_policy_lets_private_names_through() -> None:
    asyncio.run(check_url("http://intranet.test/feed.xml", "private", fake_resolver(HOSTILE)))
    with pytest.raises(BlockedAddressError):
        asyncio.run(check_url("http://intranet.test/feed.xml", "public", fake_resolver(HOSTILE)))
