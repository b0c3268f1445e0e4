"""The plan (``lll.write.plan.plan_issue``), clocks found in units (``lll.draft.find_clocks``),
the offline writer (``lll.write.offline``) and the renderer (``lll.write.render``).

Everything here is pure: stories are built by hand from items whose text is the sources'
own, and the writer's Markdown is checked against the verifier with a resolver made of
those same items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from lll.draft import find_clocks
from lll.parse.html import extract_links, html_to_text
from lll.stories.model import LedgerEntry, Story
from lll.stories.units import ItemView, StoryUnit, split_item
from lll.urls import canonical_url
from lll.verify.claims import Evidence
from lll.verify.verifier import VerifyReport, check_structure, verify_markdown
from lll.write import prose
from lll.write.offline import (MAX_LEDE_WORDS, SMALL_WORDS, TEMPLATE_WORDS, OfflineWriter, short_title, title_case,
                               told_as)
from lll.write.plan import ClockFinding, DueClock, Plan, PlanSettings, plan_issue
from lll.write.provenance import issue_json
from lll.write.render import render_markdown

DAY = "2026-04-10"
PUBLISHED = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
DIM = 32

# (source, kind, title, text): short, sourced-looking items; every figure is the source's own.
TEXTS = [
    ("Anthropic News", "feed", "Project Glasswing",
     "Anthropic launched Project Glasswing with AWS, CrowdStrike and Microsoft. On CyberGym, a benchmark of "
     "1,507 tasks, Mythos Preview scores 83.1%, against 66.6% for Claude Opus 4.6. The model will not be "
     "released more widely for now."),
    ("Z.ai Blog", "feed", "GLM-5.1 weights are out",
     "Z.ai released GLM-5.1 under the MIT license. It reports 58.4% on SWE-Bench Pro, the best score among "
     "open models. Kernels run 3.6 times faster on KernelBench Level 3."),
    ("The Algorithmic Bridge", "feed", "Chain of thought is scaffolding",
     "We have grown used to the idea that a model writing out its reasoning is thinking. I want to argue that "
     "this is backwards. Token-by-token reasoning is scaffolding that current architectures need."),
    ("Second Thoughts", "feed", "Bioweapons are harder than the discourse suggests",
     "Each new frontier model arrives with a biosecurity section in its system card. After two months of "
     "interviews, I think the worry is badly calibrated. The people I spoke with have a century of lab "
     "experience between them."),
    ("Anthropic Research", "feed", "Labor market impacts of AI",
     "Our new report compares theoretical and observed exposure across occupations. For Computer and Math "
     "roles, exposure is 94% in theory but 33% in observed use. Hiring of workers aged 22 to 25 slowed in "
     "the most exposed jobs."),
    ("The Cognitive Revolution", "podcast", "Granola's growth engine",
     "Granola co-founder Sam Stephenson explains how a meeting-notes app came second in Ramp's customer "
     "acquisition ranking for January 2026. Growth came from users sharing notes in Slack. The team "
     "deliberately forgets audio after transcription."),
    ("vLLM Releases", "github", "vLLM v0.19.2",
     "This release adds support for GLM-5.1 and fixes a crash with long prompts in the prefix cache. It "
     "also improves FP8 throughput by 12% on H100 GPUs. Upgrading is recommended for all users."),
    ("arXiv cs.AI", "arxiv", "Planning in latent space",
     "We train a model to plan in latent space without verbalised reasoning. On three planning benchmarks it "
     "matches chain-of-thought baselines with 40% fewer tokens. Code and weights are released with the paper."),
    ("The Token Tally", "newsletter", "Artifacts grow up",
     "Artifacts can now connect to tools through MCP and keep their own data between sessions. Users have "
     "made more than 500 million artifacts since launch. The storage limit is 20 MB per artifact."),
]


def vec(*axes: int, weights: Sequence[float] | None = None) -> np.ndarray:
    out = np.zeros(DIM, dtype=np.float32)
    for axis, weight in zip(axes, weights or [1.0] * len(axes), strict=True):
        out[axis] = weight
    return out / np.linalg.norm(out)


def make_item(n: int, *, source: str | None = None, kind: str | None = None, title: str | None = None,
              text: str | None = None, url: str | None = None, published: datetime = PUBLISHED,
              signals: dict | None = None, source_id: int | None = None) -> ItemView:
    base_source, base_kind, base_title, base_text = TEXTS[n % len(TEXTS)]
    url = url or f"https://{(source or base_source).lower().replace(' ', '-').replace('.', '')}.example.com/p/{n}"
    return ItemView(id=n, source_id=source_id if source_id is not None else n, source_name=source or base_source,
                    source_weight=1.0, source_kind=kind or base_kind, url=url, canonical_url=canonical_url(url),
                    title=title or base_title, text=text or base_text, raw="", published=published,
                    first_seen=published, links=(), signals=signals or {})


def whole(it: ItemView) -> StoryUnit:
    return StoryUnit(id=f"{it.id}:0", item=it, title=it.title, text=it.text, start=0, end=len(it.text),
                     links=it.links)


def make_story(n: int, score: float, *, status: str = "new", units: Sequence[StoryUnit] | None = None,
               vector: np.ndarray | None = None, previous: LedgerEntry | None = None, **item_kw: object) -> Story:
    units = tuple(units or (whole(make_item(n, **item_kw)),))  # type: ignore[arg-type]
    return Story(id=f"s-{n:03d}", units=units, status=status, previous=previous, score=score,
                 reasons=(f"score {score}",), vector=vector if vector is not None else vec(n % DIM))


def no_clocks(_unit: StoryUnit) -> list[ClockFinding]:
    return []


def plan(stories: Sequence[Story], **kw: object) -> Plan:
    kw.setdefault("find_clocks", no_clocks)
    return plan_issue(DAY, stories, **kw)  # type: ignore[arg-type]


def writer() -> OfflineWriter:
    return OfflineWriter("Large Language Letters", ("ai",), lambda day: f"{day}.md")


def resolver_for(stories: Sequence[Story], extra: Sequence[ItemView] = ()):
    """url → the text of the item behind it (what LLL fetched); None for anything else."""
    table: dict[str, Evidence] = {}
    for it in [u.item for s in stories for u in s.units] + list(extra):
        table[it.url] = Evidence(url=it.url, source=it.source_name, text=f"{it.title}\n{it.text}", item_id=it.id)
    return table.get


def verify(markdown: str, stories: Sequence[Story], extra: Sequence[ItemView] = ()) -> VerifyReport:
    return verify_markdown(markdown, resolver_for(stories, extra), names=TEMPLATE_WORDS | {"Large Language Letters"},
                           newsletter_name="Large Language Letters")


def told(p: Plan) -> list[str]:
    return [s.id for section in p.sections for s in section]


# -- choosing: lede, bar, caps ---------------------------------------------------------------------


def test_the_lede_is_the_best_story_that_is_not_a_repeat() -> None:
    earlier = LedgerEntry(id="s-old", title="t", text="x", urls=frozenset(), item_ids=frozenset({99}),
                          first_day="2026-04-08", told_in="2026-04-08")
    stories = [make_story(0, 9.0, status="repeat", previous=earlier), make_story(1, 5.0), make_story(2, 4.0),
               make_story(3, 3.0)]
    p = plan(stories)
    assert p.lede is stories[1]
    assert "s-000" not in told(p)
    assert [(x.id, x.reason) for x in p.left_out] == [("s-000", "repeat of ledger story s-old (told on 2026-04-08)")]


def test_stories_below_the_score_bar_are_left_out_with_the_reason() -> None:
    stories = [make_story(1, 5.0), make_story(2, 4.0), make_story(3, 3.0), make_story(4, 0.3)]
    p = plan(stories)
    assert "s-004" not in told(p)
    assert [(x.id, x.reason) for x in p.left_out] == [("s-004", "score 0.30 is below the bar of 0.5")]


def test_one_source_leads_at_most_per_source_stories() -> None:
    cap = PlanSettings().per_source
    mine = [make_story(n, 10.0 - n / 10, source="Anthropic News", source_id=1) for n in range(cap + 2)]
    others = [make_story(10, 2.0), make_story(11, 1.5)]
    p = plan(mine + others)
    assert sum(s.lead.item.source_name == "Anthropic News" for s in p.told) == cap
    assert [x.reason for x in p.left_out] == [f"Anthropic News already leads {cap} stories"] * 2
    assert {"s-010", "s-011"} <= set(told(p))


def test_at_most_twelve_stories_are_told() -> None:
    stories = [make_story(n, 20.0 - n, source=f"Source {n}") for n in range(14)]
    p = plan(stories)
    assert len(told(p)) == PlanSettings().max_stories == 12
    assert [x.reason for x in p.left_out] == ["ranked 13 (score 8.00), below the cut",
                                               "ranked 14 (score 7.00), below the cut"]


def test_every_story_considered_is_told_or_left_out_with_a_reason() -> None:
    stories = [make_story(n, 8.0 - n * 0.6, source="Anthropic News" if n < 6 else None) for n in range(14)]
    p = plan(stories)
    accounted = set(told(p)) | {x.id for x in p.left_out}
    assert accounted == {s.id for s in stories}
    assert all(x.reason for x in p.left_out)
    assert set(p.reasons) == {s.id for s in stories}


# -- sections --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(2, 13))
def test_two_to_five_sections_each_story_once(n: int) -> None:
    stories = [make_story(k, 10.0 - k * 0.5, source=f"Source {k}") for k in range(n)]
    p = plan(stories)
    assert 2 <= len(p.sections) <= 5
    ids = told(p)
    assert sorted(ids) == sorted(s.id for s in stories) and len(ids) == len(set(ids))
    assert p.sections[0][0] is p.lede
    assert all(section for section in p.sections)


def test_stories_under_one_theme_of_an_item_are_kept_together() -> None:
    """A digest's two themes (agent tooling; models and benchmarks): each theme's stories share a
    section, whatever their vectors say; the digest's other theme need not join them."""
    raw = (Path(__file__).resolve().parent / "data" / "stories" / "ainews.html").read_text(encoding="utf-8")
    letter = ItemView(id=50, source_id=50, source_name="AINews (smol.ai)", source_weight=1.0,
                      source_kind="newsletter", url="https://news.smol.ai/issues/26-04-10",
                      canonical_url="https://news.smol.ai/issues/26-04-10", title="a busy day", text=html_to_text(raw),
                      raw=raw, published=PUBLISHED, first_seen=PUBLISHED, links=extract_links(raw))
    parts = split_item(letter)
    assert len(parts) == 4
    bullets = [Story(id=f"s-b{k}", units=(u,), status="new", score=9.0 - 2 * k, vector=vec(20 + k))
               for k, u in enumerate(parts)]
    others = [make_story(k, 8.0 - 2 * k, source=f"Source {k}") for k in range(5)]
    ranked = sorted(bullets + others, key=lambda s: -s.score)
    p = plan(ranked)
    themes = {u.theme for u in parts}
    assert len(themes) == 2
    for theme in themes:
        homes = {i for i, section in enumerate(p.sections) for s in section
                 if s.id.startswith("s-b") and s.lead.theme == theme}
        assert len(homes) == 1, [[s.id for s in section] for section in p.sections]
    assert 2 <= len(p.sections) <= 5


def test_similar_stories_share_a_section() -> None:
    stories = [make_story(0, 9.0, vector=vec(0)), make_story(1, 8.0, vector=vec(5)),
               make_story(2, 7.0, vector=vec(9)), make_story(3, 6.0, vector=vec(0, 1, weights=[0.9, 0.3])),
               make_story(4, 5.0, vector=vec(5, 2, weights=[0.9, 0.3])), make_story(5, 4.0, vector=vec(12))]
    p = plan(stories)
    where = {s.id: i for i, section in enumerate(p.sections) for s in section}
    assert where["s-003"] == where["s-000"]
    assert where["s-004"] == where["s-001"]


def test_few_stories_make_a_short_issue() -> None:
    two = plan([make_story(1, 5.0), make_story(2, 4.0)])
    assert two.short and len(two.sections) == 2
    one = plan([make_story(1, 5.0)])
    assert one.short and [len(s) for s in one.sections] == [1]
    none = plan([])
    assert none.short and none.lede is None and none.sections == ()
    assert not plan([make_story(n, 9.0 - n) for n in range(3)]).short


# -- clocks ----------------------------------------------------------------------------------------


def clock_item(n: int, text: str, *, published: datetime = PUBLISHED, source: str | None = None) -> ItemView:
    return make_item(n, text=text, published=published, source=source, title=f"Watch item {n}")


@pytest.mark.parametrize(("sentence", "due", "precision"), [
    ("The third sprint of the competition launches on April 13.", date(2026, 4, 13), "day"),
    ("Over the next 30 days we will add a further month of usage data.", date(2026, 5, 10), "day"),
    ("Submissions close on 2026-04-20, and winners follow a week later.", date(2026, 4, 20), "day"),
    ("We plan to release the weights within two weeks.", date(2026, 4, 24), "week"),
])
def test_find_clocks_resolves_due_dates_against_the_items_date(sentence: str, due: date, precision: str) -> None:
    text = f"Some context comes first. {sentence} More context follows here."
    it = clock_item(1, text)
    (found,) = find_clocks(whole(it))
    assert found.due == due
    assert found.sentence == sentence
    assert it.text[found.start:found.end] == sentence  # provenance points at the source's words
    assert found.precision == precision


def test_find_clocks_offsets_hold_inside_a_unit_of_a_longer_item() -> None:
    text = "First story line.\nThe proof track opens to every lab on April 14. Graders check 250 proofs."
    it = clock_item(1, text)
    start = text.index("The proof track")
    unit = StoryUnit(id="1:2", item=it, title="Proof track", text=text[start:], start=start, end=len(text))
    (found,) = find_clocks(unit)
    assert it.text[found.start:found.end] == "The proof track opens to every lab on April 14."
    assert found.due == date(2026, 4, 14)


@pytest.mark.parametrize("text", [
    "The team will publish a technical report soon.",                       # no date to ground it
    "The lab expects to ship a larger model later this year.",              # a year is too vague to watch
    "Sprint 3 launches on April 13",                                        # a heading, not a sentence
    "The update was released on April 8, two days ago.",                    # the past
])
def test_find_clocks_drops_what_cannot_be_grounded_or_watched(text: str) -> None:
    assert find_clocks(whole(clock_item(1, text))) == []


def test_a_past_release_of_open_weights_is_not_a_clock() -> None:
    """ "released … as open weights on Friday" is past: "open" is an adjective here, not a future verb
    (today it yields a clock due 2026-04-17, and the story is moved from the sections to the watch list)."""
    it = clock_item(1, "Orca Labs released Orca-9 as open weights on Friday. The model scores 71.4% on MathArena.")
    assert find_clocks(whole(it)) == []


def clocky(n: int, score: float, sentence: str) -> Story:
    it = clock_item(n, f"{TEXTS[n][3]} {sentence}", source=TEXTS[n][0])
    return Story(id=f"s-{n:03d}", units=(whole(it),), status="new", score=score, vector=vec(n))


def test_the_plan_opens_clocks_from_stories_and_keeps_them_out_of_the_sections() -> None:
    stories = [clocky(0, 9.0, "The partners will report their first findings on April 24."),
               clocky(1, 8.0, "The full technical report will arrive on April 17."),
               make_story(2, 7.0), make_story(3, 6.0),
               clocky(4, 5.0, "Over the next 30 days we will add a further month of usage data."),
               make_story(5, 4.0)]
    p = plan(stories, find_clocks=find_clocks)
    assert p.lede is stories[0]
    assert [(c.story.id, c.finding.due.isoformat()) for c in p.clocks] == [("s-000", "2026-04-24"),
                                                                           ("s-001", "2026-04-17"),
                                                                           ("s-004", "2026-05-10")]
    body = told(p)
    assert "s-000" in body                            # the lede stays in the body, and its date is watched too
    assert "s-001" not in body and "s-004" not in body


def test_at_most_five_clocks() -> None:
    stories = [make_story(0, 20.0)] + [clocky(n, 10.0 - n, f"Entries close on April {12 + n}.")
                                       for n in range(1, 9)]
    assert len(plan(stories, find_clocks=find_clocks).clocks) == 5


def running_clock(sentence: str, due: str, *, story_id: str = "s-old", n: int = 1) -> DueClock:
    return DueClock(id=f"2026-04-08:{story_id}", opened_in="2026-04-08", opened_url="2026-04-08.md",
                    sentence=sentence, phrase="on April 13", due=due, item_id=900 + n,
                    item_url=f"https://rdi.example.edu/weekly/{n}", source="Agentic AI Weekly", story_id=story_id,
                    title="AgentBeats Sprint 3")


def test_running_clocks_fill_the_watch_list_and_are_not_opened_twice() -> None:
    sprint = "The third sprint of the AgentBeats competition launches on April 13."
    running = [running_clock(sprint, "2026-04-13"),
               running_clock("Submissions close on April 16.", "2026-04-16", story_id="s-old2", n=2),
               running_clock("The final report is due on May 30.", "2026-05-30", story_id="s-old3", n=3)]
    restated = clocky(1, 8.0, "The third sprint of the AgentBeats competition launches on April 13.")
    p = plan([make_story(0, 9.0), restated, make_story(2, 7.0)], find_clocks=find_clocks, running=running)
    assert p.clocks == ()                       # the restated date is the running clock, not a new one
    # listed again as their dates draw near (within a week), not in every issue until May 30
    assert [c.due for c in p.running] == ["2026-04-13", "2026-04-16"]
    fresh = clocky(3, 8.0, "The full report will arrive on April 17.")
    p2 = plan([make_story(0, 9.0), fresh, make_story(2, 7.0)], find_clocks=find_clocks, running=running)
    assert len(p2.clocks) == 1 and [c.due for c in p2.running] == ["2026-04-13"]  # one opened + one running


# -- the offline writer ----------------------------------------------------------------------------


def day_stories() -> list[Story]:
    """A small day: a two-source lead story, a second story from the same item as the third, a clock."""
    letter_text = ("Peer preservation in frontier models\n\nResearchers tested seven frontier models and found "
                   "that all seven acted to keep another model running, at rates of up to 99%. Gemini 3 Pro did "
                   "so in 31% of runs.\n\nSprint 3 launches on April 13\n\nThe third sprint of the competition "
                   "launches on April 13 with three tracks. Registration stays open until launch day.")
    letter = make_item(40, source="Berkeley RDI's Agentic AI Weekly", kind="newsletter", title="Weekly #37",
                       text=letter_text, url="https://rdi.example.edu/weekly/37")
    first, second = letter_text.index("Peer preservation"), letter_text.index("Sprint 3 launches")
    peers = StoryUnit(id="40:1", item=letter, title="Peer preservation in frontier models",
                      text=letter_text[first:second].rstrip(), start=first, end=second - 2)
    sprint = StoryUnit(id="40:2", item=letter, title="Sprint 3 launches on April 13",
                       text=letter_text[second:], start=second, end=len(letter_text))
    glasswing = whole(make_item(0))
    echo = whole(make_item(41, source="The Token Tally", text="Anthropic keeps Mythos Preview for defenders: "
                           "83.1% on CyberGym.", title="Glasswing", url="https://tokentally.example.com/p/214"))
    hn = whole(make_item(42, source="Hacker News", kind="hn", title="Show HN: A tiny LLM inference server in Zig",
                         text="Article URL: https://zig-llm.example.com/\n\nPoints: 1234\n\n# Comments: 87",
                         url="https://zig-llm.example.com/", signals={"points": 1234, "comments": 87}))
    return [
        Story(id="s-glasswing", units=(glasswing, echo), status="new", score=9.0, vector=vec(0)),
        Story(id="s-peers", units=(peers,), status="new", score=8.0, vector=vec(1)),
        Story(id="s-glm", units=(whole(make_item(1)),), status="new", score=7.5, vector=vec(2)),
        Story(id="s-sprint", units=(sprint,), status="new", score=7.0, vector=vec(3)),
        Story(id="s-hn", units=(hn,), status="new", score=6.0, vector=vec(4)),
        Story(id="s-jobs", units=(whole(make_item(4)),), status="new", score=5.0, vector=vec(5)),
    ]


def day_plan(stories: Sequence[Story] | None = None, **kw: object) -> Plan:
    return plan(stories or day_stories(), find_clocks=find_clocks, **kw)


def test_the_draft_has_the_title_tags_and_a_one_sentence_lede_with_its_actor() -> None:
    draft = writer().write(day_plan())
    assert draft.title == "Large Language Letters 04/10/2026"
    assert draft.tags == ("ai",)
    lede = draft.lede.markdown
    # The top story's own whole sentence, with its actor — never a headline with "X reports." appended.
    assert lede == "Anthropic launched Project Glasswing with AWS, CrowdStrike and Microsoft."
    assert 6 <= len(lede.split()) <= MAX_LEDE_WORDS and not lede.endswith("reports.")
    # A story with no sentence that fits is told as a brief that names its source and title.
    long_title = make_story(0, 9.0, title="Anthropic launches Project Glasswing for defenders",
                            text="Anthropic launches Project Glasswing for defenders.")
    lede = writer().write(plan([long_title, make_story(1, 5.0)])).lede.markdown
    # (a headline whose subject is the feed's maker stands as the sentence)
    assert lede == "Anthropic launches Project Glasswing for defenders."
    assert len(re.findall(r"[.!?](\s|$)", lede)) == 1
    # A lab's "Introducing X" says who introduces it, when its post names the maker …
    intro = make_story(0, 9.0, title="Introducing Claude Opus 4.8 for long agent runs", text="Anthropic's newest model.")
    assert (writer().write(plan([intro, make_story(1, 5.0)])).lede.markdown
            == "Anthropic introduces Claude Opus 4.8 for long agent runs.")
    # … and otherwise names the feed, quoting its title
    unnamed = make_story(0, 9.0, title="Introducing Claude Opus 4.8", text="Our newest model.")
    assert (writer().write(plan([unnamed, make_story(1, 5.0)])).lede.markdown
            == "Anthropic News published “Introducing Claude Opus 4.8”.")


def test_story_paragraphs_name_and_link_their_source_and_copy_its_sentences() -> None:
    stories = day_stories()
    draft = writer().write(day_plan(stories))
    paragraphs = {p.story_id: p for s in draft.sections for p in s.paragraphs}
    glasswing = paragraphs["s-glasswing"]
    # The lede told the opening sentence; the paragraph does not say it twice.
    assert draft.lede.markdown.startswith("Anthropic launched Project Glasswing")
    assert glasswing.markdown.startswith("[Anthropic News](https://anthropic-news.example.com/p/0) reported: ")
    assert "Anthropic launched Project Glasswing" not in glasswing.markdown
    assert "a benchmark of 1,507 tasks, Mythos Preview scores 83.1%, against 66.6%" in glasswing.markdown
    assert glasswing.markdown.endswith("It was also covered by [The Token Tally](https://tokentally.example.com/p/214).")
    for paragraph in paragraphs.values():
        for sentence in paragraph.sentences:
            if sentence.role == "source" and sentence.span:
                item_id, start, end = sentence.span
                source_item = next(u.item for s in stories for u in s.units if u.item.id == item_id)
                # a source's first person is quoted, its words unchanged
                assert sentence.text in (source_item.text[start:end], prose.quoted(source_item.text[start:end]))
    assert paragraphs["s-glm"].markdown.startswith("[Z.ai Blog](https://zai-blog.example.com/p/1) reported:")


def test_a_second_story_of_the_same_item_says_it_shares_the_source() -> None:
    stories = day_stories()
    # keep the sprint story in the sections: no clocks for this check
    draft = writer().write(plan(stories))
    markdown = render_markdown(draft)
    assert ("[Berkeley RDI's Agentic AI Weekly](https://rdi.example.edu/weekly/37) reported: Researchers tested "
            "seven frontier models") in markdown
    assert "[Berkeley RDI's Agentic AI Weekly](https://rdi.example.edu/weekly/37) also reported: The third sprint" \
        in markdown


def test_hacker_news_stories_are_told_by_their_title_and_discussion() -> None:
    markdown = render_markdown(writer().write(day_plan()))
    # the title links the article; the source's name links nothing it is not (issue 11, item 14)
    assert ('Hacker News pointed to: "[Show HN: A tiny LLM inference server in '
            'Zig](https://zig-llm.example.com/)", with 1,234 points and 87 comments on Hacker News.') in markdown
    assert "[Hacker News](https://zig-llm.example.com/)" not in markdown


PODCAST_NOTES = ("Nathan talks with Priya Raman about eval debt. They cover why public benchmarks "
                 "now age in months.")
PODCAST_TRANSCRIPT = ("Nathan Labenz: Welcome back to The Cognitive Revolution. Today I'm talking with "
                      "Priya Raman.\n\nPriya Raman: Thanks, Nathan. Happy to be here.")


@pytest.mark.parametrize("notes", [PODCAST_NOTES, ""])
def test_a_podcast_is_told_from_its_show_notes_and_never_by_speaker_labels(notes: str) -> None:
    text = f"{notes}\n\nTranscript:\n\n{PODCAST_TRANSCRIPT}" if notes else PODCAST_TRANSCRIPT
    story = make_story(1, 1.8, source="The Cognitive Revolution", kind="podcast", title="Eval debt",
                       text=text, url="https://cr.example.com/eval-debt")
    stories = [make_story(2, 2.0), story, make_story(3, 1.5)]
    markdown = render_markdown(writer().write(plan(stories)))
    paragraph = next(line for line in markdown.splitlines() if "cr.example.com" in line and "discussed" in line)
    assert "Nathan Labenz:" not in paragraph and "Transcript:" not in paragraph
    if notes:
        assert "Nathan talks with Priya Raman about eval debt." in paragraph
        assert "Welcome back" not in paragraph
    else:
        assert "Welcome back to The Cognitive Revolution." in paragraph
    assert verify(markdown, stories).ok, verify(markdown, stories).lines()


def test_an_update_opens_with_a_callback_to_the_issue_that_told_it() -> None:
    told = LedgerEntry(id="s-glm", title="GLM-5.1 preview", text="x", urls=frozenset(), item_ids=frozenset({7}),
                       first_day="2026-04-08", told_in="2026-04-08")
    update = make_story(1, 7.5, status="update", previous=told)
    paragraph = writer().write(plan([make_story(0, 9.0), update, make_story(4, 5.0)])).sections
    text = next(p.markdown for s in paragraph for p in s.paragraphs if p.story_id == "s-001")
    assert text.startswith("Following up on the story discussed here on [April 8](2026-04-08.md): "
                           "[Z.ai Blog](https://zai-blog.example.com/p/1) reported:")
    # with the earlier issue at hand, the callback names the story the way that issue wrote it
    earlier = {"2026-04-08": "## Glm-5.1 Ships\n\n### GLM-5.1 Preview Is Live for Subscribers\n"}
    named = OfflineWriter("Large Language Letters", ("ai",), lambda day: f"{day}.md", earlier=earlier.get)
    titled = replace(update, previous=replace(told, title="GLM-5.1 preview is live for subscribers."))
    sections = named.write(plan([make_story(0, 9.0), titled, make_story(4, 5.0)])).sections
    text = next(p.markdown for s in sections for p in s.paragraphs if p.story_id == "s-001")
    assert text.startswith('Following up on "GLM-5.1 Preview Is Live for Subscribers", discussed here on '
                           '[April 8](2026-04-08.md): ')
    untold = replace(told, told_in=None)
    quiet = writer().write(plan([make_story(0, 9.0), replace(update, previous=untold), make_story(4, 5.0)]))
    text = next(p.markdown for s in quiet.sections for p in s.paragraphs if p.story_id == "s-001")
    assert not text.startswith("Following up")


@pytest.mark.parametrize(("title", "earlier", "expected"), [
    ("vLLM 0.19.0 is out.", "### vLLM 0.19.0 Is Out\n", "vLLM 0.19.0 Is Out"),
    ("Separating the brain from the hands: how agents run", "## Separating the Brain from the Hands, and More",
     "Separating the Brain from the Hands"),
    ("Eval Debt: why suites rot", "## Eval Debt\n", ""),            # two words are too few to name a story
    ("A story the earlier issue never told", "## Something else\n", ""),
    ("Across two lines of text", "Across two\nlines of text", ""),
])
def test_a_callback_names_the_story_only_in_words_the_earlier_issue_used(title: str, earlier: str,
                                                                          expected: str) -> None:
    assert told_as(title, earlier) == expected


def test_the_watch_list_heading_spells_out_its_count() -> None:
    draft = writer().write(day_plan())
    markdown = render_markdown(draft)
    assert len(draft.clocks) == 1
    assert "## One Clock Worth Watching" in markdown
    two = day_plan(running=[running_clock("Submissions close on April 16.", "2026-04-16")])
    markdown = render_markdown(writer().write(two))
    h3 = [line for line in markdown.split("Clocks Worth Watching", 1)[1].splitlines() if line.startswith("### ")]
    assert "## Two Clocks Worth Watching" in markdown and len(h3) == 2
    assert markdown.rstrip().endswith("(First flagged here on [April 8](2026-04-08.md).)")
    assert markdown.index("## Two Clocks Worth Watching") > max(m.start() for m in re.finditer(r"^## (?!Two)",
                                                                                                  markdown, re.M))


def test_the_clock_paragraph_quotes_the_forward_looking_sentence() -> None:
    draft = writer().write(day_plan())
    (clock,) = draft.clocks
    assert clock.due == "2026-04-13" and clock.phrase == "on April 13"
    assert clock.heading == "Sprint 3 Launches on April 13"  # a short whole title, never a cut one
    assert clock.paragraph.markdown.startswith("[Berkeley RDI's Agentic AI Weekly](https://rdi.example.edu/weekly/37) "
                                               "noted: The third sprint of the competition launches on April 13 "
                                               "with three tracks. Registration stays open until launch day.")


def test_the_written_issue_passes_the_verifier_and_the_structure_check() -> None:
    stories = day_stories()
    markdown = render_markdown(writer().write(day_plan(stories)))
    assert check_structure(markdown, "Large Language Letters") == []
    report = verify(markdown, stories)
    assert report.ok, report.lines()
    assert report.claims_checked > 20


def test_a_short_issue_says_so_and_still_passes_the_structure_check() -> None:
    stories = [make_story(0, 9.0)]
    draft = writer().write(plan(stories))
    markdown = render_markdown(draft)
    assert "*A short issue: few new stories met the bar since the last one.*" in markdown
    assert len(re.findall(r"^## ", markdown, re.M)) == 1
    assert check_structure(markdown) == []
    assert verify(markdown, stories).ok


def test_the_writer_adds_no_padding_on_a_day_without_stories() -> None:
    draft = writer().write(plan([]))
    markdown = render_markdown(draft)
    assert draft.sections == () and draft.clocks == ()
    assert "Nothing new from the sources since the last issue." in markdown
    assert "## " not in markdown
    # a day whose new items were all left out says so, rather than that the sources said nothing
    off = make_story(0, 9.0, kind="hn", source="Hacker News", title="A truck driver's scale model")
    p = plan([replace(off, relevance=-1.0)])
    assert p.lede is None and p.left_out
    lede = writer().write(p).lede.markdown
    assert lede.startswith("Nothing new in the field since the last issue: every new item was left out")
    assert check_structure(render_markdown(writer().write(p))) == []


# -- determinism -----------------------------------------------------------------------------------


def test_the_same_plan_gives_the_same_bytes() -> None:
    p = day_plan()
    first = render_markdown(writer().write(p)).encode()
    assert render_markdown(writer().write(p)).encode() == first


def test_the_same_inputs_built_twice_give_the_same_bytes() -> None:
    first = render_markdown(writer().write(day_plan(day_stories())))
    again = render_markdown(writer().write(day_plan(day_stories())))
    assert first.encode() == again.encode()


def test_the_issue_json_is_deterministic() -> None:
    def build() -> str:
        p = day_plan(day_stories())
        draft = writer().write(p)
        report = VerifyReport((), 10, 5)
        data = issue_json(draft, p, report, counts={"items": 6}, window=("a", "b"), seconds={"write": 0.0},
                          embedder="x", writer="offline")
        return json.dumps(data, sort_keys=True)
    assert build() == build()


# -- headings --------------------------------------------------------------------------------------


def test_section_headings_join_the_titles_of_their_stories() -> None:
    draft = writer().write(plan([make_story(0, 9.0, vector=vec(0)), make_story(1, 8.0, vector=vec(0)),
                                 make_story(2, 7.0, vector=vec(0)), make_story(3, 6.0, vector=vec(9))]))
    headings = [s.heading for s in draft.sections]
    # the section's subjects, in their titles' words, at most ten words: never a cut phrase
    assert "Project Glasswing, GLM-5.1 and Chain of Thought" in headings
    assert all(len(h.split()) <= 10 for h in headings)


@pytest.mark.parametrize(("text", "expected"), [
    ("chain of thought is scaffolding, not thinking", "Chain of Thought Is Scaffolding, Not Thinking"),
    ("vLLM 0.19.0 is out", "vLLM 0.19.0 Is Out"),
    ("GLM-5.1 open weights: expected within two weeks", "GLM-5.1 Open Weights: Expected Within Two Weeks"),
])
def test_title_case(text: str, expected: str) -> None:
    """Headings are title case (issue-format.md): a word followed by punctuation is still a word,
    and brand names keep their own capitals (today: "Is scaffolding,", "Open weights:", "VLLM")."""
    assert title_case(text) == expected


def test_a_shortened_title_does_not_end_on_a_dangling_small_word() -> None:
    short = short_title("Harbor CLI passes 5,000 teams and adds a cloud runner for long sessions")
    assert short.split()[-1].lower() not in SMALL_WORDS, short
