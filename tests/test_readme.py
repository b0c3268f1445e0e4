"""The README is the front door: every `lll` command it shows must exist, and the
install and test commands it gives must be the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from lll.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[list[str]]:
    found = []
    for line in README.splitlines():
        match = re.match(r"\s*lll\s+([a-z][\w -]*?)(?:\s+[A-Z./\"'-]|\s+\.\.|\s*#|\s*$)", line)
        if match:
            words = [w for w in match.group(1).split() if re.fullmatch(r"[a-z]+", w)]
            found.append(words[:2])
    return found


def test_the_readme_shows_demo_and_the_test_command() -> None:
    assert "lll demo" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in README and "python -m pytest" in ci
    assert 'pip install -e ".[test]"' in README and 'pip install -q -e ".[test]"' in ci


def test_every_command_in_the_readme_exists() -> None:
    runner = CliRunner()
    commands = _commands()
    assert len(commands) >= 8, commands
    for words in commands:
        command = words[:2] if words[0] == "sources" else words[:1]
        assert command[0] in cli.commands, f"README shows `lll {' '.join(command)}`, which does not exist"
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_help_texts_name_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for name in ("init", "sources", "fetch", "draft", "verify", "clocks", "run", "serve", "demo", "backtest"):
        assert re.search(rf"^\s+{name}\s", result.output, re.M), name
