"""Clocks: forward-looking statements with a date or a horizon, found in source text.

An issue closes with "N Clocks Worth Watching": things a source says will happen
on a date ("launches on April 13") or within a horizon ("over the next 30 days").
Each is stored with a due date so that a later issue revisits it. This module is
the pure part of that: given a text and the date the text was published (the
*reference*), :func:`extract_clocks` returns the sentences that look forward and
carry a date or horizon it can resolve, as :class:`ClockCandidate` values with
exact character offsets into the text.

Rules (each one tested in ``tests/test_clocks.py``):

- **Sentences** come from :func:`lll.text.sentence_spans` with
  ``paragraphs=True``, the splitter the writer and the verifier use: it keeps
  abbreviations ("U.S.", "Dr.", "Inc.", "p.m."), decimals and version numbers
  ("4.5", "GPT 5.2") inside their sentence; blank lines, list items and
  heading-like lines also end a sentence. ``text[start:end]`` is the sentence.
- **Forward, not past.** A date phrase counts only if the cue nearest to it in
  its clause looks forward ("will", "is expected to", "scheduled", "due",
  "deadline", "launches", "opens", "worth tracking", ...), not back ("was",
  "launched", "released", "last week", "ago", ...). Phrases that say the future
  by themselves ("over the next 30 days", "in the coming weeks", "next
  Tuesday", "later this month", "tomorrow") need no other cue, but a past cue
  nearer to them still rejects them. "in coming weeks" reads as "in the coming
  weeks".
- **Starts, ends and obligations.** "starting / beginning / effective June 1"
  look forward by their preposition; "must", "needs to", "stops", "sunsets",
  "moves / switches / transitions to" are forward cues ("users must migrate
  before the CLI stops serving requests on June 18").
- **A period that ends** ("limits raised through July 13", "discounts extended
  until June 30"): a ``through / until`` date ahead is a clock whatever the
  verb; a yearless date already past is not moved to next year.
- **Present progressive** ("Google is turning Fitbit into … on May 26") looks
  forward when its date is ahead; it never moves a past date to next year.
- **Durations are not dates.** A counted span without "from now" ("in 14
  days", "within 4 days", "in 24 months") needs a strong cue ("will",
  "expected"); without one it measures how long something took. An offer's
  horizon after "customers / users … -ing" ("for customers switching in the
  next 30 days") is a clock whatever the main verb.
- **Not dates at all:** "Q4" in a sentence about quantisation ("from Q4 to Q6",
  "Q8_0", "GGUF", "4-bit"); "month-end close" or "year-end review" without a
  preposition; and a publication's own schedule ("The full issue arrives on
  Friday", "see you next week").
- **Due dates** are resolved against the reference date:

  ============================  ====================================  =========
  phrase                        due                                   precision
  ============================  ====================================  =========
  "on April 13", "2026-04-20"   that day                              day
  "on the 24th"                 the next 24th on or after the         day
                                reference
  "next Tuesday"                that weekday in the week after the    day
                                reference's week (weeks start Monday)
  "on Tuesday", "Tuesday"       the first such weekday after the      day
                                reference (the same weekday: +7)
  "tomorrow"                    reference + 1                         day
  "this week", "later this      Sunday of the reference's week        week
  week", "this weekend"
  "next week"                   Monday of next week + 6 (its Sunday)  week
  "in June", "by June 2026"     last day of that month                month
  "early / mid / late June"     the 10th / 15th / last day            month
  "next June"                   the first June after the reference    month
                                month
  "later this month"            last day of the reference's month     month
  "next month"                  last day of the next month            month
  "in Q3", "by the end of Q2"   last day of the quarter               quarter
  "in H2", "the second half"    last day of that half-year            quarter
  "later this year", "by 2027"  December 31 (early: Mar 31, mid: Jun  year
                                30)
  "over the next 30 days",      reference + 30 days / + 14 days       day
  "within two weeks"            (counted spans: day, week or month)   / week
  "in the coming weeks"         reference + 21 days (days: 7,         horizon
                                months: 90, years: 365)
  ============================  ====================================  =========

- **Past dates are not clocks.** A due date before the reference is dropped,
  except a date whose year was not written ("on January 5", "in March", "in
  Q1"): if it is past by more than :data:`PAST_GRACE_DAYS` it moves to next
  year when the statement is clearly future (a strong cue such as "will",
  "expected", "scheduled", or a next-year date within half a year).
- **Ungrounded dates are dropped**: a phrase that names no resolvable date
  ("soon", "February 30", "within two weeks of launch") gives no clock.
- **One clock per sentence**: when a sentence carries several, the earliest due
  date wins (the first in the text on a tie).

Numeric dates that the patterns above do not read ("5/20/2026", "20.05.2026",
"May the 20th") fall back to ``dateparser``, imported only when such a sentence
turns up.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from lll.text import sentence_spans

__all__ = [
    "PAST_GRACE_DAYS",
    "ClockCandidate",
    "Kind",
    "Precision",
    "extract_clocks",
    "is_due",
    "spell_count",
]

Precision = Literal["day", "week", "month", "quarter", "year", "horizon"]
Kind = Literal["date", "horizon"]

#: A date without a written year that is past by at most this many days is the
#: recent past (dropped); further back, it may be next year's (see module doc).
PAST_GRACE_DAYS: Final = 14
#: A next-year date is accepted on a weak cue ("opens on January 5") only when
#: it is at most this many days after the reference.
_WEAK_ROLLOVER_DAYS: Final = 183


@dataclass(frozen=True, slots=True)
class ClockCandidate:
    """A forward-looking sentence of a source and the due date it names.

    ``text == source[start:end]`` and ``phrase == source[phrase_start:phrase_end]``
    where ``source`` is the text given to :func:`extract_clocks`.
    """

    text: str
    start: int
    end: int
    phrase: str
    phrase_start: int
    phrase_end: int
    due: date
    precision: Precision
    kind: Kind


def is_due(due: date, today: date) -> bool:
    """True when a clock due on ``due`` should be revisited by the issue of ``today``."""
    return today >= due


_SMALL_NUMBERS: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS_WORDS: Final = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_count(n: int) -> str:
    """``n`` in words, capitalised for a heading: 4 → "Four", 21 → "Twenty-One".

    Spells 0 to 99; larger numbers come back as digits. Negative numbers raise
    ``ValueError``.
    """
    if n < 0:
        raise ValueError(f"cannot spell a negative count: {n}")
    if n < 20:
        return _SMALL_NUMBERS[n].capitalize()
    if n < 100:
        tens, units = divmod(n, 10)
        word = _TENS_WORDS[tens - 2].capitalize()
        return word if units == 0 else f"{word}-{_SMALL_NUMBERS[units].capitalize()}"
    return str(n)


# --------------------------------------------------------------------------- phrases

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("January", "Jan"),
            ("February", "Feb"),
            ("March", "Mar"),
            ("April", "Apr"),
            ("May",),
            ("June", "Jun"),
            ("July", "Jul"),
            ("August", "Aug"),
            ("September", "Sept", "Sep"),
            ("October", "Oct"),
            ("November", "Nov"),
            ("December", "Dec"),
        ),
        start=1,
    )
    for name in names
}
_FULL_MONTHS: Final = [name for name in _MONTHS if len(name) > 4 or name in ("May", "June", "July")]
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS: Final = {"first": 1, "second": 2, "third": 3, "fourth": 4}

_MONTH: Final = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_FULL_MONTH: Final = "(?:" + "|".join(sorted(_FULL_MONTHS, key=len, reverse=True)) + ")"
_WEEKDAY: Final = "(?:" + "|".join(_WEEKDAYS) + ")"
_YEAR: Final = r"(?:19|20)\d{2}"
_NUMBER_WORDS: Final = {word: value for value, word in enumerate(_SMALL_NUMBERS)} | {
    word: 20 + 10 * index for index, word in enumerate(_TENS_WORDS)
}
_NUM: Final = (
    r"(?:\d{1,3}|a\s+couple\s+of|a\s+couple|a\s+few|few|several|a\s+dozen|a|an|"
    r"(?:" + "|".join(_TENS_WORDS) + r")(?:[-\s](?:" + "|".join(_SMALL_NUMBERS[1:10]) + r"))?|"
    + "|".join(sorted(_SMALL_NUMBERS[1:], key=len, reverse=True))
    + ")"
)
_UNIT: Final = r"(?:days?|weeks?|months?|quarters?|years?)"
_ABOUT: Final = r"(?:(?:about|around|roughly|approximately|some|just|less\s+than|under|at\s+most)\s+)?"
_DATE_PREP: Final = (
    r"(?:on|by|for|until|till|through|thru|before|from|after|around|starting(?:\s+on)?|"
    r"beginning(?:\s+on)?|effective(?:\s+on)?|no\s+later\s+than|ahead\s+of|as\s+early\s+as)"
)
_MONTH_PREP: Final = (
    r"(?:in|by|until|till|through|before|during|from|for|around|starting(?:\s+in)?|"
    r"beginning(?:\s+in)?|as\s+early\s+as|sometime\s+in|no\s+later\s+than)"
)
_PART: Final = (
    r"(?:early|mid|late|the\s+end\s+of|end\s+of|the\s+middle\s+of|the\s+beginning\s+of|"
    r"the\s+start\s+of)"
)
#: Prepositions that point forward by themselves, when no verb says otherwise.
_FORWARD_PREPS: Final = frozenset(
    "by until till through thru before starting beginning effective from ahead no as".split()
)


@dataclass(frozen=True, slots=True)
class _Resolution:
    due: date
    precision: Precision
    kind: Kind
    rolls: bool  # the year was inferred: the same date next year is the alternative
    inherent: bool  # the phrase says "future" by itself ("next week", "coming weeks")


_Resolver = Callable[[re.Match[str], date], "_Resolution | None"]


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    resolve: _Resolver


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarter_end(year: int, quarter: int) -> date:
    return _last_day(year, 3 * quarter)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _count(words: str | None) -> tuple[int, bool]:
    """The number a count phrase names, and whether it is vague ("a few")."""
    if words is None:
        return 1, False
    text = re.sub(r"\s+", " ", words.lower())
    if text.isdigit():
        return int(text), False
    if text in ("a", "an"):
        return 1, False
    if text in ("a couple", "a couple of"):
        return 2, False
    if text == "a dozen":
        return 12, False
    if text in ("a few", "few", "several"):
        return 3, True
    parts = re.split(r"[- ]", text)
    return sum(_NUMBER_WORDS[p] for p in parts), False


def _span(reference: date, count: int, unit: str) -> date:
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return reference + timedelta(days=count)
    if unit == "week":
        return reference + timedelta(weeks=count)
    if unit == "month":
        return _add_months(reference, count)
    if unit == "quarter":
        return _add_months(reference, 3 * count)
    return _add_months(reference, 12 * count)


_VAGUE_DAYS: Final = {"day": 7, "week": 21, "month": 90, "quarter": 90, "year": 365}
_SPAN_PRECISION: Final[dict[str, Precision]] = {
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
}


def _horizon(reference: date, num: str | None, unit: str, inherent: bool) -> _Resolution | None:
    """Resolve a span from the reference ("next 30 days", "coming weeks")."""
    singular = unit.lower().rstrip("s")
    count, vague = _count(num)
    if num is None and unit.lower().endswith("s"):
        vague = True  # "the coming weeks": no count
    if vague:
        due = reference + timedelta(days=_VAGUE_DAYS[singular])
        return _Resolution(due, "horizon", "horizon", rolls=False, inherent=inherent)
    if count <= 0:
        return None
    precision: Precision = _SPAN_PRECISION[singular]
    return _Resolution(_span(reference, count, singular), precision, "horizon", rolls=False, inherent=inherent)


def _resolve_next_span(m: re.Match[str], reference: date) -> _Resolution | None:
    return _horizon(reference, m["num"], m["unit"], inherent=True)


def _resolve_counted_span(m: re.Match[str], reference: date) -> _Resolution | None:
    """"within two weeks", "in 30 days", "two weeks from now"."""
    if m["unit2"]:
        return _horizon(reference, m["num2"], m["unit2"], inherent=True)
    return _horizon(reference, m["num"], m["unit"], inherent=m["from_now"] is not None)


def _resolve_ahead(m: re.Match[str], reference: date) -> _Resolution | None:
    return _horizon(reference, None, m["unit"], inherent=True)


def _resolve_iso(m: re.Match[str], reference: date) -> _Resolution | None:
    try:
        due = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    return _Resolution(due, "day", "date", rolls=False, inherent=False)


def _resolve_month_day(m: re.Match[str], reference: date) -> _Resolution | None:
    month = _MONTHS[m["mon"]]
    year = int(m["y"]) if m["y"] else reference.year
    try:
        due = date(year, month, int(m["d"]))
    except ValueError:
        return None
    if m["wd"] and due.weekday() != _WEEKDAYS.index(m["wd"]) and m["y"]:
        return None  # "Monday, April 14, 2026" contradicts itself: not grounded
    return _Resolution(due, "day", "date", rolls=not m["y"], inherent=False)


def _resolve_day_of_month(m: re.Match[str], reference: date) -> _Resolution | None:
    """"on the 24th": the first such day on or after the reference."""
    first = reference.replace(day=1)
    for offset in (0, 1):
        month = _add_months(first, offset)
        try:
            due = month.replace(day=int(m["d"]))
        except ValueError:
            continue
        if due >= reference:
            return _Resolution(due, "day", "date", rolls=False, inherent=False)
    return None


def _part_of_month(part: str | None, year: int, month: int) -> date:
    last = _last_day(year, month)
    if part is None:
        return last
    part = part.lower()
    if part.startswith("early") or "beginning" in part or "start" in part:
        return date(year, month, 10)
    if part.startswith("mid") or "middle" in part:
        return date(year, month, 15)
    return last


def _resolve_month(m: re.Match[str], reference: date) -> _Resolution | None:
    if not (m["prep"] or m["part"] or m["rel"] or m["y"]):
        return None  # a bare month name ("June") is too loose to be a date
    month = _MONTHS[m["mon"]]
    year = int(m["y"]) if m["y"] else reference.year
    rel = (m["rel"] or "").lower()
    if rel == "next" and not m["y"] and month <= reference.month:
        year += 1
    due = _part_of_month(m["part"], year, month)
    return _Resolution(due, "month", "date", rolls=not m["y"] and rel != "next", inherent=rel == "next")


#: A sentence about quantisation: its "Q4" is a bit width ("from Q4 to Q6", "Q4_K_M", "Q8_0").
_QUANTISED: Final = re.compile(
    r"\bQ(?:[05-9]|\d{2,}|\d_\w*)\b|\bquanti[sz]|\bGGUF\b|\b\d+[- ]?bits?\b|\bbit-width", re.IGNORECASE
)


def _resolve_quarter(m: re.Match[str], reference: date) -> _Resolution | None:
    if not (m["prep"] or m["part"] or m["y"] or m["yy"]):
        return None  # bare "Q3" may be a model quantisation or a label
    if m["q"] and not (m["y"] or m["yy"]) and _QUANTISED.search(m.string):
        return None  # "from Q4 to Q6 quantization": bit widths, not quarters
    quarter = int(m["q"][1]) if m["q"] else _ORDINALS[m["qo"].lower()]
    year = reference.year
    if m["y"]:
        year = int(m["y"])
    elif m["yy"]:
        year = 2000 + int(m["yy"])
    explicit = bool(m["y"] or m["yy"])
    return _Resolution(_quarter_end(year, quarter), "quarter", "date", rolls=not explicit, inherent=False)


def _resolve_half(m: re.Match[str], reference: date) -> _Resolution | None:
    if not (m["prep"] or m["y"]):
        return None
    half = int(m["h"][1]) if m["h"] else _ORDINALS[m["ho"].lower()]
    year = int(m["y"]) if m["y"] else reference.year
    return _Resolution(_last_day(year, 6 * half), "quarter", "date", rolls=not m["y"], inherent=False)


def _year_part(part: str | None, year: int) -> date:
    part = (part or "").lower()
    if part.startswith("early") or "beginning" in part or "start" in part:
        return date(year, 3, 31)
    if part.startswith("mid") or "middle" in part:
        return date(year, 6, 30)
    return date(year, 12, 31)


def _resolve_year(m: re.Match[str], reference: date) -> _Resolution | None:
    if not (m["prep"] or m["part"]):
        return None
    return _Resolution(_year_part(m["part"], int(m["y"])), "year", "date", rolls=False, inherent=False)


def _week_sunday(day: date) -> date:
    return day + timedelta(days=6 - day.weekday())


def _resolve_this(m: re.Match[str], reference: date) -> _Resolution | None:
    """"this week", "later this month", "by the end of the quarter", "by year-end"."""
    unit = (m["unit"] or m["unit2"] or m["unit3"]).lower()
    if m["unit3"] and not m["prep"]:
        return None  # "month-end close", "year-end review": a kind of task, not a date
    inherent = bool(m["later"])
    if unit in ("week", "weekend"):
        return _Resolution(_week_sunday(reference), "week", "date", rolls=False, inherent=inherent)
    if unit == "month":
        due = _part_of_month(m["part"], reference.year, reference.month)
        return _Resolution(due, "month", "date", rolls=False, inherent=inherent)
    if unit == "quarter":
        due = _quarter_end(reference.year, (reference.month - 1) // 3 + 1)
        return _Resolution(due, "quarter", "date", rolls=False, inherent=inherent)
    due = _year_part(m["part"], reference.year)
    return _Resolution(due, "year", "date", rolls=False, inherent=inherent)


def _resolve_next(m: re.Match[str], reference: date) -> _Resolution | None:
    """"next week" (its Sunday), "next month", "next quarter", "early next year"."""
    unit = m["unit"].lower()
    if unit in ("week", "weekend"):
        return _Resolution(_week_sunday(reference) + timedelta(days=7), "week", "date", False, True)
    if unit == "month":
        first = _add_months(reference.replace(day=1), 1)
        return _Resolution(_last_day(first.year, first.month), "month", "date", False, True)
    if unit == "quarter":
        quarter = (reference.month - 1) // 3 + 2
        year = reference.year + (quarter - 1) // 4
        return _Resolution(_quarter_end(year, (quarter - 1) % 4 + 1), "quarter", "date", False, True)
    return _Resolution(_year_part(m["part"], reference.year + 1), "year", "date", False, True)


def _resolve_weekday(m: re.Match[str], reference: date) -> _Resolution | None:
    target = _WEEKDAYS.index(m["wd"])
    rel = (m["rel"] or "").lower()
    if rel == "next":
        monday = reference + timedelta(days=7 - reference.weekday())
        return _Resolution(monday + timedelta(days=target), "day", "date", False, True)
    ahead = (target - reference.weekday()) % 7 or 7
    inherent = rel in ("this", "coming", "this coming")
    return _Resolution(reference + timedelta(days=ahead), "day", "date", False, inherent)


def _resolve_tomorrow(m: re.Match[str], reference: date) -> _Resolution | None:
    return _Resolution(reference + timedelta(days=1), "day", "date", False, True)


def _p(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.VERBOSE)


_I: Final = re.IGNORECASE
# Month and weekday names are matched with their capital ("may" is a verb);
# the words around them are matched in any case through (?i:...) groups.
_PATTERNS: Final = (
    _Pattern(
        _p(
            rf"""\b(?:(?:(?:over|in|within|during|for|across|throughout|through)\s+)?the\s+(?:next|coming|upcoming)
            |(?:over|in|within|during)\s+(?:coming|upcoming))\s+(?:(?P<num>{_NUM})\s+)?(?P<unit>{_UNIT})\b""",
            _I,
        ),
        _resolve_next_span,
    ),
    _Pattern(
        _p(
            rf"""\b(?:(?:within|in)\s+{_ABOUT}(?P<num>{_NUM})\s+(?P<unit>{_UNIT})\b
            (?P<from_now>\s+from\s+(?:now|today))?
            |(?P<num2>{_NUM})\s+(?P<unit2>{_UNIT})\s+from\s+(?:now|today)\b)""",
            _I,
        ),
        _resolve_counted_span,
    ),
    _Pattern(
        _p(r"\b(?:in|over|during)\s+the\s+(?P<unit>days|weeks|months|years)\s+(?:ahead|to\s+come)\b", _I),
        _resolve_ahead,
    ),
    _Pattern(
        _p(rf"(?:\b(?i:{_DATE_PREP})\s+)?(?<![\d-])(?P<y>{_YEAR})-(?P<m>\d{{2}})-(?P<d>\d{{2}})(?![\d-])"),
        _resolve_iso,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:{_DATE_PREP}))\s+)?(?:\b(?P<wd>{_WEEKDAY}),?\s+)?
            \b(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?i:st|nd|rd|th)?(?![\d,.]\d)\b
            (?:,?\s+(?P<y>{_YEAR})(?!\d))?"""
        ),
        _resolve_month_day,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:{_DATE_PREP}))\s+)?(?:\b(?P<wd>{_WEEKDAY}),?\s+)?
            (?:\b(?i:the)\s+)?\b(?P<d>\d{{1,2}})(?i:st|nd|rd|th)?\s+(?:(?i:of)\s+)?
            (?P<mon>{_MONTH})\b(?:(?<=\b[A-Z][a-z]{{2}})(?<!May)\.|(?<=Sept)\.)?
            (?:,?\s+(?P<y>{_YEAR})(?!\d))?"""
        ),
        _resolve_month_day,
    ),
    _Pattern(
        _p(
            rf"""\b(?P<prep>(?i:on|by|until|till|through|before|from|starting(?:\s+on)?))\s+(?i:the)\s+
            (?P<d>\d{{1,2}})(?i:st|nd|rd|th)\b(?!\s+(?:(?i:of)\s+)?{_MONTH}\b)
            (?!\s+(?!(?:at|and|or|to|in|when|with|from|through|until)\b)[a-z])"""
        ),
        _resolve_day_of_month,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:{_MONTH_PREP}))\s+)?(?:\b(?P<part>(?i:{_PART}))[\s-]+)?
            (?:\b(?P<rel>(?i:this|next))\s+)?\b(?P<mon>{_FULL_MONTH})\b(?!\s+\d{{1,2}}\b)
            (?:,?\s+(?:(?i:of)\s+)?(?P<y>{_YEAR})(?!\d))?"""
        ),
        _resolve_month,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:{_MONTH_PREP}))\s+)?(?:\b(?P<part>(?i:{_PART}))[\s-]+)?
            (?:\b(?P<q>Q[1-4])|\b(?i:the)\s+(?P<qo>(?i:first|second|third|fourth))\s+(?i:quarter))\b
            (?:\s+(?:(?i:of)\s+)?(?P<y>{_YEAR})(?!\d)|['’](?P<yy>\d{{2}})\b)?"""
        ),
        _resolve_quarter,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:{_MONTH_PREP}))\s+)?
            (?:\b(?P<h>H[12])|\b(?i:the)\s+(?P<ho>(?i:first|second))\s+(?i:half)(?:\s+(?i:of))?)\b
            (?:\s+(?:(?i:the\s+year|this\s+year)|(?P<y>{_YEAR})(?!\d)))?"""
        ),
        _resolve_half,
    ),
    _Pattern(
        _p(
            rf"""(?:\b(?P<prep>(?i:in|by|until|till|through|before|during|for|from|around))\s+)?
            (?:\b(?P<part>(?i:{_PART}))[\s-]+)?\b(?P<y>20\d{{2}})\b
            (?![-/.,]\d|\d|%|\s+(?i:tokens?|steps?|samples?|users?|images?|GPUs?|parameters?|people|times))"""
        ),
        _resolve_year,
    ),
    _Pattern(
        _p(
            r"""\b(?:(?P<prep>by|before|until|through|at|around|toward|towards)\s+)?(?:the\s+)?
            (?:(?P<part>end|close|middle|beginning|start)\s+of\s+(?:the|this)\s+(?P<unit>week|month|quarter|year)
            |(?P<later>later\s+)?this\s+(?P<unit2>weekend|week|month|quarter|year)
            |(?P<unit3>week|month|quarter|year)[-\s]end)\b""",
            _I,
        ),
        _resolve_this,
    ),
    _Pattern(
        _p(r"\b(?:(?P<part>early|mid|late|later)[\s-]+)?next\s+(?P<unit>weekend|week|month|quarter|year)\b", _I),
        _resolve_next,
    ),
    _Pattern(
        _p(rf"(?:\b(?P<rel>(?i:next|this\s+coming|this|coming|on|by|until|before|from|starting))\s+)?\b(?P<wd>{_WEEKDAY})\b(?!s)"),
        _resolve_weekday,
    ),
    _Pattern(_p(r"\btomorrow\b", _I), _resolve_tomorrow),
)


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int  # offsets into the sentence
    end: int
    resolution: _Resolution
    prep: str  # the phrase's first word, lowercased


def _find_hits(sentence: str, reference: date) -> list[_Hit]:
    """Every date or horizon phrase of a sentence, longest first where they overlap."""
    raw: list[tuple[int, int, _Resolution | None]] = []
    for pattern in _PATTERNS:
        for m in pattern.regex.finditer(sentence):
            if m.start() < m.end():
                raw.append((m.start(), m.end(), pattern.resolve(m, reference)))
    raw.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
    kept: list[tuple[int, int, _Resolution | None]] = []
    for start, end, resolution in raw:
        # An unresolvable match ("February 30", "Monday, April 14, 2026") still
        # claims its words, so that a shorter pattern cannot ground it wrongly.
        if not any(start < e and s < end for s, e, _ in kept):
            kept.append((start, end, resolution))
    return [
        _Hit(start, end, resolution, sentence[start:end].split(None, 1)[0].lower())
        for start, end, resolution in kept
        if resolution is not None
    ]


# --------------------------------------------------------------------------- tense

_PAST_VERBS: Final = (
    "launched released announced opened closed began started ended shipped debuted published "
    "reported discussed ranked scored unveiled introduced posted held hosted presented went came "
    "happened showed shown found noted revealed raised acquired reached completed concluded "
    "finished appeared arrived landed expired premiered aired sold gained grew fell rose jumped "
    "dropped generated spent signed filed joined departed won lost trained achieved succeeded "
    "performed passed entered exited outperformed surpassed topped doubled tripled led made saw "
    "got gave built wrote said told added updated replaced merged fixed deployed tested measured "
    "hit rolled kicked wrapped took occurred debuted demonstrated hired fired sued settled "
    "kept ran brought became broke chose drew flew spoke threw understood sent"
).split()
#: "is/are …ing" words that are adjectives ("is interesting") or cues of their own ("are planning to").
_NOT_PROGRESSIVE: Final = (
    "interesting amazing surprising exciting concerning promising compelling confusing worrying striking "
    "convincing misleading outstanding encouraging disappointing fascinating missing lacking willing "
    "planning aiming intending going coming expecting looking being during"
).split()
_CUES: Final = re.compile(
    r"""
    (?P<strong>\bwill\b|['’]ll\b|\bshall\b|\bwon['’]t\b|\bgoing\s+to\b|\bset\s+to\b
      |\bexpect(?:s|ed|ing)?\b|\banticipat(?:e|es|ed)\b|\bschedul(?:e|ed)\b|\bslated\b|\bplanned\b
      |\bplan(?:s|ning)?\s+to\b|\bdue\b(?!\s+to\b)|\bdue\s+to\s+(?:be|launch|open|close|start|begin|ship|arrive|land|release|expire|end)\b
      |\bupcoming\b|\bforthcoming\b|\b(?:is|are|['’]s|['’]re)\s+coming\b|\bcoming\s+(?:soon|up)\b|\bnext\s+up\b
      |\bdeadline\b|\baim(?:s|ing)?\s+to\b|\bintend(?:s|ing)?\s+to\b|\bpoised\s+to\b|\bon\s+track\s+to\b
      |\bpromis(?:e|es|ed)\s+to\b|\bworth\s+(?:watching|tracking|monitoring|following|revisiting|a\s+look)\b
      |\bwarrants?\b|\bwatch\s+for\b|\bkeep\s+an\s+eye\b|\blook(?:ing)?\s+(?:out\s+for|for|ahead)\b|\bstay\s+tuned\b
      |\bpostponed\b|\bdelayed\b|\brescheduled\b|\bpushed\s+(?:back\s+)?to\b|\bmoved\s+to\b
      |\bto\s+(?:launch|open|close|begin|start|end|ship|release|arrive|debut|roll\s+out|go\s+live|take\s+effect)\b)
    |(?P<weak>\b(?:launch(?:es)?|opens?(?![-\w])|closes?|begins?|starts?|ends|kicks?\s+off|runs?|takes?\s+(?:place|effect)
      |goes\s+live|go\s+live|ships|lands|arrives?|debuts?|premieres?|expires?|airs|resumes?|returns|concludes?
      |wraps?\s+up|releases|rolls?\s+out|becomes?\s+available|registration|applications?|submissions?|RSVP
      |must|needs?\s+to|ha(?:s|ve)\s+to|stops?|ceases?|sunsets?|shuts?\s+down|retires?
      |(?:moves?|switch(?:es)?|transitions?|shifts?|migrates?)\s+to)\b)
    |(?P<past>\b(?:was|were|had|did|didn['’]t|wasn['’]t|weren['’]t|hadn['’]t|ago|yesterday|earlier|previously
      |formerly|already|last\s+(?:week|weekend|month|quarter|year|night|time|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)
      |(?P<verb>"""
    + "|".join(_PAST_VERBS)
    + r"""))\b)
    |(?P<prog>(?:\b(?:is|are|am)|['’]re)\s+(?:\w+ly\s+)?(?!(?:"""
    + "|".join(_NOT_PROGRESSIVE)
    + r""")\b)(?![a-z]*thing\b)[a-z]{2,}ing\b)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_BE_BEFORE: Final = re.compile(
    r"(?:\b(?:is|are|am|be|been|being|get|gets|getting)|['’]s|['’]re)\s+(?:\w+ly\s+)?$", re.IGNORECASE
)
_GENERIC_PAST: Final = re.compile(r"\b[a-z]{2,}[^e\W]ed\b")
_NOT_PAST_ED: Final = frozenset(
    "based related advanced limited called named detailed dedicated unexpected unprecedented "
    "automated integrated tuned sized powered focused oriented skilled needed speed feed seed "
    "embed proceed exceed succeed indeed hundred".split()
)
_CLAUSE_BREAK: Final = re.compile(
    r"[;()—]|:(?!\d)|\s[–-]\s|,\s+(?:but|while|whereas|although|though|and|after|since)\b|\s+but\s+", re.IGNORECASE
)


CueKind = Literal["strong", "weak", "past", "progressive"]


@dataclass(frozen=True, slots=True)
class _Cue:
    kind: CueKind
    distance: float
    before: bool  # the cue comes before the phrase


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause of ``sentence`` around ``[start, end)``."""
    left, right = 0, len(sentence)
    for brk in _CLAUSE_BREAK.finditer(sentence):
        if brk.end() <= start:
            left = brk.end()
        elif brk.start() >= end:
            right = brk.start()
            break
    return left, right


def _cues(sentence: str, hit: _Hit) -> list[_Cue]:
    """Tense cues in the hit's clause, with their distance to the phrase."""
    left, right = _clause(sentence, hit.start, hit.end)
    cues: list[_Cue] = []
    for m in _CUES.finditer(sentence, left, right):
        if m.start() < hit.end and hit.start < m.end():
            continue  # words of the phrase itself ("next", "coming")
        kind: CueKind = (
            "strong" if m["strong"] else "weak" if m["weak"] else "progressive" if m["prog"] else "past"
        )
        if m["verb"] and _BE_BEFORE.search(sentence, left, m.start()):
            continue  # a passive participle: "is released", "will be launched"
        if m.end() <= hit.start:
            distance: float = hit.start - m.end()
        else:
            distance = (m.start() - hit.end) * 1.5 + 5  # a cue before the phrase governs it more often
        cues.append(_Cue(kind, distance, m.end() <= hit.start))
    return cues


#: Prepositions that end a period ("limits raised through July 13").
_UNTIL_PREPS: Final = frozenset({"through", "thru", "until", "till"})


#: A horizon right after "customers/users … -ing" ("customers switching in the next 30 days") is
#: that verb's: an offer's condition ahead, whatever the sentence's main verb.
_CONDITION_AHEAD: Final = re.compile(
    r"\b(?:customers|users|teams|developers|subscribers|businesses|companies|organi[sz]ations|accounts|anyone|"
    r"those|people|students|researchers)\s+(?!(?:during|nothing|something|anything|everything)\b)[a-z]{3,}ing\s+$"
)


@dataclass(frozen=True, slots=True)
class _Reading:
    forward: bool
    strong: bool = False  # a strong cue ("will", "expected"), or a phrase future by itself
    may_roll: bool = True  # a yearless past date may be read as next year's


def _looks_forward(sentence: str, hit: _Hit) -> _Reading:
    """Whether the phrase of ``hit`` in ``sentence`` looks forward, and how strongly."""
    if hit.prep in _UNTIL_PREPS and hit.resolution.kind == "date":
        # "limits raised through July 13", "seats with no fee through end of June": whatever the verb,
        # a period that ends on a date ahead is a clock; a past date is not moved to next year.
        return _Reading(True, False, may_roll=False)
    cues = _cues(sentence, hit)
    if hit.resolution.kind == "horizon" and not hit.resolution.inherent \
            and not any(c.kind == "strong" for c in cues):
        return _Reading(False)  # "in 14 days", "within 4 days" without "will": a duration, not a date ahead
    if cues:
        nearest = min(cues, key=lambda cue: cue.distance)
        if nearest.kind == "past":
            return _Reading(False)
        strong = hit.resolution.inherent or any(c.kind == "strong" for c in cues)
        return _Reading(True, strong, may_roll=nearest.kind != "progressive")
    if hit.resolution.inherent:
        left, right = _clause(sentence, hit.start, hit.end)
        if _CONDITION_AHEAD.search(sentence, left, hit.start):
            return _Reading(True, True)  # "free usage for customers switching in the next 30 days"
        outside = sentence[left : hit.start] + " " + sentence[hit.end : right]
        if any(w not in _NOT_PAST_ED for w in _GENERIC_PAST.findall(outside)):
            return _Reading(False)  # a past verb the cue list lacks: "tested", "deployed"
        return _Reading(True, True)
    return _Reading(hit.prep in _FORWARD_PREPS)


_RELATIVE_TO_OTHER: Final = re.compile(r"\s+(?:of|after|following|since|before)\b", re.IGNORECASE)
# "doubling revenue in under seven days": how fast something went, not a date ahead.
_SPEED: Final = re.compile(r"\b(?:in|within)\s+(?:under|less\s+than|just|only|barely|a\s+mere)\b", re.IGNORECASE)


def _roll(due: date, precision: Precision) -> date | None:
    """The same date next year (month ends stay month ends)."""
    if precision in ("month", "quarter", "year") and due == _last_day(due.year, due.month):
        return _last_day(due.year + 1, due.month)
    try:
        return due.replace(year=due.year + 1)
    except ValueError:  # February 29
        return None


def _accept(sentence: str, hit: _Hit, reference: date) -> date | None:
    """The due date of a hit that is a clock, or None."""
    resolution = hit.resolution
    if resolution.kind == "horizon" and _RELATIVE_TO_OTHER.match(sentence, hit.end):
        return None  # "within two weeks of launch": anchored on another event
    if resolution.kind == "horizon" and _SPEED.match(sentence, hit.start):
        return None  # "in under seven days": a speed, looking back
    reading = _looks_forward(sentence, hit)
    if not reading.forward:
        return None
    due = resolution.due
    if due >= reference:
        return due
    if not resolution.rolls or not reading.may_roll or (reference - due).days <= PAST_GRACE_DAYS:
        return None
    rolled = _roll(due, resolution.precision)
    if rolled is None or rolled < reference:
        return None
    if reading.strong or (rolled - reference).days <= _WEAK_ROLLOVER_DAYS:
        return rolled
    return None


# --------------------------------------------------------------------------- fallback

_FALLBACK_TOKEN: Final = re.compile(
    rf"\b\d{{1,2}}/\d{{1,2}}/(?:\d{{4}}|\d{{2}})\b|\b\d{{1,2}}\.\d{{1,2}}\.\d{{4}}\b"
    rf"|\b{_MONTH}\.?\s+the\s+\d{{1,2}}(?:st|nd|rd|th)\b"
)


def _fallback_hits(sentence: str, reference: date, taken: list[_Hit]) -> list[_Hit]:
    """Dates that only ``dateparser`` reads ("5/20/2026", "May the 20th")."""
    tokens = [
        m
        for m in _FALLBACK_TOKEN.finditer(sentence)
        if not any(m.start() < h.end and h.start < m.end() for h in taken)
    ]
    if not tokens:
        return []
    from dateparser.search import search_dates  # slow to import: only when needed

    settings = {
        "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": ["day", "month"],
        "PREFER_DATES_FROM": "current_period",
    }
    found = search_dates(sentence, languages=["en"], settings=settings) or []
    hits: list[_Hit] = []
    cursor = 0
    for phrase, moment in found:
        start = sentence.find(phrase, cursor)
        if start < 0:
            continue
        end = cursor = start + len(phrase)
        if not any(start <= t.start() and t.end() <= end for t in tokens):
            continue
        explicit_year = re.search(r"\d{4}|/\d{2}\b", phrase) is not None
        due = moment.date() if explicit_year else moment.date().replace(year=reference.year)
        resolution = _Resolution(due, "day", "date", rolls=not explicit_year, inherent=False)
        hits.append(_Hit(start, end, resolution, phrase.split(None, 1)[0].lower()))
    return hits


# --------------------------------------------------------------------------- extraction


#: A publication's own schedule ("The full issue arrives on Friday", "our next episode drops
#: Tuesday", "see you next week"): housekeeping, not news to watch.
_HOUSEKEEPING: Final = re.compile(
    r"\b(?:(?:our|next|full|weekly|daily|the\s+(?:full|next|weekly|daily))\s+(?:full\s+|next\s+|weekly\s+|daily\s+)?"
    r"(?:issue|edition|newsletter|episode|digest|briefing|roundup|recap)\b(?!\s+(?:of|tracker)\b)"
    r"|\bsee\s+you\s+(?:next|on|in|tomorrow)\b)",
    re.IGNORECASE,
)


def _clock_in(sentence: str, reference: date) -> tuple[_Hit, date] | None:
    """The earliest-due clock of one sentence, if any."""
    if _HOUSEKEEPING.search(sentence):
        return None
    hits = _find_hits(sentence, reference)
    accepted = [(hit, due) for hit in hits if (due := _accept(sentence, hit, reference)) is not None]
    if not accepted and _CUES.search(sentence):
        fallback = _fallback_hits(sentence, reference, hits)
        accepted = [(hit, due) for hit in fallback if (due := _accept(sentence, hit, reference)) is not None]
    if not accepted:
        return None
    return min(accepted, key=lambda pair: (pair[1], pair[0].start))


def extract_clocks(text: str, reference: date) -> list[ClockCandidate]:
    """The forward-looking sentences of ``text`` that carry a resolvable date or horizon.

    ``reference`` is the date the text was published; due dates are resolved
    against it (see the module docstring for every rule). Candidates come in
    the order of the text, at most one per sentence.
    """
    clocks: list[ClockCandidate] = []
    for start, end in sentence_spans(text, paragraphs=True):
        sentence = text[start:end]
        found = _clock_in(sentence, reference)
        if found is None:
            continue
        hit, due = found
        clocks.append(
            ClockCandidate(
                text=sentence,
                start=start,
                end=end,
                phrase=sentence[hit.start : hit.end],
                phrase_start=start + hit.start,
                phrase_end=start + hit.end,
                due=due,
                precision=hit.resolution.precision,
                kind=hit.resolution.kind,
            )
        )
    return clocks
