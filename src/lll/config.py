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

    [models]                  # optional: write with language models (see ``lll.llm``)
    cheap = "gpt-4o-mini"     # fact cards, one cached call per story
    strong = "claude-sonnet-4.5"  # composes the issue from the plan and the fact cards
    budget_usd = 0.5          # per draft; the offline writer finishes the issue at the cap

    [models.prices]           # USD per million tokens; extends DEFAULT_PRICES
    "my-model" = { input = 0.2, output = 0.8, cached_input = 0.05 }
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
class ModelPrice:
    """USD per million tokens. ``cached_input`` is what a provider charges for prompt-cache
    hits (defaults to ``input``)."""

    input: float
    output: float
    cached_input: float | None = None


# Published list prices, USD per million tokens (check your provider's page; override or
# extend in ``[models.prices]``). Keys are model ids without provider prefix or date suffix,
# dots read as dashes: "claude-haiku-4.5", "anthropic/claude-haiku-4-5-20251001" -> "claude-haiku-4-5".
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.15, 0.60, 0.075),
    "gpt-4o": ModelPrice(2.50, 10.00, 1.25),
    "gpt-4-1": ModelPrice(2.00, 8.00, 0.50),
    "gpt-4-1-mini": ModelPrice(0.40, 1.60, 0.10),
    "gpt-4-1-nano": ModelPrice(0.10, 0.40, 0.025),
    "gpt-5": ModelPrice(1.25, 10.00, 0.125),
    "gpt-5-mini": ModelPrice(0.25, 2.00, 0.025),
    "gpt-5-nano": ModelPrice(0.05, 0.40, 0.005),
    "claude-3-5-haiku": ModelPrice(0.80, 4.00, 0.08),
    "claude-haiku-4-5": ModelPrice(1.00, 5.00, 0.10),
    "claude-sonnet-4": ModelPrice(3.00, 15.00, 0.30),
    "claude-sonnet-4-5": ModelPrice(3.00, 15.00, 0.30),
    "claude-opus-4-1": ModelPrice(15.00, 75.00, 1.50),
    "claude-opus-4-5": ModelPrice(5.00, 25.00, 0.50),
}


@dataclass(frozen=True)
class ModelSettings:
    """``[models]``: which model plays which role. No model set: the offline writer."""

    cheap: str = ""              # fact cards (one cached call per story)
    strong: str = ""             # composes the issue from the plan and the cards; repairs
    judge: str = ""              # optional: adds checks on top of the verifier, never replaces it
    budget_usd: float = 0.50     # per draft; spending stops before the cap
    timeout: float = 60.0        # seconds per call
    retries: int = 2             # on 429, 5xx and timeouts, with exponential backoff
    backoff: float = 1.0         # first wait, seconds (Retry-After wins when the server sends it)
    repair_rounds: int = 2       # times a failing sentence goes back to the model
    max_output_tokens: int = 8000  # per call; the budget counts a call's worst case with it
    prices: tuple[tuple[str, ModelPrice], ...] = ()  # [models.prices], over DEFAULT_PRICES

    @property
    def configured(self) -> bool:
        return bool(self.cheap or self.strong)


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
    models: ModelSettings = field(default_factory=ModelSettings)

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


def _models(data: Any, where: str) -> ModelSettings:
    if data is None:
        return ModelSettings()
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: [models] must be a table")
    rest = dict(data)
    raw_prices = rest.pop("prices", {})
    if not isinstance(raw_prices, dict):
        raise WorkspaceError(f"{where}: [models.prices] must be a table of model = {{ input = .., output = .. }}")
    prices = []
    for name, price in sorted(raw_prices.items()):
        try:
            prices.append((name, ModelPrice(**price)))
        except TypeError as exc:
            raise WorkspaceError(f"{where}: [models.prices] {name!r}: give input and output in USD per "
                                 f"million tokens (and optionally cached_input)") from exc
    settings = _section(ModelSettings, rest, where)
    if settings.budget_usd < 0:
        raise WorkspaceError(f"{where}: [models] budget_usd must be 0 or more")
    return replace(settings, prices=tuple(prices))


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
        models=_models(data.get("models"), str(path)),
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

# Write with language models (through simonw's `llm`: OpenAI, `llm-anthropic`, `llm-ollama`,
# any OpenAI-compatible server in llm's extra-openai-models.yaml). No model: the offline writer.
# Keys come from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY) or `llm keys set NAME`.
# [models]
# cheap = "gpt-4o-mini"        # fact cards, one cached call per story
# strong = "claude-sonnet-4.5" # composes the issue from the plan and the fact cards
# judge = ""                   # optional: extra checks on top of the verifier
# budget_usd = 0.5             # per draft; the offline writer finishes the issue at the cap
# timeout = 60.0               # seconds per call; retries = 2 on 429, 5xx and timeouts

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
