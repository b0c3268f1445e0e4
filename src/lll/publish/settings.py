"""Keys and addresses of the publishing targets, read from the environment only.

Keys never go into ``lll.toml``, the database, a receipt, a log line or an error
message: ``Secrets`` remembers every key read so that ``redact`` can scrub any text
that leaves a publisher, in case a server or a library echoes one back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

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


@dataclass
class Secrets:
    """Every secret value read in this run, for scrubbing."""

    values: set[str] = field(default_factory=set)

    def add(self, value: str) -> str:
        if value and len(value) >= 4:
            self.values.add(value)
        return value

    def redact(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


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
