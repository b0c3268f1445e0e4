"""Running the review app: uvicorn on a socket bound to 127.0.0.1 only.

The socket is bound before uvicorn starts, so ``--port 0`` can pick a free port and the
address printed is the one that answers."""

from __future__ import annotations

import secrets
import socket
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def new_token() -> str:
    """This run's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (never another interface)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def server(app: Any) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                         server_header=False))


def serve(app: Any, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server(app).run(sockets=[sock])
