"""Content decoding with a cap on the decoded size, so a compression bomb costs
at most ``limit`` bytes of memory.

Real servers sometimes label a plain body ``Content-Encoding: gzip`` (a CDN that compressed
nothing, a static file served with the wrong header). ``Mislabelled`` looks at the first bytes:
a body that reads as a document (``<`` or ``{`` after whitespace or a BOM, no control bytes) and
that the named codec cannot decode is used as is, with a warning. Anything else goes through the
codec with its cap, so a bomb is still refused.
"""

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
        out: bytes = self._obj.process(data, output_buffer_limit=self.limit + 1)
        if len(out) > self.limit or not self._obj.can_accept_more_data():
            raise BodyTooLarge
        return out

    def flush(self) -> bytes:
        return b""


SNIFF_BYTES = 512  # how much of the body decides "encoded as labelled" or "plain document"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_CONTROL = frozenset(range(0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}


def looks_like_document(head: bytes) -> bool:
    """True when ``head`` starts (after a BOM and whitespace) with ``<`` or ``{`` and holds no
    control byte: text, where compressed data is noise and almost never looks like this."""
    text = head
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom):]
            break
    text = text.lstrip(b" \t\r\n\f")
    return text[:1] in (b"<", b"{") and not any(b in _CONTROL for b in text)


class Mislabelled:
    """A decoder for a named Content-Encoding that tolerates a plain body under that label.
    ``warning`` says when the body was used as is."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding.strip().lower()
        self.limit = limit
        self.inner = decoder_for(encoding, limit)
        self.warning = ""
        self._head = b""
        self._mode = ""  # "" undecided | decode | raw

    def feed(self, data: bytes) -> bytes:
        if self._mode == "raw":
            return data
        if self._mode == "decode":
            return self.inner.feed(data)
        self._head += data
        return self._decide() if len(self._head) >= SNIFF_BYTES else b""

    def flush(self) -> bytes:
        out = self._decide() if not self._mode else b""
        return out if self._mode == "raw" else out + self.inner.flush()

    def _decide(self) -> bytes:
        head, self._head = self._head, b""
        if looks_like_document(head[:SNIFF_BYTES]) and not self._decodes(head[:SNIFF_BYTES]):
            self._mode = "raw"
            self.warning = (f"Content-Encoding says {self.encoding} but the body is not {self.encoding}-encoded; "
                            "used it as sent")
            return head
        self._mode = "decode"
        return self.inner.feed(head)

    def _decodes(self, head: bytes) -> bool:
        """Whether the codec accepts the first bytes (a trial on a fresh decoder). Output over
        the cap counts as accepted: that is a bomb, for the real decoder to refuse."""
        trial = decoder_for(self.encoding, self.limit)
        try:
            trial.feed(head)
        except BodyTooLarge:
            return True
        except Exception:  # noqa: BLE001 - zlib.error, brotli.error: not this encoding
            return False
        return True


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
