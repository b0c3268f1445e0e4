#!/usr/bin/env python
"""Fetch benchmark: ``lll fetch`` against lemon24's ``reader`` on the same loopback feeds.

    python bench/fetch.py                 # 1,000 feeds x 50 items (the issue's figures)
    python bench/fetch.py --feeds 50      # a quick reduced run (well under a minute)

What it does, in one run:

1. generates N feeds x M items of RSS 2.0 (deterministic seed; ~36 KB a feed at 50 items:
   varied text, guids, pubDates, HTML in most descriptions) into a temporary folder;
2. serves them from a real HTTP/1.1 server on 127.0.0.1 (``--server-workers`` forked asyncio
   processes sharing the listening sockets; ETag, Last-Modified, 304s, keep-alive, optional gzip)
   and measures that server's own throughput from a separate load process first;
3. times ``lll init`` + ``lll sources import`` of an OPML of the feeds, then ``lll fetch`` twice
   (second pass: nothing changed, so every request is a conditional GET answered 304), each pass a
   whole process: wall clock, CPU, and peak memory of the process tree (parse pool included);
4. does the same with ``reader``: a fresh database, every feed added, then
   ``update_feeds(workers=16, scheduled=False)`` twice, each pass a whole process;
5. checks the results (from LLL's database, from reader, and from the server's own counters)
   and prints a table with the ratio and the issue's targets.

The item dates lie well in the past, so neither tool fetches article pages: this measures feed
fetching, parsing and storing, the work both tools do. ``--hosts K`` spreads the feeds over K
ports of the server (LLL limits requests in flight per host; reader does not), ``--gzip`` serves
gzip to clients that accept it. Needs ``reader`` and ``sgmllib3k`` (``pip install -e .[bench]``).

Wall-clock figures are only as good as the machine is quiet: each pass also reports how much CPU other
processes took meanwhile (a WARNING past 10% of a core), and ``--wait-quiet S`` waits for an idle
machine before each timed pass. CPU seconds are the steadier figure on a shared machine. ``--profile
DIR`` reruns LLL's passes under py-spy and says where the time goes. Exit status 1 when a check fails
(a missed target is reported, not an error).
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import gzip as gzip_lib
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# --------------------------------------------------------------------------------------------------
# 1. The feeds
# --------------------------------------------------------------------------------------------------

WORDS = """
model models training inference agent agents benchmark benchmarks reasoning token tokens context
window weights open release released lab labs research paper papers dataset datasets evaluation
alignment safety policy regulation compute cluster GPU GPUs chip chips accelerator memory latency
throughput fine-tuning distillation quantization sparse dense mixture experts retrieval search
embedding embeddings vector database pipeline prompt prompts tool tools function calling multimodal
vision audio speech video image generation diffusion transformer attention layer layers parameter
parameters scaling law laws frontier startup funding round valuation billion million enterprise
customers developers API pricing cheaper faster smaller larger open-source license community
leaderboard score scores accuracy hallucination grounding citation citations robot robotics
simulation planning memory long-context coding assistant assistants editor workflow workflows
agentic autonomous browser computer use terminal shell evaluation harness red-teaming jailbreak
interpretability circuits features neurons probing steering governance copyright lawsuit court
ruling Europe act standard standards framework framework's infrastructure datacenter power energy
efficiency carbon cost costs revenue growth users adoption survey report preview beta general
availability deprecation migration upgrade version versions checkpoint checkpoints tokenizer
vocabulary multilingual translation summarization classification extraction structured output
schema JSON latency-sensitive on-device edge mobile laptop phone server serverless batch streaming
""".split()
ADJ = """new open small large fast cheap frontier multimodal efficient robust sparse long local private
hybrid distilled quantized agentic reasoning compact unified early late surprising major minor""".split()
NAMES = """Ada Grace Alan Claude Yann Fei-Fei Andrej Ilya Demis Mira Sam Dario Jan Chris Percy Emily Timnit
Margaret Jürgen Sepp Yoshua Geoffrey Kai-Fu Noam Oriol Aidan Łukasz Ashish Niki Jakob Illia""".split()
ORGS = """Anthropic OpenAI DeepMind Meta Mistral Cohere AI2 EleutherAI HuggingFace Stability Nvidia AMD
Intel Apple Microsoft Google Amazon Alibaba Baidu Tencent DeepSeek Qwen Moonshot Zhipu Reka xAI""".split()
TOPICS = """Research Engineering Policy Products Open-Source Hardware Safety Agents Data Evaluation""".split()


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(ORGS))
    if rng.random() < 0.25:
        words.insert(rng.randrange(len(words)), f"{rng.randint(2, 900)}{rng.choice(['B', '%', 'x', 'ms', ' tokens'])}")
    if rng.random() < 0.1:
        words.insert(rng.randrange(len(words)), rng.choice(["—", "R&D", "Q&A", "“state of the art”", "naïve", "AT&T"]))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _title(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return f"{rng.choice(ORGS)} releases {rng.choice(ADJ)} {rng.choice(WORDS)} {rng.choice(WORDS)}"
    if kind < 0.45:
        return f"{rng.choice(NAMES)} on {rng.choice(WORDS)} & {rng.choice(WORDS)}: {rng.choice(ADJ)} lessons"
    return _sentence(rng, 4, 9).rstrip(".?!")


def _html_description(rng: random.Random, site: str) -> str:
    """An HTML fragment as blogs put in <description>: paragraphs, links, emphasis, lists."""
    parts = []
    for _ in range(rng.randint(1, 2)):
        words = [escape(w) for w in " ".join(_sentence(rng, 5, 13) for _ in range(rng.randint(1, 2))).split(" ")]
        if rng.random() < 0.3:
            k = rng.randrange(len(words))
            tag = rng.choice(["strong", "em", "code"])
            words[k] = f"<{tag}>{words[k]}</{tag}>"
        if rng.random() < 0.6 and len(words) > 4:
            j = rng.randrange(len(words) - 3)
            href = rng.choice([f"{site}/notes/{rng.randint(1, 9999)}",
                               f"https://arxiv.org/abs/25{rng.randint(1, 12):02d}.{rng.randint(10000, 29999)}",
                               f"https://github.com/{rng.choice(ORGS).lower()}/{rng.choice(WORDS)}",
                               f"https://news.example.com/{rng.choice(WORDS)}?utm_source=rss&id={rng.randint(1, 999)}"])
            words[j:j + 3] = [f'<a href="{escape(href)}">{" ".join(words[j:j + 3])}</a>']
        parts.append(f"<p>{' '.join(words)}</p>")
    if rng.random() < 0.15:
        items = "".join(f"<li>{escape(_sentence(rng, 3, 6))}</li>" for _ in range(rng.randint(2, 3)))
        parts.append(f"<ul>{items}</ul>")
    if rng.random() < 0.1:
        parts.insert(0, f'<img src="{site}/img/{rng.randint(1, 999)}.png" alt="{escape(_sentence(rng, 2, 4))}"/>')
    return "".join(parts)


def make_feed(i: int, items: int, seed: int, base_url: str) -> bytes:
    """Feed number ``i``: the same bytes for the same (i, items, seed), whatever N is."""
    rng = random.Random(seed * 1_000_003 + i)
    host = f"{rng.choice(ADJ)}-{rng.choice(WORDS).lower()}-{i:04d}.example.org"
    site = f"https://{host}"
    name = f"{rng.choice(ADJ).title()} {rng.choice(WORDS).title()} Weekly {i:04d}"
    creator = rng.random() < 0.4
    end = 1_748_736_000 - rng.randint(0, 90) * 86_400  # June 2025 and earlier: older than any
    stamps = sorted((end - rng.randint(0, 120 * 86_400) for _ in range(items)), reverse=True)  # fulltext horizon
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{escape(name)}</title>\n<link>{site}/</link>\n",
        f'<atom:link href="{base_url}/feeds/{i:04d}.xml" rel="self" type="application/rss+xml"/>\n',
        f"<description>{escape(_sentence(rng, 6, 12))}</description>\n<language>en</language>\n",
        f"<lastBuildDate>{email.utils.formatdate(stamps[0] if stamps else end, usegmt=True)}</lastBuildDate>\n",
    ]
    for k in range(items):
        title = _title(rng)
        slug = "-".join(w.lower() for w in title.split()[:6] if w.isalnum())[:60] or "post"
        link = f"{site}/{time.strftime('%Y/%m', time.gmtime(stamps[k]))}/{slug}-{k}"
        style = rng.random()
        if style < 0.55:
            guid = f'<guid isPermaLink="true">{escape(link)}</guid>'
        elif style < 0.85:
            guid = f'<guid isPermaLink="false">tag:{host},2025:post-{items - k}</guid>'
        else:
            guid = f'<guid isPermaLink="false">{hashlib.md5(f"{i}/{k}/{seed}".encode()).hexdigest()}</guid>'
        kind = rng.random()
        if kind < 0.45:  # HTML, entity-escaped (the common case)
            description = escape(_html_description(rng, site))
        elif kind < 0.8:  # HTML in CDATA
            description = f"<![CDATA[{_html_description(rng, site)}]]>"
        else:  # plain text
            description = escape(" ".join(_sentence(rng, 8, 16) for _ in range(rng.randint(2, 3))))
        out.append("<item>\n")
        out.append(f"<title>{escape(title)}</title>\n<link>{escape(link)}</link>\n{guid}\n")
        out.append(f"<pubDate>{email.utils.formatdate(stamps[k], usegmt=True)}</pubDate>\n")
        if creator:
            out.append(f"<dc:creator>{escape(rng.choice(NAMES))} {escape(rng.choice(NAMES))}</dc:creator>\n")
        for topic in rng.sample(TOPICS, rng.randint(1, 2)):
            out.append(f"<category>{topic}</category>\n")
        out.append(f"<description>{description}</description>\n</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def feed_name(i: int) -> str:
    return f"Bench Feed {i:04d}"


def generate(folder: Path, feeds: int, items: int, seed: int) -> int:
    """Write feeds/NNNN.xml; returns the total size in bytes."""
    (folder / "feeds").mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(feeds):
        body = make_feed(i, items, seed, "http://127.0.0.1")
        (folder / "feeds" / f"{i:04d}.xml").write_bytes(body)
        total += len(body)
    return total


def write_opml(path: Path, urls: list[str]) -> None:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             "<head><title>bench feeds</title></head>", "<body>", '<outline text="Bench">']
    for i, url in enumerate(urls):
        lines.append(f"  <outline type=\"rss\" text={quoteattr(feed_name(i))} xmlUrl={quoteattr(url)}/>")
    lines += ["</outline>", "</body>", "</opml>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# 2. The server: forked asyncio workers sharing the listening sockets, bodies held in memory
# --------------------------------------------------------------------------------------------------

C_REQUESTS, C_200, C_304, C_OTHER, C_BYTES, C_CONDITIONAL, C_GZIP, C_CONNECTIONS, C_SLOTS = range(9)
LAST_MODIFIED_TS = 1_748_736_000  # the feeds' Last-Modified: 2025-06-01


@dataclass(frozen=True)
class _Entry:
    body: bytes
    gz: bytes
    etag: bytes
    headers: bytes  # the per-feed part of the response head


class _HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for a feed server: GET/HEAD, keep-alive, conditional GET, gzip."""

    def __init__(self, entries: dict[bytes, _Entry], counters: object, base: int, use_gzip: bool) -> None:
        self.entries, self.counters, self.base, self.use_gzip = entries, counters, base, use_gzip
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.counters[self.base + C_CONNECTIONS] += 1  # type: ignore[index]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self.transport.close()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        assert self.transport is not None
        c, b = self.counters, self.base
        c[b + C_REQUESTS] += 1  # type: ignore[index]
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].split(b" ", 2)
        except ValueError:
            self.transport.close()
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get(b"connection", b"").lower()
        close = connection == b"close" or (version == b"HTTP/1.0" and connection != b"keep-alive")
        entry = self.entries.get(target.split(b"?", 1)[0])
        date = email.utils.formatdate(usegmt=True).encode()
        common = b"Date: " + date + b"\r\nServer: lll-bench\r\n" + (b"Connection: close\r\n" if close else b"")
        if entry is None or method not in (b"GET", b"HEAD"):
            c[b + C_OTHER] += 1  # type: ignore[index]
            status = b"404 Not Found" if entry is None else b"405 Method Not Allowed"
            self.transport.write(b"HTTP/1.1 " + status + b"\r\n" + common + b"Content-Length: 0\r\n\r\n")
        else:
            inm, ims = headers.get(b"if-none-match"), headers.get(b"if-modified-since")
            if inm is not None or ims is not None:
                c[b + C_CONDITIONAL] += 1  # type: ignore[index]
            if inm is not None:
                fresh = inm.strip() == b"*" or entry.etag in [v.strip().removeprefix(b"W/") for v in inm.split(b",")]
            elif ims is not None:
                try:
                    fresh = email.utils.parsedate_to_datetime(ims.decode()).timestamp() >= LAST_MODIFIED_TS
                except (TypeError, ValueError):
                    fresh = False
            else:
                fresh = False
            if fresh:
                c[b + C_304] += 1  # type: ignore[index]
                self.transport.write(b"HTTP/1.1 304 Not Modified\r\n" + common + entry.headers + b"\r\n")
            else:
                c[b + C_200] += 1  # type: ignore[index]
                zipped = self.use_gzip and b"gzip" in headers.get(b"accept-encoding", b"")
                body = entry.gz if zipped else entry.body
                extra = b"Content-Encoding: gzip\r\n" if zipped else b""
                if zipped:
                    c[b + C_GZIP] += 1  # type: ignore[index]
                head = (b"HTTP/1.1 200 OK\r\n" + common + entry.headers + extra +
                        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
                if method == b"GET":
                    self.transport.writelines((head, body))  # one send
                    c[b + C_BYTES] += len(body)  # type: ignore[index]
                else:
                    self.transport.write(head)
        if close:
            self.transport.close()
            self.transport = None


def _load_entries(folder: Path, use_gzip: bool) -> dict[bytes, _Entry]:
    entries = {}
    last_modified = email.utils.formatdate(LAST_MODIFIED_TS, usegmt=True).encode()
    for path in sorted((folder / "feeds").glob("*.xml")):
        body = path.read_bytes()
        etag = b'"' + hashlib.sha1(body).hexdigest()[:20].encode() + b'"'
        head = (b"Content-Type: application/rss+xml; charset=utf-8\r\nETag: " + etag +
                b"\r\nLast-Modified: " + last_modified + b"\r\nCache-Control: max-age=0\r\n" +
                (b"Vary: Accept-Encoding\r\n" if use_gzip else b""))
        gz = gzip_lib.compress(body, compresslevel=6, mtime=0) if use_gzip else b""
        entries[f"/feeds/{path.name}".encode()] = _Entry(body, gz, etag, head)
    return entries


def _serve_worker(socks: list[socket.socket], folder: str, counters: object, slot: int, use_gzip: bool,
                  ready: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    entries = _load_entries(Path(folder), use_gzip)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sock in socks:
            await loop.create_server(lambda: _HttpProtocol(entries, counters, slot * C_SLOTS, use_gzip),
                                     sock=sock, backlog=1024)
        ready.set()  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())


class FeedServer:
    """``workers`` forked processes serving ``folder`` on ``hosts`` ports of 127.0.0.1."""

    def __init__(self, folder: Path, *, workers: int, hosts: int, use_gzip: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        self.socks = []
        for _ in range(hosts):
            # IPPROTO_TCP, not 0: asyncio then sets TCP_NODELAY on every accepted connection (without it,
            # Nagle + delayed ACK cost ~40 ms a keep-alive response)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(1024)
            sock.setblocking(False)
            self.socks.append(sock)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.counters = ctx.Array("q", workers * C_SLOTS, lock=False)
        self.procs = []
        for slot in range(workers):
            ready = ctx.Event()
            proc = ctx.Process(target=_serve_worker, args=(self.socks, str(folder), self.counters, slot,
                                                           use_gzip, ready), daemon=True)
            proc.start()
            self.procs.append((proc, ready))
        for proc, ready in self.procs:
            if not ready.wait(60):
                raise RuntimeError("a server worker did not start")

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/feeds/{i:04d}.xml"

    def counts(self) -> list[int]:
        """Counters summed over the workers."""
        return [sum(self.counters[w * C_SLOTS + k] for w in range(len(self.procs))) for k in range(C_SLOTS)]

    def cpu_seconds(self) -> float:
        return sum(_proc_cpu(proc.pid) for proc, _ in self.procs)

    def close(self) -> None:
        for proc, _ in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc, _ in self.procs:
            proc.join(5)
        for sock in self.socks:
            sock.close()


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the server's own throughput, measured from a separate process ---------------------------------

async def _load(targets: list[tuple[int, str]], requests: int, concurrency: int, use_gzip: bool) -> dict:
    etags: dict[str, bytes] = {}
    statuses: dict[int, int] = {}

    async def worker(jobs: list[tuple[int, str]], conditional: bool) -> None:
        port = jobs[0][0] if jobs else 0
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        encoding = b"gzip" if use_gzip else b"identity"
        for job_port, path in jobs:
            if job_port != port:  # another "host": another connection
                writer.close()
                port = job_port
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            request = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: " + encoding + b"\r\n"
            if conditional:
                request += b"If-None-Match: " + etags[path] + b"\r\n"
            writer.write(request + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            statuses[status] = statuses.get(status, 0) + 1
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"etag":
                    etags[path] = value.strip()
            if status != 304 and length:
                await reader.readexactly(length)
        writer.close()

    result = {}
    for phase, conditional in (("full", False), ("304", True)):
        jobs = [targets[k % len(targets)] for k in range(requests)]
        chunks = [sorted(jobs[w::concurrency]) for w in range(concurrency)]
        started = time.perf_counter()
        await asyncio.gather(*(worker(chunk, conditional) for chunk in chunks if chunk))
        result[phase] = requests / (time.perf_counter() - started)
    result["statuses"] = statuses
    return result


def measure_server(server: FeedServer, feeds: int, requests: int, use_gzip: bool) -> dict:
    targets = [(server.ports[i % len(server.ports)], f"/feeds/{i:04d}.xml") for i in range(feeds)]
    before_counts, before_cpu = server.counts(), server.cpu_seconds()
    out = subprocess.run([sys.executable, __file__, "_load", json.dumps(
        {"targets": targets, "requests": requests, "concurrency": 16, "gzip": use_gzip})],
        capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    counts = [a - b for a, b in zip(server.counts(), before_counts)]
    result["server_cpu_us_per_request"] = (server.cpu_seconds() - before_cpu) / max(1, counts[C_REQUESTS]) * 1e6
    result["counts"] = counts
    return result


# --------------------------------------------------------------------------------------------------
# 3. Running one pass as a whole process: wall clock, CPU, peak memory of the process tree
# --------------------------------------------------------------------------------------------------

@dataclass
class Measured:
    label: str
    seconds: float
    returncode: int
    cpu: float  # user + system of the process and every child it waited for (the parse pool)
    max_single_rss: int  # bytes, the largest single process (getrusage of the waited children)
    peak_tree_rss: int  # bytes, the largest sum of RSS over the process and its descendants, sampled
    stdout: str
    stderr: str
    server: list[int] = field(default_factory=list)  # server counter deltas during the pass
    server_cpu: float = 0.0
    others_cpu: float = 0.0  # CPU seconds used on the machine by anything else meanwhile (contention)
    children_cpu: float = 0.0  # CPU seconds of the descendants (LLL's parse pool), as last sampled
    children: int = 0


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (at most ``limit`` seconds) until the machine's other processes use less than ``threshold``
    of a core over one second; returns the seconds waited. Our own server is idle between passes."""
    started = time.perf_counter()
    while True:
        before = _machine_busy()
        time.sleep(1.0)
        if _machine_busy() - before < threshold or time.perf_counter() - started > limit:
            return time.perf_counter() - started


def _tree_sample(root: int, cpu: dict[int, float], page: int = os.sysconf("SC_PAGE_SIZE"),
                 tick: int = os.sysconf("SC_CLK_TCK")) -> int:
    """RSS summed over ``root`` and its descendants; records each descendant's CPU seconds in ``cpu``."""
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(name)] = fields
        parents.setdefault(int(fields[1]), []).append(int(name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        if pid != root and pid in stats:
            cpu[pid] = (int(stats[pid][11]) + int(stats[pid][12])) / tick
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total


QUIET_WAIT = 0.0  # --wait-quiet: seconds to wait for an idle machine before each timed pass


def run_measured(label: str, cmd: list[str], env: dict[str, str], server: FeedServer | None = None,
                 sample_every: float = 0.05) -> Measured:
    if server is not None and QUIET_WAIT > 0:
        waited = wait_quiet(QUIET_WAIT)
        if waited > 1.5:
            print(f"  (waited {waited:.0f} s for the machine to go quiet before {label})", flush=True)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        counts0 = server.counts() if server else []
        cpu0 = server.cpu_seconds() if server else 0.0
        busy0 = _machine_busy()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL)
        peak, done, children_cpu = [0], threading.Event(), {}  # type: ignore[var-annotated]

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_sample(proc.pid, children_cpu))
                done.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: take the pass down with us
            done.set()
            proc.kill()
            os.waitpid(proc.pid, 0)
            raise
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Measured(label, seconds, proc.returncode, usage.ru_utime + usage.ru_stime,
                          usage.ru_maxrss * 1024, max(peak[0], usage.ru_maxrss * 1024), out.read(), err.read())
        result.children_cpu = sum(children_cpu.values())
        result.children = len(children_cpu)
        if server:
            result.server = [a - b for a, b in zip(server.counts(), counts0)]
            result.server_cpu = server.cpu_seconds() - cpu0
        result.others_cpu = max(0.0, _machine_busy() - busy0 - result.cpu - result.server_cpu)
    if result.returncode != 0:
        raise SystemExit(f"{label} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


# --------------------------------------------------------------------------------------------------
# 4. reader, run in its own processes
# --------------------------------------------------------------------------------------------------

def reader_main(action: str, db: str, urls_file: str) -> None:
    from reader import make_reader

    reader = make_reader(db)
    if action == "setup":
        for url in Path(urls_file).read_text().split():
            reader.add_feed(url, exist_ok=True)
    elif action == "update":
        reader.update_feeds(workers=16, scheduled=False)
    elif action == "count":
        feeds = list(reader.get_feeds())
        print(json.dumps({"entries": reader.get_entry_counts().total, "feeds": len(feeds),
                          "broken": sum(1 for f in feeds if f.last_exception is not None),
                          "errors": [str(f.last_exception)[:200] for f in feeds if f.last_exception][:3]}))
    reader.close()


# --------------------------------------------------------------------------------------------------
# 5. LLL's database, read directly (sqlite3) to check what each pass wrote
# --------------------------------------------------------------------------------------------------

def lll_state(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        run_id = one("SELECT max(id) FROM runs WHERE command = 'fetch'")[0]
        attempts = conn.execute(
            "SELECT outcome, http_status, count(*), sum(new_items), sum(changed_items) FROM fetch_attempts "
            "WHERE run_id = ? GROUP BY outcome, http_status", (run_id,)).fetchall()
        return {
            "items": one("SELECT count(*) FROM items")[0],
            "max_item_id": one("SELECT max(id) FROM items")[0],
            "max_updated_at": one("SELECT max(updated_at) FROM items")[0],
            "revisions": one("SELECT count(*) FROM item_revisions")[0],
            "pages": one("SELECT count(*) FROM pages")[0],
            "attempts": {f"{o}/{s}": {"n": n, "new": new, "changed": ch} for o, s, n, new, ch in attempts},
            "run": run_id,
        }


# --------------------------------------------------------------------------------------------------
# 6. Optional: where LLL's time goes (py-spy, sampling the fetch process and its parse pool)
# --------------------------------------------------------------------------------------------------

# (label, text(s) that appear in a sampled stack): a sample counts for every label whose text it holds.
PROFILE_PARTS: list[tuple[str, str | tuple[str, ...]]] = [
    ("feedparser.parse", "parse (feedparser/api.py"),
    ("  of which sanitize_html", "_sanitize_html (feedparser/"),
    ("  of which resolve_relative_uris", "resolve_relative_uris (feedparser/"),
    ("fast path read_fast (feedparser_rs + checks)", "read_fast (lll/parse/fastfeed.py"),
    ("  of which the expat pre-check", "_element_refusal (lll/parse/fastfeed.py"),
    ("  of which sanitize_html (nh3)", "sanitize_html (lll/parse/html.py"),
    ("parse_entry (LLL's own per-item work)", "parse_entry (lll/parse/feeds.py"),
    ("  of which html_to_text", "html_to_text (lll/parse/html.py"),
    ("  of which text and links of the body", "text_and_links (lll/parse/html.py"),
    ("  of which extract_links", "extract_links (lll/parse/html.py"),
    ("  of which canonical_url", "canonical_url (lll/urls.py"),
    ("result pickling (worker)", "_sendback_result"),
    ("HttpClient.get (httpx + LLL)", "HttpClient.get (lll/fetch/http.py"),
    ("  of which httpx send", "send (httpx/_client.py"),
    ("  of which body read/decode", "_read (lll/fetch/http.py"),
    ("  of which SSRF check", "check_url (lll/fetch/guard.py"),
    ("write_fetch on the batch writer (SQLAlchemy + SQLite)", ("write_fetch (lll/store/db.py",
                                                              "save_fetch (lll/store/db.py")),
    ("batch commits (SQLite COMMIT)", "_commit_impl (sqlalchemy/engine/base.py"),
    ("  of which sqlalchemy Connection.execute", "execute (sqlalchemy/engine/base.py"),
    ("  of which building item rows", "_item_row (lll/store/db.py"),
    ("Store.known_hashes", "known_hashes (lll/store/db.py"),
    ("pool IPC: jobs out, results in (main)", ("_ExecutorManagerThread", "_feed (multiprocessing/queues.py")),
    ("imports", "_find_and_load"),
    ("workspace + store open (migrate)", "Newsletter.__init__"),
]
WAITING = ("select (selectors.py", "wait (threading.py", "_recv (multiprocessing/connection.py",
           "poll (multiprocessing/connection.py", "_wait_for_tstate_lock", "get (queue.py", "acquire (",
           "_worker (concurrent/futures/thread.py", "wait (multiprocessing/connection.py")


def summarize_profile(raw: Path, rate: int) -> str:
    """Seconds of busy thread time by part, for the fetch process and for the parse pool."""
    totals: dict[str, int] = {}
    parts: dict[str, dict[str, int]] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(w in frames[-1] for w in WAITING):
            continue  # a thread waiting, not working
        who = "parse pool" if "_process_worker (concurrent/futures/process.py" in stack else "lll fetch process"
        totals[who] = totals.get(who, 0) + int(count)
        mine = parts.setdefault(who, {})
        for label, needle in PROFILE_PARTS:
            if any(n in stack for n in ((needle,) if isinstance(needle, str) else needle)):
                mine[label] = mine.get(label, 0) + int(count)
    out = []
    for who, total in sorted(totals.items()):
        out.append(f"  {who}: {total / rate:.1f} s holding the GIL (all its threads)")
        for label, _ in PROFILE_PARTS:
            n = parts[who].get(label, 0)
            if n >= total / 200:
                out.append(f"    {label:42s} {n / rate:6.2f} s {100 * n / total:5.1f}%")
    return "\n".join(out)


def profile_lll(tmp: Path, lll_cmd: list[str], env: dict[str, str], out_dir: Path) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    spy_cmd = str(spy) if spy.exists() else shutil.which("py-spy")
    if not spy_cmd:
        print("--profile: py-spy not found (pip install py-spy)")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(env, LLL_WORKSPACE=str(tmp / "lll-profile"))
    subprocess.run(lll_cmd + ["init"], env=env, check=True, capture_output=True)
    subprocess.run(lll_cmd + ["sources", "import", str(tmp / "feeds.opml")], env=env, check=True, capture_output=True)
    rate = 100
    for name in ("pass1", "pass2"):
        raw = out_dir / f"lll-fetch-{name}.txt"
        started = time.perf_counter()
        subprocess.run([spy_cmd, "record", "--subprocesses", "--gil", "--nonblocking", "-r", str(rate), "-f", "raw",
                        "-o", str(raw), "--"] + lll_cmd + ["fetch"], env=env, check=True, capture_output=True)
        print(f"\nProfile of `lll fetch` {name} under py-spy ({time.perf_counter() - started:.1f} s wall; "
              f"collapsed stacks in {raw}):")
        print(summarize_profile(raw, rate))


# --------------------------------------------------------------------------------------------------
# 7. The run
# --------------------------------------------------------------------------------------------------

def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000, help="number of feeds (default 1000)")
    ap.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    ap.add_argument("--seed", type=int, default=2026, help="generator seed (default 2026)")
    ap.add_argument("--hosts", type=int, default=1,
                    help="spread the feeds over this many ports of 127.0.0.1 (default 1: one host)")
    ap.add_argument("--server-workers", type=int, default=2, help="server processes (default 2)")
    ap.add_argument("--gzip", action="store_true", help="serve gzip to clients that accept it")
    ap.add_argument("--load", type=int, default=3000, help="requests per phase of the server's own load test")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat LLL's and reader's passes this many times (fresh databases), report medians")
    ap.add_argument("--no-reader", action="store_true", help="measure LLL only")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                    help="before each timed pass, wait up to S seconds for other processes to leave the CPUs idle")
    ap.add_argument("--lll", metavar="CMD", help="the command to measure as `lll` (default: the lll beside this "
                                                "Python), e.g. another checkout's venv/bin/lll")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="afterwards, run both LLL passes again under py-spy, save the stacks in DIR, summarize")
    args = ap.parse_args(argv)
    global QUIET_WAIT
    QUIET_WAIT = args.wait_quiet
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows when piped

    lll = Path(sys.executable).with_name("lll")
    lll_cmd = args.lll.split() if args.lll else [str(lll)] if lll.exists() else [sys.executable, "-m", "lll"]
    if not args.no_reader:
        try:
            import reader  # noqa: F401
        except ImportError:
            raise SystemExit("reader is not installed: pip install -e '.[bench]' (reader and sgmllib3k)")

    tmp = Path(tempfile.mkdtemp(prefix="lll-bench-"))
    server = None
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    try:
        t0 = time.perf_counter()
        size = generate(tmp / "site", args.feeds, args.items, args.seed)
        print(f"Generated {args.feeds:,} feeds x {args.items} items: {size / 2**20:.1f} MiB "
              f"({size / args.feeds / 1024:.1f} KiB a feed) in {time.perf_counter() - t0:.1f} s  [{tmp}]")

        server = FeedServer(tmp / "site", workers=args.server_workers, hosts=args.hosts, use_gzip=args.gzip)
        urls = [server.url(i) for i in range(args.feeds)]
        write_opml(tmp / "feeds.opml", urls)
        (tmp / "urls.txt").write_text("\n".join(urls) + "\n")
        load = measure_server(server, args.feeds, args.load, args.gzip)
        print(f"Server: {args.server_workers} processes on 127.0.0.1 port(s) "
              f"{', '.join(map(str, server.ports[:4]))}{' …' if args.hosts > 4 else ''}"
              f"{', gzip' if args.gzip else ''}; its own throughput from a separate load process "
              f"(16 connections, {args.load:,} requests a phase): {load['full']:,.0f} full bodies/s, "
              f"{load['304']:,.0f} 304s/s; the server spent {load['server_cpu_us_per_request']:.0f} µs of CPU a "
              f"request (so ~{1e6 / load['server_cpu_us_per_request']:,.0f} requests/s a core)")
        if load["statuses"] != {"200": args.load, "304": args.load}:
            failures.append(f"server load test statuses {load['statuses']}")

        env = {k: v for k, v in os.environ.items() if not k.startswith("LLL_")}
        env.update(LLL_ALLOW_PRIVATE="1")
        n, total = args.feeds, args.feeds * args.items
        lll_runs: list[tuple[Measured, Measured]] = []
        reader_runs: list[tuple[Measured, Measured]] = []
        for round_no in range(1, args.rounds + 1):
            tag = f" (round {round_no})" if args.rounds > 1 else ""
            # -- LLL: init, import, two passes -------------------------------------------------------------
            ws = tmp / f"lll-ws-{round_no}"
            env["LLL_WORKSPACE"] = str(ws)
            setup_init = run_measured("lll init", lll_cmd + ["init"], env)
            setup_import = run_measured("lll sources import",
                                        lll_cmd + ["sources", "import", str(tmp / "feeds.opml")], env)
            print(f"\nLLL setup{tag}: `lll init` {setup_init.seconds:.2f} s, `lll sources import` "
                  f"({args.feeds:,} feeds) {setup_import.seconds:.2f} s: {setup_import.stdout.strip()}")
            lll1 = run_measured("lll fetch (1st)", lll_cmd + ["fetch"], env, server)
            state1 = lll_state(ws / "lll.db")
            lll2 = run_measured("lll fetch (2nd)", lll_cmd + ["fetch"], env, server)
            state2 = lll_state(ws / "lll.db")
            print(f"LLL pass 1: {lll1.stdout.strip()}")
            print(f"LLL pass 2: {lll2.stdout.strip()}")
            lll_runs.append((lll1, lll2))
            check(state1["items"] == total, f"LLL pass 1 stored {state1['items']:,} items (expected {total:,})")
            check(state1["attempts"].get("ok/200", {}).get("n") == n,
                  f"LLL pass 1 attempts by outcome/status: {_attempts(state1)}")
            check(lll1.server[C_200] == n and lll1.server[C_REQUESTS] == n,
                  f"server saw {lll1.server[C_REQUESTS]:,} requests in LLL pass 1 on "
                  f"{lll1.server[C_CONNECTIONS]:,} connections, {lll1.server[C_200]:,} answered 200"
                  f"{f' ({lll1.server[C_GZIP]:,} gzipped)' if args.gzip else ''}")
            check(state1["pages"] == 0 and lll1.server[C_OTHER] == 0,
                  f"no article pages fetched (pages table: {state1['pages']}, other requests: "
                  f"{lll1.server[C_OTHER]})")
            check(state2["attempts"] == {"not_modified/304": {"n": n, "new": 0, "changed": 0}},
                  f"LLL pass 2 attempts by outcome/status: {_attempts(state2)}")
            same = ("items", "max_item_id", "max_updated_at", "revisions")
            check(all(state2[k] == state1[k] for k in same),
                  f"LLL pass 2 wrote zero item rows (items {state2['items']:,}, max id {state2['max_item_id']}, "
                  f"latest updated_at {state2['max_updated_at']}, revisions {state2['revisions']}: as after pass 1)")
            check(lll2.server[C_CONDITIONAL] == n and lll2.server[C_304] == n and lll2.server[C_REQUESTS] == n,
                  f"server saw {lll2.server[C_REQUESTS]:,} requests in LLL pass 2 on "
                  f"{lll2.server[C_CONNECTIONS]:,} connections: "
                  f"{lll2.server[C_CONDITIONAL]:,} conditional, {lll2.server[C_304]:,} answered 304, "
                  f"{lll2.server[C_200]:,} answered 200")
            if args.no_reader:
                continue
            # -- reader: a fresh database, the feeds added, two passes ------------------------------------------
            rdb = str(tmp / f"reader-{round_no}.sqlite")
            rcmd = [sys.executable, __file__, "_reader"]
            r_setup = run_measured("reader setup", rcmd + ["setup", rdb, str(tmp / "urls.txt")], env)
            print(f"reader setup{tag}: a fresh database, {args.feeds:,} feeds added in {r_setup.seconds:.2f} s")
            rd1 = run_measured("reader update_feeds (1st)", rcmd + ["update", rdb, ""], env, server)
            counts1 = json.loads(run_measured("reader count", rcmd + ["count", rdb, ""], env).stdout)
            rd2 = run_measured("reader update_feeds (2nd)", rcmd + ["update", rdb, ""], env, server)
            counts2 = json.loads(run_measured("reader count", rcmd + ["count", rdb, ""], env).stdout)
            reader_runs.append((rd1, rd2))
            check(counts1["entries"] == total and counts2["entries"] == total and counts2["broken"] == 0,
                  f"reader stored {counts1['entries']:,} entries after pass 1, {counts2['entries']:,} after "
                  f"pass 2 (expected {total:,}); broken feeds {counts2['broken']} {counts2['errors'] or ''}")
            check(rd1.server[C_200] == n and rd1.server[C_REQUESTS] == n,
                  f"server saw {rd1.server[C_REQUESTS]:,} requests in reader pass 1 on "
                  f"{rd1.server[C_CONNECTIONS]:,} connections, {rd1.server[C_200]:,} answered 200"
                  f"{f' ({rd1.server[C_GZIP]:,} gzipped)' if args.gzip else ''}")
            check(rd2.server[C_304] == n and rd2.server[C_REQUESTS] == n,
                  f"server saw {rd2.server[C_REQUESTS]:,} requests in reader pass 2 on "
                  f"{rd2.server[C_CONNECTIONS]:,} connections: "
                  f"{rd2.server[C_CONDITIONAL]:,} conditional, {rd2.server[C_304]:,} answered 304")

        # -- the table -------------------------------------------------------------------------------------
        full = (args.feeds, args.items) == (1000, 50)
        rounds = f"; median of {args.rounds} rounds" if args.rounds > 1 else ""
        print(f"\nlll fetch vs reader update_feeds(workers=16, scheduled=False): {args.feeds:,} feeds x "
              f"{args.items} items on {args.hosts} host(s){', gzip' if args.gzip else ''}; "
              f"{os.cpu_count()} cores; each pass a whole process{rounds}\n")
        head = ("pass", "LLL s", "reader s", "reader/LLL", "LLL CPU s", "reader CPU s",
                "LLL peak RSS", "reader peak RSS", "server CPU s")
        rows, medians = [], {}
        for k, name in ((0, "1st (all new)"), (1, "2nd (all 304)")):
            a = _median_run([r[k] for r in lll_runs])
            r = _median_run([r[k] for r in reader_runs]) if reader_runs else None
            medians[k] = (a, r)
            spread = (lambda runs: f" ({min(x[k].seconds for x in runs):.2f}-{max(x[k].seconds for x in runs):.2f})"
                      if len(runs) > 1 else "")
            rows.append((name, f"{a.seconds:.2f}{spread(lll_runs)}",
                         f"{r.seconds:.2f}{spread(reader_runs)}" if r else "-",
                         f"{r.seconds / a.seconds:.2f}x" if r else "-", f"{a.cpu:.1f}", f"{r.cpu:.1f}" if r else "-",
                         f"{_mib(a.peak_tree_rss)} ({_mib(a.max_single_rss)})",
                         f"{_mib(r.peak_tree_rss)} ({_mib(r.max_single_rss)})" if r else "-",
                         f"{a.server_cpu:.2f} / {r.server_cpu:.2f}" if r else f"{a.server_cpu:.2f}"))
        _table(head, rows)
        print("peak RSS: the largest sum of RSS over the process tree, sampled every 50 ms (in brackets: the "
              "largest single process);\nCPU: user + system, the parse pool included; server CPU: the feed "
              "server's own, during the LLL / reader pass")
        for label, (a, _) in (("1st", medians[0]), ("2nd", medians[1])):
            if a.children:
                print(f"LLL {label} pass CPU by process: `lll fetch` itself {a.cpu - a.children_cpu:.1f} s, "
                      f"{a.children} parse-pool process(es) {a.children_cpu:.1f} s")
        busy = [(m.label, m.others_cpu / m.seconds) for pair in lll_runs + reader_runs for m in pair]
        noisy = [f"{label} {share:.0%}" for label, share in busy if share > 0.1]
        if noisy:
            print(f"WARNING: other processes kept the CPUs busy during some passes (average share of one core: "
                  f"{', '.join(noisy)}); the timings are pessimistic, rerun on a quiet machine")

        def verdict(ok: bool | None) -> str:
            return "-" if ok is None else ("PASS" if ok else "MISS")

        (l1, r1), (l2, r2) = medians[0], medians[1]
        targets = [
            ("1st pass <= 30 s", f"{l1.seconds:.2f} s", verdict(l1.seconds <= 30)),
            (">= 3x faster than reader", f"{r1.seconds / l1.seconds:.2f}x" if r1 else "-",
             verdict(r1.seconds / l1.seconds >= 3 if r1 else None)),
            ("2nd pass <= 5 s", f"{l2.seconds:.2f} s", verdict(l2.seconds <= 5)),
            ("no slower than reader", f"{r2.seconds / l2.seconds:.2f}x" if r2 else "-",
             verdict(l2.seconds <= r2.seconds if r2 else None)),
        ]
        print()
        _table(("target" + ("" if full else " (set for 1,000 x 50; shown for reference)"), "LLL", "result"), targets)
        if args.profile:
            profile_lll(tmp, lll_cmd, env, args.profile)
        if failures:
            print(f"\n{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
            return 1
        return 0
    finally:
        if server is not None:
            server.close()
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _median_run(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda m: m.seconds)[(len(runs) - 1) // 2]


def _attempts(state: dict) -> str:
    return ", ".join(f"{k}: {v['n']:,} (new {v['new']:,}, changed {v['changed']:,})"
                     for k, v in sorted(state["attempts"].items())) or "none"


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        spec = json.loads(sys.argv[2])
        print(json.dumps(asyncio.run(_load([tuple(t) for t in spec["targets"]], spec["requests"],
                                           spec["concurrency"], spec["gzip"]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_reader":
        reader_main(*sys.argv[2:5])
    else:
        sys.exit(main())
