"""An editor's hand edit of ``issues/DATE.md`` is theirs: ``lll draft`` and ``lll run`` for that date
keep it (exit 1, saying how to publish it or draft over it) unless ``lll draft --force``, which
keeps the edit as ``DATE.md.bak-TIME``. "Edited" means the file is none of the versions LLL wrote
for the date (their hashes are in the ``issues`` row), so an unchanged issue is re-drafted as
before and the daily job stays idempotent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lll.demo.run import corpus_root
from lll.demo.server import PLACEHOLDER, CorpusServer

from conftest import query, run_cli, scalar

DAY, NEXT = "2026-04-08", "2026-04-09"
ENV = {"LLL_NOW": f"{DAY}T23:59:59Z", "LLL_ALLOW_PRIVATE": "1"}


@pytest.fixture
def corpus() -> Iterator[CorpusServer]:
    with CorpusServer(corpus_root(), day=DAY) as server:
        yield server


@pytest.fixture
def drafted(workspace: Path, corpus: CorpusServer) -> Path:
    """The demo's first day fetched and drafted, with the static archive as publishing target."""
    (workspace / "lll.toml").write_text('[newsletter]\nname = "Edited Letters"\nbase_url = "https://letters.example.org"\n[fetch]\nfulltext = "never"\n'
                                        '[publish]\ntargets = ["archive"]\n', encoding="utf-8")
    opml = workspace / "sources.opml"
    opml.write_bytes((corpus_root() / "sources.opml").read_bytes().replace(PLACEHOLDER, corpus.base_url.encode()))
    run_cli("sources", "import", str(opml))
    run_cli("run", "--date", DAY, env=ENV)
    return workspace


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_hash(ws: Path) -> str:
    return str(scalar(ws / "lll.db", "SELECT content_hash FROM issues WHERE date = ?", DAY))


def backups(ws: Path) -> list[Path]:
    return sorted((ws / "issues").glob(f"{DAY}.md.bak-*"))


def edit(md: Path) -> bytes:
    text = md.read_text(encoding="utf-8").replace("\n\n", "\n\nAn editor's note, added by hand.\n\n", 1)
    md.write_text(text, encoding="utf-8")
    return md.read_bytes()


def test_an_unchanged_issue_is_drafted_again(drafted: Path) -> None:
    md = drafted / "issues" / f"{DAY}.md"
    before = sha(md)
    assert before == row_hash(drafted)
    result = run_cli("draft", "--date", DAY, env=ENV)
    assert "Wrote" in result.stdout and "Kept" not in result.stdout
    assert sha(md) == before == row_hash(drafted) and backups(drafted) == []


def test_draft_keeps_a_hand_edited_issue_and_says_what_to_do(drafted: Path) -> None:
    md = drafted / "issues" / f"{DAY}.md"
    mine = edit(md)
    issues_before = [tuple(r) for r in query(drafted / "lll.db", "SELECT * FROM issues")]
    result = run_cli("draft", "--date", DAY, env=ENV, ok=None)
    assert result.exit_code == 1, (result.exit_code, result.output)
    message = result.stderr
    assert f"{md} was edited by hand" in message and "kept it" in message
    assert f"lll draft --date {DAY} --force" in message and f"lll publish {DAY} --to" in message
    assert md.read_bytes() == mine  # the editor's bytes, untouched
    assert [tuple(r) for r in query(drafted / "lll.db", "SELECT * FROM issues")] == issues_before
    assert backups(drafted) == [] and not list((drafted / "issues").glob("*.tmp"))


def test_force_drafts_over_the_edit_and_keeps_it_as_a_backup(drafted: Path) -> None:
    md = drafted / "issues" / f"{DAY}.md"
    mine = edit(md)
    result = run_cli("draft", "--date", DAY, "--force", env=ENV)
    [backup] = backups(drafted)
    assert f"Kept the hand-edited version as {backup}" in result.stdout
    assert backup.read_bytes() == mine
    assert sha(md) == row_hash(drafted) and md.read_bytes() != mine
    run_cli("draft", "--date", DAY, env=ENV)  # LLL's own file again: no --force needed, no new backup
    assert backups(drafted) == [backup]


def test_run_keeps_the_edit_and_publishes_nothing(drafted: Path) -> None:
    """The daily job rerun for a published, hand-edited date: it fetches, then stops at the draft
    (exit 1): neither the file nor the published archive page is replaced."""
    md, page = drafted / "issues" / f"{DAY}.md", drafted / "archive" / f"{DAY}.html"
    published = page.read_bytes()
    mine = edit(md)
    result = run_cli("run", "--date", DAY, env=ENV, ok=None)
    assert result.exit_code == 1 and "was edited by hand" in result.stderr, result.output
    assert md.read_bytes() == mine and page.read_bytes() == published


def test_run_twice_for_a_drafted_and_published_date_is_idempotent(drafted: Path) -> None:
    db = drafted / "lll.db"
    before = ([tuple(r) for r in query(db, "SELECT date, content_hash FROM issues")],
              [tuple(r) for r in query(db, "SELECT target, date, content_hash, state FROM publications")])
    page = drafted / "archive" / f"{DAY}.html"
    published = page.read_bytes()
    result = run_cli("run", "--date", DAY, env=ENV)
    assert "unchanged" in result.stdout, result.stdout
    after = ([tuple(r) for r in query(db, "SELECT date, content_hash FROM issues")],
             [tuple(r) for r in query(db, "SELECT target, date, content_hash, state FROM publications")])
    assert after == before and page.read_bytes() == published


def test_an_earlier_version_lll_wrote_is_not_a_hand_edit(drafted: Path, corpus: CorpusServer) -> None:
    """A draft killed after its database commit but before its new file was put in place leaves
    the previous version on disk: that file is LLL's own, and the rerun must proceed."""
    md = drafted / "issues" / f"{DAY}.md"
    first = md.read_bytes()
    corpus.day = NEXT  # more items the same day: the next draft differs
    run_cli("fetch", env=ENV)
    run_cli("draft", "--date", DAY, env=ENV)
    assert md.read_bytes() != first
    md.write_bytes(first)  # the state such a kill leaves
    assert sha(md) != row_hash(drafted)
    run_cli("draft", "--date", DAY, env=ENV)
    assert sha(md) == row_hash(drafted) and backups(drafted) == []


def test_a_file_lll_has_no_record_of_is_kept(workspace: Path) -> None:
    """An issue file written before LLL ever drafted the date is the editor's too."""
    md = workspace / "issues" / f"{DAY}.md"
    md.parent.mkdir(exist_ok=True)
    md.write_text("# My own issue\n\nWritten by hand.\n", encoding="utf-8")
    result = run_cli("draft", "--date", DAY, env=ENV, ok=None)
    assert result.exit_code == 1 and "was edited by hand" in result.stderr
    assert md.read_text(encoding="utf-8") == "# My own issue\n\nWritten by hand.\n"
