"""Feeds spread over several "hosts" (ports of 127.0.0.1) by one asyncio server that counts, per
host, the requests in flight at once (each answer is held ``delay`` seconds, so overlapping
requests really overlap) and, per path, the requests served. Used by the worker tests and by
``bench/scale.py``; items are written so that a day's draft has stories to tell."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

TOPICS = ("open-weights model", "GPU cluster", "agent benchmark", "safety policy", "coding assistant",
          "speech model", "vision model", "inference chip", "training dataset", "robotics lab")


def feed_body(feed: int, items: int, day: datetime) -> bytes:
    """An RSS 2.0 feed of ``items`` items published on the day before ``day``."""
    parts = []
    for n in range(items):
        topic = TOPICS[(feed * 7 + n) % len(TOPICS)]
        when = day - timedelta(hours=1 + (n * 37 + feed) % 22, minutes=feed % 60)
        figure = 10 + (feed * 31 + n * 17) % 990
        text = (f"Lab {feed % 97} released a new {topic} on Tuesday, number {n} of feed {feed}. "
                f"It scores {figure} points on the evaluation and runs {figure // 10} times faster than "
                f"the version before, the team said in its announcement about the {topic}.")
        parts.append(f"<item><title>{escape(f'Lab {feed % 97} ships {topic} {feed}-{n}')}</title>"
                     f"<link>https://lab{feed}.example/posts/{n}</link>"
                     f'<guid isPermaLink="false">feed{feed}-item{n}</guid>'
                     f"<pubDate>{format_datetime(when.astimezone(UTC), usegmt=True)}</pubDate>"
                     f"<description>{escape(text)}</description></item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Feed {feed}</title><link>https://lab{feed}.example/</link><description>test</description>"
            f"{''.join(parts)}</channel></rss>").encode()


class HostsServer:
    """``feeds`` feeds over ``hosts`` ports; ``url(i)`` is feed ``i``; started on creation."""

    def __init__(self, feeds: int, items: int, *, hosts: int, day: datetime, delay: float = 0.02) -> None:
        self.delay = delay
        self.bodies = {f"/feeds/{i}.xml": feed_body(i, items, day) for i in range(feeds)}
        self.etags = {p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in self.bodies.items()}
        self.hits: Counter[str] = Counter()
        self.in_flight: Counter[int] = Counter()
        self.peak: Counter[int] = Counter()
        self.loop = asyncio.new_event_loop()
        self.ports: list[int] = []
        started = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(hosts, started), daemon=True)
        self.thread.start()
        if not started.wait(10):
            raise RuntimeError("the hosts server did not start")
        self.feeds = feeds

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/feeds/{i}.xml"

    def _serve(self, hosts: int, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.servers = []
        for _ in range(hosts):
            server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=512))
            self.servers.append(server)
            self.ports.append(server.sockets[0].getsockname()[1])
        started.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1].split("?")[0]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                self.in_flight[port] += 1
                self.peak[port] = max(self.peak[port], self.in_flight[port])
                try:
                    await asyncio.sleep(self.delay)
                finally:
                    self.in_flight[port] -= 1
                self.hits[path] += 1
                body = self.bodies.get(path)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                elif headers.get("if-none-match") == self.etags[path]:
                    writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: " + self.etags[path].encode() + b"\r\n\r\n")
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                                 b"ETag: " + self.etags[path].encode() + b"\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    def max_in_flight(self) -> int:
        return max(self.peak.values(), default=0)

    def stop(self) -> None:
        def shutdown() -> None:
            for server in self.servers:
                server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(shutdown)
        self.thread.join(5)
