"""The pipeline's layers import downwards only: storage knows nothing of the stages that use it
(issue 11: ``store/records.py`` imported stories and write; it is ``lll.memory`` now)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lll"
# What each lower layer may never import: the stages above it.
ABOVE = {
    "store": ("lll.stories", "lll.write", "lll.verify", "lll.publish", "lll.review", "lll.draft", "lll.memory",
              "lll.issues", "lll.backtest", "lll.workers"),
    "parse": ("lll.stories", "lll.write", "lll.verify", "lll.publish", "lll.review", "lll.draft", "lll.memory"),
    "fetch": ("lll.stories", "lll.write", "lll.verify", "lll.publish", "lll.review", "lll.draft", "lll.memory"),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_lower_layers_import_nothing_of_the_stages_above() -> None:
    offending = []
    for package, forbidden in ABOVE.items():
        files = sorted((SRC / package).glob("*.py"))
        assert files, package
        for path in files:
            for module in imports(path):
                if module.startswith(forbidden):
                    offending.append(f"{path.relative_to(SRC)} imports {module}")
    assert offending == []
