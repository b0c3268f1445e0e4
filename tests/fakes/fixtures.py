"""Fixtures for the model tests: an ``llm`` home in a temp folder, and the fake servers
configured in it. Import them into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.anthropic_server import AnthropicServer
from fakes.openai_server import OpenAIServer, write_models_yaml

SCRIPTED = ["scripted-cheap", "scripted-strong", "scripted-judge", "scripted-other"]
PRICES_TOML = """
[models.prices]
"scripted-cheap" = { input = 0.5, output = 1.5 }
"scripted-strong" = { input = 3.0, output = 15.0 }
"scripted-judge" = { input = 1.0, output = 2.0 }
"scripted-other" = { input = 1.0, output = 2.0 }
"""
PRICES = {"scripted-cheap": (0.5, 1.5), "scripted-strong": (3.0, 15.0), "scripted-judge": (1.0, 2.0), "scripted-other": (1.0, 2.0),
          "anthropic/claude-haiku-4-5-20251001": (1.0, 5.0), "anthropic/claude-sonnet-4-5": (3.0, 15.0)}


@pytest.fixture
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``llm``'s folder (``LLM_USER_PATH``) in tmp, and no real key or endpoint in sight."""
    home = tmp_path / "llm-home"
    home.mkdir()
    monkeypatch.setenv("LLM_USER_PATH", str(home))
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL",
                 "LLM_OPENAI_SHOW_RESPONSES", "LLM_MODEL", "LLL_MODEL_CACHE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def openai_server(llm_home: Path) -> Iterator[OpenAIServer]:
    """The fake OpenAI server, listed in ``extra-openai-models.yaml`` as the scripted models."""
    with OpenAIServer() as server:
        write_models_yaml(llm_home, server.base, SCRIPTED)
        yield server


@pytest.fixture
def anthropic_server(llm_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    """The fake Anthropic server, where ``llm-anthropic``'s client will look for it."""
    with AnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        yield server


def expected_usd(calls: list[tuple[str, int, int]]) -> float:
    """(model, tokens in, tokens out) -> dollars at the test prices."""
    return sum((i * PRICES[m][0] + o * PRICES[m][1]) / 1_000_000 for m, i, o in calls)
