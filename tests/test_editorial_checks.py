"""The editorial bench's detectors (bench/editorial_checks.py) on strings shaped like real issues:
each one finds what it is for and leaves a clean sentence alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import editorial_checks as ec  # noqa: E402

CLEAN = ("Anthropic released BioMysteryBench, reporting that recent Claude models solved about 30% of hard "
         "biological data-analysis problems.")


def kinds(text: str) -> set[str]:
    return {k for k, _ in ec.residues(text)}


def test_residue_activity_count_and_leftover() -> None:
    text = "AMD in-house ryzen 395 box coming in June (Activity: 1061): The image from the AMD AI Dev Day shows it."
    assert {"activity count", "media description"} <= kinds(text)
    assert "count leftover" in kinds("800): Kelsey Piper conducted an experiment with Claude 4.7.")
    assert "activity count" in kinds("Claude 4.7 named a journalist from 125 words of unpublished writing (Activity")
    assert kinds(CLEAN) == set()
    assert kinds("GPT-5.5 scored 82.1% on SWE-bench (up from 74.9%).") == set()


def test_residue_media_description() -> None:
    assert "media description" in kinds("The post discusses a hypothetical cast for a biopic.")
    assert "media description" in kinds("The Reddit post humorously depicts cats imitating poses.")
    assert kinds("The model is available with open weights under a modified MIT license.") == set()


def test_residue_handles() -> None:
    assert "handle" in kinds("Community endorsements came from @ibab and @multiply_matrix.")
    assert "handle list" in kinds("Vista4D introduced video reshooting (micahgoldblum), and KAME a tandem design.")
    assert "handle list" in kinds("Opus 4.8 is a minor upgrade (scaling01, scaling01).")
    assert "handle list" in kinds("Anthropic released BioMysteryBench (AnthropicAI).")
    assert kinds("Write to press@anthropic.com for details on the launch.") == set()
    assert kinds("The lab (Anthropic) said the study covers 2026.") == set()
    assert kinds("Figures are for 2026 (2026).") == set()


def test_residue_forum_scaffolding() -> None:
    assert "forum scaffolding" in kinds("Commenters express dissatisfaction with the sound mix on r/LocalLLaMA.")
    assert "forum scaffolding" in kinds("A Redditor reports training a small model.")
    assert "image tag" in kinds("The new plan costs $409.99/month (image).")
    assert kinds("Discordant results were reported by the team.") == set()


def test_sentences_split_cut_spans_and_keep_abbreviations() -> None:
    assert ec.sentences("strikingly capable at computer security tasks. have found over the past month.") == [
        "strikingly capable at computer security tasks.", "have found over the past month."]
    assert len(ec.sentences("The U.S. government, e.g. the Commerce Department, agreed. J. Smith said so.")) == 2
    assert ec.sentences("[Mistral](https://mistral.ai/news) shipped it. It is open.") == ["Mistral shipped it.",
                                                                                         "It is open."]


def test_fragment_reasons() -> None:
    assert ec.fragment("have found over the past month.") == "starts lowercase"
    assert ec.fragment("2670): The image is a non-technical depiction.") == "starts with a count leftover"
    assert ec.fragment(") and more were announced today.") == "starts with a closing paren"
    assert ec.fragment("Settings improvements.") == "under 4 words"
    assert ec.fragment("Carmack's bf16 scatterplot is a useful reminder that") == "no terminal punctuation"
    assert ec.fragment("The company said it will ship the feature to all users and.") == "ends in a dangling 'and'"
    assert ec.fragment("The model (released under MIT is available today.") == "unbalanced parentheses"
    assert ec.fragment('He called it "the best model yet and moved on.') == "unbalanced quotes"
    assert ec.fragment(CLEAN) is None
    assert ec.fragment("iPhone users can now run Gemma 4 on device.") is None
    assert ec.fragment('Simon Willison called it "a big deal" for local models.') is None


def test_fragments_over_prose() -> None:
    found = ec.fragments("reported: strikingly capable at computer security tasks. have found over the past month.")
    assert [why for why, _ in found] == ["starts lowercase", "starts lowercase"]
    assert ec.fragments(CLEAN + " " + CLEAN) == []


def test_lede_problem() -> None:
    assert ec.lede_problem("Settings Improvements, Windsurf Next Changelog reports.") == "headline + 'X reports.'"
    assert ec.lede_problem("Claude Mythos Preview Benchmarks: Claude Mythos Preview benchmarks have been, "
                           "AINews (smol.ai) reports.") == "headline + 'X reports.'"
    assert ec.lede_problem("Google shipped it.") == "3 words"
    assert ec.lede_problem("Google shipped Gemini 3.5 Flash. It is cheap.") == "2 sentences"
    assert ec.lede_problem("Today's top story comes from Claude Code Changelog and it") is not None
    assert ec.lede_problem("Google began rolling out Gemini 3.5 Flash across its apps and API, with Pro due next "
                           "month.") is None
    assert ec.lede_problem("[Anthropic](https://www.anthropic.com/news) raised $65B in a Series H round led by "
                           "existing investors.") is None


def test_headings() -> None:
    long = ("Offline Companion Robot for My Disabled Husband, Carmack's bf16 Scatterplot Is a Useful Reminder That, "
            "and Opus = 0.5T × 10 = ~5T Parameters")
    assert ec.heading_words(long) > 12
    assert ec.heading_words("Claude Mythos, GLM-5.1 and Meta's Muse Spark") <= 12
    assert ec.heading_cut(long)
    assert ec.heading_cut("Reward Hacking Is Now a Central Part")
    assert ec.heading_cut("Gemma 4 MTP Released, Cognition Shipped Devin Review and Quick Review /, and Perplexity")
    assert not ec.heading_cut("Claude Mythos, GLM-5.1 and Meta's Muse Spark")
    assert not ec.heading_cut("TorchTPU Reaches General Availability")


def clock(heading: str, sentence: str) -> dict[str, str]:
    return {"heading": heading, "sentence": sentence}


def test_duplicate_and_repeated_clocks() -> None:
    a = clock("Minimax 2.7", "MiniMax 2.7 weights are coming next week.")
    b = clock("Minimax 2.7 Weights", "MiniMax 2.7 weights are coming next week.")
    c = clock("Gemini 3.5 Pro", "Gemini 3.5 Pro is coming next month per Google DeepMind.")
    assert ec.duplicate_clocks([a, b, c]) == 1
    assert ec.duplicate_clocks([a, c]) == 0
    assert ec.repeated_clocks([a, c], [b]) == 1
    assert ec.repeated_clocks([c], [a]) == 0
    assert ec.repeated_clocks([], [a, c]) == 0


def issue(date: str, stories: list[dict[str, object]], paragraphs: list[dict[str, object]]) -> dict[str, object]:
    return {"date": date, "lede": {"markdown": "", "sentences": []}, "stories": stories, "clocks": [],
            "sections": [{"heading": "H", "paragraphs": paragraphs}]}


def story(sid: str, title: str, url: str, previous: dict[str, str] | None = None) -> dict[str, object]:
    return {"id": sid, "title": title, "told": True, "previous": previous,
            "units": [{"title": title, "url": url}]}


def test_callbacks_read_from_issue_json() -> None:
    later = issue("2026-05-20", [story("s-2", "Gemini 3.5 Flash", "https://news.smol.ai/issues/26-05-20",
                                       {"id": "s-1", "told_in": "2026-05-19"})],
                  [{"kind": "story", "story_id": "s-2", "sentences": [
                      {"role": "callback", "text": "Following up on …", "citations": [{"issue_date": "2026-05-19"}]},
                      {"role": "attribution", "text": "AINews reported:"}]},
                   {"kind": "clock", "story_id": "s-9", "sentences": [{"role": "callback", "text": "First noted"}]}])
    found = ec.callbacks(later)
    assert [(c.date, c.story_id, c.earlier_date, c.earlier_id) for c in found] == [
        ("2026-05-20", "s-2", "2026-05-19", "s-1")]


LABELS = [
    {"earlier_date": "2026-05-19", "earlier_url": "https://news.smol.ai/issues/26-05-19-io",
     "earlier_title": "Gemini 3.5 Flash launch", "earlier_shared_url": True,
     "later_date": "2026-05-20", "later_url": "https://news.smol.ai/issues/26-05-20", "later_title": "Gemini 3.5 Flash",
     "later_shared_url": True, "label": True, "reason": "same launch"},
    {"earlier_date": "2026-05-01", "earlier_url": "https://neal.fun/cursor-camp/", "earlier_title": "Cursor Camp",
     "earlier_shared_url": False, "later_date": "2026-05-18", "later_url": "https://news.smol.ai/issues/26-05-18",
     "later_title": "Cursor’s Composer 2.5 is the standout model launch", "later_shared_url": True,
     "label": False, "reason": "different things"},
]


def test_score_callbacks_precision_recall_and_unlabelled() -> None:
    gemini_19 = ec.Story("2026-05-19", "Gemini 3.5 Flash launch (Activity: 12)", "https://news.smol.ai/issues/26-05-19-io")
    gemini_20 = ec.Story("2026-05-20", "Gemini 3.5 Flash", "http://news.smol.ai/issues/26-05-20/")
    camp = ec.Story("2026-05-01", "Cursor Camp", "https://neal.fun/cursor-camp")
    composer = ec.Story("2026-05-18", "Cursor’s Composer 2.5 is the standout model launch in this batch",
                        "https://news.smol.ai/issues/26-05-18")
    other = ec.Story("2026-05-18", "MCP is dead?", "https://example.com/mcp")
    told = [gemini_19, gemini_20, camp, composer, other]
    score = ec.score_callbacks([(camp, composer), (camp, other)], told, LABELS)
    assert (score.made, score.labelled, score.right, len(score.unlabelled)) == (2, 1, 0, 1)
    assert score.precision == 0.0 and score.recall == 0.0 and score.true_pairs_told == 1
    score = ec.score_callbacks([(gemini_19, gemini_20), (camp, composer)], told, LABELS)
    assert score.precision == 0.5 and score.recall == 1.0
    # a newsletter post's URL is shared by many stories: another story of that post is not the labelled one
    wrong = ec.Story("2026-05-20", "Open robotics is getting more buildable", "https://news.smol.ai/issues/26-05-20")
    assert ec.score_callbacks([(gemini_19, wrong)], told, LABELS).labelled == 0
    # a story told five days later is not the labelled one either
    late = ec.Story("2026-05-25", "Gemini 3.5 Flash", "https://news.smol.ai/issues/26-05-20")
    assert ec.same_story(LABELS[0], "later", late) == 0.0


def test_canonical_urls() -> None:
    assert ec.canonical("https://www.Anthropic.com/news/x/#top") == ec.canonical("http://anthropic.com/news/x")
    assert ec.canonical("https://a.com/x") != ec.canonical("https://a.com/y")


def test_fragment_glued_and_cut_inside() -> None:
    assert ec.fragment("(Activity: 795): oobabooga/TextGen has been refactored into a desktop app.") == \
        "starts with a count leftover"
    assert ec.fragment("Pro subscription btw (Activity: 1980): A mobile screenshot shows the usage limit.") == \
        "a title glued to its text"
    assert ec.fragment("Competition in coding agents is now visibly about reliability, workflow breadth, and, "
                       "AINews (smol.ai) reports.") == "cut mid-sentence"
    assert ec.fragment("Cline shipped a CLI, agent teams, and connectors for custom coding agents.") is None


def test_a_label_still_finds_its_story_when_another_unit_leads() -> None:
    # a later version makes the primary post lead; the labelled AINews unit is still one of the story's units
    story = ec.Story("2026-05-20", "Gemini 3.5 Flash is rolling out", "https://blog.google/gemini-3-5-flash",
                     units=(("Gemini 3.5 Flash", "https://news.smol.ai/issues/26-05-20"),))
    assert ec.same_story(LABELS[0], "later", story) > 0
    assert ec.same_story(LABELS[0], "later", ec.Story("2026-05-20", "Gemini 3.5 Flash is rolling out",
                                                      "https://blog.google/gemini-3-5-flash")) == 0.0


def test_told_stories_from_issue_json() -> None:
    doc = issue("2026-05-20", [story("s-2", "Gemini 3.5 Flash", "https://news.smol.ai/issues/26-05-20"),
                               {"id": "s-3", "title": "Left out", "told": False, "units": []}], [])
    found = ec.told_stories(doc)
    assert list(found) == ["s-2"] and found["s-2"].url == "https://news.smol.ai/issues/26-05-20"


def test_clock_backward() -> None:
    codex = {"phrase": "in under seven days", "sentence": "OpenAI says GPT-5.5 is its strongest launch yet, with "
             "Codex doubling revenue in under seven days."}
    close = {"phrase": "month-end", "sentence": "Anthropic launched agent templates for pitch generation, KYC "
             "screening, and month-end close."}
    assert ec.clock_backward(codex) == "a measured duration, not a date ahead"
    assert ec.clock_backward(close) == "a date word used as a noun"
    assert ec.clock_backward({"phrase": "starting June 15", "sentence": "Starting June 15, paid Claude plans can "
                              "claim monthly credits."}) is None
    assert ec.clock_backward({"phrase": "within two weeks", "sentence": "The company will ship the weights "
                              "within two weeks."}) is None
    assert ec.clock_backward({"phrase": "month-end", "sentence": "The beta closes at month-end."}) is None


def test_measure_a_backtest_workspace(tmp_path: Path) -> None:
    """The bench's figures for a small workspace: two issues written, one dark day, a callback."""
    import json

    import editorial

    def sentence(text: str, role: str = "source") -> dict[str, object]:
        return {"text": text, "role": role, "citations": []}

    first = issue("2026-05-01", [story("s-1", "Gemini 3.5 Flash launch", "https://news.smol.ai/issues/26-05-19-io")],
                  [{"kind": "story", "story_id": "s-1", "sentences": [
                      sentence("[AINews](https://news.smol.ai/issues/26-05-19-io) reported:", "attribution"),
                      sentence("800): The image is a screenshot of the launch page."),
                      sentence("Google rolled out Gemini 3.5 Flash across the Gemini app and API.")]}])
    first["lede"] = {"markdown": "Gemini 3.5 Flash launch, AINews (smol.ai) reports.",
                     "sentences": [sentence("Gemini 3.5 Flash launch, AINews (smol.ai) reports.")]}
    first["clocks"] = [{"heading": "Gemini 3.5 Pro", "phrase": "next month", "sentence": "Pro is coming next month."}]
    first["verification"] = {"ok": True, "claims_checked": 7, "failures": [], "dropped_sentences": ["x"]}
    second = issue("2026-05-02", [story("s-2", "Gemini 3.5 Flash", "https://news.smol.ai/issues/26-05-20",
                                        {"id": "s-1", "told_in": "2026-05-01"})],
                   [{"kind": "story", "story_id": "s-2", "sentences": [
                       sentence("Following up on …", "callback"),
                       sentence("Gemini 3.5 Flash began a broader rollout in the Gemini app.")]}])
    second["sections"][0]["heading"] = ("Gemini 3.5 Flash, Cohere Released Command A+ as Apache 2.0 Open, and A "
                                        "General-purpose Reasoning Model")
    second["lede"] = {"markdown": "Google began a broader rollout of Gemini 3.5 Flash in the Gemini app.",
                      "sentences": [sentence("Google began a broader rollout of Gemini 3.5 Flash in the Gemini app.")]}
    second["clocks"] = first["clocks"]
    second["verification"] = {"ok": True, "claims_checked": 5, "failures": [], "dropped_sentences": []}
    (tmp_path / "issues").mkdir()
    for doc in (first, second):
        (tmp_path / "issues" / f"{doc['date']}.json").write_text(json.dumps(doc), encoding="utf-8")
        (tmp_path / "issues" / f"{doc['date']}.md").write_text("issue\n", encoding="utf-8")
    (tmp_path / "backtest").mkdir()
    cols = "| day | told | fetch s | understand s | write s | verify s | publish s | total s |"
    (tmp_path / "backtest" / "report.md").write_text("\n".join([
        "# Backtest", "", cols, "|---|---|---|---|---|---|---|---|",
        "| 2026-05-01 | 1 | 1.00 | 2.00 | 0.50 | 0.50 | 0.00 | 4.00 |",
        "| 2026-05-02 | 1 | 1.00 | 1.00 | 0.50 | 0.50 | 0.00 | 3.00 |", "",
        "## Days that could not be drafted", "", "- 2026-05-03: name Surfaced is not in the cited items", ""]),
        encoding="utf-8")
    labels = [dict(LABELS[0], earlier_date="2026-05-01", later_date="2026-05-02")]
    f = editorial.measure("t", tmp_path, "2026-05-01", "2026-05-03", labels)
    assert (f.days, f.issues, f.told) == (3, 2, 2)
    assert f.missing == ["2026-05-03 (name Surfaced is not in the cited items)"]
    assert f.residues["count leftover"] == 1 and f.residues["media description"] == 1
    assert sum(f.fragments.values()) == 1
    assert (f.ledes_bad, f.ledes_headline) == (1, 1)
    assert (f.headings, f.headings_long) == (4, 1)
    assert (f.clocks, f.clocks_dup, f.clocks_repeated, f.clocks_distinct) == (2, 0, 1, 1)
    assert f.score is not None and (f.score.made, f.score.right, f.score.precision, f.score.recall) == (1, 1, 1.0, 1.0)
    assert (f.claims, f.failures, f.dropped, f.unverified) == (12, 0, 1, 0)
    assert f.seconds["total"] == [4.0, 3.0] and f.seconds["draft"] == [3.0, 2.0]
