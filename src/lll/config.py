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
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from lll import __version__
from lll.errors import WorkspaceError

USER_AGENT = f"LLL/{__version__} (Large Language Letters newsletter drafter; +https://pypi.org/project/lll/)"


# What each setting accepts, checked when lll.toml is read (``load_config``): TOML's own types, no
# quoted "false" or "16". The names below are the settings' types for the type checker; the
# constraints are built with pydantic only when a file is read (``_constrained``), so that a
# command that never reads lll.toml does not import pydantic.
if TYPE_CHECKING:
    Positive = int       # 1 or more
    Count = int          # 0 or more
    Seconds = float      # more than 0
    Wait = float         # 0 or more
    Fulltext = str       # auto | always | never
    SourceFulltext = str  # "" (the workspace's setting) | auto | always | never
    Tags = tuple[str, ...]  # 1 to 4, lowercase letters and digits


@cache
def _constrained() -> dict[str, Any]:
    """The types named above, with their constraints; a description is what the one-line error
    says is allowed."""
    from pydantic import Field, StringConstraints

    fulltext = 'one of "auto", "always", "never"'
    return {
        "Positive": Annotated[int, Field(ge=1)],
        "Count": Annotated[int, Field(ge=0)],
        "Seconds": Annotated[float, Field(gt=0, allow_inf_nan=False)],
        "Wait": Annotated[float, Field(ge=0, allow_inf_nan=False)],
        "Fulltext": Annotated[str, Field(pattern="^(auto|always|never)$", description=fulltext)],
        "SourceFulltext": Annotated[str, Field(pattern="^(|auto|always|never)$", description=fulltext)],
        "Tags": Annotated[tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$")], ...], Field(
            min_length=1, max_length=4,
            description='1 to 4 tags of lowercase letters and digits, e.g. tags = ["ai", "research"]')],
    }


@dataclass(frozen=True)
class NewsletterSettings:
    name: str = "Large Language Letters"
    tags: Tags = ("ai",)
    field: str = "AI"
    base_url: str = ""


@dataclass(frozen=True)
class FetchSettings:
    concurrency: Positive = 16
    per_host: Positive = 4
    connect_timeout: Seconds = 5.0
    read_timeout: Seconds = 10.0
    total_timeout: Seconds = 30.0
    max_bytes: Positive = 20_000_000
    max_redirects: Count = 5
    retries: Count = 2
    backoff: Wait = 0.5
    max_retry_after: Wait = 30.0
    allow_private: bool = False
    fulltext: Fulltext = "auto"
    fulltext_per_source: Count = 10
    fulltext_max_age_days: Count = 7
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class DraftSettings:
    lookback_days: Positive = 7
    max_stories: Positive = 12


@dataclass(frozen=True)
class PublishSettings:
    targets: tuple[str, ...] = ()  # what `lll run` publishes to after drafting
    timeout: Seconds = 20.0        # seconds for one request to a target
    retries: Count = 3             # on 429, 5xx and lost connections, with backoff
    backoff: Wait = 1.0            # seconds, doubled on each retry when no Retry-After is given
    max_retry_after: Wait = 60.0   # never wait longer than this on one Retry-After
    write_interval: Wait = 1.1     # DEV allows one write a second per key


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
    feed_items: Positive = 50  # issues in each feed, newest first
    author: str = ""        # the feeds' author (default: the newsletter's name)
    description: str = ""   # the feeds' description


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens. ``cached_input`` is what a provider charges for prompt-cache
    hits (defaults to ``input``)."""

    input: Wait
    output: Wait
    cached_input: Wait | None = None


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
    budget_usd: Wait = 0.50      # per draft; spending stops before the cap
    timeout: Seconds = 60.0      # seconds per call
    retries: Count = 2           # on 429, 5xx and timeouts, with exponential backoff
    backoff: Wait = 1.0          # first wait, seconds (Retry-After wins when the server sends it)
    repair_rounds: Count = 2     # times a failing sentence goes back to the model
    max_output_tokens: Positive = 8000  # per call; the budget counts a call's worst case with it
    prices: tuple[tuple[str, ModelPrice], ...] = ()  # [models.prices], over DEFAULT_PRICES

    @property
    def configured(self) -> bool:
        return bool(self.cheap or self.strong)


@dataclass(frozen=True)
class SourceDecl:
    url: str
    name: str = ""
    weight: Wait = 1.0
    kind: str = ""
    fulltext: SourceFulltext = ""


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


@cache
def _model(cls: type) -> Any:
    """A strict pydantic model of a settings dataclass: its fields, their types and constraints."""
    from pydantic import ConfigDict, create_model

    hints = typing.get_type_hints(cls, localns=_constrained(), include_extras=True)
    spec: dict[str, Any] = {f.name: (hints[f.name], ... if f.default is MISSING else f.default)
                            for f in fields(cls) if f.name != "prices"}
    return create_model(cls.__name__, __config__=ConfigDict(strict=True, extra="forbid"), **spec)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


_ALLOWED = {
    "bool_type": "true or false (unquoted)", "int_type": "a whole number (unquoted)",
    "float_type": "a number (unquoted)", "string_type": "a quoted string", "tuple_type": "a list, [...]",
    "finite_number": "a finite number", "extra_forbidden": "nothing: it is not a setting (see the defaults that "
    "`lll init` writes, or src/lll/config.py)", "missing": "a value: it is required",
}


def _allowed(error: Any, described: str) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if described and kind not in ("bool_type", "int_type", "float_type", "string_type", "extra_forbidden"):
        return described
    if kind in _ALLOWED:
        return _ALLOWED[kind]
    bounds = {"greater_than_equal": "{ge} or more", "greater_than": "more than {gt}",
              "less_than_equal": "{le} or less", "less_than": "less than {lt}"}
    if kind in bounds:
        return "a number " + bounds[kind].format(**{k: f"{v:g}" if isinstance(v, int | float) else v
                                                    for k, v in ctx.items()})
    return str(error["msg"]).removeprefix("Input should be ").removeprefix("String should ")


def _section(cls: type, data: Any, where: str, table: str) -> Any:
    """``cls`` from the TOML table ``data``, every value checked: a wrong one is one line naming the
    file, the key, the value and what is allowed (``WorkspaceError``, exit status 2)."""
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: {table} must be a table of settings, not {_toml_value(data)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    from pydantic import ValidationError

    model = _model(cls)
    try:
        checked = model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        info = model.model_fields.get(key)
        shown = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"][1:])
        if error["type"] == "extra_forbidden":
            raise WorkspaceError(f"{where}: {table} {key}: unknown setting; see the defaults that `lll init` "
                                 f"writes (src/lll/config.py)") from exc
        raise WorkspaceError(f"{where}: {table} {key}{shown} = {_toml_value(error['input'])}: allowed is "
                             f"{_allowed(error, (info.description or '') if info else '')}") from exc
    return cls(**{name: getattr(checked, name) for name in values})


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
        if not isinstance(price, dict) or not {"input", "output"} <= set(price):
            raise WorkspaceError(f"{where}: [models.prices] {name!r}: give input and output in USD per "
                                 f"million tokens (and optionally cached_input)")
        prices.append((name, _section(ModelPrice, price, where, f"[models.prices] {name!r}:")))
    settings: ModelSettings = _section(ModelSettings, rest, where, "[models]")
    return replace(settings, prices=tuple(prices))


def load_config(path: Path) -> Config:
    """Read ``lll.toml``; a missing file gives the defaults. Every value is checked here, so a bad
    one stops the command at once (exit status 2) instead of failing later, or worse, being read
    as something else (``allow_private = "false"`` is a string, and a string is not false)."""
    if not path.exists():
        return Config().with_env()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid TOML ({exc}); fix the file or delete it") from exc
    where = str(path)
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise WorkspaceError(f"{where}: sources must be [[sources]] tables")
    sources = tuple(_section(SourceDecl, s, where, f"[[sources]] #{n}") for n, s in enumerate(raw_sources, 1))
    database = data.get("database", {})
    url = database.get("url", "") if isinstance(database, dict) else None
    if not isinstance(url, str):
        raise WorkspaceError(f"{where}: [database] url = {_toml_value(url)}: allowed is a quoted database URL")
    return Config(
        newsletter=_section(NewsletterSettings, data.get("newsletter"), where, "[newsletter]"),
        fetch=_section(FetchSettings, data.get("fetch"), where, "[fetch]"),
        draft=_section(DraftSettings, data.get("draft"), where, "[draft]"),
        publish=_section(PublishSettings, data.get("publish"), where, "[publish]"),
        email=_section(EmailSettings, data.get("email"), where, "[email]"),
        archive=_section(ArchiveSettings, data.get("archive"), where, "[archive]"),
        sources=sources,
        database_url=url,
        models=_models(data.get("models"), where),
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
