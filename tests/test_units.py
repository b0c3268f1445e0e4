"""Story units: ``lll.stories.units.split_item`` cuts one item into the stories it carries.

Items are built the way the real pipeline builds them: the text is
``lll.parse.html.html_to_text(raw)`` and the links ``extract_links(raw)``; the
newsletters of the bundled demo corpus go through ``parse_feed`` first. The HTML
inputs live in ``tests/data/stories/`` (written for these tests, every name invented).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lll.demo.run import corpus_root
from lll.parse.feeds import parse_feed
from lll.parse.html import extract_links, html_to_text
from lll.stories.units import MIN_UNIT_CHARS, ItemView, StoryUnit, split_item
from lll.urls import canonical_url

DATA = Path(__file__).resolve().parent / "data" / "stories"
WHEN = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)


def view(raw: str, *, item_id: int = 7, title: str = "A post", kind: str = "newsletter",
         url: str = "https://letters.example.com/p/37", source: str = "AINews (smol.ai)") -> ItemView:
    """An item as the store hands it to the engine: text and links derived from the raw HTML."""
    return ItemView(id=item_id, source_id=3, source_name=source, source_weight=1.0, source_kind=kind, url=url,
                    canonical_url=canonical_url(url), title=title, text=html_to_text(raw), raw=raw,
                    published=WHEN, first_seen=WHEN, links=extract_links(raw, url))


def load(name: str, **kw: object) -> ItemView:
    return view((DATA / name).read_text(encoding="utf-8"), **kw)  # type: ignore[arg-type]


def urls(unit: StoryUnit) -> set[str]:
    return {link.url for link in unit.links}


def assert_exact_spans(item: ItemView, units: list[StoryUnit]) -> None:
    """Every unit is a slice of its item's text; units are ordered and do not overlap."""
    previous_end = 0
    for unit in units:
        assert unit.item is item
        assert 0 <= unit.start < unit.end <= len(item.text)
        assert item.text[unit.start:unit.end] == unit.text
        assert unit.start >= previous_end, f"{unit.id} overlaps the unit before it"
        previous_end = unit.end
    assert len({u.id for u in units}) == len(units)
    assert all(u.id.startswith(f"{item.id}:") for u in units)


# -- AINews shape: <p><strong>Theme</strong></p><ul><li><strong>Headline</strong>: text <a>…</li>…</ul>


def test_ainews_post_gives_one_unit_per_top_level_story_item() -> None:
    item = load("ainews.html")
    units = split_item(item)
    assert [u.title for u in units] == [
        "Harbor shipped a CLI for long-running agents",
        "Relay Runtime added trace replay",
        "Orca Labs released Orca-9 as open weights",
        "MathArena added a proof track",
    ]
    assert [u.id for u in units] == ["7:1", "7:2", "7:3", "7:4"]
    assert_exact_spans(item, units)


def test_ainews_units_carry_their_theme() -> None:
    units = split_item(load("ainews.html"))
    assert [u.theme for u in units] == ["Agent Tooling: Harbor CLI and Relay Trace Replay"] * 2 + [
        "Models and Benchmarks: Orca-9 Weights and a Proof Track"] * 2


def test_ainews_units_carry_their_own_links_only() -> None:
    harbor, relay, orca, matharena = split_item(load("ainews.html"))
    assert urls(harbor) == {"https://harbor.example.com/blog/cli-launch?utm_source=ainews",
                            "https://x.com/harbor/status/111"}  # the /share link is noise, dropped
    assert urls(relay) == {"https://relay.example.org/changelog/trace-replay/", "https://x.com/relay/status/222"}
    assert urls(orca) == {"https://orca.example.net/posts/orca-9",
                          "https://www.reddit.com/r/LocalLLaMA/comments/abc123/orca9/"}
    assert urls(matharena) == {"https://matharena.example.com/proof-track"}


def test_ainews_unit_text_is_its_story_and_nothing_else() -> None:
    item = load("ainews.html")
    harbor, relay, orca, matharena = split_item(item)
    assert harbor.text.startswith("Harbor shipped a CLI for long-running agents: the release adds")
    assert "1,200 teams" in harbor.text and "Relay" not in harbor.text
    assert relay.text.startswith("Relay Runtime added trace replay") and "37%" in relay.text
    # a nested list belongs to the story item it sits in
    assert orca.text.rstrip().endswith("runs on a single 24 GB GPU.")
    assert "MathArena added" not in orca.text
    assert matharena.text.startswith("MathArena added a proof track") and "250 olympiad proofs" in matharena.text
    # the intro, the theme lines and the section title are not part of any story
    for unit in (harbor, relay, orca, matharena):
        assert "AI News for" not in unit.text and "AI Twitter Recap" not in unit.text
        assert "Agent Tooling:" not in unit.text


# -- headings, bold leads, plain articles ----------------------------------------------------------


def test_heading_structured_newsletter_splits_at_headings() -> None:
    item = load("headings.html", source="Berkeley RDI's Agentic AI Weekly")
    units = split_item(item)
    assert [u.title for u in units] == ["Peer preservation in frontier models", "Sprint 3 launches on April 13",
                                        "Lecture notes on multi-agent evaluation"]
    assert_exact_spans(item, units)
    peers, sprint, lecture = units
    assert peers.text.startswith("Peer preservation in frontier models")
    assert "up to 99%" in peers.text and "Read the paper on arXiv" in peers.text  # both paragraphs under it
    assert "Sprint 3" not in peers.text
    assert "Agent Safety, Coding Agent and Cybersecurity Agent" in sprint.text
    assert "Welcome to issue 37" not in " ".join(u.text for u in units)
    assert urls(peers) == {"https://arxiv.org/abs/2604.07164"}
    assert urls(sprint) == {"https://rdi.example.edu/agentbeats"}
    assert urls(lecture) == {"https://rdi.example.edu/lectures/12"}


def test_bold_lead_paragraphs_split_and_keep_their_continuations() -> None:
    item = load("boldlead.html", source="The Token Tally")
    units = split_item(item)
    assert len(units) == 3
    assert_exact_spans(item, units)
    glasswing, glm, vllm = units
    assert glasswing.title.rstrip(".") == "Glasswing for defenders"
    assert glm.title.rstrip(".") == "GLM-5.1 weights"
    assert vllm.title.rstrip(".") == "vLLM 0.19.2"
    assert "58.4% on SWE-Bench Pro" in glm.text
    assert glm.text.rstrip().endswith("reproduce the numbers.")  # the paragraph after it is its own
    assert "vLLM" not in glm.text
    assert urls(glm) == {"https://z.ai/blog/glm-5.1"}
    assert urls(vllm) == {"https://github.com/vllm-project/vllm/releases/tag/v0.19.2"}


def test_a_plain_article_stays_one_unit() -> None:
    item = load("plain.html", title="Chain of thought is scaffolding", kind="feed",
                source="The Algorithmic Bridge")
    units = split_item(item)
    assert len(units) == 1
    (unit,) = units
    assert unit.id == "7:0"
    assert (unit.start, unit.end) == (0, len(item.text))
    assert unit.text == item.text
    assert unit.title == "Chain of thought is scaffolding"
    assert unit.links == item.links


def test_a_short_item_is_never_split() -> None:
    raw = ("<ul><li><strong>A</strong>: one <a href='https://a.example.com/1'>a</a></li>"
           "<li><strong>B</strong>: two <a href='https://b.example.com/2'>b</a></li>"
           "<li><strong>C</strong>: three <a href='https://c.example.com/3'>c</a></li></ul>")
    item = view(raw)
    assert len(item.text) < 2 * MIN_UNIT_CHARS
    assert [u.id for u in split_item(item)] == ["7:0"]


def test_a_plain_text_item_without_markup_stays_whole() -> None:
    text = ("Relay Runtime added trace replay. Developers can now replay a failed agent run step by step, "
            "and the team reports a 37% drop in the time it takes to fix flaky tools.")
    item = view(text)
    (unit,) = split_item(item)
    assert unit.text == item.text == text


def test_list_items_that_are_not_stories_do_not_split_the_item() -> None:
    """Short bullets without links (a list inside an article) are not story units."""
    raw = ("<p>Claude Cowork is now generally available on all paid plans, and it adds controls that "
           "administrators asked for during the preview. The new controls are:</p>"
           "<ul><li>role-based access</li><li>spending limits</li><li>OpenTelemetry monitoring</li></ul>"
           "<p>Many of the most popular uses during the preview had nothing to do with code, the team said.</p>")
    item = view(raw, kind="feed")
    assert [u.id for u in split_item(item)] == ["7:0"]


def test_hacker_news_unit_content_is_its_title() -> None:
    raw = ("Article URL: https://www.anthropic.com/glasswing\n\nComments URL: "
           "https://news.ycombinator.com/item?id=47717285\n\nPoints: 412\n\n# Comments: 187")
    item = view(raw, kind="hn", title="Project Glasswing: Claude Mythos Preview for defenders",
                url="https://www.anthropic.com/glasswing", source="Hacker News")
    (unit,) = split_item(item)
    assert unit.content == "Project Glasswing: Claude Mythos Preview for defenders"


@pytest.mark.parametrize("name", ["ainews.html", "headings.html", "boldlead.html", "plain.html"])
def test_every_span_is_exact(name: str) -> None:
    item = load(name)
    assert_exact_spans(item, split_item(item))


def test_splitting_is_deterministic() -> None:
    first = [(u.id, u.start, u.end, u.title, u.links) for u in split_item(load("ainews.html"))]
    again = [(u.id, u.start, u.end, u.title, u.links) for u in split_item(load("ainews.html"))]
    assert first == again


# -- the bundled demo corpus, parsed by the real feed parser ---------------------------------------


def corpus_item(day: str, feed: str) -> ItemView:
    path = corpus_root() / "days" / day / "feeds" / feed
    parsed = parse_feed(path.read_bytes(), url=f"http://127.0.0.1:8765/feeds/{feed}")
    first = parsed.items[0]
    assert first.published is not None
    return ItemView(id=30, source_id=3, source_name=parsed.title, source_weight=1.2, source_kind=parsed.kind,
                    url=first.url, canonical_url=first.canonical_url, title=first.title, text=first.text,
                    raw=first.raw, published=first.published, first_seen=first.published, links=first.links)


def test_agentic_ai_weekly_issue_splits_into_its_stories() -> None:
    item = corpus_item("2026-04-10", "agentic-ai-weekly.xml")
    units = split_item(item)
    assert_exact_spans(item, units)
    titles = [u.title for u in units]
    assert "Frontier models protect their peers from shutdown" in titles
    assert "Project Glasswing and the CyberGym curve" in titles
    assert "AgentBeats Sprint 3 launches Monday, April 13" in titles
    by_title = {u.title: u for u in units}
    assert "https://arxiv.org/abs/2604.07164" in urls(by_title["Frontier models protect their peers from shutdown"])
    assert "https://www.anthropic.com/glasswing" in urls(by_title["Project Glasswing and the CyberGym curve"])
    assert "https://arxiv.org/abs/2604.07164" not in urls(by_title["Project Glasswing and the CyberGym curve"])


def test_token_tally_roundup_splits_into_its_list_stories() -> None:
    item = corpus_item("2026-04-10", "token-tally.xml")
    units = split_item(item)
    assert_exact_spans(item, units)
    assert len(units) >= 10
    glasswing = next(u for u in units if u.title.startswith("Anthropic keeps its strongest security model"))
    assert "83.1%" in glasswing.text
    assert urls(glasswing) == {"https://www.anthropic.com/glasswing"}
    # each story keeps the link of its own source, not its neighbours'
    link_sets = [frozenset(urls(u)) for u in units]
    assert len(set(link_sets)) == len(link_sets)
