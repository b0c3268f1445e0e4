"""Editorial checks on a drafted issue: pure functions over strings and ``issues/DATE.json`` dicts.

What an editor would strike when reading an issue, counted so that a change shows as figures:
forum residue (AINews/Reddit/Discord scaffolding that reached prose), broken sentences, ledes that
are not one whole sentence, long or cut headings, clocks told twice, callbacks. No I/O here: the
bench (``bench/editorial.py``) reads the files and calls these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# -- text helpers -----------------------------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")
_WORD = re.compile(r"[\w][\w'’.&+/-]*")


def strip_links(text: str) -> str:
    """Markdown ``[label](url)`` as its label."""
    return _LINK.sub(r"\1", text)


def words(text: str) -> int:
    return len(_WORD.findall(strip_links(text)))


# Abbreviations after which a full stop does not end a sentence.
_ABBREV = {"e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "st", "inc", "ltd", "co", "corp", "jr", "sr",
           "no", "fig", "approx", "est", "u.s", "u.k", "e.u", "a.i", "al", "cf", "mt", "gen", "prof"}
_BOUNDARY = re.compile(r"(?<=[.!?])([\"”’)\]]*)\s+(?=\S)")


def sentences(text: str) -> list[str]:
    """Split prose into sentences at ``. ! ?`` followed by space — whatever case comes next, so a
    cut span ("tasks. have found over…") shows as the fragments it is. Abbreviations, initials
    ("J. Smith") and version dots ("v1. ") do not split."""
    text = strip_links(text).strip()
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[start:m.start()].rstrip("\"”’)]")
        last = before.split()[-1] if before.split() else ""
        token = last.rstrip(".!?").lower()
        if last.endswith(".") and (token in _ABBREV or re.fullmatch(r"[a-z]", token)
                                   or re.fullmatch(r"v?\d+", token)):
            continue
        out.append(text[start:m.start() + len(m.group(1))].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


# -- forum residue ----------------------------------------------------------------------------------

_HANDLE_WORDS = {"image", "video", "beta", "preview", "paper", "link", "thread", "demo", "code", "blog", "post",
                 "open", "free", "pdf", "alpha", "new", "soon", "source", "repo", "docs", "ours", "sic", "est"}
RESIDUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("activity count", re.compile(r"\(Activity(?::\s*[\d,]+\)?|\b)", re.I)),
    ("count leftover", re.compile(r"(?:^|(?<=[\s:]))\d[\d,]*\):")),
    ("media description", re.compile(
        r"\b(?:The|This|A|An) (?:Reddit |attached |linked )?(?:image|images|post|video|screenshot|meme|chart|graph|"
        r"photo|picture|gif|tweet|thread|comment section|discussion)(?:\s*\([^)]*\))? (?:is|are|shows|showcases|"
        r"depicts|discusses|describes|highlights|features|illustrates|appears|contains|presents|humorously|"
        r"captures|displays|provides|raises|from|of a|titled|is titled)\b")),
    ("image tag", re.compile(r"\((?:image|video|gif|screenshot|link)\)", re.I)),
    ("handle", re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{2,}")),
    ("forum scaffolding", re.compile(
        r"(?<![\w/])(?:r/[A-Za-z0-9_]+|u/[A-Za-z0-9_-]+)|\b(?:subreddit|Redditors?|upvoted?s?|downvoted?|"
        r"Top comments?|commenters?|OP(?= [a-z])|the OP|Discord(?: server| channel| users?| recap)?|"
        r"AI (?:Twitter|Reddit|Discord) Recap|Summary of Summaries|submitted by|\[removed\]|\[deleted\])\b")),
)
_PAREN_HANDLES = re.compile(r"\(([^()\s,]+(?:,\s*[^()\s,]+)*)\)(?=[.,;:]|\s*$)")


def _handle_like(token: str) -> bool:
    token = token.strip()
    if token.startswith("@"):
        return True
    if not re.fullmatch(r"[A-Za-z0-9_]{3,}", token) or token.isdigit():
        return False
    if "_" in token or (re.search(r"\d", token) and re.search(r"[a-z]", token)):
        return True  # scaling01, zephyr_z9
    if re.fullmatch(r"[a-z]+", token):
        return token not in _HANDLE_WORDS  # karpathy, cgeorgiaw
    return bool(re.fullmatch(r"[A-Z]?[a-z]+(?:[A-Z][A-Za-z]*)+", token)) and not re.fullmatch(r"[A-Z][a-z]*AI", token) \
        or bool(re.fullmatch(r"[A-Z][a-z]+[A-Z]{2,}[a-z]*\w*", token))  # teortaxesTex, SakanaAILabs, AnthropicAI


def residues(text: str) -> list[tuple[str, str]]:
    """Forum residue in prose: (kind, the matched text). Links are read as their labels."""
    plain = strip_links(text)
    found: list[tuple[str, str]] = []
    for kind, pattern in RESIDUE_PATTERNS:
        found += [(kind, m.group(0)) for m in pattern.finditer(plain)]
    for m in _PAREN_HANDLES.finditer(plain):
        tokens = [x.strip() for x in m.group(1).split(",")]
        if any("@" in x for x in tokens):
            continue  # already counted as handles
        if len(tokens) >= 2 and all(_handle_like(x) or re.fullmatch(r"[A-Za-z0-9_]+", x) for x in tokens) \
                and any(_handle_like(x) for x in tokens):
            found.append(("handle list", m.group(0)))
        elif len(tokens) == 1 and _handle_like(tokens[0]):
            found.append(("handle list", m.group(0)))
    return found


# -- fragments --------------------------------------------------------------------------------------

DANGLING = {"that", "and", "the", "a", "an", "of", "to", "with", "for", "or", "but", "from", "is", "are", "was", "were",
            "which", "who", "whose", "than", "its", "their", "our", "your", "these", "those", "into", "because",
            "while", "where", "has", "have", "be", "if", "vs", "via"}  # "moved on", "logged in" end whole
# Words a title cut to fit a heading tends to end on ("…Is Now a Central Part", "…Read Mostly").
CUT_ENDINGS = {"part", "said", "says", "so", "around", "becoming", "being", "mostly", "got", "even", "visibly", "just"}
_TERMINAL = re.compile(r"[.!?…][\"”’')\]*_]*$")


def fragment(sentence: str) -> str | None:
    """Why ``sentence`` is not a whole sentence a reader can read, or None when it is."""
    s = strip_links(sentence).strip().strip("*_ ")
    if not s:
        return None
    first = s.split()[0]
    if re.match(r"[)\]}]", s):
        return "starts with a closing paren"
    if re.match(r"\d[\d,.]*\)", s) or re.match(r"\d[\d,]*\s*\):", s):
        return "starts with a count leftover"
    if re.match(r"[,;:.—–-]", s) and not re.match(r"-?\d", s):
        return "starts with stray punctuation"
    if re.match(r"\((?:Activity|Score|Points)\b", s, re.I):
        return "starts with a count leftover"
    if re.search(r"\S\s*\(Activity(?::\s*[\d,]+)?\)?:\s", s):
        return "a title glued to its text"
    if re.search(r"\b(?:and|the|of|to|for|with|a|an)\s*,\s", s):
        return "cut mid-sentence"
    if first[0].islower() and not re.search(r"[A-Z0-9]", first):
        return "starts lowercase"
    if words(s) < 4:
        return "under 4 words"
    if not _TERMINAL.search(s):
        return "no terminal punctuation"
    last = re.sub(r"[^\w'’-]", "", s.rstrip(".!?…\"”’')]*_ ").split()[-1]).lower() if s.split() else ""
    if last in DANGLING:
        return f"ends in a dangling '{last}'"
    if s.count("(") != s.count(")"):
        return "unbalanced parentheses"
    straight = s.count('"')
    if straight % 2 or s.count("“") != s.count("”"):
        return "unbalanced quotes"
    return None


def fragments(text: str) -> list[tuple[str, str]]:
    """(reason, sentence) for each broken sentence of a stretch of prose."""
    return [(why, s) for s in sentences(text) if (why := fragment(s))]


# -- ledes and headings -----------------------------------------------------------------------------

_HEADLINE_LEDE = re.compile(r",\s+[^,]{2,60}\s+(?:reports|reported|says|writes|notes)\.[\"”]?$")
LEDE_WORDS = (6, 30)


def lede_problem(lede: str) -> str | None:
    """Why the lede is not one whole sentence of 6–30 words (headline + "X reports." is not one)."""
    text = strip_links(lede).strip()
    if not text:
        return "no lede"
    if _HEADLINE_LEDE.search(text):
        return "headline + 'X reports.'"
    parts = sentences(text)
    if len(parts) != 1:
        return f"{len(parts)} sentences"
    n = words(text)
    if not LEDE_WORDS[0] <= n <= LEDE_WORDS[1]:
        return f"{n} words"
    why = fragment(text)
    return f"fragment ({why})" if why else None


def heading_words(heading: str) -> int:
    return words(heading)


def heading_cut(heading: str) -> bool:
    """A heading that ends mid-phrase ("Reward Hacking Is Now a Central Part", "Reminder That,")."""
    text = strip_links(heading).strip()
    if re.search(r"[,;:(—–/+-]$", text) or text.count("(") != text.count(")"):
        return True
    # a heading glued from titles ("A, B, and C"): each part must end whole
    for part in re.split(r",\s+(?:and\s+)?|\s+and\s+(?=[A-Z@])", text):
        part = part.strip()
        if not part:
            return True
        if re.search(r"[,;:(—–/+-]$", part):
            return True
        last = re.sub(r"[^\w'’-]", "", part.split()[-1]).lower()
        if last in DANGLING or last in CUT_ENDINGS:
            return True
    return False


# -- clocks ---------------------------------------------------------------------------------------

def clock_key(clock: dict[str, Any]) -> str:
    """What makes two clocks the same: the source sentence (else the heading), as lowercase words."""
    text = clock.get("sentence") or clock.get("heading") or ""
    return " ".join(re.findall(r"[a-z0-9]+", strip_links(str(text)).lower()))[:200]


def _clock_keys(clock: dict[str, Any]) -> set[str]:
    keys = {clock_key(clock)}
    heading = " ".join(re.findall(r"[a-z0-9]+", str(clock.get("heading", "")).lower()))
    if heading:
        keys.add("h:" + heading)
    return keys - {""}


def duplicate_clocks(clocks: Sequence[dict[str, Any]]) -> int:
    """Clocks of one issue that repeat an earlier clock of the same issue (same sentence or heading)."""
    seen: set[str] = set()
    dupes = 0
    for clock in clocks:
        keys = _clock_keys(clock)
        if keys & seen:
            dupes += 1
        seen |= keys
    return dupes


def repeated_clocks(previous: Sequence[dict[str, Any]], current: Sequence[dict[str, Any]]) -> int:
    """Clocks of an issue that the issue before it listed already."""
    before = set().union(*(_clock_keys(c) for c in previous)) if previous else set()
    return sum(1 for c in current if _clock_keys(c) & before)


_DURATION = re.compile(r"^(?:in (?:under|less than|just|only)|within|after|over the (?:past|last))\b", re.I)
_FUTURE = re.compile(r"\b(?:will|would|to be|is to|are to|plans? to|expects? to|set to|due|coming|upcoming|next|"
                     r"starting|begins?|launch(?:es)? on|by)\b", re.I)
_NOUN_AFTER = re.compile(r"^[-\s]*(?:close|closes|review|reviews|report|reports|reporting|processes|process|"
                         r"deadline|cycle|crunch)\b", re.I)


def clock_backward(clock: dict[str, Any]) -> str | None:
    """Why a clock is not a forward-looking date, or None: a measured duration ("Codex doubling
    revenue in under seven days"), or a date-like word used as a noun ("month-end close")."""
    phrase = str(clock.get("phrase", "")).strip()
    sentence = strip_links(str(clock.get("sentence", "")))
    at = sentence.lower().find(phrase.lower()) if phrase else -1
    before = sentence[max(0, at - 60):at] if at >= 0 else ""
    after = sentence[at + len(phrase):] if at >= 0 else ""
    if _DURATION.match(phrase) and not _FUTURE.search(before):
        return "a measured duration, not a date ahead"
    if re.search(r"-end$", phrase) and _NOUN_AFTER.match(after):
        return "a date word used as a noun"
    return None


# -- reading an issue's JSON ------------------------------------------------------------------------

PROSE_ROLES = {"source", "", None}


def _paragraphs(issue: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for section in issue.get("sections", []):
        yield from section.get("paragraphs", [])
    for clock in issue.get("clocks", []):
        if clock.get("paragraph"):
            yield clock["paragraph"]


def prose(issue: dict[str, Any]) -> list[str]:
    """The body sentences of an issue as written (lede, sections, clocks), one string per sentence
    record; attribution and callback wording ("X reported:") is LLL's fixed text, checked apart."""
    out = [s["text"] for s in issue.get("lede", {}).get("sentences", [])]
    for p in _paragraphs(issue):
        out += [s["text"] for s in p.get("sentences", []) if s.get("role") in PROSE_ROLES]
    return out


def headings(issue: dict[str, Any]) -> list[str]:
    return [s.get("heading", "") for s in issue.get("sections", [])] + \
        [c.get("heading", "") for c in issue.get("clocks", [])]


@dataclass(frozen=True)
class Callback:
    """A "Following up on …" link an issue made: the later story and the earlier one it follows."""

    date: str
    story_id: str
    title: str
    url: str
    earlier_date: str
    earlier_id: str


def callbacks(issue: dict[str, Any]) -> list[Callback]:
    stories = {s["id"]: s for s in issue.get("stories", [])}
    out = []
    for p in (p for section in issue.get("sections", []) for p in section.get("paragraphs", [])):
        cb = next((s for s in p.get("sentences", []) if s.get("role") == "callback"), None)
        if cb is None or p.get("kind") != "story":  # a running clock's "first noted here" is no callback
            continue
        story = stories.get(p.get("story_id") or "", {})
        previous = story.get("previous") or {}
        earlier = previous.get("told_in") or next(
            (c.get("issue_date") for c in cb.get("citations", []) if c.get("issue_date")), "")
        lead = (story.get("units") or [{}])[0]
        out.append(Callback(issue.get("date", ""), p.get("story_id") or "", lead.get("title", story.get("title", "")),
                            lead.get("url", ""), earlier or "", previous.get("id", "")))
    return out


def told_leads(issue: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(story id, lead title, lead url) of each story the issue told."""
    return [(s["id"], (s.get("units") or [{}])[0].get("title", s.get("title", "")),
             (s.get("units") or [{}])[0].get("url", "")) for s in issue.get("stories", []) if s.get("told")]


def told_stories(issue: dict[str, Any]) -> dict[str, Story]:
    """Each story the issue told, by id, with all its units."""
    out = {}
    for s in issue.get("stories", []):
        if not s.get("told"):
            continue
        units = tuple((u.get("title", ""), u.get("url", "")) for u in s.get("units") or [])
        lead = units[0] if units else (s.get("title", ""), "")
        out[s["id"]] = Story(issue.get("date", ""), lead[0], lead[1], units[1:])
    return out


# -- callback labels ------------------------------------------------------------------------------

def canonical(url: str) -> str:
    """A URL as labels key it: no scheme, no www., no fragment or trailing slash, lowercase host."""
    url = url.strip()
    url = re.sub(r"^[a-z]+://", "", url, flags=re.I)
    url = url.split("#")[0].rstrip("/")
    host, _, path = url.partition("/")
    host = host.lower().removeprefix("www.")
    return host + ("/" + path if path else "")


def title_similarity(a: str, b: str) -> float:
    """Overlap of the lowercase content words of two titles (shared words over the shorter title's),
    so a title cut or cleaned by a later version still matches its longer form."""
    wa = {w for w in re.findall(r"[a-z0-9]+", a.lower()) if len(w) > 2}
    wb = {w for w in re.findall(r"[a-z0-9]+", b.lower()) if len(w) > 2}
    return len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0


@dataclass(frozen=True)
class Story:
    """One told story, as the labels see it: its date, lead title and URL, and (title, url) of
    its other units — a later version may choose another lead for the same story."""

    date: str
    title: str
    url: str
    units: tuple[tuple[str, str], ...] = ()


def same_story(label: dict[str, Any], side: str, story: Story, max_days: int = 3) -> float:
    """How well ``story`` is the ``side`` ("earlier"/"later") story of ``label``: 0 when it is not
    (no unit with the label's lead URL, or told more than ``max_days`` away), else a score in
    (0, 2.5] favouring the same day, the same lead and a similar title. A newsletter post's URL is
    shared by many stories: then the unit's title must be similar too."""
    from datetime import date

    days = abs((date.fromisoformat(story.date) - date.fromisoformat(label[f"{side}_date"])).days)
    if days > max_days:
        return 0.0
    want = canonical(label[f"{side}_url"])
    best = 0.0
    for n, (title, url) in enumerate(((story.title, story.url), *story.units)):
        if canonical(url) != want:
            continue
        sim = title_similarity(title, label[f"{side}_title"])
        if label.get(f"{side}_shared_url") and sim < 0.5:
            continue
        best = max(best, (1.0 - days / (max_days + 1)) + sim + (0.5 if n == 0 else 0.0))
    return best


def _best(labels: Sequence[dict[str, Any]], earlier: Story, later: Story) -> dict[str, Any] | None:
    scored = [(same_story(x, "earlier", earlier) * same_story(x, "later", later), n) for n, x in enumerate(labels)]
    scored = [(s, n) for s, n in scored if s > 0]
    return labels[max(scored)[1]] if scored else None


@dataclass(frozen=True)
class CallbackScore:
    made: int
    labelled: int
    right: int
    unlabelled: tuple[str, ...]
    true_pairs_told: int
    true_pairs_called: int

    @property
    def precision(self) -> float | None:
        return self.right / self.labelled if self.labelled else None

    @property
    def recall(self) -> float | None:
        return self.true_pairs_called / self.true_pairs_told if self.true_pairs_told else None


def score_callbacks(made: Iterable[tuple[Story, Story]], told: Sequence[Story],
                    labels: Sequence[dict[str, Any]]) -> CallbackScore:
    """Precision of the callbacks ``made`` ((earlier, later) stories) against the labels, and
    recall over the true-labelled pairs whose two stories were both told (in ``told``)."""
    made = list(made)
    matched = [(_best(labels, e, lt), e, lt) for e, lt in made]
    labelled = [m for m, _, _ in matched if m is not None]
    right = sum(1 for m in labelled if m["label"])
    unlabelled = tuple(f"{lt.date} {lt.title[:60]!r} -> {e.date} {e.title[:60]!r}"
                       for m, e, lt in matched if m is None)
    called = {id(m) for m in labelled}
    true_told = 0
    true_called = 0
    for label in labels:
        if not label["label"]:
            continue
        if any(same_story(label, "earlier", s) for s in told) and any(same_story(label, "later", s) for s in told):
            true_told += 1
            true_called += id(label) in called
    return CallbackScore(len(made), len(labelled), right, unlabelled, true_told, true_called)
