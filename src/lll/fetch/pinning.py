"""Connect only to the addresses the SSRF guard checked.

The guard resolves a host once and checks every address; if httpx then resolved the name again to
connect, a resolver could answer a public address to the guard and 127.0.0.1 to the connection (DNS
rebinding). So the connection layer never resolves: ``PinnedBackend`` sits under httpx's connection
pool and connects to the pinned addresses of the host being asked for, and refuses a host nobody
pinned. Only the TCP destination changes — the URL, the ``Host`` header and the TLS server name
(SNI and certificate check) stay the host's name, and pooled connections stay keyed by that name.
"""

from __future__ import annotations

import threading
import typing

import httpcore
import httpx


class Pins:
    """host and port → the checked addresses to connect to (the latest check wins; every entry
    was allowed by the guard when it was written)."""

    def __init__(self) -> None:
        self._pins: dict[tuple[str, int], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def pin(self, host: str, port: int, addresses: typing.Sequence[str]) -> None:
        with self._lock:
            self._pins[(host.lower(), port)] = tuple(addresses)

    def get(self, host: str, port: int) -> tuple[str, ...]:
        with self._lock:
            return self._pins.get((host.lower(), port), ())


def connection_key(url: str) -> tuple[str, int]:
    """The (host, port) httpx's pool will ask the network backend to connect to for ``url``."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.raw_host.decode("ascii").lower(), port


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects to the pinned addresses of a host, never to its name."""

    def __init__(self, pins: Pins, inner: httpcore.AsyncNetworkBackend) -> None:
        self.pins = pins
        self.inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = self.pins.get(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host}:{port} was not checked by the SSRF guard; not connecting")
        options = list(socket_options or ())
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def pinned_transport(pins: Pins, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose pool connects through ``PinnedBackend``."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not isinstance(inner, httpcore.AsyncNetworkBackend):
        raise RuntimeError("this httpx/httpcore version does not expose its connection pool's network backend; "
                           "LLL cannot pin fetched addresses (see lll.fetch.pinning)")
    pool._network_backend = PinnedBackend(pins, inner)
    return transport


__all__ = ["Pins", "PinnedBackend", "connection_key", "pinned_transport"]
