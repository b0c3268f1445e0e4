"""The plan of an issue: what is told, where, and what is left out — decided
before any prose is written, the same for every writer. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from lll.kinds import source_kind
from lll.stories.entities import entities, shared, specific
from lll.stories.model import LeftOut, Story
from lll.stories.rank import GUIDE
from lll.stories.units import StoryUnit
from lll.text import MONTHS, looks_english
from lll.write.prose import printable

OFF_FIELD = -0.5  # a story's relevance below this: told only by general-interest sources, outside the field


@dataclass(frozen=True)
class ClockFinding:
    """A forward-looking sentence found in a unit, resolved to a due date."""

    sentence: str
    start: int  # in the item's text
    end: int
    phrase: str
    due: date
    precision: str


@dataclass(frozen=True)
class PlannedClock:
    story: Story
    unit: StoryUnit
    finding: ClockFinding


@dataclass(frozen=True)
class DueClock:
    """A clock opened by an earlier issue whose date has come."""

    id: str
    opened_in: str
    opened_url: str
    sentence: str
    phrase: str
    due: str
    item_id: int
    item_url: str
    source: str
    story_id: str
    title: str = ""


@dataclass(frozen=True)
class PlanSettings:
    max_stories: int = 12
    min_score: float = 0.5      # below it a story is not worth the reader's time
    per_source: int = 6
    max_clocks: int = 5
    min_clocks: int = 2
    min_stories: int = 3
    join_cosine: float = 0.45
    section_size: int = 4
    max_community: int = 1     # forum threads an issue tells (never the lede)
    max_arxiv: int = 3         # papers from an arXiv listing, told together
    max_changelog: int = 1     # release-notes entries per source
    relist_days: int = 7       # a running clock is listed again when due within this many days
    update_lede_margin: float = 1.0  # a new story this close to a follow-up's score leads instead


@dataclass(frozen=True)
class Plan:
    date: str
    lede: Story | None
    sections: tuple[tuple[Story, ...], ...]
    clocks: tuple[PlannedClock, ...]
    due: tuple[DueClock, ...]
    left_out: tuple[LeftOut, ...]
    short: bool
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    running: tuple[DueClock, ...] = ()  # clocks of earlier issues still running, listed again

    @property
    def told(self) -> tuple[Story, ...]:
        body = tuple(s for section in self.sections for s in section)
        return body + tuple(c.story for c in self.clocks if c.story not in body)


def _cos(a: Story, b: Sequence[Story]) -> float:
    vectors = [s.vector for s in b if s.vector is not None]
    if a.vector is None or not b or len(vectors) < len(b):
        return 0.0
    centre = np.mean(vectors, axis=0)
    return float(a.vector @ centre / (np.linalg.norm(centre) + 1e-9))


# A feed speaking about itself: "[NOTICE] This feed is no longer maintained", "… now publishes an RSS feed".
FEED_NOTICE = re.compile(r"^\s*\[notice\]|\bthis (?:rss |atom )?feed (?:is no longer|has moved|will no longer|is "
                         r"deprecated)|\bpublishes an (?:official )?(?:rss|atom) feed\b|\bnew feed (?:url|address)\b",
                         re.I)


def _bare_guide(story: Story) -> bool:
    """A lab's how-to or case study that its feed gives as a title alone, with no other source
    telling it: a brief could only repeat the title ("How X uses Claude Cowork …")."""
    lead = story.lead
    bare = len(" ".join(lead.text.split())) <= len(lead.item.title) + 40
    return bare and len(story.units) == 1 and bool(GUIDE.search(lead.item.title or lead.title))


def is_changelog(story: Story) -> bool:
    item = story.lead.item
    return bool(re.search(r"change ?log|release notes", f"{item.source_name} {item.url}", re.I))


def _kind_cap(story: Story, counts: dict[str, int], settings: PlanSettings) -> str:
    """Why a story of a capped kind is left out ("" when there is room for it)."""
    lead = story.lead
    if lead.kind == "community" and counts.get("community", 0) >= settings.max_community:
        return f"community chatter: an issue tells at most {settings.max_community} forum thread"
    if source_kind(lead.item.source_kind).cap and counts.get(lead.item.source_kind, 0) >= settings.max_arxiv:
        return source_kind(lead.item.source_kind).cap.format(cap=settings.max_arxiv)
    if is_changelog(story) and counts.get(f"changelog:{lead.item.source_id}", 0) >= settings.max_changelog:
        return f"release notes: one entry of {lead.item.source_name} an issue"
    return ""


def _count(story: Story, counts: dict[str, int]) -> None:
    lead = story.lead
    for key, hit in (("community", lead.kind == "community"),
                     (lead.item.source_kind, bool(source_kind(lead.item.source_kind).cap)),
                     (f"changelog:{lead.item.source_id}", is_changelog(story))):
        if hit:
            counts[key] = counts.get(key, 0) + 1


def _choose(stories: Sequence[Story], settings: PlanSettings) -> tuple[list[Story], list[LeftOut]]:
    chosen: list[Story] = []
    left: list[LeftOut] = []
    per_source: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for rank, story in enumerate(stories, 1):
        what = dict(id=story.id, title=story.title, source=", ".join(story.source_names))
        if story.status == "repeat":
            told = f" (told on {story.previous.told_in})" if story.previous and story.previous.told_in else ""
            earlier = story.previous.id if story.previous else ""
            left.append(LeftOut(**what, reason=f"repeat of ledger story {earlier}{told}"))
            continue
        if story.relevance < OFF_FIELD:
            left.append(LeftOut(**what, reason="off-field: only general-interest sources tell it, and it names "
                                               "nothing of the field"))
            continue
        if FEED_NOTICE.search(f"{story.lead.item.title}\n{story.lead.text[:300]}"):
            left.append(LeftOut(**what, reason="a notice about the feed itself, not news"))
            continue
        if _bare_guide(story):
            left.append(LeftOut(**what, reason="a how-to or case study whose feed gives only its title: "
                                               "nothing to tell but the title"))
            continue
        if not looks_english(f"{story.lead.title}. {story.lead.text}"):
            left.append(LeftOut(**what, reason="not in English, the language the issue is written in"))
            continue
        if story.score < settings.min_score:
            left.append(LeftOut(**what, reason=f"score {story.score:.2f} is below the bar of {settings.min_score:g}"))
            continue
        lead_source = story.lead.item.source_name
        if per_source.get(lead_source, 0) >= settings.per_source:
            left.append(LeftOut(**what, reason=f"{lead_source} already leads {settings.per_source} stories"))
            continue
        capped = _kind_cap(story, kinds, settings)
        if capped:
            left.append(LeftOut(**what, reason=capped))
            continue
        if len(chosen) >= settings.max_stories:
            left.append(LeftOut(**what, reason=f"ranked {rank} (score {story.score:.2f}), below the cut"))
            continue
        chosen.append(story)
        _count(story, kinds)
        per_source[lead_source] = per_source.get(lead_source, 0) + 1
    # The lede is the day's biggest story that is not forum chatter; yesterday's story going on
    # leads only when no new story comes close to it.
    lead_at = next((i for i, s in enumerate(chosen) if s.lead.kind != "community"), 0)
    if chosen and chosen[lead_at].status == "update":
        bar = chosen[lead_at].score - settings.update_lede_margin
        lead_at = next((i for i, s in enumerate(chosen) if s.lead.kind != "community" and s.status == "new"
                        and s.score >= bar), lead_at)
    if lead_at:
        chosen.insert(0, chosen.pop(lead_at))
    return chosen, left


def together(a: Story, b: Story) -> bool:
    """Stories that share a section whatever their vectors say: one digest theme's (``theme_mates``),
    or two whose titles name one specific thing ("Opus 4.7 (fast mode) is now available in
    Windsurf" and "Claude Opus 4.7 fast mode")."""
    return theme_mates(a, b) or bool(shared(specific(a.lead.title), specific(b.lead.title)))


def theme_mates(a: Story, b: Story) -> bool:
    """One item's stories under one of its themes (a digest's "Claude Code backlash" paragraphs,
    also when a lab's post holds the theme's opening as its coverage), or papers of one arXiv listing."""
    x, y = a.lead, b.lead
    if x.item.source_kind == y.item.source_kind and source_kind(x.item.source_kind).grouped:
        return True
    if x.item.id == y.item.id and x.theme == y.theme:
        return True
    # a digest paragraph that follows up a theme whose opening another story holds as its coverage
    return any(u.theme and u.item.id == v.item.id and u.theme == v.theme for u in a.units for v in b.units)


# The labs whose products a story names: a story about Claude and one about Anthropic share a maker.
_MAKERS = {"anthropic": "anthropic", "claude": "anthropic", "openai": "openai", "chatgpt": "openai",
           "codex": "openai", "gpt": "openai", "google": "google", "gemini": "google", "deepmind": "google",
           "gemma": "google", "xai": "xai", "grok": "xai", "meta": "meta", "llama": "meta", "mistral": "mistral",
           "deepseek": "deepseek", "qwen": "alibaba", "alibaba": "alibaba", "nvidia": "nvidia",
           "microsoft": "microsoft", "copilot": "microsoft", "cursor": "cursor", "perplexity": "perplexity"}


def maker_of(story: Story) -> str:
    """The lab a story is about, read from its title's words (else its source's name): "" when none."""
    lead = story.lead
    for text in (lead.title, lead.item.source_name):
        for word in re.findall(r"[A-Za-z]+", text):
            found = _MAKERS.get(word.lower())
            if found:
                return found
    return ""


def _group(stories: Sequence[Story], settings: PlanSettings) -> list[list[Story]]:
    """Sections: stories of one item's theme stay together, similar stories join, 2 to 5 sections."""
    if not stories:
        return []
    target = max(2, min(5, math.ceil(len(stories) / 3))) if len(stories) >= 2 else 1
    sections: list[list[Story]] = []
    for story in stories:
        same_item = [s for s in sections if any(together(story, o) for o in s)]
        # a digest theme's follow-up has room beyond a name's kin: it is the same paragraph going on
        room = settings.section_size + (3 if same_item and any(theme_mates(story, o) for o in same_item[0]) else 1)
        if same_item and len(same_item[0]) < room:
            same_item[0].append(story)
            continue
        scored = sorted(((_cos(story, s), i) for i, s in enumerate(sections) if len(s) < settings.section_size),
                        reverse=True)
        maker = maker_of(story)
        kin = [i for i, s in enumerate(sections) if maker and len(s) < settings.section_size
               and any(maker_of(o) == maker for o in s)]
        if kin and (not scored or scored[0][0] < settings.join_cosine):
            sections[kin[0]].append(story)  # a lab's stories sit together when nothing closer calls
            continue
        if scored and (scored[0][0] >= settings.join_cosine or len(sections) >= target):
            sections[scored[0][1]].append(story)
        elif len(sections) < target or not scored:
            sections.append([story])
        else:
            sections[scored[0][1]].append(story)
    for lone in [s for s in sections if len(s) == 1]:
        # a theme's part that came before its mates were placed: it joins them rather than stand alone
        home = next((s for s in sections if s is not lone and len(s) < settings.section_size + 3
                     and any(theme_mates(lone[0], o) for o in s)), None)
        if home is not None and len(sections) > 2:
            home.append(lone[0])
            sections.remove(lone)
    if len(sections) == 1 and len(sections[0]) >= 2:
        half = math.ceil(len(sections[0]) / 2)
        sections = [sections[0][:half], sections[0][half:]]
    return [_adjacent(section) for section in sections]


# title words too common to tie two posts to one matter (the labs' own names are left out as well)
_THREAD_STOP = frozenset("introducing announcing update updates launch launches model models agent agents "
                         "with from your their about".split())


def _one_thread(a: Story, b: Story) -> bool:
    """One lab's stories on one matter ("New Compute Partnership with Anthropic", "Higher usage limits
    for Claude and a compute deal with SpaceX"): the same maker and a telling title word in common."""
    maker = maker_of(a)
    if not maker or maker != maker_of(b):
        return False
    shared_words = {w for w in _words(a.lead.title) & _words(b.lead.title) if len(w) >= 5} - _THREAD_STOP - set(_MAKERS)
    return bool(shared_words)


def _part_before(story: Story, lead: StoryUnit) -> int:
    """The latest part of ``lead``'s digest theme that ``story`` holds before it (-1: none)."""
    return max((u.theme_part for u in story.units if u.theme and u.item.id == lead.item.id
                and u.theme == lead.theme and u.theme_part < lead.theme_part), default=-1)


def _adjacent(section: list[Story]) -> list[Story]:
    """The section in rank order, except that a story told together with an earlier one (one
    digest theme) follows it at once."""
    out: list[Story] = []
    for story in section:
        mates = [i for i, s in enumerate(out) if together(story, s) or _one_thread(story, s)]
        held = [i for i in mates if _part_before(out[i], story.lead) >= 0]
        # right after the story holding the theme's part before it ("the raise, and what it pays for"),
        # else after the last story it is told with
        at = max(held, key=lambda i: (_part_before(out[i], story.lead), i)) if held else max(mates, default=-1)
        out.insert(at + 1 if at >= 0 else len(out), story)
    return out


_CALENDAR = frozenset(m.lower() for m in MONTHS) | {"monday", "tuesday", "wednesday", "thursday", "friday",
                                                    "saturday", "sunday", "this", "that", "with", "will", "from"}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z][\w-]{3,}", text)} - _CALENDAR


def same_clock(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Two (due, sentence) pairs that watch the same thing: one date and two shared words, or
    the same specific name ("MiniMax 2.7"), or most of their words, whatever the dates."""
    wa, wb = _words(a[1]), _words(b[1])
    if a[0] == b[0] and len(wa & wb) >= 2:
        return True
    if shared(entities(a[1]), entities(b[1])):
        return True
    return len(wa & wb) >= max(4, 0.5 * min(len(wa), len(wb)))


WATCH_BELOW_CUT = 3  # the watch list also reads this many issues' worth of stories just below the cut


def _watchable(chosen: Sequence[Story], stories: Sequence[Story],
               find_clocks: Callable[[StoryUnit], list[ClockFinding]],
               settings: PlanSettings) -> Iterator[tuple[Story, StoryUnit, ClockFinding]]:
    """The forward-looking sentences a watch list may quote, best first: those of the issue's
    stories in its order, then of the stories just below the cut (the next ``WATCH_BELOW_CUT ×
    max_stories`` that clear the bar) — never a repeat, an off-field story or forum chatter. Every unit of a story
    counts, its lead first and then its coverage (a lab's post told as another's coverage)."""
    ids = {s.id for s in chosen}
    below = [s for s in stories if s.id not in ids and s.status != "repeat" and s.score >= settings.min_score
             and s.relevance >= OFF_FIELD][:WATCH_BELOW_CUT * settings.max_stories]
    for story in [*chosen, *below]:
        if story.lead.kind == "community":
            continue
        for unit in [story.lead, *(u for u in story.units if u is not story.lead)]:
            if unit.kind == "community":
                continue
            for finding in find_clocks(unit):
                yield story, unit, finding


LAST_CALL_DAYS = 3  # a running clock's second reminder, in the last days before its date


def _reminder_due(due: str, day: str, previous_day: str, settings: PlanSettings) -> bool:
    """Whether ``day``'s issue is the first to come within ``relist_days`` of a clock's date, or the
    first within its last few days: a running clock is listed again at most twice, never daily."""
    left, before = ((date.fromisoformat(due) - date.fromisoformat(d)).days for d in (day, previous_day))
    return any(left <= bar < before for bar in (settings.relist_days, LAST_CALL_DAYS))


def plan_issue(day: str, stories: Sequence[Story], *, find_clocks: Callable[[StoryUnit], list[ClockFinding]],
               due: Sequence[DueClock] = (), left_out: Sequence[LeftOut] = (),
               running: Sequence[DueClock] = (), previous_day: str | None = None,
               settings: PlanSettings = PlanSettings()) -> Plan:
    """Choose and arrange the day's stories: the lede, the sections, the clocks. A clock
    already running (opened by an earlier issue) is not opened again; it is listed again in the
    first issue within ``relist_days`` of its date and in the first within its last
    ``LAST_CALL_DAYS`` (``previous_day``: the issue before this one); when the day opens
    fewer than ``min_clocks``, the running clocks due soonest fill the watch list."""
    chosen, left = _choose(stories, settings)
    clocks: list[PlannedClock] = []
    open_keys = [(c.due, c.sentence) for c in running]
    for story, unit, finding in _watchable(chosen, stories, find_clocks, settings):
        if len(clocks) >= settings.max_clocks:
            break
        if any(c.story.id == story.id for c in clocks) or not printable(finding.sentence, 4):
            continue  # one clock a story, so that the watch list spans the day
        key = (finding.due.isoformat(), finding.sentence)
        if any(same_clock(key, other) for other in open_keys):
            continue
        clocks.append(PlannedClock(story=story, unit=unit, finding=finding))
        open_keys.append(key)
    lede = chosen[0] if chosen else None
    clock_ids = {c.story.id for c in clocks}
    body = [s for s in chosen if s.id not in clock_ids or s is lede]
    if len(body) < min(settings.min_stories, len(chosen)):
        body = list(chosen)  # a thin day keeps its stories in the sections; their dates are watched too
    left = [entry for entry in left if entry.id not in {c.story.id for c in clocks}]
    short = len(body) < settings.min_stories
    sections = _group(body, settings)
    listed: list[DueClock] = []
    for clock in running:
        if len(clocks) + len(listed) >= max(settings.min_clocks, 0) or len(clocks) + len(listed) >= settings.max_clocks:
            break
        if (date.fromisoformat(clock.due) - date.fromisoformat(day)).days > settings.relist_days:
            continue  # listed again only as its date draws near, not in every issue until then
        if previous_day is not None and not _reminder_due(clock.due, day, previous_day, settings):
            continue  # the issue before already reminded readers: a reminder, not a daily refrain
        key = (clock.due, clock.sentence)
        if any(same_clock(key, (c.finding.due.isoformat(), c.finding.sentence)) for c in clocks) \
                or any(same_clock(key, (o.due, o.sentence)) for o in listed):
            continue
        listed.append(clock)
    return Plan(date=day, lede=lede, sections=tuple(tuple(s) for s in sections), clocks=tuple(clocks),
                due=tuple(due), left_out=tuple(left_out) + tuple(left), short=short,
                reasons={s.id: s.reasons for s in stories}, running=tuple(listed))
