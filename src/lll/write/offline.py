"""The offline writer: every sentence of the issue is either a source's own
sentence, copied exactly, or a fixed piece of attribution. Deterministic: the
same plan gives the same bytes. No model, no key."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from lll.records import TRANSCRIPT_HEADING
from lll.stories.model import Story
from lll.stories.units import StoryUnit
from lll.text import long_date, sentence_spans, words
from lll.write.model import Citation, ClockEntry, Draft, Paragraph, Section, Sentence
from lll.write.plan import DueClock, Plan, PlannedClock

MAX_STORY_WORDS = 110
SPEAKER = re.compile(r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}: ")
MAX_LEDE_WORDS = 25
SMALL_WORDS = frozenset("a an and as at but by for from in into of on or the to via vs with".split())
VERBS = {"newsletter": "reported", "podcast": "discussed", "arxiv": "published a paper", "hn": "pointed to",
         "github": "released"}
# Words the writer itself adds; the verifier accepts them as names without a source.
TEMPLATE_WORDS = frozenset(
    "Following The It Also On That Clocks Worth Watching Coming Due Large Language Letters Automated "
    "LLL Hacker News Transcript A short issue First Clock More Nothing Today's".split()
)

IssueLink = Callable[[str], str]
EarlierIssue = Callable[[str], str]  # an issue date → that issue's Markdown ("" when there is none)


def told_as(title: str, earlier: str) -> str:
    """How an earlier issue wrote a story's title (its words, its case), or "" when it did not."""
    if not earlier:
        return ""
    folded = earlier.casefold()
    head = title.split(": ", 1)[0]
    tokens = (head if words(head) >= 3 else title).split()
    for n in range(min(len(tokens), 10), 2, -1):  # the whole title, then shorter heads of it (headings shorten titles)
        core = " ".join(tokens[:n]).rstrip(".!?:;,—–-").strip()
        if n < len(tokens) and core.split()[-1].casefold() in SMALL_WORDS:
            continue
        at = folded.find(core.casefold())
        if at >= 0 and "\n" not in earlier[at:at + len(core)]:
            return earlier[at:at + len(core)]
    return ""


def title_case(text: str) -> str:
    """Title Case that leaves brands alone ("vLLM", "iPhone") and sees through punctuation."""
    out = []
    for i, word in enumerate(text.split()):
        core = word.strip("\"'“”‘’()[],.:;!?")
        if i and core.lower() in SMALL_WORDS and core == core.lower():
            out.append(word)
        elif core[:1].islower() and core.isalpha() and core == core.lower():
            at = word.index(core)
            out.append(word[:at] + core[:1].upper() + word[at + 1:])
        else:
            out.append(word)
    return " ".join(out)


def short_title(title: str, limit: int = 8) -> str:
    """A title short enough to join with others in a heading, cut at a natural break."""
    text = re.sub(r"\s*\([^)]*\)", "", " ".join(title.split())).rstrip(".:")
    for mark in (": ", " — ", " – ", " - ", "; ", ", "):
        if words(text) > limit and mark in text:
            text = text.split(mark, 1)[0]
    if words(text) > limit:
        cut = text.split()[:limit]
        while len(cut) > 1 and cut[-1].lower().strip(",;:") in SMALL_WORDS:
            cut.pop()
        text = " ".join(cut)
    return text.strip(" ,;:-")


def join_titles(titles: list[str]) -> str:
    picked = list(dict.fromkeys(title_case(short_title(t)) for t in titles if t.strip()))[:3]
    if len(picked) <= 1:
        return picked[0] if picked else "More News"
    return ", ".join(picked[:-1]) + (", and " if len(picked) > 2 else " and ") + picked[-1]


SHORT_NOTE = "A short issue: few new stories met the bar since the last one."


def with_short_note(draft: Draft, short: bool = False) -> Draft:
    """Say so when an issue is short (fewer than two themed sections), rather than pad it."""
    if short or len(draft.sections) < 2:
        return replace(draft, note=SHORT_NOTE)
    return draft


def empty_lede() -> Paragraph:
    return Paragraph((Sentence("Nothing new from the sources since the last issue.", role="attribution"),),
                     kind="note")


def safe_lede(lede: Paragraph) -> Paragraph:
    """A lede that claims nothing but where the top story comes from (when the real one failed)."""
    cited = lede.citations[0] if lede.citations else None
    if cited is None:
        return empty_lede()
    return Paragraph((Sentence(f"Today's top story comes from {cited.source}.", citations=(cited,),
                               role="attribution"),), story_id=lede.story_id, kind="lede")


def fallback_heading(paragraphs: tuple[Paragraph, ...]) -> str:
    """A heading that claims nothing but where the news comes from."""
    names = list(dict.fromkeys(c.source for p in paragraphs for c in p.citations if c.item_id is not None))[:3]
    if not names:
        return "More News"
    return "News from " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def section_of(paragraphs: tuple[Paragraph, ...]) -> Section:
    """A section whose heading joins the titles of the stories told in it."""
    return Section(heading=join_titles([p.title for p in paragraphs if p.title]), paragraphs=paragraphs)


def body_spans(unit: StoryUnit) -> list[tuple[int, int]]:
    """Spans (in the item's text) of the unit's sentences, minus a leading copy of its title.

    A podcast episode is told from its show notes; its transcript is quoted only when the
    episode has no notes, and then without the speakers' labels.
    """
    spans = [(unit.start + s, unit.start + e) for s, e in sentence_spans(unit.text)]
    text = unit.item.text
    podcast = unit.item.source_kind == "podcast"
    transcript = text.find(f"\n{TRANSCRIPT_HEADING}\n") if podcast else -1
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if 0 <= transcript < e:
            if out:
                break
            if text[s:e].strip() == TRANSCRIPT_HEADING:
                continue
        label = SPEAKER.match(text, s, e) if podcast else None
        if label:
            s = label.end()
        sentence = text[s:e]
        if unit.title and sentence.startswith(unit.title):
            after = sentence[len(unit.title):]
            if not after.strip() or after.lstrip()[:1] in (":", "—", "–", "-", "."):
                rest = after.lstrip(":.—–- ")
                if words(rest) < 4:
                    continue
                s = e - len(rest)
        if words(text[s:e]) >= 4 and text[s:e].rstrip("\"'”’)]").endswith((".", "!", "?")):
            out.append((s, e))
    return out


def _hn_sentence(unit: StoryUnit) -> str:
    """A Hacker News item is its title and its discussion, not its description."""
    points, comments = unit.item.signals.get("points"), unit.item.signals.get("comments")
    counts = [f"{points:,} points" if points else "", f"{comments:,} comments" if comments else ""]
    said = " and ".join(c for c in counts if c)
    title = unit.item.title.replace('"', "'")
    return f'"{title}"' + (f", with {said} on Hacker News." if said else ".")


def _link(source: str, url: str) -> str:
    return f"[{source.replace('[', '(').replace(']', ')')}]({url})"


def _citation(unit: StoryUnit) -> Citation:
    return Citation(url=unit.item.url, source=unit.item.source_name, item_id=unit.item.id)


class OfflineWriter:
    """Plan → Draft with sources' own sentences."""

    name = "offline"

    def __init__(self, newsletter_name: str, tags: tuple[str, ...], issue_link: IssueLink,
                 earlier: EarlierIssue | None = None) -> None:
        self.newsletter_name = newsletter_name
        self.tags = tags
        self.issue_link = issue_link
        self.earlier = earlier or (lambda _day: "")

    def write(self, plan: Plan) -> Draft:
        y, m, d = plan.date.split("-")
        sections = [section_of(self._story_paragraphs(stories)) for stories in plan.sections]
        sections = [s for s in sections if s.paragraphs]
        if plan.due:
            sections.append(Section(heading="Clocks Coming Due", paragraphs=tuple(self._due(c) for c in plan.due)))
        clocks = tuple(self._clock(c) for c in plan.clocks) + tuple(self._running(c) for c in plan.running)
        draft = Draft(date=plan.date, title=f"{self.newsletter_name} {m}/{d}/{y}", tags=self.tags,
                      lede=self._lede(plan.lede), sections=tuple(sections), clocks=clocks)
        return with_short_note(draft, plan.short)

    def _lede(self, story: Story | None) -> Paragraph:
        if story is None:
            return empty_lede()
        headline = short_title(story.title, limit=MAX_LEDE_WORDS - 4)
        text = f"{headline}, {story.lead.item.source_name} reports."
        return Paragraph((Sentence(text, citations=(_citation(story.lead),), role="source"),),
                         story_id=story.id, kind="lede")

    def _story_paragraphs(self, stories: tuple[Story, ...]) -> tuple[Paragraph, ...]:
        out: list[Paragraph] = []
        told_items: set[int] = set()
        for story in stories:
            paragraph = self._story(story, repeat_source=story.lead.item.id in told_items)
            told_items.add(story.lead.item.id)
            if paragraph is not None:
                out.append(paragraph)
        return tuple(out)

    def _story(self, story: Story, repeat_source: bool) -> Paragraph | None:
        unit = story.lead
        citation = _citation(unit)
        body: list[Sentence] = []
        if unit.item.source_kind == "hn":
            body.append(Sentence(_hn_sentence(unit), citations=(citation,)))
        for s, e in ([] if body else body_spans(unit)):
            if body and sum(words(x.text) for x in body) + words(unit.item.text[s:e]) > MAX_STORY_WORDS:
                break
            body.append(Sentence(unit.item.text[s:e], citations=(citation,), span=(unit.item.id, s, e)))
            if len(body) >= 4:
                break
        if not body:
            return None
        parts: list[Sentence] = []
        previous = story.previous
        if story.status == "update" and previous is not None and previous.told_in:
            link = self.issue_link(previous.told_in)
            subject = told_as(previous.title, self.earlier(previous.told_in))
            subject = f'"{subject}", ' if subject else "the story "
            parts.append(Sentence(f"Following up on {subject}discussed here on "
                                  f"[{long_date(previous.told_in)}]({link}):",
                                  citations=(Citation(url=link, source=self.newsletter_name,
                                                      issue_date=previous.told_in),), role="callback"))
        verb = VERBS.get(unit.item.source_kind, "reported")
        opener = (f"{_link('The same source', unit.item.url)} also" if repeat_source
                  else _link(unit.item.source_name, unit.item.url))
        parts.append(Sentence(f"{opener} {verb}:", citations=(citation,), role="attribution"))
        parts.extend(body)
        others = [u for u in story.units[1:] if u.item.source_id != unit.item.source_id]
        seen: dict[str, StoryUnit] = {}
        for other in others:
            seen.setdefault(other.item.source_name, other)
        if seen:
            links = [_link(name, u.item.url) for name, u in list(seen.items())[:3]]
            joined = links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1]
            parts.append(Sentence(f"It was also covered by {joined}.",
                                  citations=tuple(_citation(u) for u in list(seen.values())[:3]),
                                  role="attribution"))
        return Paragraph(tuple(parts), story_id=story.id, title=story.title)

    def _clock(self, clock: PlannedClock) -> ClockEntry:
        unit, finding = clock.unit, clock.finding
        citation = _citation(unit)
        sentences = [Sentence(f"{_link(unit.item.source_name, unit.item.url)} noted:", citations=(citation,),
                              role="attribution"),
                     Sentence(finding.sentence, citations=(citation,), span=(unit.item.id, finding.start, finding.end))]
        following = [(s, e) for s, e in body_spans(unit) if s >= finding.end][:1]
        for s, e in following:
            sentences.append(Sentence(unit.item.text[s:e], citations=(citation,), span=(unit.item.id, s, e)))
        return ClockEntry(heading=title_case(short_title(clock.story.title, limit=10)),
                          paragraph=Paragraph(tuple(sentences), story_id=clock.story.id, kind="clock"),
                          due=finding.due.isoformat(), phrase=finding.phrase, precision=finding.precision,
                          story_id=clock.story.id, item_id=unit.item.id, sentence=finding.sentence)

    def _running(self, clock: DueClock) -> ClockEntry:
        """A clock an earlier issue opened, still running: listed again, with where it began."""
        source = Citation(url=clock.item_url, source=clock.source, item_id=clock.item_id)
        issue = Citation(url=clock.opened_url, source=self.newsletter_name, issue_date=clock.opened_in)
        paragraph = Paragraph((
            Sentence(f"{_link(clock.source, clock.item_url)} noted:", citations=(source,), role="attribution"),
            Sentence(clock.sentence, citations=(source,)),
            Sentence(f"(First flagged here on [{long_date(clock.opened_in)}]({clock.opened_url}).)",
                     citations=(issue,), role="callback"),
        ), story_id=clock.story_id, kind="clock")
        return ClockEntry(heading=title_case(short_title(clock.title or clock.source, limit=10)),
                          paragraph=paragraph, due=clock.due, phrase=clock.phrase, precision="",
                          story_id=clock.story_id, item_id=clock.item_id, sentence=clock.sentence)

    def _due(self, clock: DueClock) -> Paragraph:
        issue = Citation(url=clock.opened_url, source=self.newsletter_name, issue_date=clock.opened_in)
        source = Citation(url=clock.item_url, source=clock.source, item_id=clock.item_id)
        return Paragraph((
            Sentence(f"On [{long_date(clock.opened_in)}]({clock.opened_url}) this newsletter started a clock on "
                     f"what {_link(clock.source, clock.item_url)} said:", citations=(issue, source),
                     role="callback"),
            Sentence(clock.sentence, citations=(source,)),
            Sentence("That date has now come.", role="attribution"),
        ), story_id=clock.story_id, kind="revisit")


def strip_links(markdown: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
