"""Clock extraction: forward-looking sentences, their date phrases and due dates.

Every test sentence here is written for these tests; where a fact matches the
reference issue of 2026-04-10 (Sprint 3 on April 13, a measure worth tracking
for 30 days, a model worth benchmarking in the coming weeks), the wording is
our own.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import pytest

from lll.stories.clocks import (
    PAST_GRACE_DAYS,
    ClockCandidate,
    extract_clocks,
    is_due,
    spell_count,
)
from lll.text import sentence_spans

FRIDAY = date(2026, 4, 10)  # the reference issue's date, a Friday


def only_clock(text: str, reference: date = FRIDAY) -> ClockCandidate:
    clocks = extract_clocks(text, reference)
    assert len(clocks) == 1, clocks
    return clocks[0]


def assert_offsets(text: str, clock: ClockCandidate) -> None:
    assert text[clock.start : clock.end] == clock.text
    assert text[clock.phrase_start : clock.phrase_end] == clock.phrase
    assert clock.start <= clock.phrase_start < clock.phrase_end <= clock.end


# ----------------------------------------------------------------- the reference's clocks


def test_the_reference_issues_clocks() -> None:
    text = (
        "Four Clocks Worth Watching\n\n"
        "Sprint 3 of Berkeley's AgentBeats competition\n\n"
        "Berkeley's AgentBeats Sprint 3 launches on April 13 with safety, coding and "
        "security tracks. The Mythos results raised the bar for exploit work.\n\n"
        "A New Labor Market Measure\n\n"
        "Anthropic's observed-exposure measure is worth tracking over the next 30 days "
        "as more data comes in. Early results showed no rise in unemployment.\n\n"
        "An Open-Source Coding Model\n\n"
        "GLM-5.1, now open, scored 58.4% on SWE-Bench Pro; teams running long coding "
        "agents should benchmark it against their own workflows in the coming weeks.\n\n"
        "A Growth Story\n\n"
        "The meeting-notes app ranked second in January 2026 on customer acquisition."
    )
    clocks = extract_clocks(text, FRIDAY)
    assert [(c.phrase, c.due, c.precision, c.kind) for c in clocks] == [
        ("on April 13", date(2026, 4, 13), "day", "date"),
        ("over the next 30 days", date(2026, 5, 10), "day", "horizon"),
        ("in the coming weeks", date(2026, 5, 1), "horizon", "horizon"),
    ]
    assert clocks[0].text.startswith("Berkeley's AgentBeats Sprint 3 launches")
    assert clocks[0].text.endswith("security tracks.")
    assert clocks[2].text.startswith("GLM-5.1, now open")
    for clock in clocks:
        assert_offsets(text, clock)


def test_a_clock_is_a_frozen_value() -> None:
    clock = only_clock("The sprint launches on April 13.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        clock.due = date(2026, 5, 1)  # type: ignore[misc]


# ----------------------------------------------------------------- every phrase form


@pytest.mark.parametrize(
    ("sentence", "phrase", "due", "precision", "kind"),
    [
        # days
        ("The hackathon launches on April 13.", "on April 13", date(2026, 4, 13), "day", "date"),
        ("Voting opens on Apr. 14 for members.", "on Apr. 14", date(2026, 4, 14), "day", "date"),
        ("The meetup starts April 21st in Lisbon.", "April 21st", date(2026, 4, 21), "day", "date"),
        ("Applications close on 20 May.", "on 20 May", date(2026, 5, 20), "day", "date"),
        ("The keynote will be on the 5th of June.", "on the 5th of June", date(2026, 6, 5), "day", "date"),
        ("Registration opens on 2026-04-20.", "on 2026-04-20", date(2026, 4, 20), "day", "date"),
        ("The summit is scheduled for April 20, 2026.", "for April 20, 2026", date(2026, 4, 20), "day", "date"),
        ("The beta will expand on Monday, April 13.", "on Monday, April 13", date(2026, 4, 13), "day", "date"),
        ("The rollout is due to start on the 24th.", "on the 24th", date(2026, 4, 24), "day", "date"),
        ("The new pricing takes effect on May 1.", "on May 1", date(2026, 5, 1), "day", "date"),
        ("The offer is valid until April 30.", "until April 30", date(2026, 4, 30), "day", "date"),
        ("The waitlist closes tomorrow.", "tomorrow", date(2026, 4, 11), "day", "date"),
        ("The model ships next Tuesday.", "next Tuesday", date(2026, 4, 14), "day", "date"),
        ("The hackathon kicks off on Saturday.", "on Saturday", date(2026, 4, 11), "day", "date"),
        # weeks
        ("Llama 5 is expected next week.", "next week", date(2026, 4, 19), "week", "date"),
        ("More details will follow later this week.", "later this week", date(2026, 4, 12), "week", "date"),
        # months
        ("The conference opens in June.", "in June", date(2026, 6, 30), "month", "date"),
        ("The lab will publish the paper by June 2026.", "by June 2026", date(2026, 6, 30), "month", "date"),
        ("Phase two begins mid-May.", "mid-May", date(2026, 5, 15), "month", "date"),
        ("The pilot will wrap up in early July.", "in early July", date(2026, 7, 10), "month", "date"),
        ("Everything will be done by the end of April.", "by the end of April", date(2026, 4, 30), "month", "date"),
        ("Pricing changes take effect later this month.", "later this month", date(2026, 4, 30), "month", "date"),
        ("The team will open a waitlist next month.", "next month", date(2026, 5, 31), "month", "date"),
        # quarters and halves
        ("Results are expected by the end of Q2.", "by the end of Q2", date(2026, 6, 30), "quarter", "date"),
        ("OpenAI will ship the feature by Q3.", "by Q3", date(2026, 9, 30), "quarter", "date"),
        ("The device is slated for Q4 2026.", "for Q4 2026", date(2026, 12, 31), "quarter", "date"),
        ("The chip will ship in the third quarter.", "in the third quarter", date(2026, 9, 30), "quarter", "date"),
        ("Meta will release it in H2.", "in H2", date(2026, 12, 31), "quarter", "date"),
        # years
        ("Google will release Gemini 4 later this year.", "later this year", date(2026, 12, 31), "year", "date"),
        ("The firm expects to turn a profit by 2028.", "by 2028", date(2028, 12, 31), "year", "date"),
        ("The robot will ship in mid-2027.", "in mid-2027", date(2027, 6, 30), "year", "date"),
        # horizons
        ("It is worth tracking over the next 30 days.", "over the next 30 days", date(2026, 5, 10), "day", "horizon"),
        ("The team will report over the next thirty days.", "over the next thirty days", date(2026, 5, 10), "day",
         "horizon"),
        ("The beta will run for the next twenty-one days.", "for the next twenty-one days", date(2026, 5, 1), "day",
         "horizon"),
        ("It will publish the weights within two weeks.", "within two weeks", date(2026, 4, 24), "week", "horizon"),
        ("The lab will add support in 3 weeks.", "in 3 weeks", date(2026, 5, 1), "week", "horizon"),
        ("Pricing will be announced within a month.", "within a month", date(2026, 5, 10), "month", "horizon"),
        ("The beta will be ready two weeks from now.", "two weeks from now", date(2026, 4, 24), "week", "horizon"),
        ("We will know more in the coming weeks.", "in the coming weeks", date(2026, 5, 1), "horizon", "horizon"),
        ("A patch should land in the next few days.", "in the next few days", date(2026, 4, 17), "horizon", "horizon"),
        ("Results will be out in the coming months.", "in the coming months", date(2026, 7, 9), "horizon", "horizon"),
        ("Expect more benchmarks in the weeks ahead.", "in the weeks ahead", date(2026, 5, 1), "horizon", "horizon"),
    ],
)
def test_phrase_forms_resolve_to_their_due_dates(
    sentence: str, phrase: str, due: date, precision: str, kind: str
) -> None:
    text = "Some context comes first. " + sentence + " Nothing else."
    clock = only_clock(text)
    assert (clock.phrase, clock.due, clock.precision, clock.kind) == (phrase, due, precision, kind)
    assert clock.text == sentence
    assert_offsets(text, clock)


@pytest.mark.parametrize(
    ("sentence", "reference", "due"),
    [
        # "next <weekday>" is that weekday of the following Monday-based week
        ("The model ships next Tuesday.", date(2026, 4, 6), date(2026, 4, 14)),
        ("The model ships next Tuesday.", date(2026, 4, 12), date(2026, 4, 14)),
        # a plain weekday is the first one after the reference, a week on the same day
        ("The model ships on Tuesday.", date(2026, 4, 6), date(2026, 4, 7)),
        ("The market opens on Friday.", date(2026, 4, 10), date(2026, 4, 17)),
        # "next week" is the Sunday of next week (its Monday + 6)
        ("The report is expected next week.", date(2026, 4, 12), date(2026, 4, 19)),
        ("The report is expected next week.", date(2026, 4, 13), date(2026, 4, 26)),
        # "later this month" and "next month" across month lengths and years
        ("It ships later this month.", date(2026, 2, 3), date(2026, 2, 28)),
        ("It will ship next month.", date(2026, 12, 5), date(2027, 1, 31)),
        ("A review is planned for next quarter.", date(2026, 11, 2), date(2027, 3, 31)),
        # a counted month from a month's last day stays in range
        ("Pricing will be announced within a month.", date(2026, 1, 31), date(2026, 2, 28)),
        # "on the 5th" after the 5th is next month's
        ("The rollout is due to start on the 5th.", date(2026, 4, 10), date(2026, 5, 5)),
    ],
)
def test_calendar_relative_rules(sentence: str, reference: date, due: date) -> None:
    assert only_clock(sentence, reference).due == due


# ----------------------------------------------------------------- the past is not a clock


@pytest.mark.parametrize(
    "sentence",
    [
        "Claude 5 launched on April 13.",
        "The API was released April 1.",
        "The update was released on April 20.",
        "Sprint 2 opened on April 13 last year.",
        "The team shipped the feature within two weeks.",
        "For the next 30 days, the team tested the model on 22,000 surgical cases.",
        "Mythos Preview scored 83.1% on CyberGym this week.",
        "Claude Managed Agents entered public beta this week.",
        "Meta employees generated roughly 60 trillion tokens on Claude over 30 days.",
        "LeCun departed Meta in late 2025 to found AMI Labs.",
        "The meeting-notes app ranked second in January 2026.",
        "Earlier this week, the lab announced a new model.",
        "The architecture was discussed here on April 8.",
        "Revenue figures (reported here on April 7) keep rising.",
        "The competition had already opened in June.",
    ],
)
def test_past_statements_are_not_clocks(sentence: str) -> None:
    assert extract_clocks(sentence, FRIDAY) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "The beta opens on April 3.",  # a week ago, without a year
        "Applications close on 2026-03-01.",  # a written year in the past
        "The event is scheduled for April 9, 2026.",
        "The pilot will finish in 2025.",
        "The program opens on March 1.",  # next year's March 1 is too far for a weak cue
        "Results will arrive in Q1.",  # ten days past its end
    ],
)
def test_dates_before_the_reference_are_dropped(sentence: str) -> None:
    assert extract_clocks(sentence, FRIDAY) == []


def test_a_date_past_by_a_few_days_stays_past_even_when_future_tense() -> None:
    three_days_ago = "The cohort will start on April 7."
    assert extract_clocks(three_days_ago, FRIDAY) == []
    assert PAST_GRACE_DAYS >= 3


def test_a_clearly_future_date_long_past_this_year_moves_to_next_year() -> None:
    assert only_clock("The program will open on March 1.").due == date(2027, 3, 1)


def test_the_same_day_is_a_clock_due_at_once() -> None:
    clock = only_clock("The waitlist closes on April 10.")
    assert clock.due == FRIDAY
    assert is_due(clock.due, FRIDAY)


# ----------------------------------------------------------------- year rollover


@pytest.mark.parametrize(
    ("sentence", "due"),
    [
        ("The new cohort will start on January 5.", date(2027, 1, 5)),
        ("Doors open on January 5.", date(2027, 1, 5)),
        ("Applications close on 8 January.", date(2027, 1, 8)),
        ("The lab will publish the results in January.", date(2027, 1, 31)),
        ("The company expects the chip in Q1.", date(2027, 3, 31)),
        ("The service will launch early next year.", date(2027, 3, 31)),
        ("The report will land after the holidays, next week.", date(2026, 12, 27)),
        ("It will open on 2027-01-04.", date(2027, 1, 4)),
    ],
)
def test_year_rollover_in_december(sentence: str, due: date) -> None:
    assert only_clock(sentence, date(2026, 12, 20)).due == due


# ----------------------------------------------------------------- grounding


@pytest.mark.parametrize(
    "sentence",
    [
        "The model will ship soon.",
        "The feature will arrive in the near future.",
        "The deadline will be on February 30.",  # no such day
        "Enrollment will open on Monday, April 14, 2026.",  # April 14, 2026 is a Tuesday
        "The fix will ship within two weeks of launch.",  # anchored on another event
        "Support will follow 30 days after the release.",
        "The lab will announce a date later.",
    ],
)
def test_statements_without_a_groundable_date_are_dropped(sentence: str) -> None:
    assert extract_clocks(sentence, FRIDAY) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "The next release lands on April 20.",
        "The weights will be released on April 20.",
        "The deadline for submissions is April 20.",
        "Submissions are due April 20.",
        "Anthropic plans to open the program on April 20.",
        "The launch has been postponed to April 20.",
        "The lab said last month that the model will ship on April 20.",
        "It debuted on April 8 and will expand on April 20.",
    ],
)
def test_forward_cues(sentence: str) -> None:
    clock = only_clock(sentence)
    assert clock.due == date(2026, 4, 20)
    assert clock.phrase.endswith("April 20")


def test_a_date_without_any_forward_cue_is_not_a_clock() -> None:
    assert extract_clocks("The workshop on April 20 covers agents.", FRIDAY) == []
    assert extract_clocks("April 20: agents.", FRIDAY) == []


def test_one_clock_per_sentence_the_earliest_due() -> None:
    clock = only_clock("The pilot opens on May 4 and the waitlist closes on April 20.")
    assert (clock.phrase, clock.due) == ("on April 20", date(2026, 4, 20))


def test_the_longest_phrase_wins() -> None:
    assert only_clock("Results are expected by the end of Q2 2026.").phrase == "by the end of Q2 2026"
    assert only_clock("The summit will open on Monday, April 13, 2026.").phrase == (
        "on Monday, April 13, 2026"
    )


def test_clocks_come_in_text_order_with_exact_offsets() -> None:
    text = (
        "Z.ai’s GLM-5.1 — an open model — topped SWE-Bench Pro at 58.4%. "
        "The lab will publish a report on May 4. "
        "Dr. Lee of Acme Inc. said the U.S. pilot, version 4.5, starts next Tuesday at 3 p.m. ET. "
        "Nothing is planned for today.\n\n"
        "- The waitlist closes later this month.\n"
        "- Pricing was set in March."
    )
    clocks = extract_clocks(text, FRIDAY)
    assert [c.phrase for c in clocks] == ["on May 4", "next Tuesday", "later this month"]
    assert clocks[1].text == (
        "Dr. Lee of Acme Inc. said the U.S. pilot, version 4.5, starts next Tuesday at 3 p.m. ET."
    )
    assert clocks[2].text == "The waitlist closes later this month."
    for clock in clocks:
        assert_offsets(text, clock)
    assert [c.start for c in clocks] == sorted(c.start for c in clocks)


def test_windows_line_endings_keep_offsets() -> None:
    text = "A heading\r\n\r\nThe sprint launches on April 13.\r\nIt was fun."
    clock = only_clock(text)
    assert clock.text == "The sprint launches on April 13."
    assert_offsets(text, clock)


# ----------------------------------------------------------------- no false positives


@pytest.mark.parametrize(
    "sentence",
    [
        "Mythos Preview scored 83.1% on CyberGym.",
        "The platform reached 98-99% accuracy across 22,000 surgical cases at 125 hospitals.",
        "GPT 5.2, Gemini 3 Pro and Claude Haiku 4.5 were tested.",
        "Claude Managed Agents costs $0.08 per session-hour.",
        "A 7-facet review became a 45-minute workflow.",
        "Opus 4.6 succeeded twice; Mythos succeeded 180 times.",
        "The benchmark has 1,507 tasks and a 3.6 times GPU speedup on Level 3 workloads.",
        "Researchers may publish more.",  # "may" is not May
        "The Q4 build will run on laptops.",  # a quantisation, not a quarter
        "The model will process inputs in 2048 tokens.",
        "Sprint 3 features AI Safety, Coding Agent, and Cybersecurity Agent tracks.",
        "This first installment in a 4-part series will be followed by three more.",
        "",
    ],
)
def test_plain_prose_with_numbers_has_no_clocks(sentence: str) -> None:
    assert extract_clocks(sentence, FRIDAY) == []


def test_lowercase_may_is_not_a_month_but_the_horizon_is_found() -> None:
    clock = only_clock("The lab may open access in the coming weeks.")
    assert clock.phrase == "in the coming weeks"


# ----------------------------------------------------------------- dateparser fallback


def test_numeric_dates_fall_back_to_dateparser() -> None:
    pytest.importorskip("dateparser")
    text = "Doors will open 5/20/2026 at noon."
    clock = only_clock(text)
    assert clock.due == date(2026, 5, 20)
    assert clock.phrase.startswith("5/20/2026")
    assert_offsets(text, clock)
    assert extract_clocks("Doors opened 3/20/2026 at noon.", FRIDAY) == []


# ----------------------------------------------------------------- is_due, spell_count


def test_is_due() -> None:
    due = date(2026, 4, 13)
    assert not is_due(due, date(2026, 4, 12))
    assert is_due(due, date(2026, 4, 13))
    assert is_due(due, date(2026, 5, 1))


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "One"),
        (2, "Two"),
        (3, "Three"),
        (4, "Four"),
        (5, "Five"),
        (6, "Six"),
        (7, "Seven"),
        (8, "Eight"),
        (9, "Nine"),
        (10, "Ten"),
        (11, "Eleven"),
        (12, "Twelve"),
        (0, "Zero"),
        (15, "Fifteen"),
        (20, "Twenty"),
        (21, "Twenty-One"),
        (99, "Ninety-Nine"),
        (100, "100"),
    ],
)
def test_spell_count(n: int, words: str) -> None:
    assert spell_count(n) == words


def test_spell_count_heading_and_negative() -> None:
    assert f"{spell_count(4)} Clocks Worth Watching" == "Four Clocks Worth Watching"
    with pytest.raises(ValueError):
        spell_count(-1)


# ----------------------------------------------------------------- sentence splitting


def split_sentences(text: str) -> list[tuple[int, int]]:
    """How the clocks read a text: LLL's one splitter, over paragraphs."""
    return sentence_spans(text, paragraphs=True)


def sentences(text: str) -> list[str]:
    spans = split_sentences(text)
    return [text[s:e] for s, e in spans]


def test_split_keeps_abbreviations_decimals_and_versions() -> None:
    text = (
        "The U.S. Senate met at 3 p.m. Tuesday. Dr. Lee of Acme Inc. spoke. "
        "GPT 5.2 scored 83.1% on it! Was it real? J. Smith agreed, e.g. with data. "
        "Version 1.2.3 costs $0.08 per hour. (See Fig. 3.) The end"
    )
    assert sentences(text) == [
        "The U.S. Senate met at 3 p.m. Tuesday.",
        "Dr. Lee of Acme Inc. spoke.",
        "GPT 5.2 scored 83.1% on it!",
        "Was it real?",
        "J. Smith agreed, e.g. with data.",
        "Version 1.2.3 costs $0.08 per hour.",
        "(See Fig. 3.)",
        "The end",
    ]


def test_split_handles_quotes_and_ellipses() -> None:
    assert sentences('He said "it works." Then he left... Later, more.') == [
        'He said "it works."',
        "Then he left...",
        "Later, more.",
    ]


def test_split_on_blank_lines_list_items_and_headings() -> None:
    text = (
        "## Heading One\n"
        "Body text starts here. It ends.\n"
        "- item one\n"
        "- item two. With two sentences.\n"
        "  continued on an indented line.\n"
        "1. numbered item\n"
        "Granola's Growth Architecture\n"
        "Granola's growth architecture merits\n"
        "study as a template.\n\n"
        "Last paragraph."
    )
    assert sentences(text) == [
        "Heading One",
        "Body text starts here.",
        "It ends.",
        "item one",
        "item two.",
        "With two sentences.\n  continued on an indented line.",
        "numbered item",
        "Granola's Growth Architecture",
        "Granola's growth architecture merits\nstudy as a template.",
        "Last paragraph.",
    ]


def test_split_offsets_are_exact_and_ordered() -> None:
    text = "  Lead-in with spaces.   Next one!\n\n\tTabbed — with a dash.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Lead-in with spaces.", "Next one!", "Tabbed — with a dash."]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


def test_extraction_is_fast_on_a_long_item() -> None:
    import time

    paragraph = (
        "Berkeley's AgentBeats Sprint 3 launches on April 13. Mythos scored 83.1% on CyberGym "
        "this week, up from 66.6% last month. The measure is worth tracking over the next 30 days.\n\n"
    )
    started = time.perf_counter()
    clocks = extract_clocks(paragraph * 200, FRIDAY)
    assert len(clocks) == 400
    assert time.perf_counter() - started < 5


# ----------------------------------------------------------------- shapes of real digests (May 2026)
# Our own sentences in the shape of forward statements found in AI digests and lab posts.

MAY_7 = date(2026, 5, 7)


@pytest.mark.parametrize(
    ("sentence", "phrase", "due"),
    [
        # a start date: "starting / beginning / effective <date>"
        ("Pricing change: the service moves to metered billing starting June 1.", "starting June 1",
         date(2026, 6, 1)),
        ("The new quota applies beginning June 3.", "beginning June 3", date(2026, 6, 3)),
        ("The revised terms are effective June 10.", "effective June 10", date(2026, 6, 10)),
        # present progressive with a date ahead
        ("The company is folding its tracker app into a new health app on May 26, with a coach.", "on May 26",
         date(2026, 5, 26)),
        ("Both labs are hosting a joint demo day on June 2.", "on June 2", date(2026, 6, 2)),
        # a period that ends: "through / until <date>", whatever the clause after it says
        ("The lab raised weekly limits by 50% through July 13, stacked on the previously announced increase.",
         "through July 13", date(2026, 7, 13)),
        ("Cache discounts run until June 30.", "until June 30", date(2026, 6, 30)),
        ("The lab launched seats with no fee for business customers through end of June.", "through end of June",
         date(2026, 6, 30)),
        # an obligation before a date
        ("Free users must migrate to the new tool before the old CLI stops serving requests on June 18, 2026.",
         "on June 18, 2026", date(2026, 6, 18)),
        # a reported change in the present tense
        ("The lab announced its assistant moves to usage-based billing on June 1.", "on June 1", date(2026, 6, 1)),
        # a horizon without its article
        ("The model is available in the app today, and via APIs in coming weeks.", "in coming weeks",
         date(2026, 5, 28)),
        ("Enterprise plans follow over coming months.", "over coming months", date(2026, 8, 5)),
        # an offer: the horizon belongs to the -ing verb before it, not to "offered"
        ("The lab offered two months of free usage to customers switching in the next 30 days.",
         "in the next 30 days", date(2026, 6, 6)),
    ],
)
def test_forward_statements_of_real_digests(sentence: str, phrase: str, due: date) -> None:
    clock = only_clock(sentence, MAY_7)
    assert (clock.phrase, clock.due) == (phrase, due)
    assert_offsets(sentence, clock)


@pytest.mark.parametrize(
    "sentence",
    [
        "The model shows a huge quality gain from Q4 to Q6 for coding agents.",  # quantisation, not quarters
        "Moving the model from Q4 to Q8_0 doubled its memory.",
        "Any claimed jump from Q4 needs the exact GGUF scheme named.",
        "The lab launched agent templates for pitch generation, KYC screening and month-end close.",
        "An estimate suggests a run feasible in roughly 14 days on a large cluster.",  # a duration
        "One agent committed 180 crimes and went extinct within 4 days.",
        "Capability improved 4.7x in 24 months, a doubling every 10.7 months.",
        "Prices rose 20% from January through April.",  # a period that has ended
        "The beta ran through May 3.",
        "The team is recovering from an outage on May 1.",  # progressive, but the date has passed
        "The full issue arrives on Friday as usual.",  # a newsletter's own schedule
        "Our next episode drops on Tuesday.",
        "Codex went on doubling revenue in under seven days.",
        "The model kept improving over the next 30 days.",  # a past narrative, no one's condition ahead
        "The product launched on May 3.",
    ],
)
def test_backward_or_unrelated_dates_of_real_digests(sentence: str) -> None:
    assert extract_clocks(sentence, MAY_7) == []


def test_a_quarter_still_counts_beside_a_year_in_a_quantisation_free_sentence() -> None:
    assert only_clock("The lab will ship the chip in Q4.", MAY_7).due == date(2026, 12, 31)
    # the year makes a quarter unambiguous, even where bit widths are discussed
    assert only_clock("The GGUF builds will land in Q4 2026.", MAY_7).due == date(2026, 12, 31)


def test_a_progressive_statement_does_not_move_a_past_date_to_next_year() -> None:
    assert extract_clocks("The team is hosting its summit on January 20.", MAY_7) == []
    assert only_clock("The team will host its summit on January 20.", date(2026, 12, 20)).due == date(2027, 1, 20)


def test_year_end_with_a_preposition_is_still_a_date() -> None:
    clock = only_clock("The lab expects to open the program by year-end.", MAY_7)
    assert clock.due == date(2026, 12, 31)


def test_an_issue_that_is_a_problem_is_not_a_newsletter() -> None:
    clock = only_clock("The issue will be fixed by May 20.", MAY_7)
    assert clock.due == date(2026, 5, 20)
