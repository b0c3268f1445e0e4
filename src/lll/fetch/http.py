"""``HttpClient``: one polite, bounded HTTP GET at a time per call, many at once.

- concurrency bounded overall and per host;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``);
- gzip, deflate and brotli decoded here, with a cap on the decoded size (a plain document sent
  under a compression label is used as is, with a warning);
- redirects followed by hand (at most ``max_redirects``), each hop checked by the SSRF guard, and
  each connection made to the very address the guard checked (``lll.fetch.pinning``);
- timeouts on connect, on each read, and on the whole exchange (a slow drip ends);
- retries with exponential backoff on 429 and 5xx, honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections import defaultdict
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from lll.config import FetchSettings
from lll.errors import BlockedAddressError, FetchError
from lll.fetch.decode import BodyTooLarge, Decoder, Mislabelled, decoder_for
from lll.fetch.guard import Resolver, check_url, system_resolver
from lll.fetch.pinning import Pins, connection_key, pinned_transport
from lll.records import FetchedBody

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT_FEEDS = ("application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
                "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _check_location(response: httpx.Response) -> None:
    """Refuse a redirect to somewhere that is not an http(s) URL, naming it — before httpx
    tries to build the next request from it."""
    if response.status_code not in REDIRECT_STATUSES:
        return
    location = response.headers.get("location", "")
    try:
        target = urljoin(str(response.request.url), location)
        scheme = urlsplit(target).scheme
        urlsplit(target).port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise FetchError(f"{response.request.url}: redirect to an invalid URL {location!r}",
                         url=str(response.request.url)) from exc
    if location and scheme not in ("http", "https"):
        raise BlockedAddressError(f"{response.request.url}: redirect to {location!r} refused: "
                                  "only http and https URLs are fetched", url=str(response.request.url))


def _decoder(encoding: str, limit: int) -> Decoder:
    """The decoder for one Content-Encoding; a named codec tolerates a plain document under its label."""
    if encoding.strip().lower() in ("", "identity"):
        return decoder_for(encoding, limit)
    return Mislabelled(encoding, limit)


class HttpClient:
    """Async HTTP GET with every guard LLL needs. Use as ``async with``."""

    def __init__(self, settings: FetchSettings, *, policy: str = "public",
                 resolver: Resolver = system_resolver) -> None:
        self.settings = settings
        self.policy = policy
        self.resolver = resolver
        self._all = asyncio.Semaphore(settings.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host))
        self._client: httpx.AsyncClient | None = None
        self._pins = Pins()

    async def __aenter__(self) -> HttpClient:
        s = self.settings
        limits = httpx.Limits(max_connections=s.concurrency, max_keepalive_connections=s.concurrency)
        self._client = httpx.AsyncClient(
            transport=pinned_transport(self._pins, limits),
            follow_redirects=False,
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout,
                                  pool=s.total_timeout),
            limits=limits,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate, br"},
            trust_env=False,
            event_hooks={"response": [_check_location]},
        )
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                  accept: str = ACCEPT_FEEDS, max_bytes: int | None = None) -> FetchedBody:
        """GET a URL. Raises ``FetchError`` (with a reason a person can act on) on failure;
        returns a body with status 304 when the validators still hold."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        limit = max_bytes or self.settings.max_bytes
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._exchange(url, headers, limit)
            except TimeoutError as exc:
                raise FetchError(f"{url}: no complete response within {self.settings.total_timeout:g} s "
                                 "(server too slow or body never ends)", url=url) from exc
            status, final_url, response_headers, body, warnings = result
            if status in RETRY_STATUSES and attempt <= self.settings.retries:
                delay = retry_after_seconds(response_headers.get("retry-after"))
                if delay is None:
                    delay = self.settings.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)
                if delay <= self.settings.max_retry_after:
                    await asyncio.sleep(delay)
                    continue
            elapsed = time.perf_counter() - started
            if status >= 400:
                hint = response_headers.get("retry-after")
                more = f"; server asks to retry after {hint}" if hint else ""
                raise FetchError(f"{url}: HTTP {status} after {attempt} attempt(s){more}", url=url,
                                 status=status, attempts=attempt)
            return FetchedBody(
                url=url, final_url=final_url, status=status, body=body,
                content_type=response_headers.get("content-type", ""),
                etag=response_headers.get("etag"), last_modified=response_headers.get("last-modified"),
                elapsed=elapsed, attempts=attempt, warnings=warnings)

    async def _exchange(self, url: str, headers: dict[str, str],
                        limit: int) -> tuple[int, str, httpx.Headers, bytes, tuple[str, ...]]:
        """One GET and its redirects. Each hop takes its host's slot, then one of the overall slots:
        a request waiting for a busy host holds no overall slot, so the other hosts go on meanwhile
        (taken the other way round, the sources of one host listed together filled every overall
        slot and fetched at that host's pace). ``total_timeout`` runs from the first hop's slots on,
        so waiting one's turn is not counted as the server's slowness."""
        assert self._client is not None, "use HttpClient as an async context manager"
        current, deadline = url, None
        for _hop in range(self.settings.max_redirects + 1):
            host = urlsplit(current).netloc.lower()
            async with self._hosts[host], self._all:
                if deadline is None:
                    deadline = asyncio.get_running_loop().time() + self.settings.total_timeout
                async with asyncio.timeout_at(deadline):
                    addresses = await check_url(current, self.policy, self.resolver)
                    answer = await self._hop(current, url, headers, limit, addresses)
            if not isinstance(answer, str):
                return answer
            current = answer  # a redirect: the next hop
        raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects (last: {current})", url=url)

    async def _hop(self, current: str, url: str, headers: dict[str, str], limit: int,
                   addresses: list[str]) -> str | tuple[int, str, httpx.Headers, bytes, tuple[str, ...]]:
        """One request of an exchange: the redirect's next URL, or the final answer."""
        assert self._client is not None
        try:
            self._pins.pin(*connection_key(current), addresses)
            request = self._client.build_request("GET", current, headers=headers)
            response = await self._client.send(request, stream=True)
        except httpx.InvalidURL as exc:
            raise FetchError(f"{current}: invalid URL ({exc})", url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"{current}: timed out ({exc.__class__.__name__})", url=url) from exc
        except httpx.TransportError as exc:
            raise FetchError(f"{current}: connection failed ({exc.__class__.__name__}: {exc})",
                             url=url) from exc
        try:
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("location", "")
                if not location:
                    raise FetchError(f"{current}: redirect without Location", url=url)
                return str(urljoin(current, location))
            warnings: tuple[str, ...] = ()
            if response.status_code == 304:
                await response.aread()  # empty: reading it keeps the connection alive
                body = b""
            else:
                body, warnings = await self._read(response, current, limit)
            return response.status_code, current, response.headers, body, warnings
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response, url: str, limit: int) -> tuple[bytes, tuple[str, ...]]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: body of {int(declared):,} bytes is over the {limit:,}-byte cap",
                             url=url, status=response.status_code)
        encodings = [e for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
        try:
            decoders: list[Decoder] = [_decoder(e, limit) for e in reversed(encodings)]
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}", url=url) from exc
        chunks: list[bytes] = []
        size = 0
        try:
            async for raw in response.aiter_raw():
                data = raw
                for decoder in decoders:
                    data = decoder.feed(data)
                size += len(data)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(data)
            tail = b""
            for decoder in decoders:
                tail = decoder.feed(tail) + decoder.flush() if tail else decoder.flush()
            size += len(tail)
            if size > limit:
                raise BodyTooLarge
            chunks.append(tail)
        except BodyTooLarge as exc:
            raise FetchError(f"{url}: body over the {limit:,}-byte cap (after decompression)",
                             url=url, status=response.status_code) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise FetchError(f"{url}: connection broke while reading ({exc.__class__.__name__})",
                             url=url) from exc
        except Exception as exc:  # zlib.error, brotli.error: a corrupt encoding
            if isinstance(exc, FetchError):
                raise
            raise FetchError(f"{url}: corrupt {'/'.join(encodings)} body ({exc})", url=url) from exc
        warnings = tuple(d.warning for d in decoders if isinstance(d, Mislabelled) and d.warning)
        return b"".join(chunks), warnings


__all__ = ["HttpClient", "retry_after_seconds", "BlockedAddressError"]
