"""A real JSON HTTP server on 127.0.0.1 in a thread, the base of the fake publishing APIs.

Each fake implements ``handle(call) -> Answer``; the base records every call, and can
make an answer late (``Answer.delay``: the client times out after the server has done
the work — the "commit, then no answer" fault)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakes._http import Loopback


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw: bytes
    at: float

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"null")
        except ValueError:
            return None


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-serialisable, or bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        if self.body is None:
            return b"", "text/plain"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


class FakeServer(Loopback):
    """Subclasses implement ``handle``. Use as a context manager or ``start()``/``stop()``."""

    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.RLock()
        super().__init__()

    def handle(self, call: Call) -> Answer:  # pragma: no cover - overridden
        raise NotImplementedError

    def count(self, method: str, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for c in self.calls if c.method == method and c.path.startswith(prefix))

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        call = Call(method=h.command, path=parts.path, query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in h.headers.items()}, raw=raw, at=time.monotonic())
        with self.lock:
            self.calls.append(call)
            answer = self.handle(call)
        if answer.delay:
            self.stopping.wait(answer.delay)
        body, content_type = answer.encoded()
        try:
            h.send_response(answer.status)
            headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **answer.headers}
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
