"""The offline draft end to end: ``lll draft`` / ``lll verify`` / ``lll clocks`` as a user types
them, and the bundled demo corpus through ``lll.demo.run.run_demo``.

The demo serves its corpus over loopback HTTP itself; it runs twice in this module (once to
draft, once more to check that a rerun gives the same bytes and no duplicate rows), on a fixed
port so that the loopback URLs in the issues are the same both times. Other tests build small
workspaces whose feeds a loopback server in this file serves; nothing reaches the internet.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from conftest import Row, query
from fakes.feeds import FeedServer
from click.testing import CliRunner, Result

import lll.demo.run as demo_run
from lll.cli import cli
from lll.clock import frozen_at
from lll.demo.server import SITE, CorpusServer
from lll.draft import Drafter
from lll.kinds import discussion
from lll.newsletter import Newsletter
from lll.urls import canonical_url
from lll.verify.claims import links
from lll.workspace import Workspace

DEMO_DAYS = ("2026-04-08", "2026-04-09", "2026-04-10")
NUMBER_WORDS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")
TABLES = ("items", "stories", "story_units", "issues", "issue_stories", "clocks")


# -- helpers ---------------------------------------------------------------------------------------


def lll(*args: str, workspace: Path, env: dict[str, str] | None = None, ok: bool | None = True) -> Result:
    """``lll --workspace W ARGS`` through click's runner; ``ok=True`` asserts exit 0."""
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args], env=env, catch_exceptions=True)
    if ok:
        assert result.exit_code == 0, (f"lll {' '.join(args)} exited {result.exit_code}\nstdout: {result.stdout}\n"
                                       f"stderr: {result.stderr}\nexception: {result.exception!r}")
    return result


def rows(db: Path, sql: str, *params: object) -> list[Row]:
    return query(db, sql, *params)


def table_counts(db: Path) -> dict[str, int]:
    return {name: rows(db, f"SELECT COUNT(*) FROM {name}")[0][0] for name in TABLES}


@dataclass(frozen=True)
class Issue:
    front: dict[str, str]
    body: list[str]           # lines after the front matter

    @property
    def paragraphs(self) -> list[str]:
        out, current = [], []
        for line in self.body:
            if line.startswith("#"):
                if current:
                    out.append(" ".join(current))
                current = []
            elif line.strip():
                current.append(line.strip())
            elif current:
                out.append(" ".join(current))
                current = []
        if current:
            out.append(" ".join(current))
        return out

    def headings(self, level: str) -> list[str]:
        return [line[len(level) + 1:].strip() for line in self.body if line.startswith(level + " ")]


def parse_issue(markdown: str) -> Issue:
    lines = markdown.splitlines()
    assert lines[0] == "---", "the issue starts with a YAML front matter block"
    end = lines.index("---", 1)
    front = {}
    for line in lines[1:end]:
        key, _, value = line.partition(":")
        front[key.strip()] = value.strip()
    return Issue(front, lines[end + 1:])


def assert_spec_anatomy(markdown: str, day: str, *, allow_short: bool = False) -> Issue:
    """The parts of shared/spec/issue-format.md, checked independently of the verifier."""
    issue = parse_issue(markdown)
    y, m, d = day.split("-")
    assert json.loads(issue.front["title"]) == f"Large Language Letters {m}/{d}/{y}"
    assert issue.front["published"] == "false"
    tags = [t.strip() for t in issue.front["tags"].split(",")]
    assert 1 <= len(tags) <= 4 and all(re.fullmatch(r"[a-z0-9]+", t) for t in tags)
    paragraphs = issue.paragraphs
    assert paragraphs[0] == "Automated draft from LLL"
    lede = paragraphs[1]
    assert json.loads(issue.front["description"]) == lede
    assert len(lede.split()) <= 25
    assert lede.endswith(".") and not re.search(r"[.!?]\s+[A-Z]", lede), f"lede is not one sentence: {lede}"
    h2 = issue.headings("##")
    clocks = [h for h in h2 if re.fullmatch(r"\w+ Clocks? Worth Watching", h)]
    themed = [h for h in h2 if h not in clocks]
    short = any(p.startswith("*A short issue") for p in paragraphs[:4])
    assert 2 <= len(themed) <= 5 or (allow_short and short and len(themed) >= 1), themed
    if clocks:
        assert h2[-1] == clocks[0] and len(clocks) == 1, "the watch list is the last section"
        watch = markdown.split(f"## {clocks[0]}", 1)[1]
        items = [line for line in watch.splitlines() if line.startswith("### ")]
        assert clocks[0].split()[0] == NUMBER_WORDS[len(items)]
    return issue


# -- the demo corpus, drafted twice ----------------------------------------------------------------


@dataclass
class Demo:
    root: Path
    days: list[demo_run.DemoDay]
    first_files: dict[str, bytes]
    first_counts: dict[str, int]
    first_items: dict[int, tuple[int, str]]   # item id → (source id, identity) in the first run

    @property
    def db(self) -> Path:
        return self.root / "lll.db"

    def md(self, day: str) -> str:
        return (self.root / "issues" / f"{day}.md").read_text(encoding="utf-8")

    def data(self, day: str) -> dict[str, Any]:
        return json.loads((self.root / "issues" / f"{day}.json").read_text(encoding="utf-8"))


_real_getaddrinfo = socket.getaddrinfo


def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """getaddrinfo that answers for loopback names and literals only: the demo must not leave the machine."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name in ("localhost", "") or re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", name):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"tests are offline: no DNS lookup for {name!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo") / "lll-demo"
    port = free_port()

    class FixedPortServer(CorpusServer):
        def __init__(self, corpus: Path, day: str, port_: int = 0) -> None:
            super().__init__(corpus, day, port=port)

    with pytest.MonkeyPatch.context() as mp:
        for name in ("LLL_NOW", "LLL_ALLOW_PRIVATE", "LLL_DEBUG", "LLL_EMBEDDER", "LLL_WORKSPACE"):
            mp.delenv(name, raising=False)
        mp.setattr(demo_run, "CorpusServer", FixedPortServer)
        mp.setattr(socket, "getaddrinfo", loopback_only)
        demo_run.run_demo(root)
        first_files = {p.name: p.read_bytes() for p in sorted((root / "issues").iterdir())}
        first_counts = table_counts(root / "lll.db")
        first_items = item_keys(root / "lll.db")
        days = demo_run.run_demo(root)  # the demo resets its workspace and starts over
    yield Demo(root, days, first_files, first_counts, first_items)


def item_keys(db: Path) -> dict[int, tuple[int, str]]:
    return {r["id"]: (r["source_id"], r["identity"]) for r in rows(db, "SELECT id, source_id, identity FROM items")}


def stable(data: Any, keys: dict[int, tuple[int, str]]) -> Any:
    """The issue JSON with database ids replaced by what they stand for (source, guid), so that two
    runs can be compared: ids follow the order in which concurrent fetches finished."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key == "seconds":
                continue
            if key == "item_id" and isinstance(value, int):
                value = list(keys[value])
            elif key == "id" and isinstance(value, str) and re.fullmatch(r"(item:)?\d+(:\d+)?", value):
                head, _, tail = value.removeprefix("item:").partition(":")
                value = f"{keys[int(head)]}:{tail}"
            out[key] = stable(value, keys)
        if "left_out" in out:
            out["left_out"] = sorted(out["left_out"], key=json.dumps)
        return out
    if isinstance(data, list):
        return [stable(x, keys) for x in data]
    return data


def test_the_demo_drafts_and_verifies_three_issues(demo: Demo) -> None:
    assert [d.day for d in demo.days] == list(DEMO_DAYS)
    for day in DEMO_DAYS:
        assert (demo.root / "issues" / f"{day}.md").is_file()
        assert (demo.root / "issues" / f"{day}.json").is_file()
    for result in demo.days:
        assert result.draft.report.ok, result.draft.report.lines()
        assert not result.fetch.failed, [o.error for o in result.fetch.failed]
        assert "; verified" in result.draft.summary_line()


def test_demo_issues_link_canonical_urls_that_outlive_the_demo(demo: Demo) -> None:
    """The demo's server is gone when the demo ends: its issues link the corpus's canonical
    addresses (the pages' own <link rel="canonical"> on a made-up .example site), each one an item
    URL (or a thread recorded on an item) in the store, while the pages came over loopback."""
    db = demo.root / "lll.db"
    items = rows(db, "SELECT url, canonical_url, signals FROM items")
    stored = {r["url"] for r in items} | {r["canonical_url"] for r in items}
    stored |= {discussion(json.loads(r["signals"])) for r in items} - {""}
    linked: list[str] = []
    for day in DEMO_DAYS:
        markdown = demo.md(day)
        assert "127.0.0.1" not in markdown and "localhost" not in markdown
        assert "127.0.0.1" not in (demo.root / "issues" / f"{day}.json").read_text(encoding="utf-8")
        linked += [u for u in links(markdown) if not re.fullmatch(r"\d{4}-\d{2}-\d{2}\.md", u)]
    assert linked and set(linked) <= stored, sorted(set(linked) - stored)
    pages = sorted({u for u in linked if u.startswith(SITE + "/")})
    assert len(pages) == 4  # the corpus's four article pages, each cited where it lives
    corpus = demo_run.corpus_root() / "days"
    for url in pages:
        page = next(corpus.glob(f"*/{url.removeprefix(SITE + '/')}")).read_text(encoding="utf-8")
        assert f'<link rel="canonical" href="{url}">' in page
        fetched = rows(db, "SELECT text, error FROM pages WHERE url = ?", canonical_url(url))
        assert fetched and fetched[0]["error"] is None and len(fetched[0]["text"]) > 1000, url


@pytest.mark.parametrize("day", DEMO_DAYS)
def test_each_demo_issue_passes_lll_verify(demo: Demo, day: str) -> None:
    path = demo.root / "issues" / f"{day}.md"
    result = lll("verify", str(path), workspace=demo.root)
    assert re.fullmatch(rf"{re.escape(str(path))}: verified \(\d+ claims in \d+ paragraphs\)\n", result.stdout)


@pytest.mark.parametrize("day", DEMO_DAYS)
def test_each_demo_issue_has_the_anatomy_of_the_spec(demo: Demo, day: str) -> None:
    assert_spec_anatomy(demo.md(day), day, allow_short=day != "2026-04-10")


def test_the_reference_day_has_every_part_of_the_spec(demo: Demo) -> None:
    markdown = demo.md("2026-04-10")
    issue = assert_spec_anatomy(markdown, "2026-04-10")
    assert issue.front["title"] == '"Large Language Letters 04/10/2026"'
    assert issue.front["tags"] == "ai"
    assert issue.body[1] == "Automated draft from LLL"   # first line of the body (after one blank line)
    lede = issue.paragraphs[1]
    data = demo.data("2026-04-10")
    lede_story = next(s for s in data["stories"] if s["id"] == data["lede"]["story_id"])
    # one whole sentence of the top story, 6 to 25 words, with its actor: not a headline + "reports."
    assert 6 <= len(lede.split()) <= 25 and lede.endswith(".") and not lede.endswith("reports.")
    cited = {c["url"] for s in data["lede"]["sentences"] for c in s["citations"]}
    assert cited and cited <= {u["url"] for u in lede_story["units"]}
    assert lede_story["score"] == max(s["score"] for s in data["stories"] if s["told"])
    h2 = issue.headings("##")
    assert re.fullmatch(r"(Two|Three|Four|Five) Clocks Worth Watching", h2[-1])   # 2 to 5 items (spec)
    assert 2 <= len(h2) - 1 <= 5
    assert "*A short issue" not in markdown
    # every story paragraph names its source in prose, with a link to the item
    for paragraph in issue.paragraphs[2:]:
        assert re.search(r"\[[^\]]+\]\(https?://[^)]+\) (reported|discussed|noted|pointed to|published a paper|"
                         r"released|also reported|wrote|also wrote|published|ran|recapped|added|also noted|"
                         r"also pointed out)", paragraph), paragraph
    # figures exactly as the source wrote them
    assert "a UC Berkeley benchmark of 1,507 real-world vulnerability reproduction tasks, it scores 83.1%" in markdown
    assert "Mythos Preview succeeded 180 times" in markdown


def test_the_reference_day_calls_back_to_earlier_issues(demo: Demo) -> None:
    markdown = demo.md("2026-04-10")
    callbacks = re.findall(r'Following up on (?:"[^"\n]+", |the story )discussed here on \[(April \d+)\]\((2026-04-\d\d)\.md\):',
                           markdown)
    assert callbacks and all(day in ("2026-04-08", "2026-04-09") and label == f"April {int(day[-2:])}"
                             for label, day in callbacks), callbacks
    updates = [s for s in demo.data("2026-04-10")["stories"] if s["status"] == "update" and s["told"]]
    assert updates and all(s["previous"]["told_in"] in ("2026-04-08", "2026-04-09") for s in updates)
    # the Sprint 3 date first seen on April 8 comes back as a running clock, pointing at where it began
    assert "launches on April 13. (First flagged here on [April 8](2026-04-08.md).)" in markdown
    # a callback names the earlier story the way the earlier issue wrote it
    named = re.findall(r'Following up on "([^"\n]+)", discussed here on \[April \d+\]\((2026-04-\d\d)\.md\)', markdown)
    assert named and all(title in demo.md(day) for title, day in named), named


def test_provenance_spans_are_the_items_own_words(demo: Demo) -> None:
    data = demo.data("2026-04-10")
    texts = {r["id"]: r["text"] for r in rows(demo.db, "SELECT id, text FROM items")}
    urls = {r["id"]: r["url"] for r in rows(demo.db, "SELECT id, url FROM items")}
    paragraphs = [p for s in data["sections"] for p in s["paragraphs"]] + [c["paragraph"] for c in data["clocks"]]
    checked = 0
    for paragraph in paragraphs:
        for sentence in paragraph["sentences"]:
            span = sentence["span"]
            if sentence["role"] == "source" and paragraph["kind"] == "story":
                assert span is not None, f"story sentence without provenance: {sentence['text']}"
            if span is None:
                continue
            item_id = span["item_id"]
            # the item's own words (a source's first person is quoted, its words unchanged)
            copied = texts[item_id][span["start"]:span["end"]]
            # (a digest's trailing handles left out: the span holds the words kept, the period is ours)
            forms = (copied, f"“{copied}”", f"{copied}.", f"“{copied}.”")
            assert sentence["text"] in forms or sentence["text"].strip("“”") == \
                copied.replace("“", "‘").replace("”", "’").replace('"', "'")
            assert any(c["item_id"] == item_id and c["url"] == urls[item_id] for c in sentence["citations"])
            checked += 1
    assert checked >= 20
    for story in data["stories"]:   # every unit's span is a slice of its item
        for unit in story["units"]:
            start, end = unit["span"]
            assert 0 <= start < end <= len(texts[unit["item_id"]])


def test_the_json_keeps_left_out_stories_with_reasons_and_counts_per_layer(demo: Demo) -> None:
    data = demo.data("2026-04-10")
    assert data["schema"] == "lll.issue/1" and data["writer"] == "offline"
    counts = data["counts"]
    for key in ("items", "items_usable", "units", "merged_url", "merged_text", "merged_event", "new", "update",
                "repeat"):
        assert isinstance(counts[key], int) and counts[key] >= 0, key
    assert counts["units"] > counts["items_usable"]   # newsletters were split into their stories
    assert counts["merged_url"] > 0
    assert data["left_out"]
    for entry in data["left_out"]:
        assert {"id", "title", "source", "reason", "ranking"} <= set(entry) and entry["reason"]
    told = [s for s in data["stories"] if s["told"]]
    assert told and all(s["reasons"] for s in told)
    assert data["verification"]["ok"] and data["verification"]["failures"] == []
    assert data["cost"]["usd"] == 0.0


def test_left_out_stories_keep_their_ranking_reasons(demo: Demo) -> None:
    """issue 3: "the reasons kept in issues/DATE.json for each story chosen or left out". The off-topic
    Show HN item is left out with its score only; the reason behind the score (off-topic) is lost."""
    data = demo.data("2026-04-10")
    keyboard = next(x for x in data["left_out"] if "keyboard" in x["title"].lower())
    assert keyboard["reason"].startswith(("score ", "off-field"))
    records = [x for x in data["left_out"] + data["stories"] if x["id"] == keyboard["id"]]
    assert any("off-topic" in json.dumps(x) for x in records), records


@pytest.mark.parametrize("day", DEMO_DAYS)
def test_every_story_marked_told_is_in_the_issue(demo: Demo, day: str) -> None:
    """A story the JSON calls told has a paragraph or a clock in the Markdown; one the writer could
    not tell belongs in left_out with its reason (on 2026-04-09 "Paper of the day: agents that know
    when to stop." is marked told but appears nowhere)."""
    data = demo.data(day)
    written = ({p["story_id"] for s in data["sections"] for p in s["paragraphs"]}
               | {c["story_id"] for c in data["clocks"]} | {data["lede"]["story_id"]})
    missing = [s["title"] for s in data["stories"] if s["told"] and s["id"] not in written]
    assert missing == []


def test_lll_clocks_lists_the_sprint_3_clock(demo: Demo) -> None:
    listed = json.loads(lll("clocks", "--json", workspace=demo.root).stdout)
    sprint = [c for c in listed if "AgentBeats" in c["sentence"]]
    assert len(sprint) == 1
    assert sprint[0]["due"] == "2026-04-13" and sprint[0]["phrase"] == "on April 13"
    assert sprint[0]["status"] == "open" and sprint[0]["opened_in"] == "2026-04-08"
    assert sprint[0]["source"] == "Berkeley RDI's Agentic AI Weekly"
    assert [c["due"] for c in listed] == sorted(c["due"] for c in listed)
    text = lll("clocks", workspace=demo.root).stdout
    assert "2026-04-13  open" in text and text.rstrip().endswith(f"{len(listed)} clocks")


def test_the_demo_twice_gives_byte_identical_issues(demo: Demo) -> None:
    second = {p.name: p.read_bytes() for p in sorted((demo.root / "issues").iterdir())}
    assert sorted(second) == sorted(demo.first_files)
    keys = item_keys(demo.db)
    for name, first in demo.first_files.items():
        if name.endswith(".md"):
            assert second[name] == first, f"{name} differs between two demo runs"
        else:
            assert stable(json.loads(second[name]), keys) == stable(json.loads(first), demo.first_items), name


def test_the_demo_twice_leaves_no_duplicate_rows(demo: Demo) -> None:
    assert table_counts(demo.db) == demo.first_counts
    assert [r[0] for r in rows(demo.db, "SELECT date FROM issues ORDER BY date")] == list(DEMO_DAYS)
    assert rows(demo.db, "SELECT unit_id, day FROM story_units GROUP BY unit_id, day HAVING COUNT(*) > 1") == []
    assert rows(demo.db, "SELECT story_id, item_id, day, span_start FROM story_units "
                         "GROUP BY story_id, item_id, day, span_start HAVING COUNT(*) > 1") == []
    assert rows(demo.db, "SELECT story_id, opened_in FROM clocks GROUP BY story_id, opened_in "
                         "HAVING COUNT(*) > 1") == []
    assert rows(demo.db, "SELECT due, sentence FROM clocks GROUP BY due, sentence HAVING COUNT(*) > 1") == []


def test_a_hand_edited_copy_fails_lll_verify_naming_the_figure(demo: Demo, tmp_path: Path) -> None:
    original = demo.md("2026-04-10")
    edited = original.replace("it scores 83.1%, against 66.6%", "it scores 88.1%, against 66.6%", 1)
    assert edited != original
    copy = tmp_path / "2026-04-10-edited.md"
    copy.write_text(edited, encoding="utf-8")
    result = lll("verify", str(copy), workspace=demo.root, ok=False)
    assert result.exit_code == 1
    assert "88.1%" in result.stderr
    assert "1 unsupported claim(s)" in result.stderr
    assert "83.1%" not in result.stderr.split("— in:")[0]


def test_lll_verify_fails_on_a_link_lll_never_fetched(demo: Demo, tmp_path: Path) -> None:
    edited = demo.md("2026-04-10").replace("(https://www.anthropic.com/glasswing)",
                                           "(https://www.anthropic.com/glasswing-leak)", 1)
    copy = tmp_path / "linked.md"
    copy.write_text(edited, encoding="utf-8")
    result = lll("verify", str(copy), workspace=demo.root, ok=False)
    assert result.exit_code == 1
    assert "link https://www.anthropic.com/glasswing-leak is not a URL LLL fetched" in result.stderr


def test_redrafting_a_day_replaces_it_byte_for_byte(demo: Demo) -> None:
    before = table_counts(demo.db)
    md_before = demo.md("2026-04-10").encode()
    with Newsletter(Workspace.open(demo.root)) as letter, frozen_at(demo_run.end_of_day("2026-04-10")):
        drafter = Drafter(letter)
        drafter.draft("2026-04-10")
    assert demo.md("2026-04-10").encode() == md_before
    assert table_counts(demo.db) == before
    # every vector came from the cache (unit_vectors): nothing was embedded again
    assert drafter.embedder.misses == 0 and drafter.embedder.hits > 0


# -- small workspaces, driven through the CLI ------------------------------------------------------


class DraftFeeds(FeedServer):
    """Feeds on 127.0.0.1 that a test sets and changes, written from plain dicts."""

    def feed(self, path: str, title: str, posts: Sequence[dict[str, str]]) -> str:
        self.bodies[path] = rss(title, posts)
        return self.base + path


@pytest.fixture
def feeds() -> Iterator[DraftFeeds]:
    server = DraftFeeds()
    try:
        yield server
    finally:
        server.stop()


def rss(title: str, posts: Sequence[dict[str, str]]) -> bytes:
    entries = []
    for p in posts:
        published = datetime.fromisoformat(p.get("day", "2026-04-10")).replace(hour=9, tzinfo=UTC)
        entries.append(f"<item><title>{escape(p['title'])}</title><link>{escape(p['link'])}</link>"
                       f'<guid isPermaLink="false">{escape(p.get("guid", p["link"]))}</guid>'
                       f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
                       f"<description>{escape(p['html'])}</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://example.com/</link><description>test</description>{''.join(entries)}"
            "</channel></rss>").encode()


SETTINGS = ('[newsletter]\nname = "Large Language Letters"\ntags = ["ai"]\n[fetch]\nfulltext = "never"\n'
            "retries = 0\nconnect_timeout = 2.0\nread_timeout = 2.0\ntotal_timeout = 5.0\n")


def env_at(moment: str) -> dict[str, str]:
    return {"LLL_NOW": moment, "LLL_ALLOW_PRIVATE": "1"}


def new_workspace(root: Path, sources: Sequence[tuple[str, str]]) -> Path:
    lll("init", workspace=root)
    (root / "lll.toml").write_text(SETTINGS, encoding="utf-8")
    for url, name in sources:
        lll("sources", "add", url, "--name", name, workspace=root)
    return root


def fetch_and_draft(root: Path, moment: str, *draft_args: str) -> Result:
    lll("fetch", workspace=root, env=env_at(moment))
    return lll("draft", *draft_args, workspace=root, env=env_at(moment))


GLASSWING = {"title": "Project Glasswing", "link": "https://www.anthropic.com/glasswing",
             "html": "<p>Today we are launching Project Glasswing with AWS, CrowdStrike and Microsoft. On CyberGym, "
                     "a benchmark of 1,507 real-world vulnerability tasks, Claude Mythos Preview scores 83.1%, "
                     "against 66.6% for Claude Opus 4.6. The model will not be released more widely for now.</p>"}
GLM = {"title": "GLM-5.1 weights are out", "link": "https://z.ai/blog/glm-5.1",
       "html": "<p>Z.ai released GLM-5.1 under the MIT license. It reports 58.4% on SWE-Bench Pro, the best score "
               "among open models. Kernels run 3.6 times faster on KernelBench Level 3, the team says.</p>"}
ADVISOR = {"title": "The advisor strategy", "link": "https://claude.com/blog/the-advisor-strategy",
           "html": "<p>The new advisor tool lets an executor model such as Sonnet call on Opus only when it reaches a "
                   "hard decision. Sonnet advised by Opus gains 2.7 points on SWE-bench at 11.9% lower cost. The "
                   "tool is in beta on the Claude Developer Platform.</p>"}
SPRINT = {"title": "AgentBeats Sprint 3", "link": "https://rdi.example.edu/weekly/37",
          "html": "<p>The Agent Safety track drew 140 teams in the last sprint, the organisers said. The third sprint "
                  "of the AgentBeats competition launches on April 13. Registration stays open until launch "
                  "day, and every track has its own leaderboard.</p>"}


def test_lll_draft_honours_lll_now_and_prints_a_summary(feeds: DraftFeeds, tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "ws", [(feeds.feed("/lab.xml", "Lab News", [GLASSWING, GLM, ADVISOR]),
                                            "Anthropic News"),
                                           (feeds.feed("/weekly.xml", "Weekly", [SPRINT]), "Agentic AI Weekly")])
    result = fetch_and_draft(root, "2026-04-10T20:00:00Z")
    out = result.stdout.splitlines()
    assert out[0] == f"Wrote {root / 'issues' / '2026-04-10.md'}"
    assert out[1] == f"Wrote {root / 'issues' / '2026-04-10.json'}"
    assert re.fullmatch(r"2026-04-10: 4 items, \d+ story units, \d+ stories considered, \d+ told, 1 clock, "
                        r"0 due; verified; cost \$0\.00 \(offline writer\)", out[2]), out[2]
    (issue,) = rows(root / "lll.db", "SELECT date, title, verified, window_start, window_end FROM issues")
    assert tuple(issue) == ("2026-04-10", "Large Language Letters 04/10/2026", 1, "2026-04-03T20:00:00Z",
                            "2026-04-10T20:00:00Z")
    markdown = (root / "issues" / "2026-04-10.md").read_text(encoding="utf-8")
    assert_spec_anatomy(markdown, "2026-04-10", allow_short=True)
    assert lll("verify", str(root / "issues" / "2026-04-10.md"), workspace=root).exit_code == 0
    clocks = json.loads(lll("clocks", "--json", workspace=root).stdout)
    assert [(c["due"], c["phrase"]) for c in clocks] == [("2026-04-13", "on April 13")]


def test_lll_draft_uses_items_first_seen_since_the_previous_issue(feeds: DraftFeeds, tmp_path: Path) -> None:
    old = {**GLM, "day": "2026-04-01"}
    url = feeds.feed("/lab.xml", "Lab News", [old])
    root = new_workspace(tmp_path / "ws", [(url, "Lab News")])
    lll("fetch", workspace=root, env=env_at("2026-04-01T12:00:00Z"))   # seen nine days before the issue
    feeds.feed("/lab.xml", "Lab News", [{**GLASSWING, "day": "2026-04-10"}, old])
    fetch_and_draft(root, "2026-04-10T20:00:00Z", "--date", "2026-04-10")
    first = json.loads((root / "issues" / "2026-04-10.json").read_text(encoding="utf-8"))
    assert first["window"] == {"start": "2026-04-03T20:00:00Z", "end": "2026-04-10T20:00:00Z"}
    assert first["counts"]["items"] == 1    # the item first seen on April 1 is outside the 7 days
    feeds.feed("/lab.xml", "Lab News", [{**ADVISOR, "day": "2026-04-11"}, {**GLASSWING, "day": "2026-04-10"}, old])
    fetch_and_draft(root, "2026-04-11T20:00:00Z", "--date", "2026-04-11")
    second = json.loads((root / "issues" / "2026-04-11.json").read_text(encoding="utf-8"))
    assert second["window"] == {"start": "2026-04-10T20:00:00Z", "end": "2026-04-11T20:00:00Z"}
    assert second["counts"]["items"] == 1
    assert "advisor" in (root / "issues" / "2026-04-11.md").read_text(encoding="utf-8")
    assert "Glasswing" not in (root / "issues" / "2026-04-11.md").read_text(encoding="utf-8")


def test_drafting_a_date_twice_replaces_the_issue_without_duplicating_rows(feeds: DraftFeeds,
                                                                           tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "ws", [(feeds.feed("/lab.xml", "Lab News", [GLASSWING, GLM, ADVISOR]),
                                            "Anthropic News"),
                                           (feeds.feed("/weekly.xml", "Weekly", [SPRINT]), "Agentic AI Weekly")])
    fetch_and_draft(root, "2026-04-10T20:00:00Z")
    first = (root / "issues" / "2026-04-10.md").read_bytes()
    counts = table_counts(root / "lll.db")
    lll("draft", "--date", "2026-04-10", workspace=root, env=env_at("2026-04-10T20:30:00Z"))
    assert (root / "issues" / "2026-04-10.md").read_bytes() == first
    assert table_counts(root / "lll.db") == counts


def test_two_fresh_workspaces_built_the_same_way_draft_the_same_bytes(feeds: DraftFeeds, tmp_path: Path) -> None:
    lab = feeds.feed("/lab.xml", "Lab News", [GLASSWING, GLM, ADVISOR])
    weekly = feeds.feed("/weekly.xml", "Weekly", [SPRINT])
    outputs = []
    for name in ("one", "two"):
        root = new_workspace(tmp_path / name, [(lab, "Anthropic News"), (weekly, "Agentic AI Weekly")])
        fetch_and_draft(root, "2026-04-10T20:00:00Z", "--date", "2026-04-10")
        data = json.loads((root / "issues" / "2026-04-10.json").read_bytes())
        outputs.append(((root / "issues" / "2026-04-10.md").read_bytes(), stable(data, item_keys(root / "lll.db"))))
    assert outputs[0][0] == outputs[1][0]
    assert outputs[0][1] == outputs[1][1]   # the same, once database ids are read as (source, guid)


def test_a_day_with_one_story_is_a_short_issue_that_says_so(feeds: DraftFeeds, tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "ws", [(feeds.feed("/lab.xml", "Lab News", [GLASSWING]), "Anthropic News")])
    result = fetch_and_draft(root, "2026-04-10T20:00:00Z")
    assert "1 told" in result.stdout
    markdown = (root / "issues" / "2026-04-10.md").read_text(encoding="utf-8")
    issue = assert_spec_anatomy(markdown, "2026-04-10", allow_short=True)
    assert "*A short issue: few new stories met the bar since the last one.*" in issue.paragraphs[:4]
    assert len(issue.headings("##")) == 1           # no padding
    assert markdown.split("\n---\n", 1)[1].count("On CyberGym, a benchmark of 1,507") == 1
    lll("verify", str(root / "issues" / "2026-04-10.md"), workspace=root)


BAD = [
    {"title": "Untitled", "link": "https://empty.example.com/p/1", "html": ""},
    {"title": "A very long post", "link": "https://huge.example.com/p/1",
     "html": "<p>" + "The agents keep running and the models keep talking. " * 4500 + "</p>"},
    {"title": "Новая модель", "link": "https://ru.example.com/p/1",
     "html": "<p>Компания сегодня представила новую открытую языковую модель, которая показала высокие результаты "
             "в тестах по математике и программированию, а исследователи смогут бесплатно использовать её уже в "
             "следующем месяце для своих собственных экспериментов.</p>"},
    {"title": "Soup", "link": "https://soup.example.com/p/1",
     "html": "<div><p>Unclosed <b>bold <table><tr><td>cell</p></div></span>&nbsp;&amp;&#x;<script>alert(1)"
             "</script><<>>< p>Broken</ p><!-- never closed"},
    {**GLM, "guid": "dup-1"},
    {**GLM, "guid": "dup-1", "title": "GLM-5.1 weights are out (again)",
     "html": "<p>A second entry with the same guid says GLM-5.1 scores 99.9% on everything, which nobody reported."
             "</p>"},
]


def test_bad_items_are_left_out_with_reasons_and_never_crash_the_draft(feeds: DraftFeeds, tmp_path: Path) -> None:
    lab = feeds.feed("/lab.xml", "Lab News", [GLASSWING, ADVISOR, SPRINT, *BAD])
    mirror = feeds.feed("/mirror.xml", "Mirror", [{**GLM, "guid": "dup-1"}])
    root = new_workspace(tmp_path / "ws", [(lab, "Lab News"), (mirror, "Mirror")])
    fetch_and_draft(root, "2026-04-10T20:00:00Z")
    data = json.loads((root / "issues" / "2026-04-10.json").read_text(encoding="utf-8"))
    reasons = {x["title"]: x["reason"] for x in data["left_out"]}
    assert reasons["Untitled"].startswith("no usable text")
    assert re.fullmatch(r"text of [\d,]+ characters is beyond the 200,000-character limit",
                        reasons["A very long post"])
    assert reasons["Новая модель"] == "not English text"
    assert reasons["Soup"].startswith("no usable text")
    markdown = (root / "issues" / "2026-04-10.md").read_text(encoding="utf-8")
    assert "alert(1)" not in markdown and "<script" not in markdown
    assert "99.9%" not in markdown                      # the second entry of a repeated guid is not news
    assert markdown.count("58.4% on SWE-Bench Pro") <= 1  # the story told at most once
    assert data["verification"]["ok"]
    lll("verify", str(root / "issues" / "2026-04-10.md"), workspace=root)


def test_a_chinese_item_is_left_out_not_silently_told(feeds: DraftFeeds, tmp_path: Path) -> None:
    """A Chinese item passes the language check (no spaces between words), is planned as a story,
    marked told in the JSON, and then vanishes: the writer finds no sentence of 4 words in it."""
    chinese = {"title": "新模型发布", "link": "https://zh.example.com/p/1",
               "html": "<p>人工智能公司深度求索今天发布了新一代开源大模型，该模型在数学推理和代码生成等多个基准测试中"
                       "取得了领先成绩，公司表示将在未来两周内公开技术报告和全部训练细节，并向研究人员免费开放接口。</p>"}
    root = new_workspace(tmp_path / "ws", [(feeds.feed("/lab.xml", "Lab News", [GLASSWING, chinese]), "Lab News")])
    fetch_and_draft(root, "2026-04-10T20:00:00Z")
    data = json.loads((root / "issues" / "2026-04-10.json").read_text(encoding="utf-8"))
    reasons = {x["title"]: x["reason"] for x in data["left_out"]}
    assert reasons.get("新模型发布") == "not English text"


def test_lll_draft_rejects_a_malformed_date(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "ws", [])
    result = lll("draft", "--date", "2026-13-45", workspace=root, ok=False)
    assert result.exit_code != 0
    assert "use YYYY-MM-DD" in result.stderr
    assert not (root / "issues" / "2026-13-45.md").exists()


def test_lll_verify_of_a_missing_file_says_so(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "ws", [])
    result = lll("verify", str(tmp_path / "nope.md"), workspace=root, ok=False)
    assert result.exit_code != 0
    assert "no such file" in result.stderr
