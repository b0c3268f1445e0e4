"""The publishable issue (Markdown → sanitized HTML with anchors, text, hash), the plugin
registry (built-ins and a third-party entry point through the same hook), and keys that
never leak, even when a server echoes one back."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from fakes import plugin
from fakes.issue import BASE_URL, DAY, first_section_anchor, workspace_copy
from fakes.web import Answer, Call, FakeServer

from conftest import query
from lll.errors import PublishError, PublishSettingsError
from lll.newsletter import Newsletter
from lll.publish import Publisher, Publishing, load_issue, load_registry
from lll.publish import registry as registry_module
from lll.publish.model import devto_tags
from lll.publish.render import render_html, render_text, sanitize_html

HOSTILE = ('Praise for <script>alert("x")</script> the <img src=x onerror="alert(1)"> model, '
           '[click](javascript:alert(1)) and <a href="https://ok.example/" onclick="steal()">this</a>.')


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


def test_the_issue_is_built_from_the_markdown_and_json(ws: Path) -> None:
    issue = load_issue(ws / "issues", DAY, base_url=BASE_URL + "/", newsletter="Large Language Letters")
    assert issue.title == "Large Language Letters 04/10/2026" and issue.tags == ("ai",)
    lede = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))["lede"]["markdown"]
    assert issue.description == lede and 6 <= len(lede.split()) <= 25  # the lede, one whole sentence
    assert not issue.body_markdown.startswith("---") and "published: false" not in issue.body_markdown
    assert issue.body_markdown.startswith("Automated draft from LLL")
    assert issue.url == f"{BASE_URL}/{DAY}.html"
    assert [a.id for a in issue.anchors[:3]] == ["disclosure", "lede", first_section_anchor(ws)]
    assert {a.kind for a in issue.anchors} >= {"story", "heading"}
    assert len({a.id for a in issue.anchors}) == len(issue.anchors), "anchors are unique"
    assert re.search(r"Anthropic News \(https://www.anthropic.com/glasswing\) (reported|wrote)", issue.text)
    again = load_issue(ws / "issues", DAY, base_url=BASE_URL + "/")
    assert again.content_hash == issue.content_hash, "the hash depends on the content only"


def test_relative_callbacks_and_a_leading_rule(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / f"{DAY}.md").write_text(
        '---\ntitle: "Letters 04/10/2026"\npublished: false\ntags: ai\ndescription: "x"\n---\n\n---\n\n'
        "As discussed here on [April 9](2026-04-09.md).\n", encoding="utf-8")
    issue = load_issue(issues, DAY, base_url="https://ex.example/l/")
    assert "](https://ex.example/l/2026-04-09.html)" in issue.body_markdown
    assert issue.body_markdown.startswith("***"), "a body never starts with --- (front matter on DEV)"
    plain = load_issue(issues, DAY)
    # with no archive to link, a target would get a dead relative link: the date stays, unlinked
    assert "discussed here on April 9." in plain.body_markdown and plain.url == ""
    assert "2026-04-09.md" not in plain.body_markdown and "2026-04-09.md" not in plain.html
    with pytest.raises(PublishError, match="lll draft --date 2026-04-11"):
        load_issue(issues, "2026-04-11")


class Markup(HTMLParser):
    """The elements and attributes a browser would really build from some HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def assert_harmless(html: str) -> None:
    markup = Markup(html)
    assert not {"script", "img", "iframe", "style"} & set(markup.tags), markup.tags
    assert not [k for k, _ in markup.attrs if k.startswith("on")], markup.attrs
    assert not [v for k, v in markup.attrs if k == "href" and not v.startswith(("http:", "https:", "mailto:", "#"))]


def test_hostile_source_html_is_escaped_and_sanitized() -> None:
    html = render_html(f"## Heading\n\n{HOSTILE}\n").html
    assert_harmless(html)
    assert Markup(html).tags == ["h2", "p"], "raw HTML in a source is text, never markup"
    assert "&lt;script&gt;" in html
    dirty = ('<p id="a" onclick="x()">hi <a href="javascript:alert(1)">x</a><script>bad()</script>'
             '<a href="https://ok.example/">ok</a></p><iframe src="https://evil.example"></iframe>')
    clean = sanitize_html(dirty)
    assert_harmless(clean)
    assert "bad()" not in clean and 'href="https://ok.example/"' in clean and 'id="a"' in clean


def test_story_anchors_come_from_the_json_and_fall_back_for_hand_edits() -> None:
    body = "Lede here.\n\n## A Section\n\nFirst story [src](https://a.example/).\n\nAn edited paragraph.\n"
    rendered = render_html(body, {"First story [src](https://a.example/).": "s-123"}, lede="Lede here.")
    assert [(a.id, a.kind) for a in rendered.anchors] == [
        ("lede", "lede"), ("a-section", "heading"), ("s-123", "story"), ("p-1", "paragraph")]
    assert '<p id="s-123">' in rendered.html
    assert render_text(body).splitlines()[2:4] == ["A Section", "========="]


def test_devto_tags_are_alphanumeric_lowercase_and_at_most_four() -> None:
    assert devto_tags(["AI", "machine-learning", "llm ops", "#python", "ai", "rust", "go"]) == (
        "ai", "machinelearning", "llmops", "python")
    assert devto_tags(["---", ""]) == ()


def test_builtins_and_third_party_plugins_register_through_the_same_hook(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    points = [EntryPoint(name="notebook", value="fakes.plugin", group="lll.publishers"),
              EntryPoint(name="broken", value="fakes.no_such_module", group="lll.publishers")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points if group == "lll.publishers" else [])
    registry = load_registry()
    assert registry.names() == ["archive", "buttondown", "devto", "email", "ghost", "notebook"]
    assert registry.origin("devto") == "lll.publish.devto"
    assert registry.origin("notebook").startswith("fakes.plugin")
    assert any("'devto'" in p and "ignored" in p for p in registry.problems)
    assert any("broken" in p and "failed to load" in p for p in registry.problems)
    plugin.SENT.clear()
    with Newsletter.open(ws) as letter:
        publishing = Publishing(letter, env={}, registry=registry)
        first = publishing.publish(DAY, "notebook")
        assert isinstance(publishing.registry.factory("notebook")(_context(publishing)), Publisher)
        second = publishing.publish(DAY, "notebook")
        with pytest.raises(PublishSettingsError, match="unknown target 'nope'"):
            publishing.publish(DAY, "nope")
    assert (first.action, second.action) == ("created", "unchanged") and len(plugin.SENT) == 1
    [row] = query(ws / "lll.db", "SELECT * FROM publications WHERE target = 'notebook'")
    assert row["state"] == "draft" and row["remote_id"] == "page-1"


def _context(publishing: Publishing) -> registry_module.PublishContext:
    return registry_module.PublishContext(target="notebook", config=publishing.letter.config,
                                          workspace=publishing.letter.workspace.root,
                                          slot=publishing.ledger.slot("notebook", DAY), env={})


class EchoingServer(FakeServer):
    """A careless API that repeats the key it was sent in its error message."""

    def handle(self, call: Call) -> Answer:
        if call.method == "GET":
            return Answer(200, [])
        return Answer(422, {"error": f"key {call.headers.get('api-key')} may not post", "status": 422})


def test_a_key_echoed_by_a_server_never_reaches_errors_logs_or_the_database(
        ws: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = "echoed-secret-key-42"
    caplog.set_level(logging.DEBUG)
    with EchoingServer() as server, Newsletter.open(ws) as letter:
        env = {"LLL_DEVTO_API_KEY": key, "LLL_DEVTO_BASE_URL": f"{server.base}/api"}
        with pytest.raises(PublishError) as caught:
            Publishing(letter, env=env, sleep=lambda s: None).publish(DAY, "devto")
    assert key not in str(caught.value) and "key *** may not post" in str(caught.value)
    assert all(key not in record.getMessage() for record in caplog.records)
    [row] = query(ws / "lll.db", "SELECT * FROM publications WHERE target = 'devto'")
    assert row["state"] == "failed" and "***" in row["error"]
    for path in ws.glob("lll.db*"):
        assert key.encode() not in path.read_bytes()
