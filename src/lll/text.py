"""Sentences and the small text facts that writing and verifying share."""

from __future__ import annotations

import re

# Words after which a period does not end a sentence (exact case; dotted forms such as
# "U.S.", "e.g." and "p.m." are recognised by their shape, single letters are initials).
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Mx Dr Prof Sr Jr St Mt Rev Gen Gov Sen Rep Sgt Capt Col Lt "
    "Inc Ltd Co Corp Bros Dept Univ Ave Est Approx "
    "mr mrs ms dr prof sr jr st vs inc ltd co corp approx cf al est ca viz "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun Ph.D".split()
)
# Abbreviations only before a number ("No. 5", "Fig. 3"): "yes or no. The" ends a sentence.
NUMBERED = frozenset("No Nos no Fig Figs fig Vol vol Eq pp".split())
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")  # U.S, p.m, e.g, i.e
_TERMINATOR = re.compile(r"(?:\.{3}|…|[.!?])+[\"'”’»)\]]*")
_LIST_MARKER = re.compile(r"[ \t]*(?:[-*•+▪◦–]|\d{1,3}[.)]|#{1,6})[ \t]+")
_SMALL_WORDS = frozenset("a an and as at but by for from in into of on or the to vs via with".split())
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
NUMBER_WORDS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
                "Eleven", "Twelve")


def sentence_spans(text: str, *, paragraphs: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``; ``text[start:end]`` is the sentence, stripped.

    Decimals, versions ("4.5", "GPT 5.2", "Z.ai"), abbreviations ("Dr.", "Inc.",
    "U.S.", "p.m.") and initials ("J. Smith") stay inside their sentence, and a
    period followed by a lower-case word ends nothing.

    By default every line break ends a sentence: headings, list items and
    paragraphs are lines in LLL's plain text. With ``paragraphs=True`` (Markdown
    or wrapped prose, as the clocks read it) a single line break inside a
    paragraph does not; blank lines, list items and heading-like lines (short,
    Title Case, no final punctuation) do, and a leading list or heading marker
    ("- ", "1. ", "## ") is left out of the sentence.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in (_paragraph_blocks(text) if paragraphs else _line_blocks(text)):
        marker = _LIST_MARKER.match(text, block_start, block_end) if paragraphs else None
        for s, e in _sentences_in(text, marker.end() if marker else block_start, block_end):
            s, e = _trim(text, s, e)
            if s < e:
                spans.append((s, e))
    return spans


def _line_blocks(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^\n]+", text)]


def _paragraph_blocks(text: str) -> list[tuple[int, int]]:
    """Runs of lines that a sentence may span (paragraphs, list items, headings)."""
    blocks: list[tuple[int, int]] = []
    block_start: int | None = None
    previous_heading = in_list_item = False
    position = 0
    for line in text.splitlines(keepends=True):
        line_start, position = position, position + len(line)
        stripped = line.strip()
        is_item = _LIST_MARKER.match(line) is not None
        # A list item goes on only over indented lines (Markdown's continuation).
        list_ends = in_list_item and not line[:1].isspace()
        if block_start is not None and (not stripped or previous_heading or is_item or list_ends):
            blocks.append((block_start, line_start))
            block_start = None
        if stripped and block_start is None:
            block_start = line_start
            in_list_item = is_item
        previous_heading = bool(stripped) and _looks_like_heading(stripped)
    if block_start is not None:
        blocks.append((block_start, len(text)))
    return blocks


def _looks_like_heading(line: str) -> bool:
    """A short Title Case line without final punctuation, or a Markdown heading."""
    if line.startswith("#"):
        return True
    if len(line) > 100 or line[-1] in ".!?:;,\"'”’)":
        return False
    found = re.findall(r"[^\W\d_][\w'’.-]*", line)
    significant = [w for w in found if w.lower() not in _SMALL_WORDS]
    if not significant or len(found) > 14:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper())
    return capitalised * 3 >= len(significant) * 2


def _sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (untrimmed) of ``text[start:end]``."""
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for terminator in _TERMINATOR.finditer(text, start, end):
        after = terminator.end()
        rest = text[after:end]
        following = rest.lstrip()
        if not following:
            continue  # the block's end closes the sentence anyway
        if len(following) == len(rest):  # no space: "4.5", "Z.ai", "end.The"
            continue
        if following[0].islower() or not _ends_sentence(text, sentence_start, terminator):
            continue
        spans.append((sentence_start, after))
        sentence_start = after
    spans.append((sentence_start, end))
    return spans


def _ends_sentence(text: str, sentence_start: int, terminator: re.Match[str]) -> bool:
    """False when the period of ``terminator`` belongs to an abbreviation or an initial."""
    if terminator.group() != ".":
        return True
    word_start = terminator.start()
    while word_start > sentence_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start : terminator.start()].lstrip("(\"'“‘[")
    if word in ABBREVIATIONS or _DOTTED.fullmatch(word):
        return False
    if word in NUMBERED and text[terminator.end():].lstrip()[:1].isdigit():
        return False
    return not (len(word) == 1 and word.isalpha())  # an initial ("J. Smith"), "Musk v. Altman"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


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


# A scraped title with its listing's date and category glued on: "May 7, 2026AlignmentDonating our …".
_GLUED_DATE = re.compile(r"^(?:[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{4}-\d{2}-\d{2})(?=[A-Z])")
_GLUED_WORD = re.compile(r"[a-z](?=[A-Z][a-z])")
_GLUED_CATEGORY = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?(?=[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}[A-Z])")


def clean_title(title: str) -> str:
    """A title without the date and category a scraper glued before it (the title's own words
    are kept exactly, so it is still found in the item)."""
    first = _GLUED_CATEGORY.match(title)  # "InterpretabilityApr 2, 2026Emotion concepts … modelAll modern …"
    dated = _GLUED_DATE.match(title[first.end():]) if first else None
    if first and dated:
        rest = title[first.end() + dated.end():]
        seam = _GLUED_WORD.search(rest)  # the title runs into the post's summary
        return rest[:seam.start() + 1] if seam and seam.start() >= 10 else rest
    glued = _GLUED_DATE.match(title)
    if not glued:
        return title
    rest = title[glued.end():]
    numbered = re.match(r"[A-Z][a-z]{3,}(?=\d)", rest)  # "Policy2028: Two scenarios …": a category, then "2028: …"
    if numbered:
        return rest[numbered.end():]
    seam = _GLUED_WORD.search(rest)
    return rest[seam.end():] if seam and seam.start() < 40 else rest


_ENGLISH = frozenset("the a an and of to in is are was for on with that this by from as it its be at or "
                     "not have has will can new how why what we our you your they their".split())
_OTHER = frozenset("der die das und ist nicht mit wie eine einer ein für auf zu den dem des sich warum "
                   "le la les et est une des pour dans avec qui que el los las por para una del con es "
                   "il che di della per non sono".split())


def looks_english(text: str) -> bool:
    """Whether a text reads as English, by its function words ("the", "and") against those of
    German, French, Spanish and Italian ("und", "les", "los", "della"). Short texts pass."""
    found = re.findall(r"[a-zäöüßéèàáíóúñ]+", text[:600].lower())
    english = sum(w in _ENGLISH for w in found)
    other = sum(w in _OTHER for w in found)
    return other < 3 or english >= other
