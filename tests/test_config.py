"""lll.toml is checked when it loads: a wrong value stops the command with one line naming the file,
the key, the value and what is allowed (exit status 2), before any work. A quoted "false" must never
read as true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import feed_reply, rss, run_cli, scalar

from lll.config import load_config
from lll.errors import WorkspaceError

BAD = [
    ("[fetch]", 'allow_private = "false"', 'allow_private = "false": allowed is true or false (unquoted)'),
    ("[fetch]", 'concurrency = "sixteen"', 'concurrency = "sixteen": allowed is a whole number'),
    ("[fetch]", "concurrency = -3", "concurrency = -3: allowed is a number 1 or more"),
    ("[fetch]", "per_host = 0", "per_host = 0: allowed is a number 1 or more"),
    ("[fetch]", "total_timeout = 0", "total_timeout = 0: allowed is a number more than 0"),
    ("[fetch]", 'fulltext = "sometimes"', 'fulltext = "sometimes": allowed is one of "auto", "always", "never"'),
    ("[fetch]", "retries = 1.5", "retries = 1.5: allowed is a whole number"),
    ("[draft]", 'lookback_days = "seven"', 'lookback_days = "seven": allowed is a whole number'),
    ("[newsletter]", 'tags = ["AI Stuff", "a", "b", "c", "d"]', 'tags[0] = "AI Stuff": allowed is 1 to 4 tags'),
    ("[newsletter]", 'tags = ["a", "b", "c", "d", "e"]', 'tags = ["a", "b", "c", "d", "e"]: allowed is 1 to 4'),
    ("[newsletter]", "tags = []", "tags = []: allowed is 1 to 4 tags"),
    ("[newsletter]", 'tags = "ai"', 'tags = "ai": allowed is 1 to 4 tags'),
    ("[newsletter]", "name = 3", "name = 3: allowed is a quoted string"),
    ("[publish]", "targets = [1]", "targets[0] = 1: allowed is a quoted string"),
    ("[archive]", "feed_items = 0", "feed_items = 0: allowed is a number 1 or more"),
    ("[models]", "budget_usd = -1", "budget_usd = -1: allowed is a number 0 or more"),
    ("[models]", 'repair_rounds = "2"', 'repair_rounds = "2": allowed is a whole number'),
    ("[[sources]]", 'url = "https://a.example/f.xml"\nweight = "heavy"', '#1 weight = "heavy": allowed is a number'),
]


@pytest.mark.parametrize(("table", "line", "message"), BAD, ids=[b[1].split("\n")[-1] for b in BAD])
def test_a_bad_value_is_one_line_naming_file_key_value_and_what_is_allowed(
        tmp_path: Path, table: str, line: str, message: str) -> None:
    path = tmp_path / "lll.toml"
    path.write_text(f"{table}\n{line}\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(f"{path}: {table} "), text
    assert message in text, text
    assert caught.value.exit_code == 2


def test_good_values_load_with_their_types(tmp_path: Path) -> None:
    path = tmp_path / "lll.toml"
    path.write_text('[newsletter]\ntags = ["ai", "research"]\n[fetch]\nallow_private = false\nconcurrency = 8\n'
                    "total_timeout = 3\n[draft]\nlookback_days = 3\n", encoding="utf-8")
    config = load_config(path)
    assert config.newsletter.tags == ("ai", "research")
    assert config.fetch.allow_private is False and config.fetch.concurrency == 8
    assert config.fetch.total_timeout == 3.0 and isinstance(config.fetch.total_timeout, float)
    assert config.draft.lookback_days == 3


def test_a_quoted_false_does_not_turn_the_ssrf_guard_off(workspace: Path, server: Any) -> None:
    url = server.route("feed.xml", feed_reply(rss([{"guid": "a", "link": "https://x.example/a", "title": "A",
                                                    "description": "An item that must not be stored."}])))
    run_cli("sources", "add", url)
    toml = workspace / "lll.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[fetch]\n", '[fetch]\nallow_private = "false"\n'),
                    encoding="utf-8")
    result = run_cli("fetch", ok=None)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f'Error: {toml}: [fetch] allow_private = "false": allowed is true or false (unquoted)']
    assert server.hits("feed.xml") == 0
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM items") == 0
