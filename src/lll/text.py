"""Sentences and the small text facts that writing and verifying share."""

from __future__ import annotations

import re

# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp e.g i.e u.s u.k u.n e.u approx fig no vol "
    "jan feb mar apr jun jul aug sep sept oct nov dec p.m a.m al".split()
)
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+|$)")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
NUMBER_WORDS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
                "Eleven", "Twelve")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``; ``text[start:end]`` is the sentence, stripped.
    Line breaks always end a sentence (headings, list items and paragraphs are lines in
    LLL's plain text); decimals, versions and abbreviations do not."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        base, chunk, start = para.start(), para.group(0), 0
        for match in _END.finditer(chunk):
            before = chunk[start:match.start()]
            last = before.rsplit(None, 1)[-1].lower().rstrip(".") if before.split() else ""
            nxt = chunk[match.end():].lstrip()[:1]
            if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()) or (nxt and nxt.islower()):
                continue
            spans.append((base + start, base + match.end()))
            start = match.end()
        if chunk[start:].strip():
            spans.append((base + start, base + len(chunk)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def spell_number(n: int) -> str:
    """"Four" for 4 (for "Four Clocks Worth Watching"); digits beyond twelve."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def long_date(day: str) -> str:
    """"April 8" for 2026-04-08 (how the prose names an earlier issue)."""
    _y, m, d = (int(x) for x in day.split("-"))
    return f"{MONTHS[m - 1]} {d}"


def words(text: str) -> int:
    return len(text.split())
