"""The LLM writer end to end on the bundled demo corpus: the same plan, written by models
behind real loopback servers (OpenAI's chat-completions protocol, Anthropic's messages
protocol), then verified like the offline draft.

Every scripted failure — a wrong figure, an invented URL, malformed JSON, 429s, 500s,
timeouts, an exhausted budget — ends in a verified draft or a clear error, never an
unverified draft. The demo is drafted once for the module (offline); each test copies its
workspace and writes 2026-04-10 again with models.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest




import lll.demo.run as demo_run
from conftest import Row, copy_database, query, run_cli
from fakes.fixtures import PRICES_TOML, anthropic_server, expected_usd, llm_home, openai_server  # noqa: F401
from fakes.scripted import (WRONG, Garbage, Good, Hang, Status, flag_first, invented_url, prompt_input, stubborn,
                            wrong_figure)
from lll.clock import frozen_at
from lll.config import DEFAULT_PRICES
from lll.draft import Drafter, DraftResult, end_of_day
from lll.newsletter import Newsletter
from lll.stories.embed import Embedder, default_embedder
from lll.verify.claims import links
from lll.write.facts import needs_model_card
from lll.write.llm_writer import WriterRun
from lll.write.model import Draft
from lll.write.offline import thread_of
from lll.write.plan import Plan
from lll.write.render import render_markdown

DAY = "2026-04-10"
MODELS_TOML = """
[models]
cheap = "scripted-cheap"
strong = "scripted-strong"
timeout = 1.0
retries = 1
backoff = 0.01
""" + PRICES_TOML


@dataclass(frozen=True)
class Demo:
    root: Path
    plan: Plan
    offline_markdown: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("llm-demo") / "lll-demo"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("LLL_NOW", "LLL_ALLOW_PRIVATE", "LLL_DEBUG", "LLL_EMBEDDER", "LLL_WORKSPACE"):
            mp.delenv(name, raising=False)
        mp.setattr(socket, "getaddrinfo", _loopback_only)
        days = demo_run.run_demo(root)
    return Demo(root, days[-1].draft.plan, (root / "issues" / f"{DAY}.md").read_text(encoding="utf-8"))


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if str(host) not in ("127.0.0.1", "localhost", "::1", ""):
        raise socket.gaierror(socket.EAI_NONAME, f"tests are offline: {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


_EMBEDDER: list[Embedder] = []


def embedder() -> Embedder:
    if not _EMBEDDER:
        _EMBEDDER.append(default_embedder())
    return _EMBEDDER[0]


@pytest.fixture
def ws(demo: Demo, tmp_path: Path, llm_home: Path) -> Path:  # noqa: F811
    """A copy of the drafted demo workspace whose lll.toml sets the scripted models."""
    target = tmp_path / "demo-copy"
    shutil.copytree(demo.root, target)
    copy_database(demo.root / "lll.db", target / "lll.db")
    toml = target / "lll.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + MODELS_TOML, encoding="utf-8")
    return target


@dataclass(frozen=True)
class Written:
    draft: Draft
    run: WriterRun
    ok: bool
    failures: list[str]
    markdown: str


def write(ws: Path, plan: Plan, **models: object) -> Written:  # noqa: F811
    """The LLM writer (as the drafter builds it) on the demo's plan, then the verifier."""
    with Newsletter.open(ws) as letter:
        if models:
            letter.config = replace(letter.config, models=replace(letter.config.models, **models))
        drafter = Drafter(letter)
        writer = drafter.llm_writer(DAY, drafter.offline_writer())
        assert writer is not None
        draft, run = writer.write(plan)
        report = drafter.verify_draft(draft)
    return Written(draft, run, report.ok, report.lines(), render_markdown(draft))


def draft_day(ws: Path) -> DraftResult:
    with Newsletter.open(ws) as letter, frozen_at(end_of_day(DAY)):
        return Drafter(letter, embedder=embedder()).draft(DAY)


def allowed_links(plan: Plan) -> set[str]:
    stories = [s for section in plan.sections for s in section] + [c.story for c in plan.clocks]
    urls = {u.item.url for s in stories for u in s.units} | {thread_of(u) for s in stories for u in s.units}
    return (urls - {""}) | {c.item_url for c in (*plan.due, *plan.running)}


def assert_every_link_allowed(markdown: str, plan: Plan) -> None:
    allowed = allowed_links(plan)
    for url in links(markdown):
        assert url in allowed or url.endswith(".md"), f"{url} is not a plan item URL or an earlier issue"


def rows(db: Path, sql: str) -> list[Row]:
    return query(db, sql)


# -- the good path, its cost, and drafting again ---------------------------------------------


def test_a_model_draft_is_verified_costed_to_the_token_and_free_to_redraft(ws: Path, demo: Demo,
                                                                           openai_server) -> None:  # noqa: F811
    result = draft_day(ws)
    run = result.run
    assert result.report.ok and run is not None and run.writer == "llm"
    stories = {s.id: s for section in demo.plan.sections for s in section} | {c.story.id: c.story
                                                                               for c in demo.plan.clocks}
    carded = [s for s in stories.values() if needs_model_card(s)]  # a short story is its own card
    assert 0 < len(carded) < len(stories)
    assert openai_server.model.tasks() == ["fact_card"] * len(carded) + ["compose"]
    assert (run.cards, run.source_cards) == (len(carded), len(stories) - len(carded))
    markdown = result.markdown_path.read_text(encoding="utf-8")
    assert markdown != demo.offline_markdown
    assert_every_link_allowed(markdown, demo.plan)
    assert run_cli("verify", str(result.markdown_path), workspace=ws).exit_code == 0

    # The cost line, the JSON and the call log agree with what the server charged, to the token.
    by_model: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for call in openai_server.model.calls:
        by_model[call.model][0] += call.tokens_in
        by_model[call.model][1] += call.tokens_out
    tokens_in, tokens_out = openai_server.model.charged()
    usd = expected_usd([(m, i, o) for m, (i, o) in by_model.items()])
    line = result.summary_line()
    assert f"cost ${usd:.4f} (scripted-cheap, scripted-strong: {len(carded) + 1} model calls, 0 cached; " \
           f"{tokens_in:,} tokens in, {tokens_out:,} out)" in line
    assert line.endswith("written by scripted-strong: every part passed verification")
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert data["writer"] == "llm"
    assert (data["cost"]["tokens_in"], data["cost"]["tokens_out"], data["cost"]["model_calls"]) == \
        (tokens_in, tokens_out, len(carded) + 1)
    assert data["cost"]["usd"] == pytest.approx(usd, abs=1e-6)
    assert data["cost"]["by_role"]["cheap"]["tokens_in"] == by_model["scripted-cheap"][0]
    logged = rows(ws / "lll.db", "SELECT model, purpose, prompt, prompt_version, tokens_in, tokens_out, usd, status "
                                 "FROM model_calls WHERE issue_date = '2026-04-10' ORDER BY id")
    assert [r["status"] for r in logged] == ["ok"] * (len(carded) + 1)
    assert {(r["prompt"], r["prompt_version"]) for r in logged} == {("fact_card", "1"), ("compose", "3")}
    assert sum(r["tokens_in"] for r in logged) == tokens_in and sum(r["tokens_out"] for r in logged) == tokens_out
    assert sum(r["usd"] for r in logged) == pytest.approx(usd, abs=1e-9)
    issue = rows(ws / "lll.db", "SELECT summary FROM issues WHERE date = '2026-04-10'")[0]
    assert json.loads(issue["summary"])["cost_usd"] == pytest.approx(usd, abs=1e-6)

    # Drafting again with nothing new makes no call and writes the same bytes.
    before = len(openai_server.model.calls)
    again = draft_day(ws)
    assert len(openai_server.model.calls) == before
    assert again.markdown_path.read_text(encoding="utf-8") == markdown
    assert f"cost $0.0000 (scripted-cheap, scripted-strong: 0 model calls, {len(carded) + 1} cached; 0 tokens in" \
           in again.summary_line()


# -- what a model gets wrong -----------------------------------------------------------------


def test_a_wrong_figure_goes_back_to_the_model_with_the_reason_and_is_fixed(ws: Path, demo: Demo,
                                                                            openai_server) -> None:  # noqa: F811
    openai_server.model.script("compose", Good(wrong_figure))
    written = write(ws, demo.plan)
    figure, wrong, sentence = WRONG[-1]
    assert written.ok, written.failures
    assert sentence not in written.markdown
    assert openai_server.model.tasks().count("repair") == 1
    repair = openai_server.model.calls[-1]
    assert re.search(rf"figure \S*{wrong}", repair.user) and "closest_source_sentence" in repair.user
    assert (written.run.flagged, written.run.repaired) == (1, 1)
    assert "1 of 1 failing part(s) repaired by the model" in written.run.writer_line()


def test_a_figure_the_model_cannot_fix_gets_the_sources_own_sentence(ws: Path, demo: Demo,
                                                                    openai_server) -> None:  # noqa: F811
    openai_server.model.script("compose", Good(wrong_figure))
    openai_server.model.every("repair", Good(stubborn))
    written = write(ws, demo.plan)
    _figure, _wrong, sentence = WRONG[-1]
    assert written.ok, written.failures
    assert sentence not in written.markdown
    assert openai_server.model.tasks().count("repair") == 2  # once, twice, then the offline writer
    fallbacks = written.run.fallbacks
    assert fallbacks.sentences_from_source or fallbacks.dropped
    assert "replaced by the source's own sentence" in written.run.writer_line() or \
        "dropped" in written.run.writer_line()


def test_an_invented_url_never_reaches_the_draft(ws: Path, demo: Demo, openai_server) -> None:  # noqa: F811
    openai_server.model.script("compose", Good(invented_url))
    written = write(ws, demo.plan)
    assert written.ok and "invented.example.com" not in written.markdown
    assert "is not one of the plan's item URLs" in openai_server.model.calls[-1].user
    assert_every_link_allowed(written.markdown, demo.plan)
    # The same when the model insists on its URL.
    openai_server.model.reset()
    openai_server.model.script("compose", Good(invented_url))
    openai_server.model.every("repair", Good(stubborn))
    stubborn_run = write(ws, replace(demo.plan))
    assert stubborn_run.ok and "invented.example.com" not in stubborn_run.markdown


def _link_threads(with_article: bool) -> Any:
    """A model that links every Hacker News thread it is given into its story's paragraph (and
    the thread's article, when ``with_article`` and the paragraph does not link it already)."""

    def mutate(answer: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        stories = {s["id"]: s for section in data.get("sections", []) for s in section}
        for section in answer["sections"]:
            for paragraph in section["paragraphs"]:
                text = " ".join(s["text"] for s in paragraph["sentences"])
                for source in stories[paragraph["story"]]["sources"]:
                    if "discussion" in source:
                        thread = f"[{source['discussion']['text']}]({source['discussion']['url']})"
                        article = f" of [the article]({source['url']})" if with_article and \
                            f"({source['url']})" not in text else ""
                        paragraph["sentences"].append({"text": f"It also drew a {thread}{article}.",
                                                       "kind": "report"})
        return answer

    return mutate


def test_the_model_is_given_hacker_news_threads_and_the_verifier_holds_them_to_their_item(
        ws: Path, demo: Demo, openai_server) -> None:  # noqa: F811
    openai_server.model.script("compose", Good(_link_threads(with_article=True)))
    written = write(ws, demo.plan)
    given = prompt_input(next(c for c in openai_server.model.calls if c.task == "compose").user)
    sources = [src for section in given["sections"] for story in section for src in story["sources"]]
    threads = {src["discussion"]["url"] for src in sources if "discussion" in src}
    assert len(threads) >= 2 and all(t.startswith("https://news.ycombinator.com/item?id=") for t in threads)
    assert {src["discussion"]["text"] for src in sources if "discussion" in src} == {"discussion on Hacker News"}
    assert written.ok, written.failures
    assert threads <= set(links(written.markdown))  # each beside the item it belongs to: kept
    assert_every_link_allowed(written.markdown, demo.plan)
    # A thread in a paragraph that does not cite its item fails verification and does not stay there.
    openai_server.model.reset()
    openai_server.model.script("compose", Good(_link_threads(with_article=False)))
    alone = write(ws, demo.plan, strong="scripted-other")  # another strong model: composed afresh
    assert alone.ok, alone.failures
    repair = next(c for c in openai_server.model.calls if c.task == "repair")
    dropped = threads - set(links(alone.markdown))
    assert dropped and all(f"link {t} is not a URL LLL fetched" in repair.user for t in dropped)
    for paragraph in alone.markdown.split("\n\n"):
        for thread in threads & set(links(paragraph)):
            item = next(u.item for s in demo.plan.told for u in s.units if thread_of(u) == thread)
            assert item.url in links(paragraph), paragraph


def test_malformed_json_is_asked_for_again_then_the_offline_writer_takes_over(ws: Path, demo: Demo,
                                                                             openai_server) -> None:  # noqa: F811
    openai_server.model.script("compose", Garbage())
    once = write(ws, demo.plan)
    assert once.ok and once.run.writer == "llm" and openai_server.model.tasks().count("compose") == 2
    openai_server.model.reset()
    openai_server.model.every("compose", Garbage("```json\n{\"lede\": \"truncated"))
    always = write(ws, demo.plan, strong="scripted-other")  # another strong model: nothing cached
    assert always.ok and always.run.writer == "offline"
    assert always.markdown == demo.offline_markdown  # the offline writer's issue, byte for byte
    assert "not the JSON asked for" in always.run.writer_line()


def test_a_lede_that_breaks_the_format_is_the_offline_writers(ws: Path, demo: Demo, openai_server) -> None:  # noqa: F811
    def long_lede(answer: dict, _input: dict) -> dict:  # type: ignore[type-arg]
        answer["lede"] = "Everything happened today. " + " ".join(["Anthropic"] * 30) + "."
        return answer

    openai_server.model.script("compose", Good(long_lede))
    written = write(ws, demo.plan)
    assert written.ok
    assert written.draft.lede.markdown == demo.offline_markdown.split("\n")[9]  # the offline writer's lede
    assert any(p.startswith("lede (the lede must be one sentence") for p in written.run.fallbacks.parts_from_offline)


def test_a_card_that_cannot_be_made_leaves_its_story_to_the_offline_writer(ws: Path, demo: Demo,
                                                                          openai_server) -> None:  # noqa: F811
    openai_server.model.script("fact_card", Garbage(), Garbage())
    written = write(ws, demo.plan)
    assert written.ok and written.run.writer == "llm"
    assert any("no fact card" in x for x in written.run.from_offline + written.run.notes)
    first = demo.plan.lede
    assert first is not None and written.draft.lede.markdown != ""


# -- what a server does wrong ----------------------------------------------------------------


def test_429_is_retried_500s_and_timeouts_fall_back_to_the_offline_writer(ws: Path, demo: Demo,
                                                                         openai_server) -> None:  # noqa: F811
    openai_server.model.script("fact_card", Status(429, {"Retry-After": "0"}))
    retried = write(ws, demo.plan)
    assert retried.ok and retried.run.writer == "llm"
    assert openai_server.model.calls[0].status == 429 and openai_server.model.calls[1].status == 200

    openai_server.model.reset()
    openai_server.model.every("*", Status(500))
    down = write(ws, demo.plan, cheap="scripted-judge", strong="scripted-judge")
    assert down.ok and down.run.writer == "offline" and down.markdown == demo.offline_markdown
    assert len(openai_server.model.calls) == 2  # one card, retried once; then the model is not asked again
    assert "HTTP 500 after 2 attempt(s)" in down.run.writer_line()

    openai_server.model.reset()
    openai_server.model.every("*", Hang(10))
    started = time.monotonic()
    slow = write(ws, demo.plan, cheap="scripted-judge", strong="scripted-judge", timeout=0.5)
    assert slow.ok and slow.run.writer == "offline" and "no answer within 0.5 s" in slow.run.writer_line()
    assert time.monotonic() - started < 8


def test_the_budget_stops_spending_before_the_cap(ws: Path, demo: Demo, openai_server) -> None:  # noqa: F811
    result = run_cli("draft", "--date", DAY, "--budget-usd", "0.02", workspace=ws,
                     env={"LLL_NOW": "2026-04-10T23:59:00Z"})
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    assert data["cost"]["budget_stopped"] and data["cost"]["usd"] <= 0.02
    assert "compose" not in openai_server.model.tasks()  # the call that could cross the cap was not made
    assert "budget $0.02 reached" in result.stdout and "verified" in result.stdout
    assert data["writer"] == "offline" and data["verification"]["ok"]
    statuses = [r["status"] for r in rows(ws / "lll.db", "SELECT status FROM model_calls")]
    assert statuses.count("budget") == 1 and set(statuses) <= {"ok", "budget"}


def test_a_missing_key_is_one_line_and_writes_nothing(ws: Path) -> None:
    before = (ws / "issues" / f"{DAY}.md").read_bytes()
    result = run_cli("draft", "--date", DAY, "--model", "gpt-4o-mini", workspace=ws, ok=False,
                     env={"LLL_NOW": "2026-04-10T23:59:00Z"})
    assert result.exit_code == 2
    assert result.stderr == "Error: model gpt-4o-mini needs an API key: set OPENAI_API_KEY or run " \
                            "`llm keys set openai`\n"
    assert (ws / "issues" / f"{DAY}.md").read_bytes() == before


# -- other providers and roles ---------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK warns about claude-sonnet-4-5's end of life
def test_anthropic_models_write_a_verified_issue(ws: Path, demo: Demo, anthropic_server) -> None:  # noqa: F811
    written = write(ws, demo.plan, cheap="claude-haiku-4.5", strong="claude-sonnet-4.5")
    assert written.ok and written.run.writer == "llm"
    cost = written.run.session.cost if written.run.session else None
    assert cost is not None
    cheap = [c for c in anthropic_server.model.calls if c.task == "fact_card"]
    strong = [c for c in anthropic_server.model.calls if c.task == "compose"]
    assert cost.roles["cheap"].tokens_in == sum(c.tokens_in for c in cheap)
    assert cost.roles["strong"].tokens_out == sum(c.tokens_out for c in strong)
    haiku, sonnet = DEFAULT_PRICES["claude-haiku-4-5"], DEFAULT_PRICES["claude-sonnet-4-5"]
    want = sum(c.tokens_in * haiku.input + c.tokens_out * haiku.output for c in cheap) / 1e6 + \
        sum(c.tokens_in * sonnet.input + c.tokens_out * sonnet.output for c in strong) / 1e6
    assert cost.usd == pytest.approx(want, abs=1e-12)


def test_the_judge_adds_checks_and_never_gates_alone(ws: Path, demo: Demo, openai_server) -> None:  # noqa: F811
    openai_server.model.script("judge", Good(flag_first))
    judged = write(ws, demo.plan, judge="scripted-judge")
    assert judged.ok and judged.run.judge_flags == 1
    assert openai_server.model.tasks()[-2:] == ["judge", "repair"]
    assert "judge: stronger than the card" in openai_server.model.calls[-1].user
    openai_server.model.reset()
    openai_server.model.every("judge", Status(500))
    skipped = write(ws, demo.plan, judge="scripted-other")  # not cached
    assert skipped.ok and any("judge skipped" in n for n in skipped.run.notes)

