"""The LLM writer: the same plan, written by models in two tiers, verified like the
offline draft.

1. **Fact cards** (the cheap model, one cached call per story): who, what, figures and
   dates with the source's exact words, why it matters — grounded by LLL (``facts``).
2. **Compose** (the strong model): the issue from the plan and the cards only, in the
   reference's voice, as structured JSON mapped onto ``Draft`` (``compose``).
3. **Verify and repair**: the deterministic verifier and the link guard (every link is a
   plan item URL or an earlier issue); each failing sentence goes back to the model with
   the reason and the source's words, up to ``repair_rounds`` times; the optional judge
   adds its flags once the deterministic checks pass; what still fails gets the offline
   writer's sentence for that story or is dropped (``repair``).

A model that fails (garbage, refusal, truncation, 429s, 5xx, timeouts, no budget left)
costs the issue its prose, never its truth: the offline writer's draft of the same plan
fills in, and ``WriterRun`` says what happened. Only setup errors (unknown model,
missing key) stop the draft, and they are raised before any call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lll.llm.errors import BudgetExceeded, ModelCallError, ModelError, ModelOutputError, ModelSetupError
from lll.llm.prompts import load_prompt
from lll.llm.session import ModelSession
from lll.verify.judge import Judged, JudgeReply, flags_by_id, judge_input
from lll.verify.verifier import VerifyReport
from lll.write.compose import ComposeContext, ComposeReply, assemble, build_context, compose_input, ensure_attribution
from lll.write.facts import FactCard, FactCardReply, card_input, ground_card, needs_model_card, source_card
from lll.write.model import Draft
from lll.write.offline import IssueLink, OfflineWriter, with_short_note
from lll.write.plan import Plan
from lll.write.repair import (
    Fallbacks,
    Problem,
    RepairReply,
    Spot,
    apply_fixes,
    compact,
    fall_back,
    guard,
    locate,
    merge,
    repair_input,
)

Verify = Callable[[Draft], VerifyReport]
SOFT = (ModelOutputError, ModelCallError, BudgetExceeded)  # cost the prose, never the truth


@dataclass
class WriterRun:
    """What the writer did and what it cost: the summary's cost line and ``issues/DATE.json``."""

    writer: str
    models: dict[str, str]
    session: ModelSession | None = None
    cards: int = 0
    cards_cached: int = 0
    source_cards: int = 0  # short stories that are their own card (no call)
    card_facts_dropped: int = 0
    flagged: int = 0
    repaired: int = 0
    repair_calls: int = 0
    judge_flags: int = 0
    from_offline: list[str] = field(default_factory=list)
    fallbacks: Fallbacks = field(default_factory=lambda: Fallbacks([], [], [], []))
    notes: list[str] = field(default_factory=list)

    def cost_line(self) -> str:
        if self.session is None:
            return "cost $0.00 (offline writer)"
        return self.session.cost.line()

    def writer_line(self) -> str:
        if self.writer == "offline":
            return "written by the offline writer (" + (self.notes[0] if self.notes else "no model") + ")"
        fb = self.fallbacks
        bits = [f"{self.repaired} of {self.flagged} failing part(s) repaired by the model" if self.flagged
                else "every part passed verification"]
        if fb.sentences_from_source:
            bits.append(f"{len(fb.sentences_from_source)} replaced by the source's own sentence")
        if fb.dropped:
            bits.append(f"{len(fb.dropped)} dropped")
        offline = len(self.from_offline) + len(fb.paragraphs_from_offline) + len(fb.parts_from_offline)
        if offline:
            bits.append(f"{offline} part(s) by the offline writer")
        if self.judge_flags:
            bits.append(f"{self.judge_flags} flagged by the judge")
        return f"written by {self.models.get('strong', '?')}: " + ", ".join(bits)

    def as_json(self) -> dict[str, Any]:
        cost: dict[str, Any] = self.session.cost.as_json() if self.session else {
            "model_calls": 0, "tokens_in": 0, "tokens_out": 0, "usd": 0.0}
        fb = self.fallbacks
        cost["writer"] = {
            "writer": self.writer, "models": self.models, "fact_cards": self.cards,
            "fact_cards_cached": self.cards_cached,
            "source_cards": self.source_cards,
            "card_facts_dropped": self.card_facts_dropped, "flagged": self.flagged, "repaired_by_model": self.repaired,
            "repair_calls": self.repair_calls, "judge_flags": self.judge_flags,
            "sentences_from_source": fb.sentences_from_source, "dropped": fb.dropped,
            "paragraphs_from_offline": fb.paragraphs_from_offline, "parts_from_offline": self.from_offline +
            fb.parts_from_offline, "notes": self.notes}
        return cost


class LLMWriter:
    """Plan → Draft with models, under the offline writer's guarantee."""

    name = "llm"

    def __init__(self, session: ModelSession, offline: OfflineWriter, verify: Verify, *,
                 issue_link: IssueLink, newsletter: str, repair_rounds: int = 2) -> None:
        self.session = session
        self.offline = offline
        self.verify = verify
        self.issue_link = issue_link
        self.newsletter = newsletter
        self.repair_rounds = repair_rounds

    def write(self, plan: Plan) -> tuple[Draft, WriterRun]:
        offline = self.offline.write(plan)
        models = {role: m.name for role, m in self.session.models.items()}
        run = WriterRun("llm", models, self.session)
        ctx = build_context(plan, self.issue_link)
        try:
            cards, stopped = self._cards(ctx, run)
            if not cards:
                raise stopped or ModelOutputError("no fact card could be made")
            answer = self.session.ask("strong", load_prompt("compose"),
                                      compose_input(plan, ctx, cards, self.newsletter), ComposeReply,
                                      purpose="compose")
        except SOFT as exc:
            run.writer = "offline"
            run.notes.insert(0, f"{exc}")
            return offline, run
        assembly = assemble(plan, answer.value, ctx, cards, offline, self.newsletter)
        run.from_offline += assembly.from_offline
        run.notes += [f"ignored {x}" for x in assembly.ignored]
        draft = self._verify_and_repair(plan, assembly.draft, offline, ctx, cards, run)
        return draft, run

    def _cards(self, ctx: ComposeContext, run: WriterRun) -> tuple[dict[str, FactCard], ModelError | None]:
        """A grounded card for each story the model could do; the error that stopped it early."""
        cards: dict[str, FactCard] = {}
        template = load_prompt("fact_card")
        for ref in ctx.refs.values():
            if not needs_model_card(ref.story):
                cards[ref.story.id] = source_card(ref.story)
                run.source_cards += 1
                continue
            try:
                answer = self.session.ask("cheap", template, card_input(ref.story), FactCardReply,
                                          purpose=f"fact_card:{ref.story.id}", max_tokens=1200)
            except ModelOutputError as exc:
                run.notes.append(f"no fact card for “{ref.story.title[:60]}”: {exc}")
                continue
            except ModelCallError as exc:
                run.notes.append(f"fact cards stopped: {exc}")
                return cards, exc
            card = ground_card(ref.story, answer.value)
            cards[ref.story.id] = card
            run.cards += 1
            run.cards_cached += answer.cached
            run.card_facts_dropped += len(card.dropped)
        return cards, None

    def _problems(self, draft: Draft, ctx: ComposeContext) -> dict[Spot, list[str]]:
        report = self.verify(draft)
        problems: list[Problem] = []
        for failure in report.failures:
            if failure.kind == "structure" and not failure.reason.startswith("the lede must be"):
                continue  # the plan fixes the structure; the drafter reports any that remains
            problems += [Problem(spot, failure.reason) for spot in locate(failure, draft)]
        return merge(problems + guard(draft, ctx))

    def _verify_and_repair(self, plan: Plan, draft: Draft, offline: Draft, ctx: ComposeContext,
                           cards: dict[str, FactCard], run: WriterRun) -> Draft:
        judged = not self.session.has("judge")
        spots: dict[Spot, list[str]] = {}
        for round_ in range(self.repair_rounds + 1):
            spots = self._problems(draft, ctx)
            if not spots and not judged:
                judged = True
                spots = self._judge(draft, ctx, cards, offline, run)
            if spots and not run.flagged:
                run.flagged = len(spots)  # the first time anything failed
            if not spots or round_ == self.repair_rounds:
                break
            request, ids = repair_input(draft, spots, ctx)
            request["round"] = round_ + 1  # a second round is a new question, not the first one again
            try:
                answer = self.session.ask("strong", load_prompt("repair"), request, RepairReply,
                                          purpose=f"repair:{round_ + 1}", max_tokens=2000)
            except SOFT as exc:
                run.notes.append(f"repair stopped: {exc}")
                break
            run.repair_calls += 1
            draft = ensure_attribution(compact(apply_fixes(draft, answer.value.fixes, ids)), ctx, self.newsletter)
        if spots:
            draft, run.fallbacks = fall_back(draft, spots, offline, [c.story.id for c in plan.clocks])
            leftover = self._problems(draft, ctx)
            if leftover:  # the offline writer's words failed too: drop them (the drafter re-checks)
                draft, more = fall_back(draft, leftover, offline, [c.story.id for c in plan.clocks])
                run.fallbacks.dropped += more.dropped
        run.repaired = max(0, run.flagged - len(spots))
        return with_short_note(draft, plan.short)

    def _judge(self, draft: Draft, ctx: ComposeContext, cards: dict[str, FactCard], offline: Draft,
               run: WriterRun) -> dict[Spot, list[str]]:
        """The judge's flags, as problems; nothing when it cannot judge."""
        copied = {s.text for sec in offline.sections for p in sec.paragraphs for s in p.sentences}
        asked: list[Judged] = []
        where: dict[str, Spot] = {}
        blocks = [(i, j, p) for i, sec in enumerate(draft.sections) for j, p in enumerate(sec.paragraphs)]
        blocks += [(k, -1, c.paragraph) for k, c in enumerate(draft.clocks)]
        for i, j, paragraph in blocks:
            ref = ctx.by_story.get(paragraph.story_id)
            if ref is None or paragraph.story_id not in cards:
                continue
            for k, sentence in enumerate(paragraph.sentences):
                if sentence.role in ("attribution", "callback") or sentence.text in copied:
                    continue
                judged = Judged(f"j{len(asked) + 1}", ref.alias, sentence.text, sentence.role,
                                cards[paragraph.story_id].as_input())
                asked.append(judged)
                where[judged.id] = Spot("sentence", i, j, k)
        if not asked:
            return {}
        try:
            answer = self.session.ask("judge", load_prompt("judge"), judge_input(asked), JudgeReply,
                                      purpose="judge", max_tokens=1500)
        except ModelError as exc:
            if isinstance(exc, ModelSetupError):
                raise
            run.notes.append(f"judge skipped: {exc}")
            return {}
        flags = flags_by_id(answer.value, asked)
        run.judge_flags = len(flags)
        return merge([Problem(where[i], f"judge: {reason}") for i, reason in flags.items()])
