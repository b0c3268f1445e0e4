"""One table per kind of source (issue 11, item 17): ``lll.kinds`` decides detection, signals,
the writer's verb, the general-interest flag and the caps; no stage compares kind names itself,
so a new kind is one ``SourceKind`` entry plus its tests."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lll import kinds
from lll.errors import SourceError
from lll.kinds import SourceKind
from lll.newsletter import Newsletter
from lll.parse.feeds import parse_feed
from lll.stories.engine import off_topic, unfit
from lll.stories.model import Story
from lll.stories.units import ItemView, StoryUnit
from lll.write.offline import OfflineWriter
from lll.write.plan import plan_issue
from lll.write.render import render_markdown

SRC = Path(__file__).resolve().parents[1] / "src" / "lll"
WHEN = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
BUILT_IN = ("arxiv", "hn", "github", "podcast", "newsletter", "feed")


def _kind_literals(node: ast.AST) -> list[str]:
    """The kind names a comparison operand spells out: "hn", or {"feed", "github"}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in BUILT_IN else []
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return [name for element in node.elts for name in _kind_literals(element)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset":
        return [name for arg in node.args for name in _kind_literals(arg)]
    return []


def _names_a_kind(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in ("source_kind", "detected_kind")
            or isinstance(node, ast.Name) and node.id in ("kind", "source_kind"))


def kind_checks_outside_the_table() -> list[str]:
    """Every ``x.source_kind == "hn"``, ``kind in {"feed", "newsletter"}`` and every set of kind
    names (``frozenset({"hn"})``) in src/lll, outside ``lll/kinds.py``."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(_names_a_kind(o) for o in operands):
                    found += [f"{where} compares with {name!r}" for o in operands for name in _kind_literals(o)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset":
                found += [f"{where} lists {name!r}" for name in _kind_literals(node)]
    return found


def test_no_stage_compares_kind_names_itself() -> None:
    assert kind_checks_outside_the_table() == []


def test_the_table_holds_every_built_in_kind_and_detects_in_its_order() -> None:
    assert set(BUILT_IN) <= set(kinds.names())
    assert kinds.FALLBACK in kinds.KINDS and kinds.KINDS[kinds.FALLBACK].detect is None
    assert kinds.detect("https://hnrss.org/frontpage", []) == "hn"
    assert kinds.detect("https://export.arxiv.org/rss/cs.AI", []) == "arxiv"
    assert kinds.detect("https://github.com/vllm-project/vllm/releases.atom", []) == "github"
    assert kinds.detect("https://blog.example/feed.xml", []) == "feed"
    # What the stages read from it: the primary kinds lead, Hacker News is general interest.
    assert [k for k in BUILT_IN if kinds.source_kind(k).primary] == ["github", "feed"]
    assert [k for k in BUILT_IN if kinds.source_kind(k).general_interest] == ["hn"]
    assert kinds.source_kind("github").verb == "released"
    # A name the table does not know is nothing special, and not a primary source.
    assert kinds.source_kind("unheard-of") == SourceKind("unheard-of")


LOBSTERS_RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Lobsters</title><link>https://lobste.rs/</link>
<item><title>Ferrous: a borrow checker for the rest of us</title>
<link>https://ferrous.example/post</link><guid>https://lobste.rs/s/abc123</guid>
<comments>https://lobste.rs/s/abc123/ferrous</comments>
<description>Via https://ferrous.example/post. 41 comments on Lobsters.</description>
<pubDate>Fri, 10 Apr 2026 08:00:00 +0000</pubDate></item>
</channel></rss>"""


def _is_lobsters(feed_url: str, entries: Sequence[kinds.Entry]) -> bool:
    return "lobste.rs" in feed_url


LOBSTERS = SourceKind("lobsters", detect=_is_lobsters,
                      signals=lambda entry, url, title, text: {"thread": str(entry.get("comments", ""))},
                      verb="linked to", brief_verb="linked to", general_interest=True)


@pytest.fixture
def lobsters(monkeypatch: pytest.MonkeyPatch) -> SourceKind:
    monkeypatch.setitem(kinds.KINDS, LOBSTERS.name, LOBSTERS)
    return LOBSTERS


def _unit(n: int, kind: str, source: str, title: str, text: str) -> StoryUnit:
    url = f"https://{source.lower().replace(' ', '-')}.example/p/{n}"
    item = ItemView(id=n, source_id=n, source_name=source, source_weight=1.0, source_kind=kind, url=url,
                    canonical_url=url, title=title, text=text, raw="", published=WHEN, first_seen=WHEN, links=(),
                    signals={})
    return StoryUnit(id=f"{n}:0", item=item, title=title, text=text, start=0, end=len(text))


def test_a_registered_kind_is_detected_and_its_signals_read(lobsters: SourceKind) -> None:
    feed = parse_feed(LOBSTERS_RSS, url="https://lobste.rs/rss")
    assert feed.kind == "lobsters"
    assert feed.items[0].signals == {"thread": "https://lobste.rs/s/abc123/ferrous"}
    assert parse_feed(LOBSTERS_RSS, url="https://news.example/rss").kind == "feed"  # the same feed elsewhere
    Newsletter._check("https://lobste.rs/rss", kind="lobsters")  # a source may be declared of that kind
    with pytest.raises(SourceError, match="unknown kind 'lobster'.*lobsters"):
        Newsletter._check("https://lobste.rs/rss", kind="lobster")


def test_a_registered_kind_gives_the_general_interest_flag(lobsters: SourceKind) -> None:
    text = "A tour of a new borrow checker for a systems language, with benchmarks and a long design history."
    chatter = [_unit(1, "lobsters", "Lobsters", "Ferrous: a borrow checker", text)]
    assert off_topic(chatter, "AI")  # only general-interest sources, nothing of the field
    assert not off_topic([_unit(1, "feed", "Ferrous Blog", "Ferrous: a borrow checker", text)], "AI")
    assert not off_topic([_unit(1, "lobsters", "Lobsters", "Ferrous: an LLM inference server", text)], "AI")
    # Not primary: a title-only post of that kind is no story.
    assert unfit(_unit(2, "lobsters", "Lobsters", "Ferrous ships today", "").item, WHEN).startswith("no usable")
    assert unfit(_unit(2, "feed", "Ferrous Blog", "Ferrous ships today", "").item, WHEN) == ""


def test_a_registered_kind_gives_the_writer_its_verb(lobsters: SourceKind) -> None:
    text = ("The Ferrous team released an inference server for large language models. It serves Llama models "
            "at 1,200 tokens a second on one GPU. The code is open under the MIT license.")
    unit = _unit(3, "lobsters", "Lobsters", "Ferrous serves LLMs", text)
    story = Story(id="s-ferrous", units=(unit,), status="new", score=5.0, reasons=("test",),
                  vector=np.ones(8, dtype=np.float32) / np.sqrt(8))
    plan = plan_issue("2026-04-10", [story], find_clocks=lambda _unit: [])
    markdown = render_markdown(OfflineWriter("Large Language Letters", ("ai",), lambda day: f"{day}.md").write(plan))
    assert f"[Lobsters]({unit.item.url}) linked to:" in markdown
