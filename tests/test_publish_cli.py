"""``lll publish DATE --to TARGET [--dry-run] [--public]`` as a user types it, against the
fake DEV server, then the SQLite file opened and its rows checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.forem import FakeForem
from fakes.issue import BASE_URL, DAY, drop_paragraph, workspace_copy

from conftest import query, run_cli

KEY = "dev-key-1234567890"
CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


@pytest.fixture
def forem() -> Iterator[FakeForem]:
    with FakeForem({KEY: 1}) as fake:
        yield fake


def env(forem: FakeForem, key: str = KEY) -> dict[str, str]:
    return {"LLL_DEVTO_API_KEY": key, "LLL_DEVTO_BASE_URL": f"{forem.base}/api"}


def test_publish_to_devto_makes_one_draft_then_none_then_updates_it(ws: Path, forem: FakeForem) -> None:
    dry = run_cli("publish", DAY, "--to", "devto", "--dry-run", workspace=ws, env=env(forem))
    assert "dry run: devto 2026-04-10: would create" in dry.stdout and forem.calls == []
    first = run_cli("publish", DAY, "--to", "devto", workspace=ws, env=env(forem))
    assert "devto 2026-04-10: created" in first.stdout and "[draft]" in first.stdout
    second = run_cli("publish", DAY, "--to", "devto", workspace=ws, env=env(forem))
    assert "unchanged" in second.stdout
    assert len(forem.mine()) == 1 and forem.count("POST") == 1
    drop_paragraph(ws, CLAUDEONOMICS)
    third = run_cli("publish", DAY, "--to", "devto", "--json", workspace=ws, env=env(forem))
    receipt = json.loads(third.stdout)
    assert receipt["action"] == "updated" and receipt["state"] == "draft"
    assert receipt["remote_id"] == str(forem.mine()[0]["id"]) and len(forem.mine()) == 1
    assert KEY not in first.output + second.output + third.output
    [row] = query(ws / "lll.db", "SELECT * FROM publications")
    assert (row["target"], row["date"], row["state"]) == ("devto", DAY, "draft")
    assert row["content_hash"] == receipt["content_hash"]


def test_errors_are_one_line_with_the_documented_exit_status(ws: Path, forem: FakeForem) -> None:
    missing = run_cli("publish", DAY, "--to", "devto", workspace=ws, ok=False, env=env(forem, key=""))
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == [
        "Error: devto: set LLL_DEVTO_API_KEY (a key from https://dev.to/settings/extensions)"]
    bad = run_cli("publish", DAY, "--to", "devto", workspace=ws, ok=False, env=env(forem, key="wrong-key-0000"))
    assert bad.exit_code == 1 and "LLL_DEVTO_API_KEY" in bad.stderr and "wrong-key-0000" not in bad.output
    assert query(ws / "lll.db", "SELECT state FROM publications")[0]["state"] == "failed"
    unknown = run_cli("publish", DAY, "--to", "myspace", workspace=ws, ok=False)
    assert unknown.exit_code == 2 and "unknown target 'myspace'" in unknown.stderr
    no_draft = run_cli("publish", "2026-04-11", "--to", "archive", workspace=ws, ok=False)
    assert no_draft.exit_code == 1 and "lll draft --date 2026-04-11" in no_draft.stderr
    public = run_cli("publish", DAY, "--to", "archive", "--public", workspace=ws)
    assert "archive 2026-04-10: created" in public.stdout
    path = ws / "issues" / f"{DAY}.md"
    path.write_text(path.read_text().replace("it scores 83.1%", "it scores 97.5%"), encoding="utf-8")
    failing = run_cli("publish", DAY, "--to", "devto", workspace=ws, ok=False, env=env(forem))
    assert failing.exit_code == 1 and "fails verification" in failing.stderr
    assert forem.count("POST") == 0


def test_publish_to_the_archive_from_the_cli(ws: Path) -> None:
    result = run_cli("publish", DAY, "--to", "archive", workspace=ws)
    assert f"<{BASE_URL}/{DAY}.html>" in result.stdout and "[published]" in result.stdout
    assert (ws / "archive" / f"{DAY}.html").exists() and (ws / "archive" / "feed.xml").exists()
    assert "unchanged" in run_cli("publish", DAY, "--to", "archive", workspace=ws).stdout


def test_lll_run_publishes_to_the_targets_lll_toml_names(tmp_path_factory: pytest.TempPathFactory,
                                                        tmp_path: Path) -> None:
    ws = workspace_copy(tmp_path_factory, tmp_path / "ws", '\n[publish]\ntargets = ["archive"]\n', publish_toml="")
    result = run_cli("run", "--date", DAY, workspace=ws, env={"LLL_NOW": f"{DAY}T23:59:00Z"})
    assert f"archive {DAY}: created" in result.stdout
    assert (ws / "archive" / f"{DAY}.html").exists()
    [row] = query(ws / "lll.db", "SELECT target, state FROM publications")
    assert (row["target"], row["state"]) == ("archive", "published")


def test_a_dry_run_needs_no_key_and_shows_what_it_would_send(ws: Path, forem: FakeForem) -> None:
    dry = run_cli("publish", DAY, "--to", "devto", "--dry-run", workspace=ws,
                  env={"LLL_DEVTO_API_KEY": "", "LLL_DEVTO_BASE_URL": f"{forem.base}/api"})
    assert dry.stdout.startswith("dry run: devto 2026-04-10: would create [planned]")
    md = (ws / "issues" / f"{DAY}.md").read_text(encoding="utf-8")
    title = next(line for line in md.splitlines() if line.startswith("title:")).split(":", 1)[1].strip().strip('"')
    assert f"title: {title}" in dry.stdout and "tags: " in dry.stdout
    assert " bytes of Markdown" in dry.stdout and f"target: devto at {forem.base}/api" in dry.stdout
    assert "to send: devto: set LLL_DEVTO_API_KEY" in dry.stdout
    assert forem.calls == [] and query(ws / "lll.db", "SELECT * FROM publications") == []


def test_a_dry_run_after_a_refused_publish_does_not_report_failed_as_its_state(ws: Path, forem: FakeForem) -> None:
    bad = run_cli("publish", DAY, "--to", "devto", workspace=ws, ok=False, env=env(forem, key="wrong-key-0000"))
    assert bad.exit_code == 1
    [row] = query(ws / "lll.db", "SELECT state FROM publications")
    assert row["state"] == "failed"
    dry = run_cli("publish", DAY, "--to", "devto", "--dry-run", "--json", workspace=ws, env=env(forem))
    receipt = json.loads(dry.stdout)
    assert receipt["dry_run"] is True and receipt["state"] == "planned" and receipt["ledger_state"] == "failed"
    assert any("an earlier attempt left the ledger 'failed'" in line for line in receipt["details"])
    assert "wrong-key-0000" not in dry.output
