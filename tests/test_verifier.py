"""The verifier (``lll.verify.verifier``, ``lll.verify.claims``): every figure, date, quoted
phrase and name of a paragraph is found in the items that paragraph cites, every link is a URL
LLL fetched, and the issue has the anatomy of ``shared/spec/issue-format.md``.

Issues here are Markdown written by hand (as an editor would edit one); the resolver is a table
of fetched URLs. ``lll verify`` on real drafts is tested in ``test_draft_cli.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lll.draft import drop_failing
from lll.verify.claims import Evidence, EvidenceIndex, claims, date_keys, figure_keys
from lll.verify.verifier import Failure, VerifyReport, check_structure, verify_markdown
from lll.write.model import Citation, Draft, Paragraph, Section, Sentence
from lll.write.render import render_markdown

NAME = "Large Language Letters"
GLASSWING = "https://www.anthropic.com/glasswing"
GLM = "https://z.ai/blog/glm-5.1"
WEEKLY = "https://rdi.example.edu/agentic-ai-weekly/37"
RESEARCH = "https://www.anthropic.com/research/observed-exposure"
EARLIER = "2026-04-08.md"

SOURCES = {
    GLASSWING: Evidence(GLASSWING, "Anthropic News", (
        "Project Glasswing: putting Claude Mythos Preview to work for defenders\n"
        "Today we are launching Project Glasswing with AWS, CrowdStrike and Microsoft. On CyberGym, a UC "
        "Berkeley benchmark of 1,507 real-world vulnerability reproduction tasks, it scores 83.1%, against "
        "66.6% for Claude Opus 4.6. Pricing is $0.08 per session-hour."), item_id=1),
    GLM: Evidence(GLM, "Z.ai Blog", (
        "GLM-5.1 weights are out\nZ.ai released GLM-5.1 as open weights. It reports 58.4% on SWE-Bench Pro, "
        "the best score among open models."), item_id=2),
    WEEKLY: Evidence(WEEKLY, "Berkeley RDI's Agentic AI Weekly", (
        "Agentic AI Weekly #37\nSprint 3 launches on April 13 with Agent Safety, Coding Agent and "
        "Cybersecurity Agent tracks. \u201cRegistration stays open until launch day,\u201d the organisers "
        "wrote. Seven frontier models protected their peers, at rates up to 99%."), item_id=3),
    RESEARCH: Evidence(RESEARCH, "Anthropic Research", (
        "Labor market impacts of AI\nOver the next 30 days we will add a further month of usage data, and "
        "rerun the hiring analysis for workers aged 22 to 25."), item_id=4),
    EARLIER: Evidence(EARLIER, "this newsletter", "April 8, 2026-04-08\nSeparating the brain from the hands.",
                      issue_date="2026-04-08"),
}


def resolve(url: str) -> Evidence | None:
    return SOURCES.get(url)


GOOD_SECTIONS = [
    ("Project Glasswing and GLM-5.1", [
        f"[Anthropic News]({GLASSWING}) reported: Today we are launching Project Glasswing with AWS, CrowdStrike "
        "and Microsoft. On CyberGym, a UC Berkeley benchmark of 1,507 real-world vulnerability reproduction "
        "tasks, it scores 83.1%, against 66.6% for Claude Opus 4.6.",
        f"[Z.ai Blog]({GLM}) reported: Z.ai released GLM-5.1 as open weights. It reports 58.4% on SWE-Bench "
        "Pro, the best score among open models.",
    ]),
    ("Sprint 3 and Frontier Models", [
        f"Following up on the story discussed here on [April 8]({EARLIER}): [Berkeley RDI's Agentic AI "
        f"Weekly]({WEEKLY}) reported: Seven frontier models protected their peers, at rates up to 99%. "
        "\u201cRegistration stays open until launch day,\u201d the organisers wrote.",
    ]),
]
GOOD_CLOCKS = [
    ("Sprint 3", f"[Berkeley RDI's Agentic AI Weekly]({WEEKLY}) noted: Sprint 3 launches on April 13 with "
                 "Agent Safety, Coding Agent and Cybersecurity Agent tracks."),
    ("Labor Market Impacts of AI", f"[Anthropic Research]({RESEARCH}) noted: Over the next 30 days we will add a further "
                          "month of usage data, and rerun the hiring analysis for workers aged 22 to 25."),
]
GOOD_LEDE = "Project Glasswing puts Claude Mythos Preview to work for defenders, Anthropic News reports."


def issue(*, title: str = f"{NAME} 04/10/2026", published: str = "false", tags: str = "ai, agents",
          disclosure: str | None = "Automated draft from LLL", lede: str | None = GOOD_LEDE, note: str = "",
          sections: Sequence[tuple[str, Sequence[str]]] = GOOD_SECTIONS,
          clocks: Sequence[tuple[str, str]] = GOOD_CLOCKS, clocks_heading: str | None = None,
          clocks_first: bool = False) -> str:
    """A whole issue in Markdown, every part replaceable."""
    lines = ["---", f'title: "{title}"', f"published: {published}", f"tags: {tags}",
             f'description: "{lede or ""}"', "---", ""]
    body: list[str] = []
    if disclosure is not None:
        body += [disclosure, ""]
    if lede is not None:
        body += [lede, ""]
    if note:
        body += [f"*{note}*", ""]
    themed: list[str] = []
    for heading, paragraphs in sections:
        themed += [f"## {heading}", ""]
        for paragraph in paragraphs:
            themed += [paragraph, ""]
    watch: list[str] = []
    if clocks:
        words = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven"]
        default = f"{words[len(clocks)]} Clocks Worth Watching" if len(clocks) != 1 else "One Clock Worth Watching"
        watch += [f"## {clocks_heading or default}", ""]
        for heading, paragraph in clocks:
            watch += [f"### {heading}", "", paragraph, ""]
    body += (watch + themed) if clocks_first else (themed + watch)
    return "\n".join(lines + body).rstrip() + "\n"


def run(markdown: str) -> VerifyReport:
    return verify_markdown(markdown, resolve, names=frozenset({NAME, "Following", "The", "It", "On"}),
                           newsletter_name=NAME)


def claim_failures(report: VerifyReport) -> list[Failure]:
    return [f for f in report.failures if f.kind != "structure"]


def structure(markdown: str) -> list[str]:
    return [f.reason for f in check_structure(markdown, NAME)]


def test_a_good_issue_passes() -> None:
    report = run(issue())
    assert report.ok, report.lines()
    assert report.claims_checked > 40
    assert report.paragraphs == 5


# -- figures, dates, quotes, names -----------------------------------------------------------------


def one_paragraph(source_text: str, sentence: str) -> VerifyReport:
    """An issue whose first paragraph cites a source holding ``source_text`` and says ``sentence``."""
    url = "https://source.example.com/post"
    SOURCES[url] = Evidence(url, "Example Source", source_text, item_id=9)
    try:
        sections = [("Example Source", [f"[Example Source]({url}) reported: {sentence}"]), GOOD_SECTIONS[1]]
        return run(issue(sections=sections, lede="Example news, Example Source reports."))
    finally:
        del SOURCES[url]


@pytest.mark.parametrize(("source", "sentence"), [
    ("The benchmark has 1,507 tasks.", "The benchmark has 1507 tasks."),
    ("The benchmark has 1507 tasks.", "The benchmark has 1,507 tasks."),
    ("It scores 83.1% on the benchmark.", "It scores 83.1 percent on the benchmark."),
    ("It scores 83.1 percent on the benchmark.", "It scores 83.1% on the benchmark."),
    ("It scores 83.1 per cent on the benchmark.", "It scores 83.1% on the benchmark."),
    ("Pricing is $0.08 per session-hour.", "Pricing is $0.08 per session-hour."),
    ("It made 22,000 surgical cases a year.", "It made 22000 surgical cases a year."),
])
def test_figures_are_normalised(source: str, sentence: str) -> None:
    report = one_paragraph(source, sentence)
    assert report.ok, report.lines()


@pytest.mark.parametrize(("source", "sentence"), [
    ("Sprint 3 launches on April 13.", "Sprint 3 launches on 13 April."),
    ("Sprint 3 launches on 13 April 2026.", "Sprint 3 launches on April 13."),
    ("Sprint 3 launches on Apr. 13.", "Sprint 3 launches on 13 Apr."),
])
def test_dates_in_other_orders_are_the_same_date(source: str, sentence: str) -> None:
    report = one_paragraph(source, sentence)
    assert report.ok, report.lines()


@pytest.mark.parametrize(("source", "sentence"), [
    ("Sprint 3 launches on April 13.", "Sprint 3 launches on Apr. 13."),
    ("Sprint 3 launches on April 13.", "Sprint 3 launches on Apr 13."),
    ("Sprint 3 launches on 2026-04-13.", "Sprint 3 launches on April 13."),
    ("Sprint 3 launches on April 13.", "Sprint 3 launches on 2026-04-13."),
    ("The cohort starts on Sept. 3.", "The cohort starts on September 3."),
    ("The cohort starts on September 3rd.", "The cohort starts on Sep 3."),
])
def test_dates_are_normalised(source: str, sentence: str) -> None:
    """ "April 13" = "Apr. 13" = "13 April" = 2026-04-13 (issue 3). Today the month word is also
    checked as a proper name ("Apr", "September" must be written as such in the source) and the
    parts of an ISO date as figures ("2026", "04"), so every spelling but the source's fails."""
    report = one_paragraph(source, sentence)
    assert report.ok, report.lines()


def test_an_iso_date_does_not_demand_its_year_and_month_as_figures() -> None:
    """"2026-04-13" is a date: it must not raise figure claims "2026" and "04" that a source writing
    "April 13" cannot support (today it does, so a correct date fails as two figures)."""
    figures = [c.text for c in claims("Sprint 3 launches on 2026-04-13.") if c.kind == "figure"]
    assert "2026" not in figures and "04" not in figures


@pytest.mark.parametrize(("sentence", "kind", "claim"), [
    ("The benchmark has 1,508 tasks.", "figure", "1,508"),
    ("It scores 84.1% on the benchmark.", "figure", "84.1%"),
    ("It scores 83.1 percent on 12 benchmarks.", "figure", "12"),
    ("Sprint 3 launches on April 14.", "date", "April 14"),
    ("Sprint 3 launches on 14 April.", "date", "14 April"),
    ("The organisers said \u201cregistration closes tomorrow\u201d.", "quote", "registration closes tomorrow"),
    ("OpenAI said the benchmark has 1,507 tasks.", "name", "OpenAI"),
])
def test_an_unsupported_claim_fails_and_is_named(sentence: str, kind: str, claim: str) -> None:
    source = ("Sprint 3 launches on April 13. The benchmark has 1,507 tasks. It scores 83.1% on the benchmark. "
              "The organisers said \u201cregistration stays open until launch day\u201d.")
    report = one_paragraph(source, sentence)
    assert not report.ok
    failures = claim_failures(report)
    assert (kind, claim) in {(f.kind, f.claim) for f in failures}, report.lines()
    failure = next(f for f in failures if f.kind == kind and f.claim == claim)
    assert failure.where == "section 1, paragraph 1"
    assert failure.sentence.endswith(sentence)
    assert claim in failure.reason or (kind == "quote" and claim in failure.reason)


def test_a_quote_must_be_the_sources_words() -> None:
    good = one_paragraph("The organisers wrote: \u201cRegistration stays open until launch day.\u201d",
                         "The organisers wrote: \u201cRegistration stays open until launch day.\u201d")
    assert good.ok, good.lines()
    plain = one_paragraph("The organisers wrote that registration stays open until launch day.",
                          'The organisers wrote "registration stays open until launch day".')
    assert plain.ok, plain.lines()   # the words are the source's, quoted or not
    bad = one_paragraph("The organisers wrote that registration stays open until launch day.",
                        'The organisers wrote "registration stays open all month".')
    assert [(f.kind, f.claim) for f in claim_failures(bad)] == [("quote", "registration stays open all month")]


def test_a_quote_may_end_with_the_writers_punctuation() -> None:
    """Quoting a sentence mid-prose turns its period into a comma inside the quote marks: the quoted
    words are still the source's (today the comma is taken as part of the quote and it fails)."""
    report = one_paragraph("The organisers wrote: \u201cRegistration stays open until launch day.\u201d",
                           "\u201cRegistration stays open until launch day,\u201d the organisers wrote.")
    assert report.ok, report.lines()


def test_each_paragraph_is_checked_against_its_own_citations_only() -> None:
    sections = [("Project Glasswing and GLM-5.1", [
        f"[Z.ai Blog]({GLM}) reported: It scores 83.1% on CyberGym.",  # 83.1% is in the Glasswing item, not this one
        GOOD_SECTIONS[0][1][0],
    ]), GOOD_SECTIONS[1]]
    report = run(issue(sections=sections))
    assert {(f.where, f.kind, f.claim) for f in claim_failures(report)} == {
        ("section 1, paragraph 1", "name", "CyberGym"), ("section 1, paragraph 1", "figure", "83.1%")}


def test_the_source_name_in_the_attribution_is_supported_by_the_citation() -> None:
    report = one_paragraph("The benchmark has 1,507 tasks.", "The benchmark has 1,507 tasks.")
    assert report.ok  # "Example Source" is named only by the link to it


def test_a_link_lll_never_fetched_fails_with_kind_link() -> None:
    stray = "https://never-fetched.example.com/scoop"
    sections = [("Project Glasswing and GLM-5.1", [
        GOOD_SECTIONS[0][1][0],
        f"[A blog]({stray}) reported: Z.ai released GLM-5.1 as open weights.",
    ]), GOOD_SECTIONS[1]]
    report = run(issue(sections=sections))
    links = [f for f in report.failures if f.kind == "link"]
    assert [(f.where, f.claim) for f in links] == [("section 1, paragraph 2", stray)]
    assert links[0].reason == f"link {stray} is not a URL LLL fetched"
    # and with no evidence behind it, its claims fail too
    assert any(f.where == "section 1, paragraph 2" and f.kind == "name" for f in claim_failures(report))


def test_headings_and_the_lede_are_checked_too() -> None:
    sections = [("Project Glasswing Scores 91%", GOOD_SECTIONS[0][1]), GOOD_SECTIONS[1]]
    heading = run(issue(sections=sections))
    assert [(f.where, f.claim) for f in claim_failures(heading)] == [("heading \u201cProject Glasswing Scores 91%\u201d",
                                                                     "91%")]
    lede = run(issue(lede="Project Glasswing puts Mythos Preview to work, OpenAI reports."))
    assert [(f.where, f.kind, f.claim) for f in claim_failures(lede)] == [("lede", "name", "OpenAI")]


def test_a_callback_is_checked_against_the_earlier_issue() -> None:
    wrong_day = GOOD_SECTIONS[1][1][0].replace("[April 8]", "[April 7]")
    report = run(issue(sections=[GOOD_SECTIONS[0], ("Sprint 3 and Frontier Models", [wrong_day])]))
    assert {(f.kind, f.claim) for f in claim_failures(report)} == {("date", "April 7")}  # a date is one claim, not also a figure


def test_a_hand_edited_copy_with_one_figure_changed_fails_naming_that_figure() -> None:
    good = issue()
    assert run(good).ok
    edited = good.replace("scores 83.1%, against", "scores 88.1%, against")
    assert edited != good
    report = run(edited)
    assert [(f.kind, f.claim) for f in report.failures] == [("figure", "88.1%")]
    assert report.failures[0].where == "section 1, paragraph 1"
    assert any("88.1%" in line for line in report.lines())


def test_claims_are_extracted_with_their_kinds() -> None:
    found = claims("[Anthropic News](https://x.example.com) said CyberGym has 1,507 tasks, 83.1 percent "
                   "solved, on April 13: \u201ca new high\u201d.")
    by_kind = {(c.kind, c.key) for c in found}
    assert {("figure", "1507"), ("figure", "83.1%"), ("date", "04-13"), ("quote", "a new high"),
            ("name", "anthropic"), ("name", "news"), ("name", "cybergym")} <= by_kind
    assert not any("x.example.com" in c.text for c in found)  # link targets are not claims
    assert figure_keys("1,507 and 83.1%") == {"1507", "83.1", "83.1%"}
    assert date_keys("April 13, Apr. 14, 15 April, 2026-04-16") == {"04-13", "04-14", "04-15", "04-16"}


def test_evidence_accepts_possessives_and_hyphenated_names() -> None:
    index = EvidenceIndex([Evidence("u", "Z.ai Blog", "Z.ai released GLM-5.1 and SWE-Bench Pro results.")])
    for name in ("GLM", "SWE-Bench", "Z.ai's", "Z"):
        sentence_claims = [c for c in claims(f"{name} shines.") if c.kind == "name" and c.text != "shines"]
        assert all(index.supports(c) == "" for c in sentence_claims), name


# -- structure -------------------------------------------------------------------------------------


def test_the_good_issue_has_the_anatomy_of_the_spec() -> None:
    assert structure(issue()) == []


@pytest.mark.parametrize(("markdown", "problem"), [
    (issue(disclosure=None), "disclosure"),
    (issue(disclosure="Drafted by a robot"), "disclosure"),
    (issue(clocks_heading="Three Clocks Worth Watching"), "says Three clocks but the section has 2"),
    (issue(clocks_heading="2 Clocks Worth Watching"), "section has 2"),
    (issue(sections=[(f"Section {n}", GOOD_SECTIONS[0][1]) for n in range(6)]), "6 themed sections"),
    (issue(sections=GOOD_SECTIONS[:1]), "1 themed sections"),
    (issue(tags="ai, agents, llm, safety, policy"), "tags"),
    (issue(tags="AI"), "tags"),
    (issue(tags="machine-learning"), "tags"),
    (issue(tags=""), "tags"),
    (issue(title=NAME), "MM/DD/YYYY"),
    (issue(title=f"{NAME} 2026-04-10"), "MM/DD/YYYY"),
    (issue(title="Other Letters 04/10/2026"), "newsletter name"),
    (issue(published="true"), "published: false"),
    (issue(clocks_first=True), "last section"),
    (issue(lede="Glasswing launched. Anthropic News reports it."), "lede"),
    (issue(lede=" ".join(["word"] * 40) + "."), "lede"),
    (issue(clocks=GOOD_CLOCKS * 3), "the watch list has 1 to 5"),
])
def test_structure_failures(markdown: str, problem: str) -> None:
    problems = structure(markdown)
    assert any(problem in p for p in problems), problems
    report = run(markdown)
    assert not report.ok and any(f.kind == "structure" for f in report.failures)


def test_a_short_issue_may_have_one_section_when_it_says_so() -> None:
    short = issue(sections=GOOD_SECTIONS[:1], note="A short issue: few new stories met the bar since the last one.")
    assert structure(short) == []
    assert run(short).ok


def test_an_issue_without_a_lede_fails_even_with_the_short_issue_note() -> None:
    """The short-issue note is not a lede (check_structure once took it for one)."""
    markdown = issue(lede=None, sections=GOOD_SECTIONS[:1],
                     note="A short issue: few new stories met the bar since the last one.")
    assert any("lede" in p for p in structure(markdown)), structure(markdown)


def test_an_issue_without_a_watch_list_is_allowed() -> None:
    assert structure(issue(clocks=[])) == []


# -- repair: failing sentences are dropped, not published ------------------------------------------


def test_drop_failing_removes_only_the_unsupported_sentence() -> None:
    cite = Citation(url=GLASSWING, source="Anthropic News", item_id=1)
    glm = Citation(url=GLM, source="Z.ai Blog", item_id=2)
    first = Paragraph((
        Sentence(f"[Anthropic News]({GLASSWING}) reported:", (cite,), role="attribution"),
        Sentence("Today we are launching Project Glasswing with AWS, CrowdStrike and Microsoft.", (cite,)),
        Sentence("It scores 97.5% on CyberGym.", (cite,)),
    ), story_id="s-1", title="Project Glasswing")
    second = Paragraph((
        Sentence(f"[Z.ai Blog]({GLM}) reported:", (glm,), role="attribution"),
        Sentence("Z.ai released GLM-5.1 as open weights.", (glm,)),
    ), story_id="s-2", title="GLM-5.1 weights are out")
    lede = Paragraph((Sentence("Project Glasswing launches, Anthropic News reports.", (cite,)),), story_id="s-1",
                     kind="lede")
    draft = Draft(date="2026-04-10", title=f"{NAME} 04/10/2026", tags=("ai",), lede=lede,
                  sections=(Section("Project Glasswing", (first,)), Section("GLM-5.1 Weights Are Out", (second,))),
                  clocks=())
    report = run(render_markdown(draft))
    assert [(f.kind, f.claim) for f in claim_failures(report)] == [("figure", "97.5%")]
    repaired, removed = drop_failing(draft, claim_failures(report))
    assert removed == ["It scores 97.5% on CyberGym."]
    again = run(render_markdown(repaired))
    assert again.ok, again.lines()
    assert "Project Glasswing with AWS" in render_markdown(repaired)
