"""Money: a price table, the tokens and dollars of every call, and a budget that
stops spending *before* the cap.

The budget never lets a call start that could cross the cap: before each call it adds
the call's worst case (its prompt, estimated on the safe side, plus the most output it
may write, at the model's prices) to what was spent and refuses when that passes the cap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lll.config import DEFAULT_PRICES, ModelPrice
from lll.llm.errors import BudgetExceeded

_PREFIX = re.compile(r"^(openai|anthropic|ollama|gguf|local)[/:]")
_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")
CHARS_PER_TOKEN_SAFE = 3.0  # English runs ~4 characters a token; 3 overestimates, which is the safe side


def price_key(model: str) -> str:
    """"anthropic/claude-haiku-4-5-20251001", "claude-haiku-4.5" -> "claude-haiku-4-5"."""
    key = _PREFIX.sub("", model.strip().lower())
    key = _SUFFIX.sub("", key)
    return key.replace(".", "-")


class PriceTable:
    """Prices by model, from ``DEFAULT_PRICES`` and ``[models.prices]`` (which wins)."""

    def __init__(self, extra: Iterable[tuple[str, ModelPrice]] = (), local: Iterable[str] = ()) -> None:
        self._prices = {price_key(k): v for k, v in DEFAULT_PRICES.items()}
        self._prices.update({price_key(k): v for k, v in extra})
        self._local = {price_key(m) for m in local}

    def price(self, *names: str) -> ModelPrice | None:
        """The price of the first name known (a model's id, then the name it was chosen by)."""
        for name in names:
            key = price_key(name)
            if key in self._local:
                return ModelPrice(0.0, 0.0, 0.0)
            if key in self._prices:
                return self._prices[key]
        return None

    def mark_local(self, name: str) -> None:
        """A model that runs here (Ollama, llama.cpp): it costs nothing."""
        self._local.add(price_key(name))


def usd(price: ModelPrice | None, tokens_in: int, tokens_out: int, cached_tokens: int = 0) -> float:
    """The cost of one call. ``tokens_in`` counts every input token, cached ones included."""
    if price is None:
        return 0.0
    cached = min(cached_tokens, tokens_in)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    return ((tokens_in - cached) * price.input + cached * cached_rate + tokens_out * price.output) / 1_000_000


def estimate_tokens(*texts: str) -> int:
    return math.ceil(sum(len(t) for t in texts) / CHARS_PER_TOKEN_SAFE) + 16


@dataclass
class RoleTally:
    model: str
    calls: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    usd: float = 0.0
    seconds: float = 0.0
    priced: bool = True


@dataclass
class CostReport:
    """What the models of one draft cost, by role; the source of the cost line."""

    roles: dict[str, RoleTally] = field(default_factory=dict)
    failed_calls: int = 0
    budget_usd: float | None = None
    budget_stopped: bool = False

    def tally(self, role: str, model: str) -> RoleTally:
        return self.roles.setdefault(role, RoleTally(model))

    @property
    def calls(self) -> int:
        return sum(t.calls for t in self.roles.values())

    @property
    def cached(self) -> int:
        return sum(t.cached for t in self.roles.values())

    @property
    def tokens_in(self) -> int:
        return sum(t.tokens_in for t in self.roles.values())

    @property
    def tokens_out(self) -> int:
        return sum(t.tokens_out for t in self.roles.values())

    @property
    def cached_tokens(self) -> int:
        return sum(t.cached_tokens for t in self.roles.values())

    @property
    def usd(self) -> float:
        return sum(t.usd for t in self.roles.values())

    @property
    def seconds(self) -> float:
        return sum(t.seconds for t in self.roles.values())

    def unpriced(self) -> list[str]:
        return sorted({t.model for t in self.roles.values() if not t.priced and t.calls})

    def line(self) -> str:
        """``cost $0.0123 (9 model calls, 3 cached; 12,345 tokens in, 2,345 out)``."""
        models = ", ".join(dict.fromkeys(t.model for t in self.roles.values()))
        bits = [f"{self.calls} model call{'s' if self.calls != 1 else ''}", f"{self.cached} cached"]
        text = (f"cost ${self.usd:.4f} ({models}: {', '.join(bits)}; {self.tokens_in:,} tokens in, "
                f"{self.tokens_out:,} out")
        if self.cached_tokens:
            text += f", {self.cached_tokens:,} of them from the provider's cache"
        if self.unpriced():
            text += f"; no price for {', '.join(self.unpriced())}: add it to [models.prices]"
        if self.budget_stopped:
            text += f"; budget ${self.budget_usd:.2f} reached"
        return text + ")"

    def as_json(self) -> dict[str, object]:
        return {
            "model_calls": self.calls, "cached_calls": self.cached, "failed_calls": self.failed_calls,
            "tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "cached_tokens": self.cached_tokens,
            "usd": round(self.usd, 6), "seconds": round(self.seconds, 3), "budget_usd": self.budget_usd,
            "budget_stopped": self.budget_stopped, "unpriced_models": self.unpriced(),
            "by_role": {role: {"model": t.model, "calls": t.calls, "cached": t.cached, "tokens_in": t.tokens_in,
                               "tokens_out": t.tokens_out, "cached_tokens": t.cached_tokens,
                               "usd": round(t.usd, 6), "seconds": round(t.seconds, 3)}
                        for role, t in self.roles.items()},
        }


class Budget:
    """A cap in USD for one draft. ``reserve`` refuses a call whose worst case could cross it."""

    def __init__(self, cap_usd: float | None) -> None:
        self.cap = cap_usd
        self.spent = 0.0

    def reserve(self, model: str, worst_case_usd: float) -> None:
        if self.cap is None:
            return
        if self.spent + worst_case_usd > self.cap + 1e-12:
            raise BudgetExceeded(
                f"budget ${self.cap:.2f} reached: ${self.spent:.4f} spent, the next call to {model} could "
                f"cost up to ${worst_case_usd:.4f}", model=model, spent=self.spent, cap=self.cap)

    def spend(self, amount: float) -> None:
        self.spent += amount
