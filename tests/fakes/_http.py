"""A small threaded HTTP server on 127.0.0.1 for JSON POST APIs, with scripted replies."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Read the request and answer nothing for ``seconds`` (or until the server stops)."""

    seconds: float = 30.0


Handler = Callable[[str, dict[str, str], dict[str, Any]], "Reply | Hang"]


class Loopback:
    """``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread: what every fake server of the
    tests shares. Each request of a method in ``methods`` goes to ``dispatch(handler)``. Use as
    a context manager or ``start()``/``stop()``; ``stopping`` is set when the server stops."""

    methods: tuple[str, ...] = ("GET",)

    def __init__(self) -> None:
        self.stopping = threading.Event()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        for method in self.methods:
            setattr(_Handler, f"do_{method}", lambda handler: owner.dispatch(handler))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class JSONServer(Loopback):
    """Scripted replies to JSON POSTs; a GET gets 404."""

    methods = ("GET", "POST")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        if h.command != "POST":
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        reply = self.handler(h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        try:
            if isinstance(reply, Hang):
                self.stopping.wait(reply.seconds)
                h.close_connection = True
                return
            h.send_response(reply.status)
            for name, value in {"Content-Length": str(len(reply.body)), **reply.headers}.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ModelServer:
    """A fake model API: a ``JSONServer`` answering with ``_handle``, the requests it got in
    ``requests``, and the model behind it (``model``: see ``fakes.scripted``)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.server = JSONServer(self._handle)

    def _handle(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply | Hang:
        raise NotImplementedError  # pragma: no cover - overridden

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})
