"""The issue lives in the database: two workspace folders ("machines") sharing one database
see the same issues. What one drafts or edits, the other verifies, cites in its callbacks,
refuses to draft over and publishes, without ever having had the first one's ``issues/``
files; those files are exports, byte for byte the database's rows. Run on SQLite (one file
both folders name) and, in ``.ci/run``, on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import db_url, execute, run_cli

from lll.demo.run import corpus_root
from lll.demo.server import PLACEHOLDER, CorpusServer
from lll.issues import Issues
from lll.newsletter import Newsletter
from lll.store.issue_texts import IssueTexts

DAY, NEXT = "2026-04-08", "2026-04-09"
BASE = "https://letters.example.org"


def env(day: str) -> dict[str, str]:
    return {"LLL_NOW": f"{day}T23:59:59Z", "LLL_ALLOW_PRIVATE": "1"}


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[tuple[Path, Path, CorpusServer]]:
    """Folders ``a`` and ``b`` on one database; ``a`` has fetched and drafted DAY."""
    shared = tmp_path / "database" / "lll.db"
    shared.parent.mkdir()
    toml = (f'[newsletter]\nname = "Shared Letters"\nbase_url = "{BASE}"\n[fetch]\nfulltext = "never"\n[publish]\ntargets = ["archive"]\n'
            f'[database]\nurl = "{db_url(shared)}"\n')
    roots = []
    for name in ("a", "b"):
        root = tmp_path / name
        run_cli("init", workspace=root)
        (root / "lll.toml").write_text(toml, encoding="utf-8")
        roots.append(root)
    with CorpusServer(corpus_root(), day=DAY) as corpus:
        opml = tmp_path / "sources.opml"
        opml.write_bytes((corpus_root() / "sources.opml").read_bytes().replace(PLACEHOLDER, corpus.base_url.encode()))
        run_cli("sources", "import", str(opml), workspace=roots[0])
        run_cli("run", "--date", DAY, workspace=roots[0], env=env(DAY))
        yield roots[0], roots[1], corpus


def stored(root: Path, day: str) -> tuple[str, str, str]:
    with Newsletter.open(root) as letter:
        text = IssueTexts(letter.store).get(day)
    assert text is not None, f"no issue_texts row for {day}"
    return text.markdown, text.document, text.origin


def test_the_files_are_exports_of_the_database_rows(machines: tuple[Path, Path, CorpusServer]) -> None:
    a, b, _ = machines
    markdown, document, origin = stored(b, DAY)  # read through the other folder: the same database
    assert origin == "draft"
    assert (a / "issues" / f"{DAY}.md").read_bytes() == markdown.encode("utf-8")
    assert (a / "issues" / f"{DAY}.json").read_bytes() == document.encode("utf-8")
    assert json.loads(document)["date"] == DAY
    assert not (b / "issues" / f"{DAY}.md").exists()


def test_the_other_machine_verifies_publishes_and_cites_the_issue(machines: tuple[Path, Path, CorpusServer]) -> None:
    a, b, corpus = machines
    published = run_cli("publish", DAY, "--to", "archive", workspace=b, env=env(DAY))
    assert "archive" in published.stdout
    assert list((b / "site").rglob(f"{DAY}*.html")) or list(b.rglob(f"{DAY}.html")), "the archive page was written"
    corpus.day = NEXT
    run_cli("run", "--date", NEXT, workspace=b, env=env(NEXT))  # b fetches and drafts the next day
    nxt = (b / "issues" / f"{NEXT}.md").read_text(encoding="utf-8")
    assert f"]({BASE}/{DAY}.html)" in nxt, "the callback to the earlier issue, read from the database and verified"
    assert stored(a, NEXT)[0] == nxt


def test_an_edit_on_one_machine_is_kept_by_a_draft_on_the_other(machines: tuple[Path, Path, CorpusServer]) -> None:
    a, b, _ = machines
    with Newsletter.open(a) as letter:
        original = Issues(letter.store, letter.workspace.issues_dir).current(DAY)
        assert original is not None
        edited = original.replace("\n\n", "\n\nAn editor's note, saved on machine a.\n\n", 1)
        Issues(letter.store, letter.workspace.issues_dir).save_edit(DAY, edited)
    refused = run_cli("draft", "--date", DAY, workspace=b, env=env(DAY), ok=False)
    assert refused.exit_code == 1 and "edited by hand" in refused.output
    assert (b / "issues" / f"{DAY}.md").read_text(encoding="utf-8") == edited  # shown where the message points
    forced = run_cli("draft", "--date", DAY, "--force", workspace=b, env=env(DAY))
    [backup] = (b / "issues").glob(f"{DAY}.md.bak-*")
    assert backup.read_text(encoding="utf-8") == edited and "Kept the hand-edited version" in forced.stdout
    markdown, _, origin = stored(a, DAY)
    assert origin == "draft" and markdown == original
    with Newsletter.open(a) as letter:
        kept = [k.markdown for k in IssueTexts(letter.store).history(DAY)]
    assert kept == [original, edited], "each text the issue had is kept, oldest first"


def test_a_hand_edited_file_is_taken_into_the_database(machines: tuple[Path, Path, CorpusServer]) -> None:
    a, b, _ = machines
    md = a / "issues" / f"{DAY}.md"
    edited = md.read_text(encoding="utf-8").replace("\n\n", "\n\nA note typed into the file.\n\n", 1)
    md.write_text(edited, encoding="utf-8")
    refused = run_cli("draft", "--date", DAY, workspace=a, env=env(DAY), ok=False)  # a reads it: taken in
    assert refused.exit_code == 1
    assert stored(b, DAY)[0::2] == (edited, "edit")
    assert run_cli("draft", "--date", DAY, workspace=b, env=env(DAY), ok=False).exit_code == 1


def test_an_issue_drafted_before_the_database_held_issues_is_taken_in(
        machines: tuple[Path, Path, CorpusServer], tmp_path: Path) -> None:
    a, b, _ = machines
    execute(tmp_path / "database" / "lll.db", "DELETE FROM issue_texts")
    with Newsletter.open(b) as letter:
        assert Issues(letter.store, letter.workspace.issues_dir).current(DAY) is None  # b has no file
    run_cli("draft", "--date", DAY, workspace=a, env=env(DAY))  # LLL's own file: drafted again, taken in
    markdown, document, origin = stored(b, DAY)
    assert origin == "draft" and (a / "issues" / f"{DAY}.md").read_text(encoding="utf-8") == markdown
    assert document
