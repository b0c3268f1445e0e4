"""Exit statuses as a scheduler sees them, from real processes: 0 done, 1 a problem to act on,
2 bad usage, 75 busy (``EX_TEMPFAIL``: the same command works later). A busy workspace must
not look like bad usage, or a wrapper that retries on 75 would give up, and one that alerts on 2
would page someone for an overlap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lll.errors import EX_TEMPFAIL

HOLDER = """
import sys, time
from pathlib import Path
from lll.newsletter import Newsletter
with Newsletter.open(Path(sys.argv[1])) as letter, letter.lock("run", wait=False):
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLL_")}
    env["LLL_ALLOW_PRIVATE"] = "1"
    return env


def _lll(ws: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lll", "--workspace", str(ws), *args], env=_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def held(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A workspace (no sources) whose lock another real process holds, as ``lll run`` would."""
    ws = tmp_path / "ws"
    assert _lll(ws, "init").returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ws)], env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield ws, holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)


def test_a_busy_workspace_exits_75_naming_the_holder(held) -> None:  # type: ignore[no-untyped-def]
    ws, holder = held
    started = time.monotonic()
    done = _lll(ws, "run", "--date", "2026-05-01")
    assert time.monotonic() - started < 30  # at once: `lll run` does not wait
    assert done.returncode == EX_TEMPFAIL == 75, (done.returncode, done.stderr)
    assert f"the workspace is busy (lll run, pid {holder.pid})" in done.stderr
    assert "try again when it finishes" in done.stderr
    assert not (ws / "issues" / "2026-05-01.md").exists()


def test_a_waiting_command_runs_once_the_lock_is_released(held) -> None:  # type: ignore[no-untyped-def]
    """`lll fetch` waits for the lock instead of exiting busy."""
    ws, holder = held
    fetch = subprocess.Popen([sys.executable, "-m", "lll", "--workspace", str(ws), "fetch"], env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert fetch.poll() is None, "lll fetch should wait for the lock"
        holder.stdin.write("go\n")  # type: ignore[union-attr]
        holder.stdin.flush()  # type: ignore[union-attr]
        out, err = fetch.communicate(timeout=60)
    finally:
        if fetch.poll() is None:
            fetch.kill()
    assert fetch.returncode == 0, err
    assert "0 sources" in out


def test_bad_usage_exits_2_and_is_not_busy(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert _lll(ws, "init").returncode == 0
    unknown = _lll(ws, "run", "--no-such-option")
    assert unknown.returncode == 2 and "No such option" in unknown.stderr
    bad_date = _lll(ws, "draft", "--date", "01-05-2026")
    assert bad_date.returncode == 2 and "use YYYY-MM-DD" in bad_date.stderr


def test_an_unsupported_claim_exits_1(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert _lll(ws, "init").returncode == 0
    issue = ws / "issues" / "2026-05-01.md"
    issue.parent.mkdir(exist_ok=True)
    issue.write_text('---\ntitle: "Letters 05/01/2026"\npublished: false\ntags: ai\n---\n\n'
                     "OpenAI raised $40 billion, says [a blog](https://nowhere.example/x).\n", encoding="utf-8")
    done = _lll(ws, "verify", str(issue))
    assert done.returncode == 1, (done.returncode, done.stderr)
