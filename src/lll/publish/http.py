"""``Api``: the JSON client every HTTP target shares.

Classifies each failure by what it means for idempotency:

- not sent (connect error): retried, any method;
- 401/403: refused, the key is wrong — ``PublishError`` naming the variable;
- 429: waits ``Retry-After`` (seconds or a date; capped), else exponential backoff; a
  POST is then handed back as ``Unclear`` so that the caller looks the object up before
  sending it again; other methods are retried here;
- 5xx or a lost answer after sending: a GET, PUT or PATCH is retried (they are
  idempotent); a POST is ``Unclear``;
- other 4xx: returned, for the target to read.

Redirects are never followed: an API key in a header must not travel to another host.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from lll.config import USER_AGENT, PublishSettings
from lll.errors import PublishError
from lll.fetch.http import retry_after_seconds
from lll.publish.ledger import RemoteObject, Unclear, publish_once
from lll.publish.model import PublishableIssue, Receipt
from lll.publish.settings import http_target

if TYPE_CHECKING:
    from lll.publish.registry import PublishContext

log = logging.getLogger("lll.publish")
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD"})


@dataclass(frozen=True)
class Response:
    status: int
    data: Any
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)


class Api:
    """One target's API. ``auth`` builds the auth headers for each request (Ghost mints a
    fresh token per request); ``explain`` turns an error body into one sentence."""

    def __init__(self, target: str, base_url: str, *, auth: Callable[[], dict[str, str]],
                 settings: PublishSettings, key_variable: str, explain: Callable[[Response], str],
                 headers: Mapping[str, str] | None = None, sleep: Callable[[float], None] = time.sleep,
                 redact: Callable[[str], str] = lambda s: s, label: str = "",
                 redact_data: Callable[[Any], Any] | None = None) -> None:
        self.target = target
        self.label = label or target
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.settings = settings
        self.key_variable = key_variable
        self.explain = explain
        self.sleep = sleep
        self.redact = redact
        self.redact_data: Callable[[Any], Any] = redact_data or (lambda d: redact(d) if isinstance(d, str) else d)
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """Opened on the first request, so a publisher that sends nothing holds no connection."""
        if self._client is None:
            timeout = httpx.Timeout(self.settings.timeout, connect=min(10.0, self.settings.timeout))
            self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                                        headers=self.headers)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def error(self, message: str, *, status: int | None = None, state: str = "failed") -> PublishError:
        return PublishError(self.redact(message), target=self.target, status=status, state=state)

    def request(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None) -> Response:
        method = method.upper()
        url = self.url(path)
        where = urlsplit(url).path
        retries = max(0, self.settings.retries)
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                raw = self.client.request(method, url, json=json_body, params=params,
                                          headers={**self.auth(), **(headers or {})})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                if last:
                    raise self.error(f"{self.label}: cannot reach {urlsplit(url).netloc} "
                                     f"({exc.__class__.__name__}); check the address and try again") from exc
                self._backoff(attempt, None)
                continue
            except httpx.TransportError as exc:  # sent, but the answer was lost or late
                log.info("%s %s %s: %s after sending", self.target, method, where, exc.__class__.__name__)
                if method not in IDEMPOTENT:
                    raise Unclear(self.redact(f"{self.label}: no answer to {method} {where} "
                                              f"({exc.__class__.__name__}); it may have been received"),
                                  target=self.target) from exc
                if last:
                    raise self.error(f"{self.label}: no answer to {method} {where} ({exc.__class__.__name__}) "
                                     f"after {retries + 1} tries; try again later", state="unclear") from exc
                self._backoff(attempt, None)
                continue
            response = _response(raw, self.redact_data)
            log.info("%s %s %s -> %s", self.target, method, where, response.status)
            if response.status in (401, 403):
                raise self.error(f"{self.label} refused the key ({response.status} {self.explain(response)}): "
                                 f"check {self.key_variable}", status=response.status)
            if response.status == 429:
                wait = self._backoff(attempt, response.headers.get("retry-after"))
                if method not in IDEMPOTENT:
                    raise Unclear(f"{self.label}: rate limited (429) on {method} {where}; waited {wait:.1f} s",
                                  target=self.target, status=429)
                if last:
                    raise self.error(f"{self.label}: still rate limited (429) after {retries + 1} tries; "
                                     "try again in a minute", status=429)
                continue
            if response.status >= 500:
                if method not in IDEMPOTENT:
                    raise Unclear(self.redact(f"{self.label} answered {response.status} to {method} {where} "
                                              f"({self.explain(response)}); it may still have been made"),
                                  target=self.target, status=response.status)
                if last:
                    raise self.error(f"{self.label} answered {response.status} to {method} {where} "
                                     f"({self.explain(response)}); try again later", status=response.status,
                                     state="unclear" if method != "GET" else "failed")
                self._backoff(attempt, response.headers.get("retry-after"))
                continue
            if 300 <= response.status < 400:
                raise self.error(f"{self.label} answered {response.status} (a redirect to "
                                 f"{response.headers.get('location', '?')}): check the base URL",
                                 status=response.status)
            return response
        raise self.error(f"{self.label}: gave up on {method} {where}")  # pragma: no cover - loop always returns

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        wait = retry_after_seconds(retry_after)
        if wait is None:
            wait = self.settings.backoff * (2 ** attempt)
        wait = min(wait, self.settings.max_retry_after)
        if wait > 0:
            self.sleep(wait)
        return wait

    def refused(self, what: str, response: Response, hint: str = "") -> PublishError:
        """A 4xx that is the target's final word, as one line that says what to fix."""
        message = f"{self.label} refused {what} ({response.status}): {self.explain(response)}"
        return self.error(message + (f"; {hint}" if hint else ""), status=response.status)


def _response(raw: httpx.Response, redact: Callable[[Any], Any]) -> Response:
    """The answer with every secret scrubbed from it at once — body, parsed JSON and headers — so
    that nothing read from it (an error cut to 200 characters, a returned URL) can carry a key."""
    text = raw.text
    data: Any = None
    if text.strip():
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    headers = {k.lower(): redact(v) for k, v in raw.headers.items()}
    return Response(raw.status_code, redact(data), redact(text), headers)


class ApiPublisher:
    """What the HTTP targets share: an ``Api`` built from the target's settings, and a publish
    that goes through the publication ledger and closes the connection whatever happens.

    A subclass sets ``name`` and ``label`` and implements ``auth`` (the headers for one request,
    from the key), ``explain`` and the ledger's remote operations (``find``, ``create``, ...)."""

    name: str
    label: str
    public: bool = False
    extra_headers: Mapping[str, str] = {}

    def __init__(self, ctx: PublishContext) -> None:
        self.ctx = ctx
        target = http_target(self.name, ctx.env, ctx.secrets)
        key = target.key
        self.check_key(key)
        self.api = Api(self.name, self.api_root(target.base_url), auth=lambda: self.auth(key),
                       settings=ctx.config.publish, key_variable=target.key_variable, explain=self.explain,
                       label=self.label, headers=self.extra_headers, sleep=ctx.sleep, redact=ctx.secrets.redact,
                       redact_data=ctx.secrets.redact_data)

    def check_key(self, key: str) -> None:
        """Refuse a malformed key before anything is sent (nothing to check by default)."""

    def api_root(self, base_url: str) -> str:
        return base_url

    def auth(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    @staticmethod
    def explain(response: Response) -> str:
        raise NotImplementedError

    # the ledger's remote operations (``RemoteOps``), one set per target
    def find(self, issue: PublishableIssue) -> RemoteObject | None:
        raise NotImplementedError

    def create(self, issue: PublishableIssue) -> RemoteObject:
        raise NotImplementedError

    def update(self, remote_id: str, issue: PublishableIssue, detail: dict[str, Any]) -> RemoteObject:
        raise NotImplementedError

    def publish(self, issue: PublishableIssue, *, dry_run: bool) -> Receipt:
        try:
            return publish_once(self.ctx.slot, issue, self, dry_run=dry_run,
                                attempts=self.ctx.config.publish.retries + 1)
        finally:
            self.api.close()
