"""A tiny DNS server on loopback (UDP) for the rebinding tests: A records from a function of
(name, how many times that name was asked), TTL 0, no AAAA records; every query is logged."""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable

Answer = Callable[[str, int], str | None]  # (name, nth A query for it, from 1) -> IPv4 or None


def _question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset of the question) of a query."""
    labels, at = [], 12
    while packet[at]:
        size = packet[at]
        labels.append(packet[at + 1:at + 1 + size].decode("ascii").lower())
        at += 1 + size
    qtype = struct.unpack("!H", packet[at + 1:at + 3])[0]
    return ".".join(labels), qtype, at + 5


class DnsServer:
    """Answers on ``(host, port)``; ``queries`` lists (name, "A"/"AAAA"/type number)."""

    def __init__(self, answer: Answer, host: str = "127.0.0.1", port: int = 53) -> None:
        self.answer = answer
        self.queries: list[tuple[str, str]] = []
        self.asked: Counter[str] = Counter()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.address = self._sock.getsockname()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                packet, peer = self._sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._reply(packet)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            self._sock.sendto(reply, peer)

    def _reply(self, packet: bytes) -> bytes:
        name, qtype, end = _question(packet)
        answers = b""
        count = 0
        if qtype == 1:
            self.asked[name] += 1
            self.queries.append((name, "A"))
            address = self.answer(name, self.asked[name])
            if address is not None:
                rdata = ipaddress.IPv4Address(address).packed
                answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 0, len(rdata)) + rdata
                count = 1
        else:
            self.queries.append((name, "AAAA" if qtype == 28 else str(qtype)))
        header = packet[:2] + struct.pack("!HHHHH", 0x8180, 1, count, 0, 0)
        return header + packet[12:end] + answers

    def close(self) -> None:
        self._sock.close()
