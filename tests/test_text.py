"""LLL's one sentence splitter (``lll.text.sentence_spans``), line by line and over paragraphs.

The clocks' reading of paragraphs is tested in ``test_clocks.py``; these are the rules both
modes share and the difference between them.
"""

from __future__ import annotations

from lll.text import sentence_spans, sentences


def test_every_line_ends_a_sentence_by_default() -> None:
    text = "Heading Without Stop\nA wrapped line of prose\nthat goes on. Next one."
    assert sentences(text) == ["Heading Without Stop", "A wrapped line of prose", "that goes on.", "Next one."]


def test_paragraphs_join_wrapped_lines_and_drop_list_markers() -> None:
    text = "A wrapped line of prose\nthat goes on. Next one.\n\n- An item. Its second sentence."
    spans = sentence_spans(text, paragraphs=True)
    assert [text[s:e] for s, e in spans] == [
        "A wrapped line of prose\nthat goes on.", "Next one.", "An item.", "Its second sentence.",
    ]


def test_abbreviations_initials_and_dotted_words_do_not_end_a_sentence() -> None:
    text = ("Fixed settings writes (e.g. `/tui`, setup wizards). U.S. Vice President J.D. Vance spoke. "
            "The filing in Musk v. Altman was shown. See No. 5 and Fig. 3 of Acme Inc. Today it ships.")
    assert sentences(text) == [
        "Fixed settings writes (e.g. `/tui`, setup wizards).",
        "U.S. Vice President J.D. Vance spoke.",
        "The filing in Musk v. Altman was shown.",
        "See No. 5 and Fig. 3 of Acme Inc. Today it ships.",
    ]


def test_a_word_that_is_an_abbreviation_only_before_a_number_ends_a_sentence_elsewhere() -> None:
    assert sentences("It is not a yes or no. Sometimes it is both. What was I? A student.") == [
        "It is not a yes or no.", "Sometimes it is both.", "What was I?", "A student.",
    ]


def test_decimals_versions_and_lower_case_continuations_stay_inside() -> None:
    assert sentences("GPT 5.2 scored 83.1% on Z.ai. the tail stays. Then a new one!") == [
        "GPT 5.2 scored 83.1% on Z.ai. the tail stays.", "Then a new one!",
    ]


def test_spans_are_stripped_offsets_into_the_text() -> None:
    text = "  One.   Two!  \n\n  "
    spans = sentence_spans(text)
    assert spans == [(2, 6), (9, 13)]
    assert [text[s:e] for s, e in spans] == ["One.", "Two!"]
    assert sentence_spans("") == [] and sentence_spans(" \n ", paragraphs=True) == []
