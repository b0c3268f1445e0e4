"""Run inside fresh mount and network namespaces (``unshare -mn``): a DNS-rebinding attack on a
real ``lll fetch`` whose only resolver is the system's (glibc, through /etc/resolv.conf).

The namespace's loopback device carries 127.0.0.1 and a public address (PUBLIC). The attacker's
server listens on PUBLIC:P and an internal service on 127.0.0.1:P (same port). A DNS server on
127.0.0.1:53 answers each name PUBLIC the first time and 127.0.0.1 after (TTL 0). Sources: a feed,
and a redirect whose next hop is another name; the feed's items have an article page (summary only)
and a podcast transcript, each under a name of its own. Prints JSON: who got which request, and
whether the internal service's marker reached the workspace database.

Usage: python rebind_ns.py WORKSPACE
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dns import DnsServer  # noqa: E402

PUBLIC = "93.184.216.34"
MARKER = {"public": "PUBLIC-NEWS", "internal": "INTERNAL-SECRET"}


def feed(marker: str, port: int, *, podcast: bool) -> bytes:
    base = f"http://{{}}.rebind.test:{port}"
    item = (f"""<item><title>{marker} episode</title><link>{base.format('feed')}/ep1</link>
<guid>{marker}-2</guid><description>Episode notes.</description>
<podcast:transcript url="{base.format('tx')}/t.vtt" type="text/vtt"/></item>""" if podcast else
            f"""<item><title>{marker} article</title><link>{base.format('page')}/article</link>
<guid>{marker}-1</guid><description>Short.</description></item>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>{marker} feed</title><link>{base.format('feed')}/</link><description>d</description>
{item}
</channel></rss>""".encode()


def article(marker: str) -> bytes:
    body = " ".join([f"{marker} paragraph number {i} says something long enough to be the article text."
                     for i in range(12)])
    return (f"<html><head><title>{marker} page</title></head><body><article><h1>{marker} page</h1>"
            f"<p>{body}</p><p>{body}</p></article></body></html>").encode()


def vtt(marker: str) -> bytes:
    return f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n{marker} transcript line one.\n".encode()


class Server:
    def __init__(self, kind: str, host: str, port: int) -> None:
        self.kind, self.requests = kind, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append([self.path, self.headers.get("Host", "")])
                marker, p = MARKER[owner.kind], owner.port
                routes = {"/feed.xml": (200, "application/rss+xml", feed(marker, p, podcast=False)),
                          "/hop.xml": (200, "application/rss+xml", feed(marker, p, podcast=True)),
                          "/article": (200, "text/html; charset=utf-8", article(marker)),
                          "/t.vtt": (200, "text/vtt", vtt(marker))}
                if self.path == "/go":
                    self.send_response(302)
                    self.send_header("Location", f"http://hop.rebind.test:{p}/hop.xml")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, ctype, body = routes.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def main() -> None:
    workspace = Path(sys.argv[1])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"], check=True)
    conf = Path(tempfile.mkdtemp()) / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    subprocess.run(["mount", "--bind", str(conf), "/etc/resolv.conf"], check=True)
    hosts = Path(conf.parent) / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
    dns = DnsServer(lambda name, nth: PUBLIC if nth == 1 else "127.0.0.1")
    public = Server("public", PUBLIC, 0)
    internal = Server("internal", "127.0.0.1", public.port)
    port = public.port
    lll = str(Path(sys.executable).parent / "lll")
    env = {k: v for k, v in os.environ.items() if k not in ("LLL_ALLOW_PRIVATE", "LLL_NOW")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([lll, "--workspace", str(workspace), *args], capture_output=True, text=True,
                              env=env, timeout=120)

    run("init", "--name", "Rebind Test")
    run("sources", "add", f"http://feed.rebind.test:{port}/feed.xml", "--name", "Feed")
    run("sources", "add", f"http://redir.rebind.test:{port}/go", "--name", "Redirect")
    fetched = run("fetch")
    dump = "\n".join(sqlite3.connect(workspace / "lll.db").iterdump())
    print(json.dumps({"public": public.requests, "internal": internal.requests, "port": port,
                      "dns": dns.queries, "fetch_rc": fetched.returncode,
                      "fetch_out": fetched.stdout[-2000:] + fetched.stderr[-2000:],
                      "secret_stored": MARKER["internal"] in dump, "public_stored": MARKER["public"] in dump}))


if __name__ == "__main__":
    main()
