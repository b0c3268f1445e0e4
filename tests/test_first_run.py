"""The first run of a new user: a fresh clone (no ../shared beside it), the README's commands in
their natural order with today's date and real feeds, and what the first issue contains."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REQUIRE_SHARED_DATA, shared_data

ROOT = Path(__file__).resolve().parents[1]


# -- 1. the tests on a clone without ../shared ---------------------------------------------------------


def test_missing_shared_data_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_SHARED_DATA, raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        shared_data("no-such-corpus-here")
    assert "shared test data missing" in str(caught.value) and "no-such-corpus-here" in str(caught.value)


def test_missing_shared_data_fails_when_it_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_SHARED_DATA, "1")
    with pytest.raises(pytest.fail.Exception) as caught:
        shared_data("no-such-corpus-here")
    assert REQUIRE_SHARED_DATA in str(caught.value)


def test_ci_requires_the_shared_data_and_the_browser() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {REQUIRE_SHARED_DATA}=1" in ci
    assert 'export CI="${CI:-1}"' in ci
