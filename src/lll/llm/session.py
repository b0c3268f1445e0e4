"""``ModelSession``: the models of one draft, by role, behind one budget, one cache and
one call log.

``ask(role, template, inputs, schema)`` renders a versioned prompt, answers from the
cache when it can, checks the budget before spending, calls the model, checks that the
reply is the JSON the schema asks for (asking once more, with the error, when it is not),
logs the call and counts its tokens and dollars.

A model that failed for good (429s or 5xx after the retries, timeouts) is not asked
again in the same draft: the writer finishes with the offline writer instead of waiting
on every remaining call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lll.llm.cache import AnswerStore, CachedAnswer, CallRecord, cache_key
from lll.llm.cost import Budget, CostReport, PriceTable, estimate_tokens, usd
from lll.llm.errors import BudgetExceeded, ModelCallError, ModelError, ModelOutputError
from lll.llm.models import LLMModel
from lll.llm.prompts import PromptTemplate, dump

T = TypeVar("T", bound=BaseModel)
ROLES = ("cheap", "strong", "judge")


@dataclass(frozen=True)
class Answer:
    value: Any  # a validated pydantic model
    cached: bool
    text: str


def parse_json(text: str) -> Any:
    """The JSON object in a reply, also when wrapped in a code fence or a sentence."""
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.S)
    if fence:
        stripped = fence.group(1).strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        start, end = stripped.find("{"), stripped.rfind("}")
        if 0 <= start < end:
            return json.loads(stripped[start:end + 1])
        raise


class ModelSession:
    def __init__(self, models: dict[str, LLMModel], *, answers: AnswerStore, prices: PriceTable,
                 budget: Budget, issue_date: str | None = None, max_output_tokens: int = 8000) -> None:
        self.models = models
        self.answers = answers
        self.prices = prices
        self.budget = budget
        self.issue_date = issue_date
        self.max_output_tokens = max_output_tokens
        self.cost = CostReport(budget_usd=budget.cap)
        self.down: dict[str, str] = {}  # model name -> why it is not asked again
        for model in models.values():
            if model.local:
                prices.mark_local(model.name)

    def has(self, role: str) -> bool:
        return role in self.models

    def model_for(self, role: str) -> LLMModel:
        return self.models[role]

    def ask(self, role: str, template: PromptTemplate, inputs: dict[str, Any], schema: type[T], *,
            purpose: str, max_tokens: int | None = None) -> Answer:
        """A validated answer (an instance of ``schema``); raises ``ModelError`` otherwise."""
        model = self.models[role]
        system, user = template.render(inputs)
        json_schema = schema.model_json_schema()
        if not model.supports_schema:
            user += ("\n\nReply with one JSON object that matches this JSON schema, and nothing else:\n"
                     + dump(json_schema))
        try:
            return self._ask(role, model, template, system, user, schema, json_schema, purpose, max_tokens)
        except ModelOutputError as first:
            retry_user = (f"{user}\n\nYour previous reply could not be used ({first}). Reply again with only "
                          f"the JSON object the schema asks for.")
            answer = self._ask(role, model, template, system, retry_user, schema, json_schema, purpose + ":retry",
                               max_tokens)
            # Keep the good answer under the first question too: asking it again makes no call.
            self.answers.put(self._key(model, template, system, user, json_schema), model=model.name,
                             prompt=template.name, prompt_version=template.version,
                             answer=CachedAnswer(answer.text, 0, 0))
            return answer

    @staticmethod
    def _key(model: LLMModel, template: PromptTemplate, system: str, user: str, json_schema: dict[str, Any]) -> str:
        return cache_key(prompt_version=template.cache_version, model=model.model_id, system=system, user=user,
                         schema=json_schema)

    def _ask(self, role: str, model: LLMModel, template: PromptTemplate, system: str, user: str,
             schema: type[T], json_schema: dict[str, Any], purpose: str, max_tokens: int | None) -> Answer:
        key = self._key(model, template, system, user, json_schema)
        record = CallRecord(issue_date=self.issue_date, role=role, model=model.name, purpose=purpose,
                            prompt=template.name, prompt_version=template.version, cache_key=key)
        tally = self.cost.tally(role, model.name)
        hit = self.answers.get(key)
        if hit is not None:
            value = schema.model_validate(parse_json(hit.text))
            tally.cached += 1
            self.answers.log(replace(record, status="cached"))
            return Answer(value, True, hit.text)
        if model.name in self.down:
            raise ModelCallError(f"{model.name} is not asked again in this draft: {self.down[model.name]}",
                                 model=model.name)
        price = self.prices.price(model.model_id, model.name)
        tally.priced = price is not None
        limit = max_tokens or self.max_output_tokens
        worst = usd(price, estimate_tokens(system, user), limit)
        try:
            self.budget.reserve(model.name, worst)
        except BudgetExceeded as exc:
            self.cost.budget_stopped = True
            self.answers.log(replace(record, status="budget", error=str(exc)))
            raise
        try:
            reply = model.complete(system, user, schema=json_schema, max_tokens=limit)
        except ModelError as exc:
            self.cost.failed_calls += 1
            self.answers.log(replace(record, status="error", error=str(exc), attempts=getattr(exc, "attempts", 1)))
            if isinstance(exc, ModelCallError):
                self.down[model.name] = str(exc)
            raise
        spent = usd(price, reply.tokens_in, reply.tokens_out, reply.cached_tokens)
        self.budget.spend(spent)
        tally.calls += 1
        tally.tokens_in += reply.tokens_in
        tally.tokens_out += reply.tokens_out
        tally.cached_tokens += reply.cached_tokens
        tally.usd += spent
        tally.seconds += reply.seconds
        done = replace(record, tokens_in=reply.tokens_in, tokens_out=reply.tokens_out,
                       cached_tokens=reply.cached_tokens, usd=spent, seconds=reply.seconds, attempts=reply.attempts)
        try:
            value = schema.model_validate(parse_json(reply.text))
        except (ValueError, ValidationError) as exc:
            reason = str(exc).splitlines()[0][:200]
            self.answers.log(replace(done, status="invalid", error=reason))
            raise ModelOutputError(f"{model.name}: the reply is not the JSON asked for ({reason})",
                                   model=model.name) from exc
        self.answers.log(replace(done, status="ok"))
        self.answers.put(key, model=model.name, prompt=template.name, prompt_version=template.version,
                         answer=CachedAnswer(reply.text, reply.tokens_in, reply.tokens_out))
        return Answer(value, False, reply.text)
