"""Money, prompts and the cache: the price table, the budget that stops before the cap,
versioned prompt templates, the content-hash cache and the session that ties them to
one model call log — checked against the scripted OpenAI-protocol server."""

from __future__ import annotations

from pathlib import Path

import pytest



from pydantic import BaseModel

from fakes.fixtures import PRICES, expected_usd, llm_home, openai_server  # noqa: F401 - fixtures
from fakes.scripted import Garbage, Status
from lll.config import DEFAULT_PRICES, ModelPrice, ModelSettings, load_config
from lll.errors import WorkspaceError
from lll.llm import (Budget, BudgetExceeded, ModelCallError, ModelChoice, ModelOutputError, ModelSession, PriceTable,
                     RetryPolicy, open_model, resolve_roles)
from lll.llm.cache import MemoryAnswers, cache_key
from lll.llm.cost import price_key, usd
from lll.llm.prompts import load_prompt, packaged_prompts, parse_template
from lll.llm.session import parse_json


class Card(BaseModel):
    what: str


def session(models: dict[str, str], *, cap: float | None = 1.0, answers: MemoryAnswers | None = None) -> ModelSession:
    opened = {role: open_model(name, RetryPolicy(timeout=1.0, retries=1, backoff=0.01)) for role, name in models.items()}
    prices = PriceTable([(m, ModelPrice(*p)) for m, p in PRICES.items()])
    return ModelSession(opened, answers=answers or MemoryAnswers(), prices=prices, budget=Budget(cap),
                        issue_date="2026-04-10", max_output_tokens=800)


CARD = {"task": "fact_card", "title": "Glasswing",
        "sources": [{"name": "Anthropic News", "text": "Mythos Preview scores 83.1% on CyberGym, a benchmark of "
                                                       "1,507 tasks. It is the best score yet."}]}


def test_price_keys_and_the_table() -> None:
    assert price_key("anthropic/claude-haiku-4-5-20251001") == price_key("claude-haiku-4.5") == "claude-haiku-4-5"
    assert price_key("gpt-4o-mini") == "gpt-4o-mini" and price_key("openai/gpt-4.1") == "gpt-4-1"
    table = PriceTable([("my-model", ModelPrice(1.0, 2.0))], local=["llama3.2"])
    assert table.price("anthropic/claude-sonnet-4-5", "claude-sonnet-4.5") == DEFAULT_PRICES["claude-sonnet-4-5"]
    assert table.price("unknown", "my-model") == ModelPrice(1.0, 2.0)
    assert table.price("llama3.2") == ModelPrice(0.0, 0.0, 0.0) and table.price("nope") is None
    # OpenAI counts cached tokens inside the input: they are charged at the cached rate.
    assert usd(ModelPrice(0.15, 0.60, 0.075), 1_000_000, 1_000_000, 400_000) == pytest.approx(0.09 + 0.03 + 0.60)
    assert usd(None, 10**9, 10**9) == 0.0


def test_models_section_of_lll_toml(tmp_path: Path) -> None:
    path = tmp_path / "lll.toml"
    path.write_text('[models]\ncheap = "gpt-4o-mini"\nstrong = "claude-sonnet-4.5"\nbudget_usd = 0.25\n'
                    '[models.prices]\n"my-model" = { input = 0.2, output = 0.8 }\n', encoding="utf-8")
    models = load_config(path).models
    assert (models.cheap, models.strong, models.judge, models.budget_usd) == ("gpt-4o-mini", "claude-sonnet-4.5", "", 0.25)
    assert models.prices == (("my-model", ModelPrice(0.2, 0.8)),) and models.configured
    path.write_text('[models]\ncheep = "x"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="unknown setting"):
        load_config(path)
    path.write_text('[models.prices]\n"m" = { input = 1 }\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="input and output in USD per million"):
        load_config(path)
    assert not load_config(tmp_path / "missing.toml").models.configured


def test_roles_from_the_toml_and_the_command_line() -> None:
    toml = ModelSettings(cheap="gpt-4o-mini", strong="claude-sonnet-4.5", judge="claude-haiku-4.5")
    assert resolve_roles(ModelSettings()) == {}
    assert resolve_roles(toml) == {"cheap": "gpt-4o-mini", "strong": "claude-sonnet-4.5", "judge": "claude-haiku-4.5"}
    assert resolve_roles(toml, ModelChoice(model="m")) == {"cheap": "m", "strong": "m", "judge": "claude-haiku-4.5"}
    assert resolve_roles(toml, ModelChoice(model="m", strong="s"))["strong"] == "s"
    assert resolve_roles(ModelSettings(strong="s")) == {"cheap": "s", "strong": "s"}
    assert resolve_roles(toml, ModelChoice(offline=True)) == {}


def test_packaged_prompts_are_versioned_templates() -> None:
    assert {"compose", "fact_card", "judge", "repair"} <= set(packaged_prompts())
    for name in packaged_prompts():
        template = load_prompt(name)
        assert template.name == name and template.version and template.system
        system, user = template.render({"task": name, "b": 1, "a": "é"})
        assert '{"a":"é","b":1,"task":"' in user and "{{input}}" not in user
    edited = parse_template(
        "---\nname: fact_card\nversion: 2\n---\n## system\nS\n## user\n{{input}}\n")
    bumped = parse_template(
        "---\nname: fact_card\nversion: 3\n---\n## system\nS\n## user\n{{input}}\n")
    keys = {cache_key(prompt_version=t.cache_version, model="m", system="S", user="u", schema=None)
            for t in (edited, bumped)}
    assert len(keys) == 2  # the version is part of the key
    with pytest.raises(Exception, match="needs a version"):
        parse_template("## user\n{{input}}\n")


def test_json_is_found_in_fences_and_sentences() -> None:
    assert parse_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json('Here you go: {"a": {"b": 2}} Hope it helps.') == {"a": {"b": 2}}
    with pytest.raises(ValueError):
        parse_json("no json here")


def test_the_cache_answers_a_question_asked_again(openai_server) -> None:  # noqa: F811
    answers = MemoryAnswers()
    first = session({"cheap": "scripted-cheap"}, answers=answers)
    a = first.ask("cheap", load_prompt("fact_card"), CARD, Card, purpose="fact_card:s1")
    second = session({"cheap": "scripted-cheap"}, answers=answers)
    b = second.ask("cheap", load_prompt("fact_card"), CARD, Card, purpose="fact_card:s1")
    assert a.value == b.value and not a.cached and b.cached
    assert len(openai_server.model.calls) == 1
    assert second.cost.calls == 0 and second.cost.cached == 1 and second.cost.usd == 0
    assert [r.status for r in answers.records] == ["ok", "cached"]
    tokens_in, tokens_out = openai_server.model.charged()
    assert first.cost.usd == pytest.approx(expected_usd([("scripted-cheap", tokens_in, tokens_out)]), abs=1e-12)


def test_malformed_json_is_asked_for_once_more_and_then_an_error(openai_server) -> None:  # noqa: F811
    answers = MemoryAnswers()
    s = session({"cheap": "scripted-cheap"}, answers=answers)
    openai_server.model.script("fact_card", Garbage())
    assert s.ask("cheap", load_prompt("fact_card"), CARD, Card, purpose="card").value.what.startswith("Mythos")
    assert "could not be used" in openai_server.model.calls[-1].user
    assert [r.status for r in answers.records] == ["invalid", "ok"]
    # The good answer also stands for the first question: asking again makes no call.
    again = session({"cheap": "scripted-cheap"}, answers=answers)
    assert again.ask("cheap", load_prompt("fact_card"), CARD, Card, purpose="card").cached
    assert len(openai_server.model.calls) == 2
    openai_server.model.every("fact_card", Garbage())
    with pytest.raises(ModelOutputError, match="not the JSON asked for"):
        session({"cheap": "scripted-cheap"}).ask("cheap", load_prompt("fact_card"), dict(CARD, title="Other"), Card,
                                                 purpose="card")


def test_the_budget_stops_before_the_cap(openai_server) -> None:  # noqa: F811
    budget = Budget(0.01)
    budget.spend(0.009)
    with pytest.raises(BudgetExceeded, match=r"budget \$0.01 reached"):
        budget.reserve("m", 0.002)
    budget.reserve("m", 0.001)  # exactly at the cap is allowed
    # A session whose next call could cross the cap does not make it.
    s = session({"strong": "scripted-strong"}, cap=0.001)
    with pytest.raises(BudgetExceeded):
        s.ask("strong", load_prompt("fact_card"), CARD, Card, purpose="card")  # 800 tokens out at $15/M > $0.001
    assert openai_server.model.calls == [] and s.cost.budget_stopped and s.cost.usd == 0
    assert "budget $0.00 reached" in s.cost.line()


def test_a_model_that_failed_for_good_is_not_asked_again(openai_server) -> None:  # noqa: F811
    openai_server.model.every("fact_card", Status(500))
    s = session({"cheap": "scripted-cheap"})
    with pytest.raises(ModelCallError):
        s.ask("cheap", load_prompt("fact_card"), CARD, Card, purpose="a")
    with pytest.raises(ModelCallError, match="not asked again"):
        s.ask("cheap", load_prompt("fact_card"), dict(CARD, title="B"), Card, purpose="b")
    assert len(openai_server.model.calls) == 2 and s.cost.failed_calls == 1
