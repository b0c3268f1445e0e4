"""Dedup in layers, the story ledger, ranking and the engine that joins them.

Pure parts (``lll.stories.dedup``, ``ledger``, ``rank``, ``engine``) are tested on hand-built
units and hand-made vectors; the ledger across days is tested through ``Drafter`` on a real
workspace whose feeds a loopback HTTP server serves, three days in a row.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from conftest import Row, query
from fakes.feeds import FeedServer

from lll.clock import frozen_at
from lll.draft import Drafter
from lll.newsletter import Newsletter
from lll.parse.html import extract_links, html_to_text
from lll.records import Link
from lll.stories.cluster import ClusterSettings
from lll.stories.dedup import (
    DedupSettings,
    Groups,
    dedup,
    hub_links,
    merge_same_event,
    merge_same_text,
    merge_same_url,
    url_keys,
)
from lll.stories.engine import OFF_TOPIC, build_stories, off_topic, unfit
from lll.stories.ledger import LedgerSettings, classify, novelty, numbers
from lll.stories.model import LedgerEntry, Story
from lll.stories.rank import RankSettings, score
from lll.stories.units import ItemView, StoryUnit, split_item
from lll.urls import canonical_url
from lll.workspace import Workspace

NOW = datetime(2026, 4, 10, 23, 0, tzinfo=UTC)
WEEK_AGO = NOW - timedelta(days=7)


# -- building blocks -------------------------------------------------------------------------------


def item(item_id: int, text: str, *, source_id: int | None = None, source: str = "", kind: str = "feed",
         weight: float = 1.0, url: str = "", title: str = "", links: Sequence[str] = (), raw: str = "",
         published: datetime = NOW - timedelta(hours=6), signals: dict | None = None) -> ItemView:
    source_id = item_id if source_id is None else source_id
    url = url or f"https://source{source_id}.example.com/posts/{item_id}"
    return ItemView(id=item_id, source_id=source_id, source_name=source or f"Source {source_id}",
                    source_weight=weight, source_kind=kind, url=url, canonical_url=canonical_url(url),
                    title=title or f"Story {item_id}", text=text, raw=raw, published=published,
                    first_seen=published, links=tuple(Link(url=u) for u in links), signals=signals or {})


def whole(it: ItemView) -> StoryUnit:
    return StoryUnit(id=f"{it.id}:0", item=it, title=it.title, text=it.text, start=0, end=len(it.text),
                     links=it.links)


def part(it: ItemView, n: int, text: str, links: Sequence[str] = ()) -> StoryUnit:
    """Unit ``n`` of a newsletter item (its text must be in the item's text)."""
    start = it.text.index(text)
    return StoryUnit(id=f"{it.id}:{n}", item=it, title=text[:30], text=text, start=start,
                     end=start + len(text), links=tuple(Link(url=u) for u in links))


def unit_vectors(rows: Sequence[Sequence[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def clusters_by_item(groups: Groups) -> list[list[int]]:
    return [sorted(groups.units[i].item.id for i in members) for members in groups.clusters()]


GLASSWING = ("Anthropic launched Project Glasswing, which lets AWS, CrowdStrike and Microsoft use Claude "
             "Mythos Preview to find and fix vulnerabilities. On CyberGym, a benchmark of 1,507 tasks, "
             "the model scores 83.1%, against 66.6% for Claude Opus 4.6.")
ORCA = ("Orca Labs released Orca-9 as open weights. The 9-billion-parameter model scores 71.4% on the "
        "MathArena suite, and the weights carry an Apache 2.0 licence for commercial use.")
RELAY = ("Relay Runtime added trace replay. Developers can now replay a failed agent run step by step, "
         "and the team reports a 37% drop in the time it takes to fix flaky tools in production.")


# -- layer 1: the same canonical URL ---------------------------------------------------------------


def test_same_canonical_url_across_sources_merges() -> None:
    a = item(1, GLASSWING, source="Anthropic News", url="https://www.anthropic.com/glasswing")
    b = item(2, "A roundup that points at the Glasswing post.", source="The Token Tally",
             url="https://tokentally.example.com/p/214",
             links=["https://anthropic.com/glasswing/?utm_source=tokentally&utm_medium=email"])
    groups = Groups([whole(a), whole(b)])
    merge_same_url(groups)
    assert clusters_by_item(groups) == [[1, 2]]
    assert groups.merges == {"url": 1, "text": 0, "event": 0}


def test_url_keys_are_canonical_and_skip_home_pages_and_social_posts() -> None:
    it = item(1, RELAY, url="https://relay.example.org/changelog/trace-replay/?utm_campaign=x",
              links=["https://relay.example.org/", "https://x.com/relay/status/222",
                     "https://www.reddit.com/r/LocalLLaMA/comments/abc/", "https://news.ycombinator.com/item?id=1",
                     "https://www.youtube.com/watch?v=abc", "https://docs.relay.example.org/replay#usage"])
    assert url_keys(whole(it)) == {"https://relay.example.org/changelog/trace-replay",
                                   "https://docs.relay.example.org/replay"}


def test_social_and_home_page_links_do_not_merge_unrelated_units() -> None:
    shared = ["https://x.com/OpenAI", "https://twitter.com/i/lists/1585430245762441216",
              "https://www.reddit.com/r/LocalLLaMA/", "https://www.youtube.com/@aiexplained",
              "https://openai.com/", "https://news.ycombinator.com/news"]
    a = item(1, ORCA, links=shared)
    b = item(2, RELAY, links=shared)
    groups = Groups([whole(a), whole(b)])
    merge_same_url(groups)
    assert clusters_by_item(groups) == [[1], [2]]
    assert groups.merges["url"] == 0


def test_hub_links_of_one_newsletter_do_not_merge_its_stories_with_others() -> None:
    hub = "https://news.smol.ai/issues/26-04-10"
    bullets = [f"Bullet {n} is a story of its own about topic {n}, with enough words to stand alone."
               for n in range(5)]
    letter = item(1, "\n".join(bullets), source="AINews (smol.ai)", kind="newsletter")
    units = [part(letter, n + 1, text, links=[hub, f"https://topic{n}.example.com/post"])
             for n, text in enumerate(bullets)]
    other = item(2, RELAY, source="Latent Space", links=[hub])
    everything = [*units, whole(other)]
    hubs = hub_links(everything)
    assert hubs == frozenset({hub})
    groups = Groups(everything)
    merge_same_url(groups, hubs)
    assert groups.merges["url"] == 0
    # without the hub rule the boilerplate link would have merged a bullet with the other item
    naive = Groups(everything)
    merge_same_url(naive)
    assert naive.merges["url"] == 1


def test_units_of_one_item_never_merge_even_on_a_shared_link() -> None:
    letter = item(1, f"{ORCA}\n{RELAY}", kind="newsletter")
    shared = "https://leaderboard.example.com/agents"
    groups = Groups([part(letter, 1, ORCA, [shared]), part(letter, 2, RELAY, [shared])])
    merge_same_url(groups)
    merge_same_text(groups, 0.0)
    merge_same_event(groups, unit_vectors([[1, 0], [1, 0]]), by_vectors(0.5))
    assert len(groups.clusters()) == 2
    assert groups.merges == {"url": 0, "text": 0, "event": 0}


def test_a_group_never_takes_a_second_unit_of_an_item_it_already_holds() -> None:
    """A (item 1) joins B (item 2) by URL; C (item 1 again) is B's twin by text: refused."""
    letter = item(1, f"{ORCA}\n{RELAY}", kind="newsletter")
    a = part(letter, 1, ORCA, ["https://orca.example.net/posts/orca-9"])
    c = part(letter, 2, RELAY)
    b = whole(item(2, RELAY, links=["https://orca.example.net/posts/orca-9"]))
    groups = Groups([a, b, c])
    merge_same_url(groups)
    merge_same_text(groups, 0.6)
    assert groups.merges == {"url": 1, "text": 0, "event": 0}
    assert sorted(map(sorted, groups.clusters())) == [[0, 1], [2]]


# -- layer 2: near-identical text ------------------------------------------------------------------


def test_near_identical_text_merges() -> None:
    a = item(1, GLASSWING, source="Wire A")
    b = item(2, GLASSWING.replace("launched", "has launched"), source="Wire B")
    groups = Groups([whole(a), whole(b)])
    merge_same_text(groups, DedupSettings().text_jaccard)
    assert clusters_by_item(groups) == [[1, 2]]
    assert groups.merges == {"url": 0, "text": 1, "event": 0}


def test_different_text_does_not_merge_and_the_threshold_is_honoured() -> None:
    a, b, c = whole(item(1, GLASSWING)), whole(item(2, ORCA)), whole(item(3, RELAY))
    groups = Groups([a, b, c])
    merge_same_text(groups, 0.6)
    assert groups.merges["text"] == 0
    # a light rewrite is near-identical at 0.6 but not at 0.99
    edited = whole(item(4, GLASSWING.replace("find and fix", "find, then fix")))
    strict = Groups([a, edited])
    merge_same_text(strict, 0.99)
    assert strict.merges["text"] == 0
    loose = Groups([a, edited])
    merge_same_text(loose, 0.6)
    assert loose.merges["text"] == 1


def test_text_layer_finds_every_pair_a_full_comparison_finds_on_templated_texts() -> None:
    """The prefix index misses no pair: every two texts whose shingle Jaccard reaches the threshold
    are joined, as a comparison of every pair joins them, even when all texts share a template."""
    import random

    from lll.stories.dedup import _shingles

    rng = random.Random(7)
    template = "released a model with {} billion parameters and a score of {} on the benchmark today"
    texts = []
    for n in range(120):
        words = template.format(rng.randrange(3, 40), rng.randrange(10, 20)).split()
        for _ in range(rng.randrange(0, 4)):  # light edits make near-copies of varying closeness
            words.insert(rng.randrange(len(words) + 1), rng.choice(["new", "open", "large", "fast", "lab"]))
        texts.append(" ".join(words))
    for threshold in (0.3, 0.5, 0.6):
        units = [whole(item(i + 1, text)) for i, text in enumerate(texts)]
        groups = Groups(units)
        joined: list[tuple[int, int]] = []
        union = groups.union

        def spy(a: int, b: int, layer: str, union=union) -> bool:  # type: ignore[no-untyped-def]
            joined.append((a, b))
            return union(a, b, layer)

        groups.union = spy  # type: ignore[method-assign]
        merge_same_text(groups, threshold)
        sets = [_shingles(u.content) for u in units]
        expected = [(j, i) for i in range(len(texts)) for j in range(i)
                    if sets[i] & sets[j] and len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold]
        assert sorted(joined) == sorted(expected) and expected, threshold


def test_near_identical_units_of_one_item_stay_apart() -> None:
    letter = item(1, f"{RELAY}\n{RELAY} Again.", kind="newsletter")
    first = part(letter, 1, RELAY)
    second = StoryUnit(id="1:2", item=letter, title="again", text=f"{RELAY} Again.",
                       start=len(RELAY) + 1, end=len(letter.text))
    groups = Groups([first, second])
    merge_same_text(groups, 0.6)
    assert groups.merges["text"] == 0


# -- layer 3: the same event, by vectors -----------------------------------------------------------


def by_vectors(threshold: float) -> ClusterSettings:
    """The streaming clusterer on the vectors alone (no TF-IDF mix), over a 3-day window."""
    return ClusterSettings(threshold=threshold, window=timedelta(days=3))


def test_same_event_by_vectors_merges() -> None:
    units = [whole(item(1, GLASSWING)), whole(item(2, "Anthropic keeps its strongest model for defenders.")),
             whole(item(3, ORCA))]
    vectors = unit_vectors([[1.0, 0.1, 0.0], [0.9, 0.3, 0.0], [0.0, 0.0, 1.0]])
    groups = Groups(units)
    merge_same_event(groups, vectors, by_vectors(0.62))
    assert clusters_by_item(groups) == [[1, 2], [3]]
    assert groups.merges == {"url": 0, "text": 0, "event": 1}


def test_dissimilar_vectors_do_not_merge() -> None:
    groups = Groups([whole(item(1, GLASSWING)), whole(item(2, ORCA))])
    merge_same_event(groups, unit_vectors([[1.0, 0.0], [0.5, 0.866]]), by_vectors(0.62))  # cosine 0.5
    assert groups.merges["event"] == 0


def test_event_layer_judges_whole_groups_so_it_does_not_chain() -> None:
    """cos(A,B)=0.65 and cos(B,C)=0.64 reach the bar, cos(A,C)=0: A and B join; C is far from their centroid."""
    gram = np.array([[1.0, 0.65, 0.0], [0.65, 1.0, 0.64], [0.0, 0.64, 1.0]])
    vectors = np.linalg.cholesky(gram).astype(np.float32)
    assert np.allclose(vectors @ vectors.T, gram, atol=1e-5)
    groups = Groups([whole(item(n, text)) for n, text in ((1, GLASSWING), (2, ORCA), (3, RELAY))])
    merge_same_event(groups, vectors, by_vectors(0.62))
    assert clusters_by_item(groups) == [[1, 2], [3]]
    assert groups.merges["event"] == 1


def test_event_layer_with_one_unit_does_nothing() -> None:
    groups = Groups([whole(item(1, ORCA))])
    merge_same_event(groups, unit_vectors([[1.0, 0.0]]), by_vectors(0.62))
    assert groups.clusters() == [[0]]


# -- all layers, counted ---------------------------------------------------------------------------


def test_dedup_runs_the_layers_in_order_and_counts_each() -> None:
    units = [
        whole(item(1, GLASSWING, url="https://www.anthropic.com/glasswing")),          # url twin of 2
        whole(item(2, GLASSWING, url="https://anthropic.com/glasswing/")),             # and text twin of 1
        whole(item(3, ORCA)),                                                          # text twin of 4
        whole(item(4, ORCA.replace("released", "has released"))),
        whole(item(5, "Orca-9 is out under Apache 2.0, and it is good at maths, testers say.")),  # event of 3/4
        whole(item(6, RELAY)),                                                         # alone
    ]
    vectors = unit_vectors([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0.1, 1, 0], [0, 0, 1]])
    groups = dedup(units, vectors)
    assert groups.merges == {"url": 1, "text": 1, "event": 1}  # 1 and 2 count once, under url
    assert clusters_by_item(groups) == [[1, 2], [3, 4, 5], [6]]


# -- the ledger's decision -------------------------------------------------------------------------


def entry(text: str = GLASSWING, *, urls: frozenset[str] = frozenset({"https://anthropic.com/glasswing"}),
          item_ids: frozenset[int] = frozenset({1}), vector: np.ndarray | None = None,
          story_id: str = "s-glasswing", told_in: str | None = "2026-04-08") -> LedgerEntry:
    return LedgerEntry(id=story_id, title="Project Glasswing", text=text, urls=urls, item_ids=item_ids,
                       first_day="2026-04-08", told_in=told_in, vector=vector)


def test_a_story_with_no_earlier_match_is_new() -> None:
    match = classify(ORCA, frozenset({"https://orca.example.net/posts/orca-9"}), frozenset({9}), None, [entry()])
    assert (match.status, match.entry) == ("new", None)
    assert classify(ORCA, frozenset(), frozenset({9}), None, []).status == "new"


def test_a_shared_link_with_new_figures_is_an_update() -> None:
    later = "Glasswing now covers 40 more partners, and Mythos Preview reaches 88.2% on CyberGym."
    match = classify(later, frozenset({"https://anthropic.com/glasswing"}), frozenset({5}), None, [entry()])
    assert match.status == "update"
    assert match.entry is not None and match.entry.id == "s-glasswing"
    assert "new figure" in match.reason


def test_the_same_items_again_are_a_repeat() -> None:
    match = classify(GLASSWING, frozenset({"https://anthropic.com/glasswing"}), frozenset({1}), None, [entry()])
    assert match.status == "repeat"
    assert "same items" in match.reason


def test_another_source_retelling_the_same_facts_is_a_repeat() -> None:
    retold = ("Project Glasswing lets AWS, CrowdStrike and Microsoft use Claude Mythos Preview to find and fix "
              "vulnerabilities: it scores 83.1% on CyberGym, a benchmark of 1507 tasks, against 66.6% for Opus 4.6.")
    match = classify(retold, frozenset({"https://anthropic.com/glasswing"}), frozenset({8}), None, [entry()])
    assert match.status == "repeat", match.reason  # "1507" is "1,507": no new figure


def test_new_words_without_new_figures_make_an_update() -> None:
    told_more = ("Security researchers who tried Glasswing describe a tool that reads entire repositories, "
                 "writes proof-of-concept exploits, drafts patches and files advisories on its own; maintainers "
                 "of small projects worry about the volume of reports arriving at once.")
    match = classify(told_more, frozenset({"https://anthropic.com/glasswing"}), frozenset({8}), None, [entry()])
    assert match.status == "update"


def test_similar_vectors_link_a_story_without_a_shared_link() -> None:
    ledger = [entry(vector=unit_vectors([[1.0, 0.0]])[0])]
    close = unit_vectors([[0.9, 0.3]])[0]   # cosine 0.95
    far = unit_vectors([[0.3, 0.9]])[0]     # cosine 0.32
    assert classify("Mythos Preview found 180 browser exploits.", frozenset(), frozenset({6}), close,
                    ledger).status == "update"
    assert classify("Mythos Preview found 180 browser exploits.", frozenset(), frozenset({6}), far,
                    ledger).status == "new"
    strict = LedgerSettings(link_cosine=0.99)
    assert classify("Mythos Preview found 180 browser exploits.", frozenset(), frozenset({6}), close,
                    ledger, strict).status == "new"


def test_a_shared_link_wins_over_a_closer_vector() -> None:
    by_link = entry(story_id="s-by-link", vector=unit_vectors([[0.0, 1.0]])[0])
    by_vector = entry(story_id="s-by-vector", urls=frozenset({"https://elsewhere.example.com/x"}),
                      vector=unit_vectors([[1.0, 0.0]])[0])
    match = classify("Glasswing adds 12 partners.", frozenset({"https://anthropic.com/glasswing"}),
                     frozenset({4}), unit_vectors([[1.0, 0.0]])[0], [by_vector, by_link])
    assert match.entry is not None and match.entry.id == "s-by-link"


def test_novelty_and_figures_normalise_thousands_separators() -> None:
    assert numbers("1,507 tasks and 83.1%") == {"1507", "83.1"}
    share, figures = novelty("CyberGym has 1507 tasks", "CyberGym has 1,507 tasks")
    assert (share, figures) == (0.0, set())


def test_when_two_groups_continue_one_ledger_story_the_closer_keeps_its_id_whatever_the_order() -> None:
    from lll.stories.engine import _ledger_keepers
    from lll.stories.ledger import Match

    entry = LedgerEntry(id="s-ledger", title="Harbor", text="Harbor launches", urls=frozenset(),
                        item_ids=frozenset({1}), first_day="2026-04-08")
    near = ((whole(item(7, "Harbor now has 5,000 teams.")),), Match(entry, "update", 0.8, ""))
    far = ((whole(item(3, "Harbor is hiring.")),), Match(entry, "update", 0.6, ""))
    alone = ((whole(item(5, "Something else.")),), Match(None, "new", 0.0, ""))
    assert _ledger_keepers([far, near, alone]) == {"s-ledger": 1}
    assert _ledger_keepers([near, alone, far]) == {"s-ledger": 0}  # not the first in item order
    tie = ((whole(item(9, "Harbor again.")),), Match(entry, "update", 0.8, ""))
    first, second = _ledger_keepers([near, tie]), _ledger_keepers([tie, near])
    assert first["s-ledger"] == 1 - second["s-ledger"]  # a tie goes to the same group either way


# -- ranking ---------------------------------------------------------------------------------------


def story(*units: StoryUnit, status: str = "new", relevance: float = 0.5) -> Story:
    return Story(id=f"s-{units[0].id}", units=units, status=status, relevance=relevance)


def test_score_keeps_one_reason_per_term() -> None:
    lead = whole(item(1, GLASSWING, source="Anthropic News", weight=1.5))
    other = whole(item(2, GLASSWING, source="The Token Tally"))
    total, reasons = score(story(lead, other), NOW)
    assert reasons == ("2 independent sources (+1.20)", "source weight 1.5 (+0.90)", "new (+1.00)",
                       "published 6 h ago (+0.50)", "relevance to the field 0.50 (+0.60)",
                       "Anthropic News telling its own news (+0.80)", "a launch or release (+0.60)",
                       "carries figures (+0.10)")
    assert total == pytest.approx(1.2 + 0.9 + 1.0 + 0.5 + 0.6 + 0.8 + 0.6 + 0.1)


def test_novelty_orders_new_above_update_above_repeat() -> None:
    lead = whole(item(1, GLASSWING))
    scores = {status: score(story(lead, status=status), NOW)[0] for status in ("new", "update", "repeat")}
    assert scores["new"] > scores["update"] > scores["repeat"]
    assert scores["new"] - scores["repeat"] == pytest.approx(RankSettings().new)


def test_old_short_stories_and_hacker_news_points_are_scored_with_reasons() -> None:
    old_short = whole(item(1, "A short note.", published=NOW - timedelta(days=3), kind="newsletter"))
    total, reasons = score(story(old_short), NOW)
    assert not any(r.startswith("published") for r in reasons)
    assert "short text, 13 chars (-0.80)" in reasons
    # A lab's own post that carries only its title is not penalised as short text, but gets less
    # of the primary-source credit than a post with text (it is told as a one-sentence brief).
    title_only = whole(item(3, "A short note.", published=NOW - timedelta(days=3)))
    _total, title_reasons = score(story(title_only), NOW)
    assert not any(r.startswith("short text") for r in title_reasons)
    assert "Source 3 telling its own news (+0.40)" in title_reasons
    hn = whole(item(2, "Article URL: https://a.example.com/x\n\nPoints: 999", kind="hn", source="Hacker News",
                    weight=0.7, signals={"points": 999}))
    _total, hn_reasons = score(story(hn), NOW)
    assert "999 Hacker News points (+0.75)" in hn_reasons


HN_TEXT = ("Article URL: {url}\n\nComments URL: https://news.ycombinator.com/item?id=1\n\n"
           "Points: 310\n\n# Comments: 95")


def hn_item(item_id: int, title: str, host: str, url: str = "") -> ItemView:
    url = url or f"https://{host}/post"
    return item(item_id, HN_TEXT.format(url=url), source_id=50, source="Hacker News", kind="hn", weight=0.7,
                title=title, url=url, signals={"points": 310, "comments": 95})


def test_off_topic_hacker_news_items_are_those_naming_nothing_of_the_field() -> None:
    keyboard = whole(hn_item(1, "Show HN: Mechanical keyboard firmware in 3k lines of Zig", "kb.example.com"))
    llm = whole(hn_item(2, "Show HN: A tiny LLM inference server in 3k lines of Zig", "llm.example.com"))
    blog = whole(item(3, "Mechanical keyboards are back, and the firmware is written in Zig now, says a maker."))
    assert off_topic([keyboard], "AI")
    assert not off_topic([llm], "AI")
    assert not off_topic([blog], "AI")              # only general-interest sources are judged this way
    assert not off_topic([keyboard, blog], "AI")    # a field source told it too
    assert not off_topic([keyboard], "Biology")     # a field without a word list judges nothing


class KeywordEmbedder:
    """Deterministic vectors: one axis per topic word found in the text; texts without one get
    an axis of their own (so they are unlike everything). The field query sits on the "ai" axis
    and leans towards every topic a little."""

    name = "test-keywords"
    TOPICS = ("glasswing", "orca", "relay", "keyboard", "zig")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        dims = len(self.TOPICS) + 1 + 64
        out = np.zeros((len(texts), dims), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            hits = [k for k, topic in enumerate(self.TOPICS) if topic in lowered]
            if lowered.startswith("artificial intelligence"):
                out[row, len(self.TOPICS)] = 1.0
                out[row, :3] = 0.3
            elif hits:
                out[row, hits] = 1.0
            else:
                out[row, len(self.TOPICS) + 1 + int(hashlib.md5(text.encode()).hexdigest(), 16) % 64] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def day_items() -> list[ItemView]:
    return [
        item(1, GLASSWING, source="Anthropic News", weight=1.5, url="https://www.anthropic.com/glasswing",
             title="Project Glasswing"),
        hn_item(2, "Project Glasswing: Claude Mythos Preview for defenders", "",
                url="https://anthropic.com/glasswing/"),
        item(3, ORCA, source="Wire A", url="https://wire-a.example.com/orca-9", title="Orca-9 released"),
        item(4, ORCA.replace("released", "has released"), source="Wire B", url="https://wire-b.example.com/orca",
             title="Orca-9 released"),
        item(5, "Testers say Orca-9 is good at maths and runs on one GPU, which makes it the model to try this "
                "week for anyone who wants open weights under Apache 2.0.", source="Maths Blog",
             title="Trying Orca-9"),
        hn_item(6, "Show HN: Mechanical keyboard firmware in 3k lines of Zig", "kb.example.com"),
        hn_item(7, "Show HN: Relay, a trace replayer for LLM agents", "relay.example.org"),
    ]


def test_build_stories_counts_each_layer_and_ranks_with_reasons() -> None:
    day = build_stories(day_items(), [], KeywordEmbedder(), now=NOW, published_after=WEEK_AGO)
    assert day.counts == {"items": 7, "items_usable": 7, "units": 7, "merged_url": 1, "merged_text": 1,
                          "merged_event": 1, "new": 4, "update": 0, "repeat": 0}
    assert day.embedder == "test-keywords"
    by_items = {frozenset(s.item_ids): s for s in day.stories}
    assert set(by_items) == {frozenset({1, 2}), frozenset({3, 4, 5}), frozenset({6}), frozenset({7})}
    orca = by_items[frozenset({3, 4, 5})]
    assert set(orca.source_names) == {"Wire A", "Wire B", "Maths Blog"}
    assert by_items[frozenset({1, 2})].lead.item.id == 1  # the heavier source leads
    for s in day.stories:
        assert s.reasons[0] in ("no earlier story like it",)
        assert any(r.startswith("source weight") for r in s.reasons)
    assert "3 independent sources (+1.90)" in orca.reasons
    assert [s.score for s in day.stories] == sorted((s.score for s in day.stories), reverse=True)


def test_off_topic_hacker_news_items_are_penalised_in_the_ranking() -> None:
    day = build_stories(day_items(), [], KeywordEmbedder(), now=NOW, published_after=WEEK_AGO)
    by_lead = {s.lead.item.id: s for s in day.stories}
    keyboard, relay = by_lead[6], by_lead[7]
    assert keyboard.relevance == OFF_TOPIC
    assert any(r.startswith("off-topic") for r in keyboard.reasons)
    assert not any(r.startswith("off-topic") for r in relay.reasons)
    assert relay.score - keyboard.score >= RankSettings().off_topic
    assert day.stories[-1] is keyboard


def test_a_story_continuing_a_ledger_story_keeps_its_id_and_is_an_update() -> None:
    ledger = [entry(text="Anthropic announced a security project with partners.", story_id="s-earlier",
                    item_ids=frozenset({99}))]
    day = build_stories(day_items(), ledger, KeywordEmbedder(), now=NOW, published_after=WEEK_AGO)
    glasswing = next(s for s in day.stories if 1 in s.item_ids)
    assert glasswing.id == "s-earlier"
    assert glasswing.status == "update" and glasswing.previous == ledger[0]
    assert day.counts["update"] == 1 and day.counts["new"] == 3


def test_build_stories_with_no_usable_item_returns_no_story() -> None:
    day = build_stories([item(1, "")], [], KeywordEmbedder(), now=NOW, published_after=WEEK_AGO)
    assert day.stories == ()
    assert [x.id for x in day.left_out] == ["item:1"]
    assert day.counts["merged_url"] == day.counts["merged_text"] == day.counts["merged_event"] == 0


def test_build_stories_splits_newsletters_into_their_stories() -> None:
    raw = (Path(__file__).resolve().parent / "data" / "stories" / "ainews.html").read_text(encoding="utf-8")
    letter = item(10, html_to_text(raw), source="AINews (smol.ai)", kind="newsletter", raw=raw,
                  url="https://news.smol.ai/issues/26-04-10")
    letter = ItemView(**{**letter.__dict__, "links": extract_links(raw)})
    harbor = item(11, "Harbor today launched Harbor CLI for agents that run for hours, with resumable sessions "
                      "and a sandbox budget of 40 minutes per task.", source="Harbor Blog",
                  url="https://harbor.example.com/blog/cli-launch")
    day = build_stories([letter, harbor], [], KeywordEmbedder(), now=NOW, published_after=WEEK_AGO)
    assert day.counts["units"] == len(split_item(letter)) + 1 == 5
    assert day.counts["merged_url"] == 1  # the Harbor bullet links the Harbor post (tracking params aside)
    joined = next(s for s in day.stories if 11 in s.item_ids)
    assert {u.id for u in joined.units} == {"10:1", "11:0"}


# -- items that cannot feed a story ----------------------------------------------------------------


def test_unfit_gives_a_reason_for_each_kind_of_bad_item() -> None:
    assert unfit(item(1, "", title=""), WEEK_AGO).startswith("no usable text")
    assert "beyond the 200,000-character limit" in unfit(item(2, "word " * 50_000), WEEK_AGO)
    assert "before the window" in unfit(item(3, ORCA, published=NOW - timedelta(days=30)), WEEK_AGO)
    russian = ("Компания сегодня представила новую открытую языковую модель, которая показала высокие "
               "результаты в тестах по математике и программированию, а исследователи смогут бесплатно "
               "использовать её уже в следующем месяце для своих собственных экспериментов.")
    assert unfit(item(4, russian), WEEK_AGO) == "not English text"
    assert unfit(item(5, ORCA), WEEK_AGO) == ""


def test_chinese_text_is_not_taken_for_english() -> None:
    """CJK text has no spaces between words, so it never reaches the 20-word minimum of the language check."""
    chinese = ("人工智能公司深度求索今天发布了新一代开源大模型，该模型在数学推理和代码生成等多个基准测试中取得了"
               "领先成绩，公司表示将在未来两周内公开技术报告和全部训练细节，并向研究人员免费开放接口。")
    japanese = ("オープンソースの新しい言語モデルが本日公開されました。このモデルは数学と推論のベンチマークで高い"
                "性能を示し、研究者は無料で利用できます。開発チームは来月、技術報告書を公開する予定です。")
    assert unfit(item(1, chinese), WEEK_AGO) == "not English text"
    assert unfit(item(2, japanese), WEEK_AGO) == "not English text"


def test_an_english_hacker_news_item_is_not_rejected_as_a_foreign_language() -> None:
    """An hnrss item's text is URLs and counters; its title is what it says (demo item "Claude
    Managed Agents is now in public beta" is left out as "not English text" on 2026-04-10)."""
    hn = item(1, ("Article URL: https://www.anthropic.com/news/claude-managed-agents\n\nComments URL: "
                  "https://news.ycombinator.com/item?id=47722471\n\nPoints: 163\n\n# Comments: 92"),
              kind="hn", source="Hacker News", title="Claude Managed Agents is now in public beta")
    assert unfit(hn, WEEK_AGO) == ""


# -- the ledger across days, through Drafter on a real workspace -----------------------------------


@dataclass(frozen=True)
class Post:
    title: str
    link: str
    html: str
    day: str


def rss(title: str, posts: Sequence[Post]) -> bytes:
    entries = "".join(
        f"<item><title>{escape(p.title)}</title><link>{escape(p.link)}</link>"
        f'<guid isPermaLink="false">{escape(p.link)}</guid>'
        f"<pubDate>{format_datetime(datetime.fromisoformat(p.day).replace(hour=9, tzinfo=UTC), usegmt=True)}"
        f"</pubDate><description>{escape(p.html)}</description></item>" for p in posts)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://example.com/</link><description>test</description>{entries}</channel></rss>").encode()


class HashEmbedder:
    """Bag of words hashed into 512 dimensions: deterministic and fast."""

    name = "test-hash"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 512), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]{3,}", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 512] += 1.0
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-9, None)


LAUNCH = Post("Harbor launches a CLI for long-running agents", "https://harbor.example.com/blog/cli-launch",
              "<p>Harbor today launched Harbor CLI, a command-line tool for agents that run for hours. The CLI adds "
              "resumable sessions and a sandbox budget of 40 minutes per task. Harbor says 1,200 teams joined the "
              "beta in its first week, and the tool is free for open-source projects.</p>", "2026-04-08")
PROOF_TRACK = Post("MathArena opens a proof track", "https://matharena.example.com/news/proof-track",
                   "<p>The MathArena proof track opens to every lab on April 9. Its graders check 250 olympiad "
                   "proofs by hand, and the maintainers will publish the first leaderboard the same week.</p>",
                   "2026-04-08")
RETOLD = Post("Harbor's new CLI for long-running agents", "https://digest.example.org/issues/12",
              "<p>Harbor today launched Harbor CLI, a command-line tool for agents that run for hours, with "
              "resumable sessions and a sandbox budget of 40 minutes per task. Harbor says 1,200 teams joined "
              "the beta in its first week. <a href='https://harbor.example.com/blog/cli-launch'>Harbor blog</a>"
              "</p>", "2026-04-09")
FOLLOW_UP = Post("Harbor CLI passes 5,000 teams", "https://harbor.example.com/blog/cli-cloud-runner",
                 "<p>Two days after the launch of Harbor CLI, 5,000 teams are now using it, Harbor said. The company "
                 "also added a cloud runner that keeps sessions alive for up to 12 hours and costs $0.05 per "
                 "runner-hour. <a href='https://harbor.example.com/blog/cli-launch'>Launch post</a></p>",
                 "2026-04-10")
FEEDS = {
    "/harbor.xml": ("Harbor Blog", 1.5, {"2026-04-08": [LAUNCH], "2026-04-09": [LAUNCH],
                                         "2026-04-10": [FOLLOW_UP, LAUNCH]}),
    "/matharena.xml": ("MathArena Notes", 1.0, {"2026-04-08": [PROOF_TRACK], "2026-04-09": [PROOF_TRACK],
                                                "2026-04-10": [PROOF_TRACK]}),
    "/digest.xml": ("Agent Digest", 1.0, {"2026-04-08": [], "2026-04-09": [RETOLD], "2026-04-10": [RETOLD]}),
}
DAYS = ("2026-04-08", "2026-04-09", "2026-04-10")
SETTINGS = ('[newsletter]\nname = "Large Language Letters"\n[fetch]\nfulltext = "never"\nretries = 0\n'
            "connect_timeout = 2.0\nread_timeout = 2.0\ntotal_timeout = 5.0\n")


@dataclass
class ThreeDays:
    root: Path
    markdown: dict[str, str]
    data: dict[str, dict]

    def rows(self, sql: str, *params: object) -> list[Row]:
        return query(self.root / "lll.db", sql, *params)


_real_getaddrinfo = socket.getaddrinfo


def loopback_only(host: object, *args: object, **kwargs: object) -> object:
    """getaddrinfo for loopback literals only (module fixtures run outside conftest's guard)."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name in ("localhost", "") or re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", name):
        return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
    raise socket.gaierror(socket.EAI_NONAME, f"tests are offline: no DNS lookup for {name!r}")


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreeDays]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", loopback_only)
        yield from _three_days(tmp_path_factory)


def _three_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreeDays]:
    root = tmp_path_factory.mktemp("ledger") / "workspace"
    Workspace.init(root, "Large Language Letters").config_path.write_text(SETTINGS, encoding="utf-8")
    server = FeedServer()
    markdown: dict[str, str] = {}
    data: dict[str, dict] = {}
    try:
        with Newsletter(Workspace.open(root)) as letter:
            for path, (name, weight, _days) in FEEDS.items():
                letter.add_source(server.base + path, name=name, weight=weight)
            drafter = Drafter(letter, embedder=HashEmbedder())
            for day in DAYS:
                for path, (name, _weight, days) in FEEDS.items():
                    server.bodies[path] = rss(name, days[day])
                with frozen_at(datetime.fromisoformat(day).replace(hour=23, tzinfo=UTC)):
                    report = letter.fetch(policy="loopback")
                    assert not report.failed, report.summary_line()
                    result = drafter.draft(day)
                assert result.report.ok, result.report.lines()
                markdown[day] = result.markdown_path.read_text(encoding="utf-8")
                data[day] = json.loads(result.json_path.read_text(encoding="utf-8"))
    finally:
        server.stop()
    yield ThreeDays(root, markdown, data)


def launch_story_id(run: ThreeDays) -> str:
    return next(s["id"] for s in run.data["2026-04-08"]["stories"] if s["title"].startswith("Harbor launches"))


def test_day_one_tells_the_launch_as_new(three_days: ThreeDays) -> None:
    first = three_days.data["2026-04-08"]
    assert first["counts"]["new"] == 2 and first["counts"]["repeat"] == 0
    launch = next(s for s in first["stories"] if s["id"] == launch_story_id(three_days))
    assert launch["status"] == "new" and launch["told"]
    assert "1,200 teams joined the beta" in three_days.markdown["2026-04-08"]


def test_a_retelling_the_next_day_is_a_repeat_and_is_not_told(three_days: ThreeDays) -> None:
    second = three_days.data["2026-04-09"]
    assert second["counts"]["repeat"] == 1 and second["counts"]["new"] == 0
    left = [x for x in second["left_out"] if x["source"] == "Agent Digest"]
    assert left and left[0]["reason"] == f"repeat of ledger story {launch_story_id(three_days)} (told on 2026-04-08)"
    assert "digest.example.org" not in three_days.markdown["2026-04-09"]
    assert "1,200 teams" not in three_days.markdown["2026-04-09"]


def test_an_update_is_told_with_a_callback_to_the_earlier_issue(three_days: ThreeDays) -> None:
    third = three_days.data["2026-04-10"]
    assert third["counts"]["update"] == 1
    update = next(s for s in third["stories"] if s["status"] == "update")
    assert update["id"] == launch_story_id(three_days)  # one id over time
    assert update["previous"] == {"id": launch_story_id(three_days), "told_in": "2026-04-08"}
    lines = three_days.markdown["2026-04-10"].splitlines()
    assert "5,000 teams are now using it" in "\n".join(lines)  # the lede or its paragraph tells the update
    paragraph = next(line for line in lines if "harbor.example.com/blog/cli-cloud-runner" in line
                     and not line.startswith("description"))
    assert re.match(r'Following up on (?:"[^"]+", |the story )discussed here on \[April 8\]\(2026-04-08\.md\): '
                    r"\[Harbor Blog\]\(https://harbor\.example\.com/blog/cli-cloud-runner\) reported:", paragraph), paragraph


def test_no_story_is_told_as_new_twice(three_days: ThreeDays) -> None:
    told_new = three_days.rows("SELECT story_id, COUNT(*) AS n FROM issue_stories WHERE status = 'new' "
                               "GROUP BY story_id HAVING COUNT(*) > 1")
    assert [tuple(r) for r in told_new] == []
    history = [tuple(r) for r in three_days.rows(
        "SELECT issue_date, status FROM issue_stories WHERE story_id = ? ORDER BY issue_date",
        launch_story_id(three_days))]
    assert history == [("2026-04-08", "new"), ("2026-04-10", "update")]


def test_a_clock_comes_due_and_is_revisited(three_days: ThreeDays) -> None:
    clocks = three_days.rows("SELECT due, phrase, status, opened_in, revisited_in FROM clocks")
    assert [tuple(r) for r in clocks] == [("2026-04-09", "on April 9", "revisited", "2026-04-08", "2026-04-09")]
    assert "## One Clock Worth Watching" in three_days.markdown["2026-04-08"]
    due = three_days.markdown["2026-04-09"]
    assert "## Clocks Coming Due" in due
    assert ("On [April 8](2026-04-08.md) this newsletter started a clock on what "
            "[MathArena Notes](https://matharena.example.com/news/proof-track) said: "
            "The MathArena proof track opens to every lab on April 9.") in due
    assert three_days.data["2026-04-09"]["clocks_due"][0]["due"] == "2026-04-09"


def test_every_issue_of_the_three_days_verifies(three_days: ThreeDays) -> None:
    with Newsletter(Workspace.open(three_days.root)) as letter:
        drafter = Drafter(letter, embedder=HashEmbedder())
        for day in DAYS:
            report = drafter.verify_file(three_days.root / "issues" / f"{day}.md")
            assert report.ok, (day, report.lines())


def test_a_day_with_only_a_repeat_still_has_a_lede_saying_so(three_days: ThreeDays) -> None:
    """2026-04-09 has nothing new: the writer's lede ("Nothing new in the field since the last
    issue: every new item was left out, …", the repeat among them) must survive verification (the verifier once rejected "Nothing" as an unsupported name,
    and the issue went out with an empty lede and description)."""
    markdown = three_days.markdown["2026-04-09"]
    assert 'description: ""' not in markdown
    body = markdown.split("Automated draft from LLL", 1)[1].lstrip("\n")
    assert body.startswith("Nothing new in the field since the last issue: every new item was left out")
    assert three_days.data["2026-04-09"]["verification"]["dropped_sentences"] == []


def test_the_day_does_not_depend_on_database_ids_or_the_order_items_arrive_in() -> None:
    """Concurrent fetches commit in any order, so the same items get other ids on another run."""
    import random

    from lll.stories.embed import TfidfEmbedder
    from lll.stories.engine import build_stories

    texts = [GLASSWING, GLASSWING, ORCA, ORCA.replace("71.4%", "71.4 percent"), RELAY, RELAY, GLASSWING[:120]]
    shared = "https://anthropic.com/glasswing"

    def day(ids: list[int], order: list[int]) -> list[tuple[str, str, str, tuple[str, ...]]]:
        items = [item(ids[n], text, source_id=n % 3 + 1, url=f"https://s{n}.example.com/{n}", title=f"Story {n}",
                      links=(shared,) if text is GLASSWING else ()) for n, text in enumerate(texts)]
        result = build_stories([items[n] for n in order], [], TfidfEmbedder(), now=NOW, published_after=WEEK_AGO)
        return sorted((s.id, s.status, s.lead.item.url, tuple(sorted(u.item.url for u in s.units)))
                      for s in result.stories)

    first = day(list(range(1, len(texts) + 1)), list(range(len(texts))))
    rng = random.Random(7)
    for _ in range(5):
        ids = rng.sample(range(100, 200), len(texts))
        order = rng.sample(range(len(texts)), len(texts))
        assert day(ids, order) == first


def test_a_title_only_post_joins_only_coverage_that_uses_its_words() -> None:
    """The clusterer puts a lab's title-only post and two digest bullets that name its product in one
    story. The bullet on a pricing backlash shares only the name and stays its own story; the bullet
    that tells the post (its words: "large codebases", "practices") joins it."""
    post = item(1, "", title="How Claude Code works in large codebases: Best practices and where to start",
                source="Claude Blog")
    backlash = ("Developers pushed back after Anthropic reshaped Claude Code usage limits for third-party "
                "wrappers; several cancelled their subscriptions and argued harnesses built on claude -p "
                "are not stable platform primitives.")
    guide = ("Anthropic published guidance on running Claude Code in large codebases, with practices for "
             "indexing, subagents and where to start in a monorepo.")
    letter = item(2, f"{backlash}\n{guide}", kind="newsletter", source="Digest")
    other_letter = item(3, backlash, kind="newsletter", source="Other Digest")
    units = [whole(post), part(letter, 1, backlash), whole(other_letter)]
    vectors = unit_vectors([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])  # the clusterer's view: one topic
    groups = Groups(units)
    merge_same_event(groups, vectors, by_vectors(0.5))
    assert sorted(map(sorted, groups.clusters())) == [[0], [1, 2]]  # the two backlash bullets still join
    told = Groups([whole(post), part(letter, 2, guide)])
    merge_same_event(told, unit_vectors([[1.0, 0.0], [1.0, 0.0]]), by_vectors(0.5))
    assert told.merges["event"] == 1
    # a link from the coverage to the post joins them whatever the words
    linked = item(4, backlash, kind="newsletter", links=[post.url])
    by_link = Groups([whole(post), whole(linked)])
    merge_same_event(by_link, unit_vectors([[1.0, 0.0], [1.0, 0.0]]), by_vectors(0.5))
    assert by_link.merges["event"] == 1
