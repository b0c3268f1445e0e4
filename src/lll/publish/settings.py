"""Keys and addresses of the publishing targets, read from the environment only.

Keys never go into ``lll.toml``, the database, a receipt, a log line or an error
message: ``Secrets`` remembers every key read so that ``redact`` can scrub any text
that leaves a publisher, in case a server or a library echoes one back.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

from lll.errors import PublishSettingsError

# target → (key variable, base URL variable, default base URL, where to get a key)
HTTP_TARGETS: dict[str, tuple[str, str, str, str]] = {
    "devto": ("LLL_DEVTO_API_KEY", "LLL_DEVTO_BASE_URL", "https://dev.to/api",
              "a key from https://dev.to/settings/extensions"),
    "buttondown": ("LLL_BUTTONDOWN_API_KEY", "LLL_BUTTONDOWN_BASE_URL", "https://api.buttondown.com/v1",
                   "an API key from Buttondown → Settings → API"),
    "ghost": ("LLL_GHOST_ADMIN_API_KEY", "LLL_GHOST_URL", "",
              "an Admin API key id:secret from Ghost Admin → Settings → Integrations"),
}
SMTP_URL = "LLL_SMTP_URL"
UNSUBSCRIBE_SECRET = "LLL_UNSUBSCRIBE_SECRET"


REDACTED = "***"
_B64_CHARS = "A-Za-z0-9+/_-"


def _encoded_forms(value: str) -> Iterator[str]:
    """The spellings of a secret a server might echo: as is, URL-encoded (path, form and
    component style, upper and lower case escapes), and base64 (standard and URL-safe)."""
    yield value
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value)):
        yield encoded
        yield re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)
    raw = value.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        yield encode(raw).decode("ascii").rstrip("=")


def _base64_cores(value: str) -> Iterator[str]:
    """What base64 of the secret looks like inside a longer base64 text (``user:key`` in a Basic
    header): at each of the three alignments, the characters that depend on the secret alone."""
    raw = value.encode()
    for shift in (1, 2):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * shift + raw).decode("ascii").rstrip("=")
            core = text[4:-4]
            if len(core) >= 8:
                yield core


@dataclass
class Secrets:
    """Every secret value read in this run, for scrubbing."""

    values: set[str] = field(default_factory=set)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def add(self, value: str) -> str:
        if value and len(value) >= 4 and value not in self.values:
            self.values.add(value)
            self._pattern = None
        return value

    def redact(self, text: str) -> str:
        """``text`` with every secret, and its URL-encoded and base64 forms, replaced by ``***``.
        Redact first, cut after: a secret cut in half is no longer found."""
        if not self.values or not text:
            return text
        if self._pattern is None:
            self._pattern = self._compile()
        return self._pattern.sub(REDACTED, text)

    def redact_data(self, data: Any) -> Any:
        """A JSON value with every string in it redacted."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, list):
            return [self.redact_data(v) for v in data]
        if isinstance(data, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in data.items()}
        return data

    def _compile(self) -> re.Pattern[str]:
        plain = {form for value in self.values for form in _encoded_forms(value) if len(form) >= 4}
        cores = {core for value in self.values for core in _base64_cores(value)}
        alternatives = [f"[{_B64_CHARS}]*{re.escape(c)}[{_B64_CHARS}]*=*" for c in sorted(cores, key=len, reverse=True)]
        alternatives += [re.escape(f) for f in sorted(plain, key=len, reverse=True)]
        return re.compile("|".join(alternatives))


@dataclass(frozen=True)
class HttpTarget:
    """Where a target's API lives and the key to use. ``repr`` never shows the key."""

    name: str
    base_url: str
    key: str = field(repr=False)
    key_variable: str


def env_value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def http_target(name: str, env: Mapping[str, str] | None = None, secrets: Secrets | None = None) -> HttpTarget:
    """The base URL and key of an HTTP target; a missing key is one line naming the variable."""
    env = os.environ if env is None else env
    key_var, url_var, default_url, how = HTTP_TARGETS[name]
    key = env_value(env, key_var)
    if not key:
        raise PublishSettingsError(f"{name}: set {key_var} ({how})", target=name)
    base = env_value(env, url_var) or default_url
    if not base:
        raise PublishSettingsError(f"{name}: set {url_var} to your Ghost admin address, e.g. "
                                   "https://example.ghost.io", target=name)
    scheme = urlsplit(base).scheme
    if scheme not in ("http", "https") or not urlsplit(base).hostname:
        raise PublishSettingsError(f"{name}: {url_var}={base!r} is not an http(s) URL", target=name)
    if secrets is not None:
        secrets.add(key)
        for part in key.split(":"):  # Ghost's id:secret — either half alone is worth hiding
            if len(part) >= 8:
                secrets.add(part)
    return HttpTarget(name=name, base_url=base.rstrip("/"), key=key, key_variable=key_var)


@dataclass(frozen=True)
class SmtpSettings:
    """``LLL_SMTP_URL``: ``smtp://user:pass@host:587`` (STARTTLS when offered) or
    ``smtps://user:pass@host:465`` (TLS from the start). ``repr`` hides the password."""

    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)

    @property
    def where(self) -> str:
        """Host and port, for messages: never the credentials."""
        return f"{self.host}:{self.port}"


def smtp_settings(env: Mapping[str, str] | None = None, secrets: Secrets | None = None) -> SmtpSettings:
    env = os.environ if env is None else env
    raw = env_value(env, SMTP_URL)
    if not raw:
        raise PublishSettingsError(f"email: set {SMTP_URL} (smtp://user:password@host:587 or smtps://…:465)",
                                   target="email")
    parts = urlsplit(raw)
    password = unquote(parts.password or "")
    if secrets is not None:
        secrets.add(password)
        secrets.add(parts.password or "")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise PublishSettingsError(f"email: {SMTP_URL} must look like smtp://user:password@host:587 "
                                   "or smtps://user:password@host:465", target="email")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError as exc:
        raise PublishSettingsError(f"email: {SMTP_URL} has a bad port", target="email") from exc
    return SmtpSettings(host=parts.hostname, port=port, tls=parts.scheme == "smtps",
                        username=unquote(parts.username or ""), password=password)
