"""OPML in and out: display names and weights survive a round trip; real-world files import
or fail with one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from lll.errors import SourceError
from lll.sources.opml import read_opml, read_opml_file, write_opml

from conftest import query, run_cli, scalar, shared_data

MINE = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>My AI reading</title></head>
  <body>
    <outline text="Labs" title="Labs">
      <outline type="rss" text="Anthropic News" title="Anthropic News" xmlUrl="https://anthropic.example/news/rss.xml"
               htmlUrl="https://anthropic.example/news" weight="1.5"/>
      <outline type="rss" text="Über KI &amp; Gesellschaft" xmlUrl="https://ki.example/feed" weight="0.25"/>
    </outline>
    <outline text="Newsletters">
      <outline type="rss" text="Berkeley RDI's Agentic AI Weekly" title="ignored: text wins"
               xmlUrl="https://rdi.example/agentic/feed" weight="2" lllKind="newsletter"/>
      <outline type="rss" title="Only a title" xmlUrl="https://title-only.example/rss"/>
      <outline type="rss" text="&quot;Quoted&quot; &lt;Name&gt;" xmlUrl="https://quoted.example/atom.xml"/>
    </outline>
    <outline type="link" text="Just a web page" url="https://example.com/"/>
  </body>
</opml>
"""

EXPECTED = {
    ("https://anthropic.example/news/rss.xml", "Anthropic News", 1.5, "auto"),
    ("https://ki.example/feed", "Über KI & Gesellschaft", 0.25, "auto"),
    ("https://rdi.example/agentic/feed", "Berkeley RDI's Agentic AI Weekly", 2.0, "newsletter"),
    ("https://title-only.example/rss", "Only a title", 1.0, "auto"),
    ("https://quoted.example/atom.xml", '"Quoted" <Name>', 1.0, "auto"),
}


def _sources(db: Path) -> set[tuple[str, str, float, str]]:
    return {(r["url"], r["name"], r["weight"], r["kind"]) for r in query(db, "SELECT * FROM sources")}


def test_import_keeps_display_names_weights_and_kinds(workspace: Path, tmp_path: Path) -> None:
    opml = tmp_path / "mine.opml"
    opml.write_text(MINE, encoding="utf-8")
    result = run_cli("sources", "import", str(opml))
    assert "5 added, 0 already known, 0 skipped" in result.stdout
    assert _sources(workspace / "lll.db") == EXPECTED
    again = run_cli("sources", "import", str(opml))
    assert "0 added, 5 already known" in again.stdout
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM sources") == 5


def test_export_then_import_round_trips(workspace: Path, tmp_path: Path) -> None:
    opml = tmp_path / "mine.opml"
    opml.write_text(MINE, encoding="utf-8")
    run_cli("sources", "import", str(opml))
    exported = run_cli("sources", "export").stdout
    root = etree.fromstring(exported.encode("utf-8"))
    outlines = {o.get("xmlUrl"): o for o in root.iter("outline")}
    assert len(outlines) == 5
    rdi = outlines["https://rdi.example/agentic/feed"]
    assert (rdi.get("text"), rdi.get("title"), rdi.get("weight"), rdi.get("lllKind")) == \
        ("Berkeley RDI's Agentic AI Weekly", "Berkeley RDI's Agentic AI Weekly", "2", "newsletter")
    assert outlines["https://anthropic.example/news/rss.xml"].get("htmlUrl") == "https://anthropic.example/news"
    assert outlines["https://ki.example/feed"].get("weight") == "0.25"
    out_file = tmp_path / "exported.opml"
    run_cli("sources", "export", "-o", str(out_file))
    assert out_file.read_text(encoding="utf-8") == exported

    other = tmp_path / "other-workspace"
    run_cli("init", workspace=other)
    run_cli("sources", "import", str(out_file), workspace=other)
    assert _sources(other / "lll.db") == EXPECTED


def test_outlines_that_are_not_feeds_are_skipped_with_a_note(workspace: Path, tmp_path: Path) -> None:
    opml = tmp_path / "mixed.opml"
    opml.write_text("""<opml version="2.0"><body>
      <outline text="Good" xmlUrl="https://good.example/feed"/>
      <outline text="Gopher" xmlUrl="gopher://old.example/feed"/>
      <outline text="Relative" xmlUrl="/feed.xml"/>
      <outline text="Good again" xmlUrl="https://good.example/feed"/>
      <outline text="Folder"><outline text="Inner" xmlUrl="https://inner.example/rss"/></outline>
    </body></opml>""", encoding="utf-8")
    result = run_cli("sources", "import", str(opml))
    assert "2 added, 0 already known, 3 skipped" in result.stdout
    assert "Gopher: xmlUrl 'gopher://old.example/feed' is not an http(s) URL" in result.stderr
    assert "Good again: listed twice" in result.stderr
    assert {r["url"] for r in query(workspace / "lll.db", "SELECT url FROM sources")} == \
        {"https://good.example/feed", "https://inner.example/rss"}


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an OPML file"),
    (b"", "not valid XML"),
    (b"<!DOCTYPE html><html><body><p>not opml</p></body></html>", "not an OPML file"),
    (b'<opml version="2.0"><body><outline text="folder only"/></body></opml>', "no feeds found"),
    (b'<opml version="2.0"><body><outline text="W" xmlUrl="https://w.example/f" weight="heavy"/></body></opml>',
     "weight 'heavy' is not a number"),
    (b'<opml version="2.0"><body><outline text="W" xmlUrl="https://w.example/f" weight="-3"/></body></opml>',
     "outside 0..100"),
])
def test_bad_opml_fails_with_one_clear_line(workspace: Path, tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_bytes(content)
    result = run_cli("sources", "import", str(bad), ok=None)
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM sources") == 0


def test_missing_file_is_a_usage_error(workspace: Path, tmp_path: Path) -> None:
    result = run_cli("sources", "import", str(tmp_path / "nope.opml"), ok=None)
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_external_entities_in_opml_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    data = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<opml version="2.0"><body><outline text="Feed &x;" xmlUrl="https://f.example/rss"/></body></opml>')
    try:
        found, _ = read_opml(data.encode())
    except SourceError:
        return
    assert all("TOP-SECRET-VALUE" not in o.name for o in found)


def test_write_opml_escapes_and_reads_back() -> None:
    from lll.records import Source
    sources = [Source(id=1, url="https://a.example/f?x=1&y=2", name='A & B <"quoted">', weight=0.5, kind="hn")]
    found, skipped = read_opml(write_opml(sources, "T & T").encode("utf-8"))
    assert skipped == []
    assert [(o.url, o.name, o.weight, o.kind) for o in found] == \
        [("https://a.example/f?x=1&y=2", 'A & B <"quoted">', 0.5, "hn")]


# -- real subscription lists -----------------------------------------------------------------------


def test_every_real_opml_file_reads_or_fails_clearly() -> None:
    files = sorted(shared_data("opml").rglob("*.opml"))
    assert len(files) >= 100
    total = 0
    for path in files:
        try:
            found, _skipped = read_opml_file(path)
        except SourceError as exc:
            assert str(path) in str(exc)
            continue
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{path}: {exc!r} escaped instead of a SourceError")
        assert all(o.url.startswith(("http://", "https://")) and o.name for o in found), path
        total += len(found)
    assert total > 1000


@pytest.mark.parametrize("relative", [
    "recommended/with_category/Programming.opml",
    "recommended/without_category/Android Development.opml",
    "countries/with_category/Japan.opml",
    "countries/without_category/Myanmar (Burma).opml",
])
def test_real_opml_files_import_and_round_trip(workspace: Path, tmp_path: Path, relative: str) -> None:
    path = shared_data("opml", relative)
    found, _ = read_opml_file(path)
    result = run_cli("sources", "import", str(path))
    assert f"{len(found)} added" in result.stdout
    imported = {(r["url"], r["name"]) for r in query(workspace / "lll.db", "SELECT url, name FROM sources")}
    assert imported == {(o.url, o.name) for o in found}
    exported = tmp_path / "out.opml"
    run_cli("sources", "export", "-o", str(exported))
    other = tmp_path / "again"
    run_cli("init", workspace=other)
    run_cli("sources", "import", str(exported), workspace=other)
    assert {(r["url"], r["name"]) for r in query(other / "lll.db", "SELECT url, name FROM sources")} == imported


# -- what a user notices (issue 11, item 14) ---------------------------------------------------------


def test_an_unclosed_opml_imports_what_it_can_and_says_so(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.opml"
    path.write_text('<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
                    '<outline text="A" xmlUrl="https://a.example/feed.xml"/>'
                    '<outline text="B" xmlUrl="https://b.example/feed.xml"/><outline text="C" xmlU', encoding="utf-8")
    result = run_cli("sources", "import", str(path))
    assert "2 added" in result.stdout
    assert f"{path} ends before </opml> (cut short?)" in result.stderr


def test_a_billion_laughs_opml_is_refused_saying_why(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "laughs.opml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><opml version="2.0"><body>'
                    '<outline text="&c;" xmlUrl="https://a.example/feed.xml"/></body></opml>', encoding="utf-8")
    result = run_cli("sources", "import", str(path), ok=None)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}: refused: it declares XML entities") and "no feeds found" not in line
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM sources") == 0


def test_a_large_opml_is_imported_in_one_transaction(workspace: Path, tmp_path: Path) -> None:
    """10,000 outlines took 14 s as 10,000 transactions (bench/sources.py times it)."""
    import sqlalchemy as sa

    from lll.newsletter import Newsletter

    path = tmp_path / "big.opml"
    outlines = "".join(f'<outline text="Feed {i}" xmlUrl="https://h{i % 7}.example/{i}.xml"/>' for i in range(1200))
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}'
                    '<outline text="Again" xmlUrl="https://h0.example/0.xml"/></body></opml>', encoding="utf-8")
    with Newsletter.open(workspace) as letter:
        begins: list[object] = []
        sa.event.listen(letter.store.engine, "begin", lambda conn: begins.append(conn))
        added, updated, skipped = letter.import_opml(path)
        assert (added, updated) == (1200, 0) and skipped == ["Again: listed twice"]
        assert len(begins) == 1
        assert letter.import_opml(path)[:2] == (0, 1200) and len(begins) == 2
    assert scalar(workspace / "lll.db", "SELECT count(*) FROM sources") == 1200
    assert scalar(workspace / "lll.db", "SELECT name FROM sources WHERE url = 'https://h3.example/10.xml'") == "Feed 10"


def test_sources_list_is_plain_aligned_columns(workspace: Path) -> None:
    run_cli("sources", "add", "https://a.example/feed.xml", "--name", "A" * 60)
    run_cli("sources", "add", "https://b.example/feed.xml", "--name", "Bee")
    lines = run_cli("sources", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "name", "kind", "weight", "items", "last", "fetch", "status", "fails", "error"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[1] == "A" * 39 + "…" and lines[3].split()[1] == "Bee"
    assert lines[2].index("auto") == lines[3].index("auto") == lines[0].index("kind")
    assert lines[-1] == "2 sources"
