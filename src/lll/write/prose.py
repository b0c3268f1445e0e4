"""Which of a source's sentences are fit to print, and which say the most. Pure.

The offline writer copies sentences; a copied sentence must read as a sentence on its
own: whole (it starts as a sentence starts and ends as one ends), free of a digest's
scaffolding (forum engagement counts, image descriptions, lists of handles), and worth
the reader's time (figures, names, what happened). These rules are shared by the lede,
the story paragraphs and the clocks, and by the tests that hold the writer to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Scaffolding of a digest that recaps forums and social posts: never prose of ours.
_RESIDUE = (
    (re.compile(r"\((?:Activity|Score|Upvotes|Engagement):\s*[\d,]+\)", re.I), "a forum engagement count"),
    (re.compile(r"^\W*(?:The|This|An?|In the)\s+(?:(?:linked|attached|original|quoted|reddit|main)\s+)?"
                r"(?:image|images|post|post's|video|screenshot|thread|chart|meme|gif|photo|picture|figure|graphic|"
                r"infographic|diagram|table|tweet|clip|author|poster|OP|title)\b(?:\s+\w+)?\s+(?:\w+s|is|are|was|"
                r"were|has|had|seems|appears)\b", re.I),
     "a description of an image or a post"),
    (re.compile(r"\b(?:The|This|An?) (?:image|screenshot|meme|infographic|photo|chart) (?:is|shows|depicts)\b",
                re.I), "a description of an image or a post"),
    (re.compile(r"^\W*(?:(?:One|A|Another|Several|Many|Some|Other|Top|The)\s+)?(?:commenters?|comments?|"
                r"repl(?:y|ies)|redditors?|the OP|OP)\b", re.I), "forum comments"),
    (re.compile(r"\b(?:commenters?|redditors?|upvoted|downvoted|subreddit|the OP)\b", re.I), "forum comments"),
    (re.compile(r"^\W*(?:Another|Other|Some|Several|Many|Most)\s+(?:users?|posters?|people)\b"), "forum comments"),
    (re.compile(r"^\W*(?:See|Read|Watch|Link|Links|Source|Sources|Via|Thread|More)\b[^.]*?(?:\bhere\b|:|@)",
                re.I), "a pointer to elsewhere"),
    (re.compile(r"^\W*\d+\)\s*:"), "a leftover of a count"),
    (re.compile(r"\((?:[A-Z][\w.&'’-]*\s+){0,3}(?:tweet|tweets|announcement|thread|link|post|blog|video|source|"
                r"here|follow-up|update)s?\)", re.I),
     "a digest's link label"),
    (re.compile(r"\((?:[A-Za-z0-9_]*(?:[a-z][A-Z]|_|[a-z]\d)[A-Za-z0-9_]*|[a-z][a-z0-9_]{4,})\)"),
     "a social handle (who posted, in the digest's shorthand)"),
)
_HANDLE = re.compile(r"(?<![\w/])@\w+")
_WORD = re.compile(r"[^\W_][\w'’.-]*")
_DANGLING = frozenset("a an and as at but by for from in into of on or the to via vs with that which who "
                      "whose than then its their our your his her is are was were be been".split())
_CLOSERS = "\"'”’)]»"
# (not the "I" of "I/O", "Google/O", "Series I": a slash or a name around it is no pronoun)
_FIRST_PERSON = re.compile(r"(?<![\w'’/])(?:I|I['’](?:m|ve|d|ll)|[Mm]e|[Mm]y|[Mm]ine|[Ww]e|[Ww]e['’](?:re|ve|d|ll)|us|"
                           r"[Oo]ur|[Oo]urs|[Oo]urselves)(?![\w'’/])")
_ACTION = re.compile(
    r"\b(?:launch(?:es|ed)?|releas(?:es|ed)|announc(?:es|ed)|introduc(?:es|ed)|unveil(?:s|ed)|ship(?:s|ped)|"
    r"open-sourc(?:es|ed)|rais(?:es|ed)|acquir(?:es|ed)|partner(?:s|ed)|publish(?:es|ed)|debut(?:s|ed)|"
    r"roll(?:s|ed) out|rolled|expand(?:s|ed)|add(?:s|ed)|beat(?:s)?|top(?:s|ped)|scor(?:es|ed)|"
    r"outperform(?:s|ed)?|cut(?:s)?|reduc(?:es|ed)|doubl(?:es|ed)|found|show(?:s|ed)|report(?:s|ed)|"
    r"available|generally available|beta|preview)\b", re.I)
_FIGURE = re.compile(r"\d")
_NAME = re.compile(r"(?<![\w'’])(?:[A-Z][\w&'’.-]*\w|[a-z]+[A-Z][\w-]*\w)")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def residue(sentence: str) -> str:
    """Why ``sentence`` is a digest's scaffolding rather than news ("" when it is not)."""
    for pattern, reason in _RESIDUE:
        if pattern.search(sentence):
            return reason
    handles = len(_HANDLE.findall(sentence))
    if handles >= 3 or (handles and handles * 4 >= words(sentence)):
        return "a list of handles"
    if handles:
        return "a social handle (who posted, in the digest's shorthand)"
    return ""


def _balanced(text: str) -> bool:
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        return False
    if text.count("“") != text.count("”"):
        return False
    return text.count('"') % 2 == 0


def fragment(sentence: str, min_words: int = 6) -> str:
    """Why ``sentence`` cannot stand alone as a whole sentence ("" when it can)."""
    text = sentence.strip()
    if not text:
        return "empty"
    first = text.lstrip("\"'“‘(*_")[:1]
    if not first or not (first.isupper() or first.isdigit() or first in "$€£@"):
        return "starts mid-sentence"
    if re.match(r"^\W*\d+\)", text) or text[:1] in ")]:;,.-–—":
        return "starts with a stray fragment"
    n = words(text)
    if n < min_words:
        return f"{n} words"
    core = text.rstrip(_CLOSERS)
    if not core.endswith((".", "!", "?")) or core.endswith(("...", "…")):
        return "cut off"
    last = _WORD.findall(core)
    if last and last[-1].lower().rstrip(".") in _DANGLING:
        return "cut off"
    if not _balanced(text):
        return "unbalanced quotes or brackets"
    if re.search(r"[.!?][\"'”’)]*\s+[a-z]", text):
        return "a sentence inside it starts mid-sentence"
    if re.search(r"(?<![\w'’-])[a-z]{2,}[A-Z][a-z]{2,}|[a-z]{3,}(?:and|with|the)[A-Z][a-z]", text):
        return "words glued together (markup without spaces)"  # "access toDevin ReviewandQuick Review"
    if text.rstrip(_CLOSERS).endswith(":."):
        return "cut off"
    return ""


def sentence_like(title: str) -> bool:
    """Whether a title reads as the opening of a sentence ("OpenAI pushed Codex further into
    day-to-day workflows"), not a headline in title case ("Agent Tooling: Harbor CLI")."""
    found = _WORD.findall(title)
    lower = sum(w[0].islower() for w in found[1:])
    return len(found) >= 4 and found[0][0].isupper() and lower * 3 >= len(found) - 1


def printable(sentence: str, min_words: int = 6) -> bool:
    return not fragment(sentence, min_words) and not residue(sentence)


def first_person(sentence: str) -> bool:
    """The source speaking for itself ("we are launching", "I think"): quoted, never ours."""
    return bool(_FIRST_PERSON.search(sentence))


def quoted(sentence: str) -> str:
    """A source's own words in quotation marks (its inner double quotes made single)."""
    inner = sentence.strip().replace("“", "‘").replace("”", "’").replace('"', "'")
    return f"“{inner}”"


def informativeness(sentence: str) -> float:
    """How much a sentence tells: figures, names, an action; handles and length cost."""
    n = words(sentence)
    figures = len(set(re.findall(r"\d[\d,.]*%?", sentence)))
    names = len(set(_NAME.findall(sentence)))
    score = min(figures, 4) * 1.0 + min(names, 6) * 0.35 + (1.0 if _ACTION.search(sentence) else 0.0)
    score -= 0.6 * len(_HANDLE.findall(sentence))
    if n > 45:
        score -= (n - 45) * 0.05
    if first_person(sentence):
        score -= 0.5
    return score


_STOP = frozenset("about after also been before being between both could each from have into just like more most "
                  "much only other over same some such than that their them then there these they this those "
                  "through very what when where which while will with would your".split())


def _key_words(sentence: str) -> frozenset[str]:
    return frozenset(w.lower() for w in re.findall(r"[A-Za-z0-9][\w-]{3,}", sentence)) - _STOP


def repeats(sentence: str, told: Iterable[str], overlap: float = 0.6) -> bool:
    """True when ``sentence`` says what one of ``told`` already said (most of its words)."""
    mine = _key_words(sentence)
    if not mine:
        return False
    for other in told:
        theirs = _key_words(other)
        common = len(mine & theirs)
        # most of *its* words said already: a long sentence that adds much to a short one is news
        if theirs and common >= 3 and common >= overlap * len(mine):
            return True
    return False


_TRAILING_HANDLE = re.compile(r"[\s,;:]*(?:(?:via|per|from|by|see|and|with|in|on)\s+)?@\w+$", re.I)
_TRAILING_PARENS = re.compile(r"\s*\(([^()]*)\)$")
_DANGLING_CREDIT = re.compile(r"[\s,;:—–-]*(?:\b(?:via|per|from|by|see|and|with|in|on|according to)\s*)*$", re.I)


def _all_labels(inside: str, labels: frozenset[str]) -> bool:
    """Whether a parenthesis only lists the texts of the unit's links ("(Figure CEO Brett Adcock,
    24h update, Day 2 livestream)"): a digest's sources, not its words."""
    parts = [p.strip() for p in inside.split(",")]
    return bool(labels) and all(p in labels for p in parts)


def without_credits(sentence: str, labels: frozenset[str] = frozenset()) -> str:
    """A digest's sentence without the handles and link labels it ends on ("…, per @sama.",
    "… (ClaudeDevs, Cat Wu).") — its own words up to there, closed with a period; the
    sentence unchanged when it ends on none."""
    core = sentence.rstrip()
    end = core[-1:] if core[-1:] in ".!?" else ""
    core = core[:-1] if end else core
    changed = False
    while True:
        handle = _TRAILING_HANDLE.search(core)
        parens = _TRAILING_PARENS.search(core)
        if handle:
            core = core[:handle.start()]
        elif parens and (residue(f"({parens.group(1)})") or _HANDLE.search(parens.group(1))
                         or re.search(r"[a-z][A-Z]", parens.group(1)) or _all_labels(parens.group(1), labels)):
            core = core[:parens.start()]
        else:
            break
        changed = True
    if not changed:
        return sentence
    core = core[:_DANGLING_CREDIT.search(core).start()].rstrip()  # type: ignore[union-attr]
    return f"{core}{end or '.'}"


def pick(candidates: Sequence[tuple[int, int]], text: str, *, told: Sequence[str] = (), max_sentences: int = 4,
         max_words: int = 110, min_sentences: int = 2, labels: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The most informative printable sentences among ``candidates`` (spans into ``text``),
    in their own order, none repeating what ``told`` or each other said. The first
    sentence says what happened, so it keeps a head start."""
    scored: list[tuple[float, int, tuple[int, int]]] = []
    for position, (s, e) in enumerate(candidates):
        sentence = without_credits(text[s:e], labels)
        # the opening sentence may be short ("Figure's livestream dominated robotics discussion."): it says who
        if not printable(sentence, 4 if position == 0 else 6) or repeats(sentence, told):
            continue
        bonus = 1.5 if position == 0 else 0.5 if position == 1 else 0.0
        scored.append((informativeness(sentence) + bonus, position, (s, e)))
    chosen: list[tuple[int, tuple[int, int]]] = []
    budget = max_words
    for _score, position, (s, e) in sorted(scored, key=lambda x: (-x[0], x[1])):
        sentence = without_credits(text[s:e], labels)
        n = words(sentence)
        if len(chosen) >= max_sentences or (chosen and n > budget):
            continue
        if repeats(sentence, [without_credits(text[a:b], labels) for _p, (a, b) in chosen]):
            continue
        chosen.append((position, (s, e)))
        budget -= n
        if budget <= 0 and len(chosen) >= min_sentences:
            break
    return [span for _p, span in sorted(chosen)]
