"""Configuration: every default in one place, overridden by ``lll.toml``.

``lll.toml`` lives in the workspace folder::

    [newsletter]
    name = "Large Language Letters"
    tags = ["ai"]

    [fetch]
    concurrency = 16          # requests in flight overall
    per_host = 4              # requests in flight per host
    allow_private = false     # SSRF guard; LLL_ALLOW_PRIVATE=1 also allows

    [[sources]]               # optional: sources declared here are merged into the database
    url = "https://example.com/feed.xml"
    name = "Example Weekly"
    weight = 1.5

    [publish]                 # `lll publish DATE --to TARGET`; keys come from the environment only
    targets = ["archive"]     # what `lll run` publishes to after drafting

    [email]
    sender = "Large Language Letters <letters@example.com>"
    recipients = ["reader@example.com"]
    unsubscribe_url = "https://example.com/unsubscribe/{token}"

    [archive]
    path = "archive"          # the static site, relative to the workspace
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lll import __version__
from lll.errors import WorkspaceError

USER_AGENT = f"LLL/{__version__} (Large Language Letters newsletter drafter; +https://pypi.org/project/lll/)"


@dataclass(frozen=True)
class NewsletterSettings:
    name: str = "Large Language Letters"
    tags: tuple[str, ...] = ("ai",)
    field: str = "AI"
    base_url: str = ""


@dataclass(frozen=True)
class FetchSettings:
    concurrency: int = 16
    per_host: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0
    allow_private: bool = False
    fulltext: str = "auto"
    fulltext_per_source: int = 10
    fulltext_max_age_days: int = 7
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class DraftSettings:
    lookback_days: int = 7
    max_stories: int = 12


@dataclass(frozen=True)
class PublishSettings:
    targets: tuple[str, ...] = ()  # what `lll run` publishes to after drafting
    timeout: float = 20.0          # seconds for one request to a target
    retries: int = 3               # on 429, 5xx and lost connections, with backoff
    backoff: float = 1.0           # seconds, doubled on each retry when no Retry-After is given
    max_retry_after: float = 60.0  # never wait longer than this on one Retry-After
    write_interval: float = 1.1    # DEV allows one write a second per key


@dataclass(frozen=True)
class EmailSettings:
    sender: str = ""                    # "Name <letters@example.com>"
    recipients: tuple[str, ...] = ()
    unsubscribe_url: str = ""           # https URL with {token}: one-click unsubscribe (RFC 8058)
    unsubscribe_mailto: str = ""        # optional second List-Unsubscribe address
    list_id: str = ""                   # default: derived from the sender's domain


@dataclass(frozen=True)
class ArchiveSettings:
    path: str = "archive"   # the static site's folder, relative to the workspace
    feed_items: int = 50    # issues in each feed, newest first
    author: str = ""        # the feeds' author (default: the newsletter's name)
    description: str = ""   # the feeds' description


@dataclass(frozen=True)
class SourceDecl:
    url: str
    name: str = ""
    weight: float = 1.0
    kind: str = ""
    fulltext: str = ""


@dataclass(frozen=True)
class Config:
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    draft: DraftSettings = field(default_factory=DraftSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    sources: tuple[SourceDecl, ...] = ()
    database_url: str = ""

    def with_env(self) -> Config:
        """Apply the environment switches documented in cli.md."""
        if os.environ.get("LLL_ALLOW_PRIVATE", "").strip() in {"1", "true", "yes"}:
            return replace(self, fetch=replace(self.fetch, allow_private=True))
        return self


def _section(cls: type, data: Any, where: str) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: [{cls.__name__}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise WorkspaceError(f"{where}: unknown setting(s) {', '.join(unknown)}; see `lll init` defaults")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


def load_config(path: Path) -> Config:
    """Read ``lll.toml``; a missing file gives the defaults."""
    if not path.exists():
        return Config().with_env()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid TOML ({exc}); fix the file or delete it") from exc
    sources = tuple(_section(SourceDecl, s, str(path)) for s in data.get("sources", []))
    return Config(
        newsletter=_section(NewsletterSettings, data.get("newsletter"), str(path)),
        fetch=_section(FetchSettings, data.get("fetch"), str(path)),
        draft=_section(DraftSettings, data.get("draft"), str(path)),
        publish=_section(PublishSettings, data.get("publish"), str(path)),
        email=_section(EmailSettings, data.get("email"), str(path)),
        archive=_section(ArchiveSettings, data.get("archive"), str(path)),
        sources=sources,
        database_url=str(data.get("database", {}).get("url", "")),
    ).with_env()


def default_toml(name: str) -> str:
    """The ``lll.toml`` that ``lll init`` writes: the defaults, commented."""
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f"""# LLL workspace settings. Every value shown is the default.

[newsletter]
name = "{quoted}"
tags = ["ai"]            # 1 to 4 lowercase alphanumeric tags
# base_url = "https://example.com/letters/"   # where the static archive is served

[fetch]
concurrency = 16         # requests in flight overall
per_host = 4             # requests in flight per host
total_timeout = 30.0     # seconds for a whole response
max_bytes = 20000000     # cap on a body, also after decompression
retries = 2              # on 429 and 5xx, honouring Retry-After
allow_private = false    # SSRF guard: refuse private and loopback addresses
fulltext = "auto"        # fetch article pages of summary-only items: auto | always | never

[draft]
lookback_days = 7        # when there is no previous issue

[publish]
targets = []             # what `lll run` publishes to after drafting: devto, email, buttondown, ghost, archive
# Keys come from the environment only (see the README): LLL_DEVTO_API_KEY, LLL_BUTTONDOWN_API_KEY,
# LLL_GHOST_ADMIN_API_KEY + LLL_GHOST_URL, LLL_SMTP_URL, LLL_UNSUBSCRIBE_SECRET.

# [email]
# sender = "Large Language Letters <letters@example.com>"
# recipients = ["reader@example.com"]
# unsubscribe_url = "https://example.com/unsubscribe/{{token}}"

[archive]
path = "archive"         # the static site (needs [newsletter] base_url)
feed_items = 50

# Sources may be declared here as well as with `lll sources add`:
# [[sources]]
# url = "https://example.com/feed.xml"
# name = "Example Weekly"
# weight = 1.5
"""
