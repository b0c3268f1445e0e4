"""Crash safety, reduced: the kill trials of ``bench/crash.py`` on the bundled demo corpus.

Real ``lll`` processes are killed with SIGKILL inside their writes — ``lll fetch`` after its
k-th source transaction committed, ``lll draft`` when it starts writing ``issues/DATE.*``,
``lll publish --to devto`` right after the (fake) DEV server created the article — then the
database, the issue files and the DEV articles are checked and the command is rerun (see the
bench's docstring for every rule). Eight kill trials here; the full run (50 per command on
replay-2026-05, 10 publish) is ``python bench/crash.py``. The bench reads every database
through SQLAlchemy, on the store under test: on PostgreSQL each workspace is a schema, named in
its ``lll.toml`` for the processes the trials kill.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import copy_database, db_url

REPO = Path(__file__).resolve().parents[1]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lll_bench_crash", REPO / "bench" / "crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


crash = _load_bench()
crash.database_url = db_url  # each workspace's database on the store under test (a schema on PostgreSQL)
crash.copy_database = copy_database


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    work = tmp_path_factory.mktemp("crash")
    with crash.quiet(crash.CorpusServer(crash.DEMO, day=crash.DEMO_DAYS[0])) as server:
        h = crash.Harness(crash.DEMO, crash.DEMO_DAYS, work, server, log=lambda line: None)
        h.prepare(("fetch d1", "draft d2"))
        yield h


def test_the_checks_catch_what_they_should(harness) -> None:
    """The checker is not vacuous: a torn issue file and ledger rows without their issue row
    are reported (duplicates cannot even be written: the schema's keys refuse them)."""
    sc = harness.scenarios["draft d2"]
    ws = harness._copy(sc.base, "tampered")
    assert crash.database_problems(ws) == []
    with crash.connect(ws / "lll.db") as con:
        con.execute("INSERT INTO story_units SELECT story_id, unit_id || 'x', item_id, '2099-01-01', status, "
                    "span_start, span_end, title, urls, vector FROM story_units LIMIT 1")
        con.commit()
    md = ws / "issues" / f"{crash.DEMO_DAYS[0]}.md"  # the issue of the day before
    md.write_text(md.read_text(encoding="utf-8")[:100], encoding="utf-8")
    state = crash.snapshot(ws)
    problems, ahead = crash.issue_problems(ws, state, sc.before, sc.clean)
    assert any("2099-01-01" in p for p in problems), problems
    assert any("neither the old nor the new draft" in p for p in problems), problems
    assert ahead == 1


@pytest.mark.parametrize("scenario, modes", [
    ("fetch d1", ("progress", "progress", "time")),
    ("draft d2", ("save", "save", "time")),
])
def test_sigkill_then_rerun_loses_and_duplicates_nothing(harness, scenario: str, modes: tuple[str, ...]) -> None:
    sc = harness.scenarios[scenario]
    assert sc.clean is not None and sc.clean != sc.before  # the command really changes something
    rng = random.Random(f"crash-{scenario}")
    trials = [harness.trial(sc, rng, n, mode) for n, mode in enumerate(modes)]
    failures = [f"{t.mode}: {p}" for t in trials for p in t.problems]
    assert not failures, "\n".join(failures)
    assert all(t.killed_running for t in trials if t.mode != "time"), [(t.mode, t.killed_running) for t in trials]
    assert any(t.partial for t in trials), "no kill landed inside the writes"


def test_publish_killed_right_after_the_create_never_makes_a_second_dev_article(harness) -> None:
    """The dangerous moment: DEV created the article, the process died before it could record
    it. The rerun must find that article, not post another (fake DEV server of tests/fakes)."""
    trials = crash.publish_trials(harness, 2, random.Random(2), modes=("after-create",))
    assert trials is not None, "`lll publish` exists: the publish trials must run"
    failures = [p for t in trials for p in t.problems]
    assert not failures, "\n".join(failures)
    assert any(t.partial for t in trials), "no kill landed after the create"


def test_two_runs_at_once_the_second_exits_busy_and_nothing_is_corrupted(harness) -> None:
    [trial] = crash.lock_trials(harness, 1, random.Random(1))
    assert trial.mode == "staggered"
    assert trial.codes == (0, 75), (trial.codes, trial.second_message)
    assert "the workspace is busy (lll run, pid" in trial.second_message
    assert trial.problems == []
