"""``CorpusServer``: serves a replay corpus (``days/<D>/<path>``) as it stood on a day.

For day D a request for ``/P`` gets the latest ``days/D'/P`` with D' <= D. The literal
``http://127.0.0.1:8765`` in served text becomes the server's own base URL, so a
corpus can link to its own feeds and transcripts. Its article pages have canonical
addresses on ``SITE``, a made-up domain (RFC 2606 ``.example``) that outlives the server:
feeds link them there, issues cite them there, and ``locate`` says where to GET them
(the same path on this server). ETag and Last-Modified are honoured, so conditional GETs
get 304 as from a real server.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"http://127.0.0.1:8765"
SITE = "https://lll-demo.example"  # the canonical home of a corpus's pages; never resolved
CONTENT_TYPES = {
    ".xml": "application/xml; charset=utf-8", ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8", ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8", ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}


class CorpusIndex:
    """Which file answers which path on which day."""

    def __init__(self, root: Path) -> None:
        self.root = root
        days_dir = root / "days"
        if not days_dir.is_dir():
            raise FileNotFoundError(f"{root}: no days/ folder; a corpus is laid out as days/<YYYY-MM-DD>/<path>")
        self.days = sorted(p.name for p in days_dir.iterdir() if p.is_dir())

    def resolve(self, day: str, path: str) -> Path | None:
        clean = Path(path.lstrip("/"))
        if ".." in clean.parts:
            return None
        for candidate in reversed([d for d in self.days if d <= day]):
            file = self.root / "days" / candidate / clean
            if file.is_file():
                return file
        return None


class CorpusServer:
    """A real HTTP server on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, root: Path, day: str, port: int = 0) -> None:
        self.index = CorpusIndex(root)
        self.day = day
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests += 1
                server.answer(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @cached_property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def locate(self, url: str) -> str:
        """Where to GET ``url``: a page's canonical address on ``SITE`` is served here, at its path;
        any other URL is fetched where it points."""
        return self.url(url[len(SITE):]) if url.startswith(SITE + "/") else url

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(handler.path).path)
        file = self.index.resolve(self.day, path)
        if file is None:
            body = b"not found\n"
            handler.send_response(404)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        body = file.read_bytes().replace(PLACEHOLDER, self.base_url.encode())
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        served_day = file.relative_to(self.index.root).parts[1]
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream"))
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", _http_date(served_day))
        handler.end_headers()
        handler.wfile.write(body)


def _http_date(day: str) -> str:
    from datetime import UTC, datetime

    return formatdate(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp(), usegmt=True)
