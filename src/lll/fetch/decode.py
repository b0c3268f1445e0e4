"""Content decoding with a cap on the decoded size, so a compression bomb costs
at most ``limit`` bytes of memory."""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class BodyTooLarge(Exception):
    pass


class Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class Identity:
    def feed(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class Zlib:
    """gzip (wbits 16+) or deflate (zlib header, or raw as some servers send)."""

    def __init__(self, gzip: bool, limit: int) -> None:
        self.limit = limit
        self.gzip = gzip
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._first = True

    def feed(self, data: bytes) -> bytes:
        if self._first and not self.gzip and data:
            self._first = False
            if (data[0] & 0x0F) != 8:  # no zlib header: raw deflate
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        out = self._obj.decompress(data, self.limit + 1)
        if len(out) > self.limit or self._obj.unconsumed_tail:
            raise BodyTooLarge
        return out

    def flush(self) -> bytes:
        return self._obj.flush()


class Brotli:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        out = self._obj.process(data, output_buffer_limit=self.limit + 1)
        if len(out) > self.limit or not self._obj.can_accept_more_data():
            raise BodyTooLarge
        return out

    def flush(self) -> bytes:
        return b""


def decoder_for(encoding: str, limit: int) -> Decoder:
    """A decoder for a Content-Encoding value; unknown encodings raise ValueError."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return Identity()
    if name in ("gzip", "x-gzip"):
        return Zlib(gzip=True, limit=limit)
    if name == "deflate":
        return Zlib(gzip=False, limit=limit)
    if name == "br":
        return Brotli(limit)
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")
