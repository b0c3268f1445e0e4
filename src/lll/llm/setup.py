"""From ``[models]`` in ``lll.toml`` and the command line to a ``ModelSession``.

Roles: ``cheap`` writes the fact cards, ``strong`` composes and repairs, ``judge``
(optional) adds checks. ``--model X`` puts X in every role not named on the command line;
``--cheap``/``--strong``/``--judge`` name one role; a role left empty takes the other
tier's model. No model anywhere: no session, and the offline writer drafts.
"""

from __future__ import annotations

from dataclasses import dataclass

from lll.config import ModelSettings
from lll.llm.cache import AnswerStore
from lll.llm.cost import Budget, PriceTable
from lll.llm.models import LLMModel, RetryPolicy, open_model
from lll.llm.session import ModelSession


@dataclass(frozen=True)
class ModelChoice:
    """What the command line says; empty fields defer to ``lll.toml``."""

    model: str = ""
    cheap: str = ""
    strong: str = ""
    judge: str = ""
    budget_usd: float | None = None
    offline: bool = False


def resolve_roles(settings: ModelSettings, choice: ModelChoice | None = None) -> dict[str, str]:
    """role -> model name; empty when the offline writer should draft."""
    choice = choice or ModelChoice()
    if choice.offline:
        return {}
    if choice.model:
        cheap, strong = choice.cheap or choice.model, choice.strong or choice.model
    else:
        cheap, strong = choice.cheap or settings.cheap, choice.strong or settings.strong
    cheap, strong = cheap or strong, strong or cheap
    if not strong:
        return {}
    roles = {"cheap": cheap, "strong": strong}
    judge = choice.judge or settings.judge
    if judge:
        roles["judge"] = judge
    return roles


def open_session(settings: ModelSettings, answers: AnswerStore, *, day: str | None,
                 choice: ModelChoice | None = None) -> ModelSession | None:
    """The models of one draft; raises ``ModelSetupError`` (unknown model, missing key) before any call."""
    roles = resolve_roles(settings, choice)
    if not roles:
        return None
    policy = RetryPolicy(timeout=settings.timeout, retries=settings.retries, backoff=settings.backoff)
    opened: dict[str, LLMModel] = {}
    models = {}
    for role, name in roles.items():
        if name not in opened:
            opened[name] = open_model(name, policy)
        models[role] = opened[name]
    cap = choice.budget_usd if choice is not None and choice.budget_usd is not None else settings.budget_usd
    return ModelSession(models, answers=answers, prices=PriceTable(settings.prices), budget=Budget(cap),
                        issue_date=day, max_output_tokens=settings.max_output_tokens)
