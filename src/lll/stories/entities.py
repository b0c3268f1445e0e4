"""The named things a story is about — a model, a product, a company, a paper — read
from its words. Pure and cheap: capitalisation, digits and inner capitals, no model.

Two stories that share a topic ("agents", "Claude") are not one story continuing;
two that name the same specific thing ("GPT-5.5 Instant", "Muse Spark", "RadixArk")
may be. The ledger's callbacks, a story's "also covered by" and the headings that
name a section's subjects all read entities from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names so common in the field that sharing one says nothing about sharing a story.
FIELD_NAMES = frozenset(
    "ai agi api apis llm llms gpu gpus cpu tpu ml rl rag mcp sdk cli ui ux ceo cto pr prs os "
    "openai chatgpt gpt claude anthropic google gemini deepmind meta microsoft apple amazon aws nvidia "
    "github hugging face huggingface x twitter reddit discord hacker news youtube linkedin us uk eu".split()
)
# Capitalised words that open titles and sentences without naming anything.
GENERIC = frozenset(
    "the a an this that these those new today yesterday introducing announcing announces update updates "
    "monday tuesday wednesday thursday friday saturday sunday "
    "january february march april may june july august september october november december "
    "ask show tell hn part how why what when where who which we our i my it its is are was were "
    "did does do can could will would should may might must has have had be been being "
    "meet inside building using making from with after before about into our your "
    "here there now more most best first next last one two three our".split()
)
COMMON = FIELD_NAMES | GENERIC
_TOKEN = re.compile(r"[A-Za-z0-9][\w.+&'’/-]*[\w+]|[A-Za-z0-9]")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")
_SMALL = frozenset("of for the de la".split())


def _shape(token: str) -> str:
    """'digit' (GPT-5.5, V4), 'inner' (RadixArk, vLLM), 'caps' (Muse), 'lower'."""
    core = token.strip("'’.-/")
    if not core:
        return "lower"
    if any(c.isdigit() for c in core) and any(c.isalpha() for c in core):
        return "digit"
    if any(c.isupper() for c in core[1:]) and any(c.islower() for c in core):
        return "inner"
    if core[0].isupper():
        return "caps"
    if re.fullmatch(r"\d[\d.,]*", core):
        return "number"
    return "lower"


def _clean(token: str) -> str:
    return token.strip(".,;:!?\"'“”‘’()[]").removesuffix("’s").removesuffix("'s")


def phrase_spans(text: str, *, keep_common: bool = False) -> list[tuple[int, int]]:
    """Spans of runs of name-like tokens ("Claude Managed Agents", "Gemma 4", "GPT-5.5 Instant"),
    in order. A capitalised word that only opens a sentence is not a name by itself; the
    field's common names ("Claude", "OpenAI") count only with ``keep_common``."""
    out: list[tuple[int, int]] = []
    run: list[tuple[str, int, int]] = []
    run_start_plain = False

    def close() -> None:
        nonlocal run
        while run and run[-1][0].lower() in _SMALL:
            run.pop()
        if run and run_start_plain and _shape(run[0][0]) == "caps" and run[0][0].lower().endswith(("ing", "ed")):
            run = run[1:]  # "Deploying Claude …", "Introducing …": a verb opening the title, not a name
        if run and not keep_common and all(t.lower() in FIELD_NAMES for t, _s, _e in run):
            run = []  # "Claude", "OpenAI": the field's common names alone name no story
        if run and not (len(run) == 1 and run_start_plain and _shape(run[0][0]) == "caps"):
            out.append((run[0][1], run[-1][2]))
        run = []

    previous_end = 0
    for match in _TOKEN.finditer(text):
        token = _clean(match.group(0))
        if not token:
            continue
        gap = text[previous_end:match.start()]
        if run and gap.strip(" ") not in ("", "-"):
            close()  # punctuation between two words ends a name
        previous_end = match.end()
        if gap.endswith("@") or text[max(0, match.start() - 1):match.start()] == "@":
            close()  # a handle (@AravSrinivas) is who posted, not what the story is about
            continue
        shape = _shape(token)
        start = match.start() + match.group(0).find(token)
        lowered = token.lower()
        named = shape in ("digit", "inner", "caps") and lowered not in GENERIC  # "Gemini 3.5 Flash", "Harbor CLI"
        joins = named or (bool(run) and (shape in ("digit", "number") or lowered in _SMALL))
        if joins:
            if not run:
                run_start_plain = bool(_SENTENCE_START.search(text[:start]))
            run.append((token, start, start + len(token)))
        else:
            close()
    close()
    return out


def phrases(text: str, *, keep_common: bool = False) -> list[str]:
    return [text[s:e] for s, e in phrase_spans(text, keep_common=keep_common)]


def entities(text: str) -> frozenset[str]:
    """The specific names ``text`` mentions, folded to lower case."""
    found: set[str] = set()
    for phrase in phrases(text):
        tokens = phrase.split()
        if len(tokens) >= 2 or _shape(tokens[0]) in ("digit", "inner") or len(tokens[0]) >= 4:
            found.add(phrase.lower())
    return frozenset(found)


def specific(text: str) -> frozenset[str]:
    """The names of ``text`` that pick out one thing — several words ("Muse Spark"), a version
    ("GPT-5.5", "Gemma 4") or an inner capital ("RadixArk") — folded to lower case. One plain
    capitalised word ("Perplexity", "Agents") names a company or a topic, not a story."""
    return frozenset(specific_in_order(text))


def specific_in_order(text: str) -> list[str]:
    """``specific`` names in the order the text gives them: a title's first is its subject."""
    found: list[str] = []
    for phrase in phrases(text):
        tokens = phrase.split()
        if (len(tokens) >= 2 or _shape(tokens[0]) in ("digit", "inner")) and phrase.lower() not in found:
            found.append(phrase.lower())
    return found


def shared(a: Iterable[str], b: Iterable[str]) -> frozenset[str]:
    """Entities of ``a`` and ``b`` that name the same thing: equal, or one a whole-word part
    of the other ("gpt-5.5 instant" and "gpt-5.5")."""
    left, right = set(a), set(b)
    out = left & right
    for x in left:
        for y in right:
            if x != y and (_part(x, y) or _part(y, x)):
                out.add(min(x, y, key=len))
    return frozenset(e for e in out if e not in COMMON)


def _part(short: str, long: str) -> bool:
    if len(short) < 4 or short in COMMON:
        return False
    return f" {short} " in f" {long} " and (any(c.isdigit() for c in short) or " " in short or len(short) >= 5)


def name_tokens(text: str) -> frozenset[str]:
    """The lower-cased words of the names in ``text`` (field names too), split at hyphens:
    "GPT-5.5 Instant" gives {"gpt", "5.5", "instant"}."""
    out: set[str] = set()
    for phrase in phrases(text, keep_common=True):
        for token in re.split(r"[\s/-]+", phrase.lower().replace("’s", "").replace("'s", "")):
            if token and token not in GENERIC and token not in _SMALL:
                out.add(token)
    return frozenset(out)


def headline_match(headline: str, text: str) -> bool:
    """Whether ``text`` is about what ``headline`` names: one specific name word in common, or two
    when they are the field's common names ("GPT" and "5.5")."""
    wanted = name_tokens(headline)
    if not wanted:
        return False
    common = wanted & name_tokens(text)
    return any(t not in FIELD_NAMES for t in common) and len(common) >= 1 and \
        (len(common) >= 2 or any(len(t) >= 5 and t not in FIELD_NAMES for t in common))
