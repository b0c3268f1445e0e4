"""Fixtures the review page's tests share: a drafted workspace that publishes to DEV, and the
fake DEV server it publishes to. Import them into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.forem import FakeForem
from fakes.issue import FAST_PUBLISH_TOML, workspace_copy

KEY = "dev-key-1234567890"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws", publish_toml=FAST_PUBLISH_TOML + 'targets = ["devto"]\n')


@pytest.fixture
def forem() -> Iterator[FakeForem]:
    with FakeForem({KEY: 1}) as fake:
        yield fake
