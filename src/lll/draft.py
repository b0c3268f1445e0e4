"""``Drafter``: the day's issue, from stored items to verified files.

window → items → stories (engine) → plan → writer → verify (drop what fails,
verify again) → the issue's text and provenance, ledger, clocks and the issue
record, in one transaction → exported to ``issues/DATE.md`` + ``issues/DATE.json``.

The writer is the offline writer unless a model is set (``[models]`` in ``lll.toml``
or ``--model``): then the LLM writer drafts the same plan, repairs what the verifier
fails, and falls back to the offline writer's words for what it cannot repair.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from lll.clock import iso, now, parse_instant
from lll.errors import HandEditedError, LLLError, VerificationError
from lll.issues import WRITTEN_HASHES_KEPT, Issues, written_hashes
from lll.llm.cache import StoreAnswers
from lll.llm.setup import ModelChoice, open_session
from lll.memory import Records
from lll.newsletter import Newsletter
from lll.records import Link
from lll.stories.clocks import extract_clocks
from lll.stories.embed import Embedder, default_embedder
from lll.stories.engine import build_stories
from lll.stories.units import ItemView, StoryUnit
from lll.stories.vectors import CachedEmbedder, StoreVectors
from lll.text import clean_title
from lll.verify.claims import links, strip_links
from lll.verify.evidence import StoreResolver
from lll.verify.verifier import VerifyReport, looks_like_issue, verify_markdown
from lll.write.llm_writer import LLMWriter, WriterRun
from lll.write.model import Draft, Paragraph, Section, Sentence
from lll.write.offline import (
    TEMPLATE_WORDS,
    OfflineWriter,
    empty_lede,
    fallback_heading,
    safe_lede,
    section_of,
    with_short_note,
)
from lll.write.plan import ClockFinding, Plan, plan_issue
from lll.write.prose import without_credits
from lll.write.provenance import issue_json, written_story_ids
from lll.write.render import render_markdown

MAX_REPAIR_ROUNDS = 4
FIRST_EMPTY = "The sources have no items in this first issue's window."  # no name but "The" to verify
FIRST_EMPTY_NOTE = "A short issue: nothing from the sources falls in its window."


@dataclass(frozen=True)
class DraftResult:
    day: str
    markdown_path: Path
    json_path: Path
    draft: Draft
    plan: Plan
    report: VerifyReport
    counts: dict[str, int]
    seconds: dict[str, float]
    run: WriterRun | None = None  # what the LLM writer did and cost; None for the offline writer
    backup: Path | None = None  # the hand-edited DATE.md kept aside by ``draft(force=True)``
    hint: str = ""  # what to do when the issue came out empty (no items in its window)

    def summary_line(self, with_day: bool = True) -> str:
        told = len(self.plan.told)
        considered = self.counts.get("new", 0) + self.counts.get("update", 0) + self.counts.get("repeat", 0)
        verdict = "verified" if self.report.ok else f"{len(self.report.failures)} unsupported claim(s)"
        dropped = f", {len(self.draft.dropped)} sentence(s) dropped" if self.draft.dropped else ""
        cost = ("cost $0.00 (offline writer)" if self.run is None
                else f"{self.run.cost_line()}; {self.run.writer_line()}")
        day = f"{self.day}: " if with_day else ""
        return (f"{day}{plural(self.counts.get('items', 0), 'item')}, "
                f"{plural(self.counts.get('units', 0), 'story unit')}, "
                f"{plural(considered, 'story', 'stories')} considered, {told} told, "
                f"{plural(len(self.plan.clocks), 'clock')}, {len(self.plan.due)} due; {verdict}{dropped}; {cost}")


def plural(n: int, one: str, many: str = "") -> str:
    """``1 clock``, ``2 clocks``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def end_of_day(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=23, minute=59, second=59, tzinfo=UTC)


def _item_view(row: Any) -> ItemView:
    return ItemView(
        id=row.id, source_id=row.source_id, source_name=row.source_name, source_weight=row.source_weight,
        source_kind=row.source_kind or "feed", url=row.url, canonical_url=row.canonical_url,
        title=clean_title(row.title),
        text=row.text, raw=row.raw, published=parse_instant(row.published_at),
        first_seen=parse_instant(row.first_seen_at),
        links=tuple(Link(url=x["url"], text=x.get("text", "")) for x in json.loads(row.links or "[]")),
        signals=json.loads(row.signals or "{}"))


# A clock is something the source says will happen: its sentence must say so.
# "starting June 1", "through July 13", "must … before", "is turning … on May 26" say so too.
_FORWARD = re.compile(r"\b(will|'ll|shall|expect(?:s|ed)?|plan(?:s|ned)?|scheduled|slated|upcoming|coming|next|"
                      r"launch(?:es|ing)?|opens|closes?|begins?|starts?|due|deadline|set to|aims? to|"
                      r"going to|is to|are to|until|ahead|starting|beginning|effective|through|before|must|"
                      r"stops?|sunsets?|(?:moves?|switch(?:es)?|transitions?) to|(?:is|are) (?:\w+ly )?\w{2,}ing)\b",
                      re.I)
#: A clock is watched within a year; a date further out ("through May 2029") is a plan, not a clock.
_MAX_CLOCK_DAYS = 366


def find_clocks(unit: StoryUnit, today: date | None = None) -> list[ClockFinding]:
    """Forward-looking sentences of a unit, resolved against its item's date. Each line
    of LLL's plain text is its own block (a heading, a paragraph, a list item), so a
    sentence never runs from a heading into the paragraph under it. A date already reached on
    ``today`` (the issue's date) is news, not a clock to watch."""
    found = []
    labels = frozenset(" ".join(link.text.split()) for link in unit.links if link.text)
    for line in re.finditer(r"[^\n]+", unit.text):
        for c in extract_clocks(line.group(0), unit.item.published.date()):
            if c.precision == "year" or not c.text.rstrip("\"'”’)").endswith((".", "!", "?")) \
                    or not _FORWARD.search(c.text) or (today is not None and c.due <= today) \
                    or (c.due - unit.item.published.date()).days > _MAX_CLOCK_DAYS:
                continue  # a year is too vague to watch; a heading is not a sentence to quote
            # a digest's sentence less the handles it ends on ("… Health Coach @googlehealth."), as the
            # writer tells it: the span holds the words kept, the closing period is ours
            sentence = without_credits(c.text, labels)
            if sentence != c.text and c.phrase_end - c.start > len(sentence) - 1:
                continue  # the date sits in the credits
            start = unit.start + line.start() + c.start
            end = start + (len(c.text) if sentence == c.text else len(sentence) - 1)
            found.append(ClockFinding(sentence=sentence, start=start, end=end,
                                      phrase=c.phrase, due=c.due, precision=c.precision))
    return found


class Drafter:
    """Drafts issues for one newsletter. The embedder is loaded once and reused; its
    vectors are cached in the workspace database by content hash (``unit_vectors``)."""

    def __init__(self, letter: Newsletter, embedder: Embedder | None = None,
                 models: ModelChoice | None = None) -> None:
        self.letter = letter
        self.records = Records(letter.store)
        self.issues = Issues(letter.store, letter.workspace.issues_dir)
        self._given = embedder
        self._embedder: CachedEmbedder | None = None
        self.models = models  # the command line's choice, over [models] in lll.toml

    @property
    def embedder(self) -> CachedEmbedder:
        if self._embedder is None:
            inner = self._given if self._given is not None else default_embedder()
            self._embedder = CachedEmbedder(inner, StoreVectors(self.letter.store.engine))
        return self._embedder

    def issue_url(self, day: str) -> str:
        base = self.letter.config.newsletter.base_url
        return f"{base.rstrip('/')}/{day}.html" if base else f"{day}.md"

    def resolver(self) -> StoreResolver:
        return StoreResolver(self.letter.store, self.letter.workspace.issues_dir, self.issue_url)

    def names(self) -> frozenset[str]:
        return TEMPLATE_WORDS | {self.letter.config.newsletter.name}

    def display_names(self) -> frozenset[str]:
        """The sources' display names, which the writer's fixed wording may use."""
        return frozenset(source.name for source in self.letter.store.sources())

    def verify_file(self, path: Path) -> VerifyReport:
        try:
            markdown = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LLLError(f"{path}: cannot read ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise LLLError(f"{path}: not UTF-8 text, so not an LLL issue; `lll verify` checks an "
                           f"issues/DATE.md that `lll draft` wrote (edited or not)") from exc
        if not looks_like_issue(markdown):
            raise LLLError(f"{path}: not an LLL issue (no front matter with a title and no “Automated draft "
                           f"from LLL” line); `lll verify` checks an issues/DATE.md that `lll draft` wrote")
        return self.verify_text(markdown)

    def verify_text(self, markdown: str, resolver: StoreResolver | None = None) -> VerifyReport:
        """Verify an issue's Markdown as it stands (a file, or an editor's unsaved text)."""
        return verify_markdown(markdown, resolver or self.resolver(), names=self.names(),
                               display_names=self.display_names(),
                               newsletter_name=self.letter.config.newsletter.name)

    def hand_edited(self, day: str) -> Path | None:
        """``issues/DATE.md`` when the issue differs from every version LLL wrote (an editor
        changed it, in the file or on the review page of any machine sharing the database, or LLL
        has no record of writing it); None when there is none or it is LLL's own."""
        text = self.issues.current(day)
        if text is None or hashlib.sha256(text.encode()).hexdigest() in written_hashes(self.records.issue(day)):
            return None
        path = self.issues.path(day)
        if not path.exists():  # edited on another machine: show it here too
            self.issues.export(day)
        return path

    def draft(self, day: str, *, force: bool = False) -> DraftResult:
        """Draft ``day``. A ``DATE.md`` edited by hand is kept (``HandEditedError``) unless
        ``force``: then it is copied to ``DATE.md.bak-STAMP`` before the new draft replaces it."""
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise LLLError(f"--date {day!r}: use YYYY-MM-DD") from exc
        edited = self.hand_edited(day)
        if edited is not None and not force:
            raise HandEditedError(
                f"{edited} was edited by hand (it is not what LLL wrote there), so LLL kept it and drafted "
                f"nothing. Check the edit with `lll verify {edited}` and publish it with "
                f"`lll publish {day} --to TARGET`; or draft {day} again over it with "
                f"`lll draft --date {day} --force` (your version is kept as a backup)", path=str(edited))
        writer = self.offline_writer()
        llm_writer = self.llm_writer(day, writer)  # before any work: a missing key fails at once
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        window_end = min(now(), end_of_day(day))
        previous = self.records.previous_issue(day)
        lookback = timedelta(days=self.letter.config.draft.lookback_days)
        window_start = parse_instant(previous.window_end) if previous else window_end - lookback
        # The window is what LLL first saw since the previous issue; the first issue has none, and
        # everything is new to it, so it takes only what the feeds date within the lookback.
        rows = self.letter.store.items_since(window_start, window_end, published_since=previous is None)
        items = [_item_view(r) for r in rows]
        ledger = self.records.ledger(day)
        timings["load"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        day_stories = build_stories(items, ledger, self.embedder, now=window_end,
                                    published_after=window_end - lookback,
                                    field=self.letter.config.newsletter.field)
        timings["stories"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        plan = plan_issue(day, day_stories.stories,
                          find_clocks=lambda unit: find_clocks(unit, date.fromisoformat(day)),
                          due=self.records.due_clocks(day, self.issue_url), left_out=day_stories.left_out,
                          running=self.records.running_clocks(day, self.issue_url),
                          previous_day=previous.date if previous else None)
        run: WriterRun | None = None
        if llm_writer is None:
            draft = writer.write(plan)
        else:
            draft, run = llm_writer.write(plan)
        hint = ""
        if not items:
            hint = self.empty_window_hint(day, window_start, window_end)
            if previous is None:  # "since the last issue" would not be true
                draft = replace(draft, lede=Paragraph((Sentence(FIRST_EMPTY, role="attribution"),), kind="note"),
                                note=FIRST_EMPTY_NOTE if draft.note else "")
        timings["write"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        draft, report = self._verify_and_repair(draft)
        if not report.ok:  # never a dark day: what LLL wrote itself falls back to wording that claims nothing
            draft, report = self._verify_and_repair(last_resort(draft, report))
        timings["verify"] = time.perf_counter() - t3
        if not report.ok:
            raise VerificationError(f"the draft for {day} still fails verification after repair: "
                           + "; ".join(report.lines()[:5]))
        result = self._save(day, draft, plan, report, day_stories.stories, day_stories.counts,
                            (iso(window_start), iso(window_end)), timings, day_stories.embedder, run,
                            backup=edited is not None)
        return replace(result, hint=hint)

    def empty_window_hint(self, day: str, start: datetime, end: datetime) -> str:
        """What is true when no item falls in an issue's window, and what to do about it."""
        fetched = self.letter.store.last_fetch_at()
        when = f"the last fetch was at {fetched}" if fetched else "nothing has been fetched yet (`lll fetch`)"
        text = f"no items in the window {iso(start)} → {iso(end)} ({when})"
        if fetched and parse_instant(fetched) > end:
            text += (f"; items are windowed by when LLL first saw them, so to draft a past date, fetch and draft "
                     f"with LLL_NOW set to that day (LLL_NOW={day}T23:59:00Z lll fetch, then again for lll draft)")
        return text

    def offline_writer(self) -> OfflineWriter:
        return OfflineWriter(self.letter.config.newsletter.name, self.letter.config.newsletter.tags, self.issue_url,
                             earlier=self.earlier_issue)

    def earlier_issue(self, day: str) -> str:
        return self.issues.current(day) or ""

    def llm_writer(self, day: str, offline: OfflineWriter) -> LLMWriter | None:
        """The LLM writer when a model is set (None otherwise); raises ``ModelSetupError``
        (unknown model, missing key) before any call."""
        settings = self.letter.config.models
        session = open_session(settings, StoreAnswers(self.letter.store.engine), day=day, choice=self.models)
        if session is None:
            return None
        return LLMWriter(session, offline, self.verify_draft, issue_link=self.issue_url,
                         newsletter=self.letter.config.newsletter.name, repair_rounds=settings.repair_rounds)

    def verify_draft(self, draft: Draft) -> VerifyReport:
        return self.verify_text(render_markdown(draft))

    def _verify_and_repair(self, draft: Draft) -> tuple[Draft, VerifyReport]:
        """Verify; drop each sentence that carries an unsupported claim; verify again."""
        resolver = self.resolver()
        dropped: list[str] = list(draft.dropped)
        for _round in range(MAX_REPAIR_ROUNDS):
            report = self.verify_text(render_markdown(draft), resolver)
            claim_failures = [f for f in report.failures if f.kind != "structure"]
            if not claim_failures:
                return draft, report
            draft, removed = drop_failing(draft, claim_failures)
            if not removed:
                return draft, report
            dropped += removed
            draft = with_short_note(replace(draft, dropped=tuple(dropped)))
        return draft, self.verify_text(render_markdown(draft), resolver)

    def _save(self, day: str, draft: Draft, plan: Plan, report: VerifyReport, stories: Any,
              counts: dict[str, int], window: tuple[str, str], timings: dict[str, float],
              embedder: str, run: WriterRun | None = None, backup: bool = False) -> DraftResult:
        issues_dir = self.letter.workspace.issues_dir
        issues_dir.mkdir(parents=True, exist_ok=True)
        markdown = render_markdown(draft)
        md_path, json_path = issues_dir / f"{day}.md", issues_dir / f"{day}.json"
        data = issue_json(draft, plan, report, counts=counts, window=window, seconds=timings,
                          embedder=embedder, writer=run.writer if run else "offline",
                          cost=run.as_json() if run else None)
        # Both files are staged first and put in place only after the database commit, so a
        # kill never leaves an issue file that its row does not describe.
        document = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        staged = [_stage(json_path, document), _stage(md_path, markdown)]
        roles = {plan.lede.id: "lede"} if plan.lede else {}
        for section in plan.sections:
            for story in section:
                roles.setdefault(story.id, "section")
        for clock in plan.clocks:
            roles.setdefault(clock.story.id, "clock")
        told_ids = written_story_ids(draft)
        roles = {sid: role for sid, role in roles.items() if sid in told_ids}
        content_hash = hashlib.sha256(markdown.encode()).hexdigest()
        history = [h for h in written_hashes(self.records.issue(day)) if h != content_hash] + [content_hash]
        summary = {"counts": counts, "told": len(roles), "clocks": len(draft.clocks), "due": len(plan.due),
                   "dropped": list(draft.dropped), "writer": run.writer if run else "offline",
                   "cost_usd": round(run.session.cost.usd, 6) if run and run.session else 0.0,
                   "written_hashes": history[-WRITTEN_HASHES_KEPT:]}
        kept = self.issues.backup(day) if backup else None  # before anything replaces it
        self.records.save_issue(day=day, title=draft.title, path=str(md_path), window=window,
                                content_hash=content_hash,
                                verified=report.ok, summary=summary, stories=stories, plan=plan, roles=roles,
                                text=(markdown, document))
        for tmp, final in staged:
            tmp.replace(final)
        return DraftResult(day=day, markdown_path=md_path, json_path=json_path, draft=draft, plan=plan,
                           report=report, counts=counts, seconds=timings, run=run, backup=kept)


def last_resort(draft: Draft, report: VerifyReport) -> Draft:
    """The draft with every part that still fails replaced by wording that claims nothing: the
    lede by where the top story comes from, a heading by "More News", a failing paragraph or
    clock dropped. What was replaced is listed in ``dropped``."""
    failing = {f.sentence for f in report.failures if f.kind != "structure"}
    where = {f.where for f in report.failures}
    removed: list[str] = []
    lede = draft.lede
    if "lede" in where:
        removed.append(lede.markdown)
        lede = safe_lede(lede) if any(f.where == "lede" and "Today's top story" not in f.sentence
                                      for f in report.failures) else empty_lede()
    sections = []
    for section in draft.sections:
        heading = section.heading
        if heading in failing:
            removed.append(f"heading: {heading}")
            heading = "More News"
        kept = tuple(p for p in section.paragraphs if not any(x in p.markdown for x in failing if x))
        removed += [p.markdown for p in section.paragraphs if p not in kept]
        if kept:
            sections.append(Section(heading, kept))
    clocks = tuple(c for c in draft.clocks if c.heading not in failing
                   and not any(x in c.paragraph.markdown for x in failing if x))
    removed += [c.paragraph.markdown for c in draft.clocks if c not in clocks]
    return with_short_note(replace(draft, lede=lede, sections=tuple(sections), clocks=clocks,
                                   dropped=tuple(draft.dropped) + tuple(removed)))


def drop_failing(draft: Draft, failures: list[Any]) -> tuple[Draft, list[str]]:
    """Remove the sentences that carry failing claims (a paragraph left with no source
    sentence goes too). Returns the new draft and what was removed."""
    removed: list[str] = []

    def hit(paragraph: Paragraph) -> set[str]:
        """The writer's sentences of this paragraph that carry a failing claim."""
        texts: set[str] = set()
        plain_paragraph = strip_links(paragraph.markdown)
        for f in failures:
            checked = strip_links(f.sentence)
            if not checked or checked not in plain_paragraph:
                continue
            inside = [s for s in paragraph.sentences if strip_links(s.text) and strip_links(s.text) in checked
                      or checked in strip_links(s.text)]
            carrying = [s for s in inside if (f.claim in s.text or f.claim in links(s.text) if f.kind == "link"
                                              else f.claim in strip_links(s.text))]
            texts.update(s.text for s in (carrying or inside))
        return texts

    def fix(paragraph: Paragraph) -> Paragraph | None:
        texts = hit(paragraph)
        if not texts:
            return paragraph
        kept = paragraph.without(texts)
        removed.extend(sorted(texts) if kept is not None else [paragraph.markdown])
        return kept

    bad_headings = {f.sentence for f in failures if f.where.startswith("heading")}
    sections = []
    for section in draft.sections:
        paragraphs = tuple(p for p in (fix(p) for p in section.paragraphs) if p is not None)
        if paragraphs:
            titled = any(p.title for p in paragraphs)
            rebuilt = section_of(paragraphs) if titled else Section(section.heading, paragraphs)
            if rebuilt.heading in bad_headings:
                rebuilt = Section(fallback_heading(paragraphs), paragraphs)
                removed.append(f"heading: {section.heading}")
            sections.append(rebuilt)
    clocks = tuple(c if c.heading not in bad_headings else replace(c, heading=fallback_heading((c.paragraph,)))
                   for c in draft.clocks if fix(c.paragraph) is c.paragraph)
    lede = draft.lede
    if any(f.where == "lede" for f in failures):
        removed.append(lede.markdown)
        lede = safe_lede(lede)
    return replace(draft, lede=lede, sections=tuple(sections), clocks=clocks), removed


def _stage(path: Path, text: str) -> tuple[Path, Path]:
    """Write ``text`` next to ``path`` under a temporary name; (temporary, final)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    return tmp, path
