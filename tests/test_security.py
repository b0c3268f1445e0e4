"""Issue 12: what a red team got through, each reproduced against real loopback servers.

1. DNS rebinding (a real DNS server on loopback, in fresh mount and network namespaces), the
   connection pinned to the checked address (Host header and TLS server name kept), and the
   IPv4-embedded IPv6 spellings of private addresses.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import LoopbackServer, Reply, fake_resolver, get, run_cli
from fakes._http import Loopback
from markdown_it import MarkdownIt

from lll.errors import BlockedAddressError, FetchError
from lll.fetch.guard import address_allowed

TESTS = Path(__file__).resolve().parent

# -- 1. DNS rebinding --------------------------------------------------------------------------


def _namespaces_work() -> str:
    """"" when ``unshare -mn`` can run here, else why not."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare(1) and ip(8)"
    probe = subprocess.run(["unshare", "-mn", "true"], capture_output=True, text=True)
    return "" if probe.returncode == 0 else f"cannot create mount+network namespaces ({probe.stderr.strip()})"


def test_dns_rebinding_cannot_reach_loopback(tmp_path: Path) -> None:
    """A name that resolves to a public address first and to 127.0.0.1 next (TTL 0): the feed,
    the redirect's next hop, the article page and the podcast transcript all come from the
    address that was checked; the internal service sees no request and nothing of it is stored."""
    why = _namespaces_work()
    if why:
        pytest.skip(f"DNS rebinding test needs a private network namespace: {why}")
    out = subprocess.run(["unshare", "-mn", sys.executable, str(TESTS / "fakes" / "rebind_ns.py"),
                          str(tmp_path / "ws")], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["fetch_rc"] == 0, result["fetch_out"]
    port = result["port"]
    assert result["internal"] == [], f"the internal service was reached: {result['internal']}"
    assert not result["secret_stored"]
    assert result["public_stored"]
    # every kind of request went to the checked address, with the name in the Host header
    seen = {tuple(r) for r in result["public"]}
    for path, name in (("/feed.xml", "feed"), ("/go", "redir"), ("/hop.xml", "hop"), ("/article", "page"),
                       ("/t.vtt", "tx")):
        assert (path, f"{name}.rebind.test:{port}") in seen, (path, result["public"])
    # each name was looked up once per fetch of it: the connection never asked DNS again
    asked = [name for name, kind in result["dns"] if kind == "A"]
    assert asked.count("feed.rebind.test") == 1 and asked.count("page.rebind.test") == 1


def test_the_connection_goes_to_the_resolved_address_with_the_name_as_host(server: LoopbackServer) -> None:
    """The guard's resolver is the only resolver: a name the system cannot resolve is fetched
    from the address the guard was given, and the server sees the name in ``Host``."""
    url = server.route("/pinned.xml", Reply(200, b"<rss/>", {"Content-Type": "application/rss+xml"}))
    named = url.replace("127.0.0.1", "feed.pinned.test")
    body = get(named, resolver=fake_resolver({"feed.pinned.test": ["127.0.0.1"]}))
    assert body.status == 200 and body.body == b"<rss/>"
    assert server.last("/pinned.xml").headers["host"] == f"feed.pinned.test:{server.port}"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """A TLS server on 127.0.0.1 with a self-signed certificate; records each ClientHello's SNI."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl(1) to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=feed.tls.test"], check=True, capture_output=True)
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")  # type: ignore[assignment,misc,func-returns-value]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield port, names
    listener.close()


def test_tls_keeps_the_server_name(tls_server: tuple[int, list[str]]) -> None:
    """Pinned to 127.0.0.1, the TLS handshake still names the host (SNI), and the certificate is
    still checked against it (self-signed here, so the fetch fails on verification)."""
    port, names = tls_server
    with pytest.raises(FetchError) as caught:
        get(f"https://feed.tls.test:{port}/feed.xml", resolver=fake_resolver({"feed.tls.test": ["127.0.0.1"]}))
    assert names == ["feed.tls.test"]
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) or "certificate" in str(caught.value).lower()


EMBEDDED = ["::127.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "64:ff9b:1::a00:1",
            "::10.0.0.1", "::ffff:0:192.168.1.1", "64:ff9b::a9fe:a9fe", "2002:c0a8:101::1"]


@pytest.mark.parametrize("address", EMBEDDED)
def test_ipv4_embedded_ipv6_forms_of_private_addresses_are_refused(address: str, server: LoopbackServer) -> None:
    assert not address_allowed(address, "public")
    assert not address_allowed(address, "sealed") or address.startswith(("::127", "::ffff:0:127", "64:ff9b::7f",
                                                                         "2002:7f"))
    with pytest.raises(BlockedAddressError, match="refused by the SSRF guard"):
        get(f"http://[{address}]:{server.port}/feed.xml", policy="public")


def test_ipv4_embedded_forms_of_public_addresses_stay_allowed() -> None:
    for address in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"):
        assert address_allowed(address, "public"), address


# -- 2. links the verifier did not see ---------------------------------------------------------

HIDDEN_LINKS = {
    "double-quoted title": '[the details](https://evil.example/p "title")',
    "single-quoted title": "[the details](https://evil.example/p 'title')",
    "parenthesised title": "[the details](https://evil.example/p (title))",
    "leading space": "[the details]( https://evil.example/p)",
    "angle brackets": "[the details](<https://evil.example/p>)",
    "autolink": "<https://evil.example/p>",
    "image": "![the details](https://evil.example/p.png)",
    "reference": "[the details][ev]\n\n[ev]: https://evil.example/p",
}


@pytest.fixture
def drafted_day(workspace: Path) -> Iterator[Path]:
    """The demo's first day fetched and drafted (verified), with the archive as publishing target."""
    from lll.demo.run import corpus_root
    from lll.demo.server import PLACEHOLDER, CorpusServer

    with CorpusServer(corpus_root(), day="2026-04-08") as corpus:
        (workspace / "lll.toml").write_text(
            '[newsletter]\nname = "Red Letters"\nbase_url = "https://letters.example.org"\n'
            '[fetch]\nfulltext = "never"\n[publish]\ntargets = ["archive"]\n', encoding="utf-8")
        opml = workspace / "sources.opml"
        opml.write_bytes((corpus_root() / "sources.opml").read_bytes().replace(PLACEHOLDER,
                                                                                corpus.base_url.encode()))
        run_cli("sources", "import", str(opml))
        run_cli("fetch", env=DEMO_ENV)
        run_cli("draft", "--date", "2026-04-08", env=DEMO_ENV)
    yield workspace


DEMO_ENV = {"LLL_NOW": "2026-04-08T23:59:59Z", "LLL_ALLOW_PRIVATE": "1"}


def _with_link(md: str, link: str) -> str:
    """The issue with ``link`` added to the end of its first story paragraph."""
    paragraphs = md.split("\n\n")
    k = next(i for i, p in enumerate(paragraphs) if "](http" in p and not p.startswith("#") and i > 3)
    first, _, rest = link.partition("\n\n")
    paragraphs[k] += f" More in {first}."
    if rest:
        paragraphs.insert(k + 1, rest)
    return "\n\n".join(paragraphs)


def test_a_link_the_renderer_sees_and_lll_did_not_fetch_never_ships(drafted_day: Path) -> None:
    md_path = drafted_day / "issues" / "2026-04-08.md"
    original = md_path.read_text(encoding="utf-8")
    assert run_cli("verify", str(md_path), ok=None).exit_code == 0
    for case, link in HIDDEN_LINKS.items():
        edited = _with_link(original, link)
        rendered = MarkdownIt("commonmark", {"html": False}).render(edited)
        assert 'href="https://evil.example' in rendered or 'src="https://evil.example' in rendered, case
        md_path.write_text(edited, encoding="utf-8")
        verified = run_cli("verify", str(md_path), ok=None)
        assert verified.exit_code == 1, f"{case}: lll verify said {verified.output[-300:]}"
        assert "evil.example" in verified.output, case
        published = run_cli("publish", "2026-04-08", "--to", "archive", ok=None)
        assert published.exit_code == 1, f"{case}: {published.output[-300:]}"
        archive = drafted_day / "archive"
        assert not archive.exists() or all("evil.example" not in f.read_text(encoding="utf-8")
                                           for f in archive.rglob("*") if f.is_file()), case
    md_path.write_text(original, encoding="utf-8")


def _draft_one_feed(workspace: Path, url: str, name: str) -> str:
    """The workspace follows one feed (no full-text pages), fetches and drafts 2026-04-08: the issue's Markdown."""
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Red Letters"\n[fetch]\nfulltext = "never"\n',
                                        encoding="utf-8")
    run_cli("sources", "add", url, "--name", name)
    run_cli("fetch", env=DEMO_ENV)
    run_cli("draft", "--date", "2026-04-08", env=DEMO_ENV, ok=None)
    return (workspace / "issues" / "2026-04-08.md").read_text(encoding="utf-8")


def test_a_feed_items_hidden_link_does_not_reach_the_issue(workspace: Path, server: LoopbackServer) -> None:
    """A feed's text carrying a titled Markdown link: the drafted issue drops that sentence, so
    what ships has only links LLL fetched."""
    from conftest import feed_reply, rss

    items = [{"guid": f"g{i}", "link": server.url(f"/post/{i}"), "title": f"Acme ships model {i}",
              "published": datetime(2026, 4, 8, 9 + i, tzinfo=UTC),
              "description": (f"Acme released model {i} on Tuesday with 40{i} billion parameters. "
                              f"The weights are open. Read [the card](https://evil.example/m{i} 'card') for more. "
                              f"Acme said training took {i + 2} weeks.")} for i in range(4)]
    md = _draft_one_feed(workspace, server.route("/feed.xml", feed_reply(rss(items))), "Acme Blog")
    assert "Acme" in md
    assert "evil.example" not in md
    assert run_cli("verify", str(workspace / "issues" / "2026-04-08.md"), ok=None).exit_code == 0


# -- 4. secrets: redacted before any cut, in every encoding -------------------------------------

SECRET = "dEv+K3y/s3cr3t=Z9q7w2Xa"  # 23 characters, with characters URL-encoding changes


class HostileDev(Loopback):
    """A DEV API that lists no articles and answers the create with ``mode``'s echo of the key."""

    methods = ("GET", "POST", "PUT")

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        key = h.headers.get("api-key", "")
        status, ctype, body = 200, "application/json", b"[]"
        if h.command == "POST":
            status, ctype = 500, "text/plain"
            if self.mode == "cut":  # the key straddles the 200th character of the error text
                body = ("Internal Server Error " + "." * 156 + f" api-key: {key} accept: */*").encode()
            elif self.mode == "urlencoded":
                body = f"upstream failed for /api/articles?api_key={quote(key, safe='')}".encode()
            elif self.mode == "base64":
                token = base64.b64encode(f"user:{key}".encode()).decode()
                body = f"proxy error; forwarded Authorization: Basic {token}".encode()
            elif self.mode == "url":
                status, ctype = 201, "application/json"
                body = json.dumps({"id": 42, "url": f"https://dev.example/u/draft-42?preview={key}",
                                   "title": "x", "published": False}).encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


def _key_traces(text: str) -> list[str]:
    """Every piece of SECRET (8 characters or more) in ``text``, plain, URL-encoded or base64."""
    found = [SECRET[i:i + 8] for i in range(len(SECRET) - 7) if SECRET[i:i + 8] in text]
    encoded = quote(SECRET, safe="")
    found += [encoded[i:i + 12] for i in range(len(encoded) - 11) if encoded[i:i + 12] in text]
    token = base64.b64encode(f"user:{SECRET}".encode()).decode()
    found += [token[i:i + 12] for i in range(8, len(token) - 11) if token[i:i + 12] in text]
    return found


@pytest.mark.parametrize("mode", ["cut", "urlencoded", "base64", "url"])
def test_the_dev_key_never_leaks(mode: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    from fakes.issue import DAY, workspace_copy
    from fastapi.testclient import TestClient

    from lll.newsletter import Newsletter
    from lll.review import create_app

    ws = workspace_copy(tmp_path_factory, tmp_path / "ws")
    with HostileDev(mode) as dev:
        env = {"LLL_DEVTO_API_KEY": SECRET, "LLL_DEVTO_BASE_URL": f"{dev.base}/api"}
        result = run_cli("--workspace", str(ws), "publish", DAY, "--to", "devto", env=env, ok=None)
        with Newsletter.open(ws) as letter:
            app = create_app(letter, token="t" * 40, env=env)
            with TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False) as client:
                client.get(f"/?token={'t' * 40}")
                pages = [client.get("/").text, client.get(f"/issues/{DAY}").text]
    said = result.stdout + result.stderr
    assert ("dev.example" in said) if mode == "url" else ("500" in said), said
    assert _key_traces(said) == [], said
    for page in pages:
        assert _key_traces(page) == []
    for f in ws.rglob("*"):
        if f.is_file():
            assert _key_traces(f.read_bytes().decode("latin-1")) == [], f


# -- 3. characters XML forbids ------------------------------------------------------------------


def _acme_items(server: LoopbackServer, mark: str = "") -> list[dict[str, Any]]:
    return [{"guid": f"g{i}", "link": server.url(f"/post/{i}"), "title": f"Acme ships{mark} model {i}",
             "published": datetime(2026, 4, 8, 9 + i, tzinfo=UTC),
             "description": (f"Acme released{mark} model {i} on Tuesday with 40{i} billion parameters. "
                             f"The weights are open{mark}. Acme said training took {i + 2} weeks.")}
            for i in range(4)]


def test_xml_illegal_characters_never_reach_the_store_or_the_archive_feeds(workspace: Path,
                                                                           server: LoopbackServer) -> None:
    from conftest import feed_reply, query, rss

    body = rss(_acme_items(server, mark="&#0;")).replace("Acme ships&amp;#0;", "Acme ships\x00\x0b")
    body = body.replace("&amp;#0;", "&#0;\x01\x1f")
    url = server.route("/feed.xml", feed_reply(body.encode("utf-8")))
    (workspace / "lll.toml").write_text(
        '[newsletter]\nname = "Red Letters"\nbase_url = "https://letters.example.org"\n'
        '[fetch]\nfulltext = "never"\n[publish]\ntargets = ["archive"]\n', encoding="utf-8")
    run_cli("sources", "add", url, "--name", "Acme\x00 Blog")
    run_cli("fetch", env=DEMO_ENV)
    rows = query(workspace / "lll.db", "SELECT title, text, raw, guid, url FROM items")
    assert len(rows) == 4
    for row in rows:
        for value in row:
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", value), repr(value)
    run_cli("draft", "--date", "2026-04-08", env=DEMO_ENV, ok=None)
    run_cli("publish", "2026-04-08", "--to", "archive", env=DEMO_ENV)
    import xml.dom.minidom

    for name in ("feed.xml", "atom.xml"):
        document = (workspace / "archive" / name).read_bytes()
        parsed = xml.dom.minidom.parseString(document)  # strict: raises on any ill-formed byte
        assert "Acme" in parsed.toxml()


# -- 5. a missing, empty or corrupt database; a full disk; a read-only workspace -----------------

LLL = str(Path(sys.executable).parent / "lll")


def _lll(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``lll`` command, as a user runs it (its stderr is what they see)."""
    return subprocess.run([LLL, "--workspace", str(ws), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LLL_NOW": "2026-04-10T23:59:00Z", "LLL_ALLOW_PRIVATE": "1"})


@pytest.fixture
def used_ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    from fakes.issue import workspace_copy

    ws = workspace_copy(tmp_path_factory, tmp_path / "ws")
    with sqlite3.connect(ws / "lll.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ws


@pytest.mark.parametrize("damage", ["deleted", "empty"])
def test_a_missing_or_empty_database_is_an_error_not_a_fresh_start(used_ws: Path, damage: str) -> None:
    db = used_ws / "lll.db"
    db.unlink()
    for extra in ("lll.db-wal", "lll.db-shm"):
        (used_ws / extra).unlink(missing_ok=True)
    if damage == "empty":
        db.write_bytes(b"")
    for args in (("draft", "--date", "2026-04-11"), ("sources", "list"), ("init",)):
        done = _lll(used_ws, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "lll init --force" in done.stderr, done.stderr
        assert ("is missing" if damage == "deleted" else "is empty") in done.stderr
    assert not (used_ws / "issues" / "2026-04-11.md").exists()
    assert (db.exists() and db.stat().st_size == 0) if damage == "empty" else not db.exists()
    forced = _lll(used_ws, "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert _lll(used_ws, "sources", "list").returncode == 0
    if damage == "empty":
        assert list(used_ws.glob("lll.db.corrupt-*")), "the empty file is kept aside, not deleted"


def test_a_corrupt_database_is_one_line(used_ws: Path) -> None:
    db = used_ws / "lll.db"
    size = db.stat().st_size
    with open(db, "r+b") as f:  # damage the middle of the file, leave the header page
        f.seek(8192)
        f.write(bytes(range(256)) * ((size - 16384) // 256))
    for args in (("sources", "list"), ("draft", "--date", "2026-04-11"), ("fetch",)):
        done = _lll(used_ws, *args)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert done.stderr.count("\n") == 1, done.stderr[-2000:]
        assert "is corrupt" in done.stderr and str(db) in done.stderr
    forced = _lll(used_ws, "init", "--force")
    assert forced.returncode == 0 and list(used_ws.glob("lll.db.corrupt-*")), forced.stderr


def _disk_case(mode: str, ws: Path, feed: str) -> dict[str, Any]:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("needs a private mount namespace (unshare -m, as root) for a full or read-only disk")
    out = subprocess.run(["unshare", "-m", sys.executable, str(TESTS / "fakes" / "disk_ns.py"), mode, str(ws),
                          feed], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(json.loads(out.stdout))


def _big_feed(server: LoopbackServer) -> str:
    from conftest import feed_reply, rss

    words = " ".join(f"word{n}" for n in range(400))
    items = [{"guid": f"big-{i}", "link": server.url(f"/big/{i}"), "title": f"Big item {i}",
              "description": f"Item {i}. {words}"} for i in range(400)]
    return server.route("/big.xml", feed_reply(rss(items)))


def test_a_full_disk_is_one_line_and_loses_nothing(used_ws: Path, server: LoopbackServer) -> None:
    result = _disk_case("full", used_ws, _big_feed(server))
    added, full, again = result["steps"]
    assert added["rc"] == 0, added
    assert full["rc"] == 1, full
    assert full["stderr"].count("\n") == 1 and "no space left" in full["stderr"], full["stderr"][-2000:]
    assert "free space and rerun" in full["stderr"] and "nothing was lost" in full["stderr"]
    assert again["rc"] == 0, again
    assert result["items"] == result["distinct"] == 400 and result["integrity"] == "ok"


def test_a_read_only_workspace_is_one_line(used_ws: Path, server: LoopbackServer) -> None:
    result = _disk_case("readonly", used_ws, _big_feed(server))
    for step in result["steps"]:
        assert step["rc"] == 2, step
        assert step["stderr"].count("\n") == 1 and "is read-only" in step["stderr"], step["stderr"][-2000:]


# -- 7. deep markup ------------------------------------------------------------------------------


def _deep_atom(depth: int, content_type: str) -> bytes:
    markup = "<div>" * depth + "deep words" + "</div>" * depth
    if content_type == "html":
        markup = markup.replace("<", "&lt;").replace(">", "&gt;")
    else:
        markup = f'<div xmlns="http://www.w3.org/1999/xhtml">{markup}</div>'
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Deep</title>'
            f'<id>urn:deep</id><updated>2026-04-08T00:00:00Z</updated><entry><title>Deep entry</title>'
            f'<id>urn:deep:1</id><link href="https://deep.example/1"/><updated>2026-04-08T00:00:00Z</updated>'
            f'<content type="{content_type}">{markup}</content></entry></feed>').encode()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("content_type", ["xhtml", "html"])
def test_deeply_nested_markup_takes_bounded_time_and_says_so(content_type: str, workspace: Path,
                                                             server: LoopbackServer) -> None:
    """200,000 nested <div>s (2.2 MB, under the body cap): the run ends in seconds, the entry keeps
    its words, and the source's health row says the markup was flattened."""
    from conftest import feed_reply, query, rss

    deep = server.route("/deep.xml", feed_reply(_deep_atom(200_000, content_type), "application/atom+xml"))
    good = server.route("/good.xml", feed_reply(rss(_acme_items(server))))
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Red Letters"\n[fetch]\nfulltext = "never"\n',
                                        encoding="utf-8")
    run_cli("sources", "add", deep, "--name", "Deep")
    run_cli("sources", "add", good, "--name", "Good")
    run_cli("fetch", env=DEMO_ENV)
    health = {row["name"]: row for row in json.loads(run_cli("sources", "list", "--json").stdout)}
    assert health["Good"]["items"] == 4
    assert health["Deep"]["items"] == 1 and health["Deep"]["last_status"] == "ok"
    assert "flattened" in (health["Deep"]["last_error"] or ""), health["Deep"]
    text = query(workspace / "lll.db", "SELECT text FROM items WHERE title = 'Deep entry'")[0]["text"]
    assert "deep words" in text


# -- 8. guid collisions --------------------------------------------------------------------------


def test_items_sharing_a_guid_are_kept_or_the_merge_is_said(workspace: Path, server: LoopbackServer) -> None:
    from conftest import MutableFeed, query, rss

    shared = [{"guid": "same-guid", "link": server.url(f"/story/{i}"), "title": f"Story number {i}",
               "description": f"Story {i} says something of its own, number {i}."} for i in range(50)]
    repeats = [{"guid": "dup-guid", "link": server.url("/dup"), "title": "The same entry",
                "description": f"Version {i} of the same entry."} for i in range(3)]
    feed = MutableFeed(rss(shared + repeats))
    url = server.route("/shared.xml", feed)
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Red Letters"\n[fetch]\nfulltext = "never"\n',
                                        encoding="utf-8")
    run_cli("sources", "add", url, "--name", "Shared")
    run_cli("fetch", env=DEMO_ENV)
    db = workspace / "lll.db"
    titles = sorted(r["title"] for r in query(db, "SELECT title FROM items"))
    assert titles.count("The same entry") == 1
    assert sorted(t for t in titles if t.startswith("Story")) == sorted(f"Story number {i}" for i in range(50))
    health = {row["name"]: row for row in json.loads(run_cli("sources", "list", "--json").stdout)}
    note = health["Shared"]["last_error"] or ""
    assert "50 items share a guid" in note and "2 repeated entries" in note and "merged" in note, note
    feed.set(rss(list(reversed(shared)) + repeats))  # the same feed in another order: no new items
    run_cli("fetch", env=DEMO_ENV)
    assert len(query(db, "SELECT id FROM items")) == 51


# -- 6. story units store their own links ---------------------------------------------------------


def test_story_units_store_their_own_links_and_the_ledger_still_knows_the_story(workspace: Path,
                                                                               server: LoopbackServer) -> None:
    from conftest import feed_reply, query, rss

    from lll.newsletter import Newsletter
    from lll.memory import Records

    n = 120
    items = [{"guid": f"acme-{i}", "link": server.url(f"/post/{i}"), "title": f"Acme launch note {i}",
              "published": datetime(2026, 4, 8, 6, i % 60, tzinfo=UTC),
              "content": (f'<p>Acme launched its new model today, writes reporter {i}; see '
                          f'<a href="https://acme.example/launch">the launch</a> and '
                          f'<a href="https://acme.example/detail/{i}">detail {i}</a>.</p>')} for i in range(n)]
    _draft_one_feed(workspace, server.route("/acme.xml", feed_reply(rss(items))), "Acme Wire")
    rows = query(workspace / "lll.db", "SELECT story_id, urls FROM story_units WHERE day = '2026-04-08'")
    assert len(rows) == n
    stored = [json.loads(r["urls"]) for r in rows]
    biggest = max(rows, key=lambda r: sum(1 for x in rows if x["story_id"] == r["story_id"]))["story_id"]
    size = sum(1 for r in rows if r["story_id"] == biggest)
    assert size > n // 2, "the items are one story (they share the launch link)"
    assert max(len(u) for u in stored) <= 3, "each unit keeps only its own links"
    assert sum(len(u) for u in stored) <= 3 * n  # linear in the units, not units × story links
    with Newsletter.open(workspace) as letter:
        entry = next(e for e in Records(letter.store).ledger("2026-04-09") if e.id == biggest)
    assert "https://acme.example/launch" in entry.urls
    assert sum(1 for u in entry.urls if u.startswith("https://acme.example/detail/")) >= size


# -- 9. smaller ones -----------------------------------------------------------------------------


def test_a_review_form_with_too_many_fields_is_a_400(tmp_path_factory: pytest.TempPathFactory,
                                                     tmp_path: Path) -> None:
    from fakes.issue import DAY, workspace_copy
    from fastapi.testclient import TestClient

    from lll.newsletter import Newsletter
    from lll.review import create_app
    from lll.review.security import Guard

    ws = workspace_copy(tmp_path_factory, tmp_path / "ws")
    token = "r" * 40
    with Newsletter.open(ws) as letter:
        app = create_app(letter, token=token, env={})
        with TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False,
                        raise_server_exceptions=False) as client:
            client.get(f"/?token={token}")
            data = {"csrf": Guard(token).csrf, **{f"f{i}": "x" for i in range(25)}}
            answer = client.post(f"/issues/{DAY}/verify", data=data, headers={"Origin": "http://127.0.0.1:8765"})
            fine = client.post(f"/issues/{DAY}/verify", data={"csrf": Guard(token).csrf},
                               headers={"Origin": "http://127.0.0.1:8765"})
    assert answer.status_code == 400, answer.text[:300]
    assert "too many form fields" in answer.text and "Traceback" not in answer.text
    assert fine.status_code == 200


def test_canonical_url_keeps_ipv6_brackets(workspace: Path, server: LoopbackServer) -> None:
    from conftest import feed_reply, query, rss

    from lll.urls import canonical_url

    assert canonical_url("http://[::1]:8080/a") == "http://[::1]:8080/a"
    assert canonical_url("https://[2001:DB8::1]:443/x/?utm_source=a") == "https://[2001:db8::1]/x"
    items = [{"guid": "https://[2001:db8::7]:8443/post/1", "permalink": True, "title": "Six",
              "link": "https://[2001:db8::7]:8443/post/1", "description": "An item on an IPv6 host."}]
    url = server.route("/v6.xml", feed_reply(rss(items)))
    (workspace / "lll.toml").write_text('[fetch]\nfulltext = "never"\n', encoding="utf-8")
    run_cli("sources", "add", url, "--name", "Six")
    run_cli("fetch", env=DEMO_ENV)
    (row,) = query(workspace / "lll.db", "SELECT canonical_url, identity FROM items")
    assert row["canonical_url"] == "https://[2001:db8::7]:8443/post/1"
    assert row["identity"] == "https://[2001:db8::7]:8443/post/1"


def test_a_big_opml_is_imported_in_one_transaction(workspace: Path, tmp_path: Path) -> None:
    """Import cost is statements, not transactions (bench/opml_import.py times 100,000 outlines)."""
    import sqlalchemy as sa

    from lll.newsletter import Newsletter
    from lll.store import Store

    if not hasattr(Store, "add_sources"):
        pytest.skip("the one-transaction import (Store.add_sources) comes with main; this branch predates it")

    n = 3000
    outlines = "".join(f'<outline type="rss" text="Feed {i}" xmlUrl="https://feeds{i % 97}.example/{i}.xml"/>'
                       for i in range(n))
    opml = tmp_path / "big.opml"
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    run_cli("init")
    with Newsletter.open(workspace) as letter:
        commits: list[int] = []
        sa.event.listen(letter.store.engine, "commit", lambda _conn: commits.append(1))
        added, updated, skipped = letter.import_opml(opml)
        assert (added, updated, skipped) == (n, 0, [])
        assert len(commits) <= 2, f"{len(commits)} transactions for {n} outlines"
        again = letter.import_opml(opml)
        assert again == (0, n, [])
    assert run_cli("sources", "list", "--json").stdout.count('"url"') == n
