"""Ranking the day's stories, with the reasons kept for ``issues/DATE.json``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from lll.kinds import source_kind
from lll.stories.entities import entities, headline_match
from lll.stories.model import Story

_FIGURE = re.compile(r"\d")
# What a lab or company says when it puts something out: the news an editor leads with.
LAUNCH = re.compile(
    r"\b(?:introduc(?:es|ed|ing)|announc(?:es|ed|ing)|launch(?:es|ed|ing)?|releas(?:es|ed|ing)|unveil(?:s|ed)?|"
    r"now (?:available|generally available|in (?:public )?(?:beta|preview))|generally available|open[- ]sourc\w*|"
    r"rais(?:es|ed) \$|acquir(?:es|ed)|debut\w*|rolls? out|rolled out|ships?|shipped|partners? with|"
    r"model card|system card|partnership|alliance|acquisition|funding round|series [a-f]\b|"
    r"\$\d[\d.,]* ?(?:million|billion|trillion|[mb]n?)|(?:million|billion)[- ]dollar)\b", re.I)
# A launch that is news beyond its maker's blog: a versioned model or product, money, a deal.
MAJOR = re.compile(r"\b[A-Za-z][\w-]*[- ]?\d+(?:\.\d+)*\b|\$\d|\b(?:model|partnership|acquisition|acquires|"
                    r"raises|funding|alliance|series [a-f])\b", re.I)
# What a blog posts that is not news: a how-to, a guide, a customer's case study, advice.
GUIDE = re.compile(
    r"^(?:how|why|what|when|where|tips|lessons|a (?:look|guide|primer)|guide|tutorial|"
    r"(?:building|getting started|working|developing) with|"
    r"supercharge|level(?:ing)? up|boost|unlock|turn|build|create|accelerate|simplify|streamline|master)\b|"
    r"\b(?:best practices|playbook|a look at|how to|a guide|guide to|tutorial|tips for|lessons from|deep dive|"
    r"case study|customer story|explained|webinar|101)\b|^[A-Z][\w.&-]*(?: [A-Z][\w.&-]*)* (?:uses|used) ", re.I)
_HEADLINE_BREAK = re.compile(r",\s|;\s|:\s|\s[—–]\s|\s(?:and|plus|as|while)\s")
_CHANGELOG = re.compile(r"change ?log|release notes", re.I)


@dataclass(frozen=True)
class RankSettings:
    per_source: float = 1.2     # per independent source beyond the first (log-scaled)
    weight: float = 0.6         # the best source weight
    new: float = 1.0
    update: float = 0.8
    fresh_hours: float = 36.0
    fresh: float = 0.5
    hn_points: float = 0.25     # per decade of Hacker News points
    short_text: int = 200
    short_penalty: float = 0.8
    relevance_floor: float = -0.5   # below: off-topic (engine.OFF_TOPIC); a cosine otherwise
    off_topic: float = 2.0
    relevance: float = 2.0      # per unit of cosine to the field above ``relevance_base``
    relevance_base: float = 0.2
    primary: float = 0.8        # a lab or company telling its own news
    launch: float = 0.6         # ... and it is a launch, a release, a result
    digest_position: float = 1.4  # a digest's first stories are its biggest (decays with position)
    theme_follow_up: float = 0.5  # of ``digest_position``, for a digest's later paragraphs under one theme
    community: float = 1.5      # a forum thread a digest recaps
    activity: float = 0.15      # per decade of a forum thread's engagement
    changelog: float = 1.0      # a release-notes entry
    title_only: float = 0.4     # of ``primary``, withheld from a post that is only a title and no launch
    headline: float = 1.5       # what a digest's own headline names ("Anthropic raises $65B …")
    headline_second: float = 0.6  # of ``headline``, for what it names after its first story


def score(story: Story, now: datetime, settings: RankSettings = RankSettings()) -> tuple[float, tuple[str, ...]]:
    """The story's score and one reason per term that counted."""
    reasons: list[str] = []
    total = 0.0
    n_sources = len(story.source_ids)
    if n_sources > 1:
        gain = settings.per_source * math.log2(n_sources)
        total += gain
        reasons.append(f"{n_sources} independent sources (+{gain:.2f})")
    best_weight = max(u.item.source_weight for u in story.units)
    total += settings.weight * best_weight
    reasons.append(f"source weight {best_weight:g} (+{settings.weight * best_weight:.2f})")
    novelty = settings.new if story.status == "new" else settings.update if story.status == "update" else 0.0
    total += novelty
    reasons.append(f"{story.status} (+{novelty:.2f})")
    newest = max(u.item.published for u in story.units)
    age_hours = (now - newest).total_seconds() / 3600
    if age_hours <= settings.fresh_hours:
        total += settings.fresh
        reasons.append(f"published {max(0, age_hours):.0f} h ago (+{settings.fresh:.2f})")
    points = max((int(u.item.signals.get("points", 0) or 0) for u in story.units), default=0)
    if points > 0:
        gain = settings.hn_points * math.log10(1 + points)
        total += gain
        reasons.append(f"{points} Hacker News points (+{gain:.2f})")
    if story.relevance < settings.relevance_floor:
        total -= settings.off_topic
        reasons.append(f"off-topic: only general-interest sources, nothing of the field (-{settings.off_topic:.2f})")
    if story.relevance > settings.relevance_floor:
        gain = settings.relevance * (story.relevance - settings.relevance_base)
        total += gain
        reasons.append(f"relevance to the field {story.relevance:.2f} ({gain:+.2f})")
    lead = story.lead
    primary = source_kind(lead.item.source_kind).primary and lead.kind == "story"
    changelog = bool(_CHANGELOG.search(lead.item.source_name) or _CHANGELOG.search(lead.item.url))
    guide = primary and bool(GUIDE.search(lead.item.title or lead.title))
    if guide:
        reasons.append(f"{lead.item.source_name} giving advice or a case study, not news (+0.00)")
    if primary and not changelog and not guide:
        head = f"{lead.title}. {lead.text[:300]}"
        launch = bool(LAUNCH.search(head) and entities(head))
        gain = settings.primary - (settings.title_only if len(lead.text) < settings.short_text and not launch else 0)
        total += gain
        reasons.append(f"{lead.item.source_name} telling its own news (+{gain:.2f})")
        major = n_sources > 1 or bool(MAJOR.search(lead.item.title or lead.title))
        if launch and major:
            total += settings.launch
            reasons.append(f"a launch or release (+{settings.launch:.2f})")
        elif launch:
            reasons.append("a launch of a feature only its maker tells (+0.00)")
    headlines = {u.item.title for u in story.units
                 if source_kind(u.item.source_kind).digest and not u.id.endswith(":0")}
    about = f"{lead.title}. {lead.text[:400]}"
    named = next((h for h in sorted(headlines) if headline_match(h, about)), "")
    if named:
        # a headline that names two stories ("Anthropic raises $65B …, releases Opus") puts the first first
        first = headline_match(_HEADLINE_BREAK.split(named, 1)[0], about)
        gain = settings.headline if first else settings.headline * settings.headline_second
        total += gain
        where = "the headline of a digest names it" if first else "a digest's headline names it after another"
        reasons.append(f"{where}: “{named[:80]}” (+{gain:.2f})")
    if changelog:
        total -= settings.changelog
        reasons.append(f"a release-notes entry (-{settings.changelog:.2f})")
    if lead.kind == "community":
        total -= settings.community
        reasons.append(f"community chatter: a forum thread (-{settings.community:.2f})")
        if lead.activity:
            gain = settings.activity * math.log10(1 + lead.activity)
            total += gain
            reasons.append(f"forum activity {lead.activity} (+{gain:.2f})")
    elif source_kind(lead.item.source_kind).digest and lead.theme_index:
        gain = settings.digest_position / math.sqrt(lead.theme_index)
        if lead.theme_part:
            gain *= settings.theme_follow_up
            reasons.append(f"paragraph {lead.theme_part + 1} of its digest's theme {lead.theme_index} (+{gain:.2f})")
        else:
            reasons.append(f"the opening of its digest's theme {lead.theme_index} (+{gain:.2f})")
        total += gain
    elif source_kind(lead.item.source_kind).digest and not lead.id.endswith(":0"):
        position = int(lead.id.rsplit(":", 1)[1])
        gain = settings.digest_position / math.sqrt(position)
        total += gain
        reasons.append(f"story {position} of its digest (+{gain:.2f})")
    if len(lead.text) < settings.short_text and not primary:
        total -= settings.short_penalty
        reasons.append(f"short text, {len(lead.text)} chars (-{settings.short_penalty:.2f})")
    elif _FIGURE.search(lead.text):
        total += 0.1
        reasons.append("carries figures (+0.10)")
    return round(total, 4), tuple(reasons)
