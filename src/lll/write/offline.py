"""The offline writer: every sentence of the issue is either a source's own
sentence, copied exactly, or a fixed piece of attribution. Deterministic: the
same plan gives the same bytes. No model, no key."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from lll.kinds import discussion, source_kind
from lll.records import TRANSCRIPT_HEADING
from lll.stories.entities import FIELD_NAMES, GENERIC, entities, phrase_spans, shared, specific
from lll.stories.model import Story
from lll.stories.rank import LAUNCH, MAJOR
from lll.stories.units import ACTIVITY, StoryUnit
from lll.text import long_date, sentence_spans, words
from lll.write import prose
from lll.write.model import Citation, ClockEntry, Draft, Paragraph, Section, Sentence
from lll.write.plan import DueClock, Plan, PlannedClock

MAX_STORY_WORDS = 110
SPEAKER = re.compile(r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}: ")
MAX_LEDE_WORDS = 25
SMALL_WORDS = frozenset("a an and as at but by for from in into of on or the to via vs with".split())
MAX_HEADING_WORDS = 10
# How a source told several times in an issue is attributed from its third paragraph on, in turn.
AGAIN = ("noted", "added", "also noted", "also pointed out")
# How a digest's later paragraphs on one theme are introduced, in turn, so no two read alike.
FOLLOW_ON = (("The same newsletter", "added"), ("The newsletter", "also noted"), ("It", "went on"))
MIN_LEDE_WORDS = 6
# Words the writer itself adds; the verifier accepts them as names without a source.
TEMPLATE_WORDS = frozenset(
    "Following The It Also On That Clocks Worth Watching Coming Due Large Language Letters Automated "
    "LLL Hacker News Transcript A short issue First Clock More Nothing Today's Top Story Comes From No Items "
    "In Window Fetched Published".split()
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


def subject(title: str) -> str:
    """What a story is about, in a few of its title's own words: its first named thing
    ("GPT-5.5 Instant", "Claude Managed Agents"), else the whole title when it is short,
    else its head up to a natural break. "" when the title gives no clean subject."""
    text = re.sub(r"\s*\([^)]*\)", "", " ".join(title.split())).strip().rstrip(".:!?")
    opener = re.match(r"([A-Z][\w.+&'’-]*[\w+]) (?:[a-z]+s|[a-z]+ed)\b", text)  # "Quill raises …"
    if opener and opener.group(1).lower() not in GENERIC:
        return opener.group(1)
    spans = [(s, e) for s, e in phrase_spans(text, keep_common=True)
             if text[s].isupper() and not re.search(r"/[a-z]", text[s:e])
             and not all(w.lower() in FIELD_NAMES for w in text[s:e].split())]  # not "AI", not "IDE/app"
    if spans:
        s, e = spans[0]
        found = text[s:e].strip(" -–—:,")
        if words(found) <= 6:
            return found
    first = re.match(r"([A-Z][\w.+&-]*[\w+])['’]s\s", text)
    if prose.sentence_like(text) and first and first.group(1).lower() not in GENERIC:
        return first.group(1)  # a digest's clause ("Figure's livestream dominated robotics discussion"): whose
    if 0 < words(text) <= 6:
        return title_case(text)
    for mark in (": ", " — ", " – ", " - ", "; "):
        head = text.split(mark, 1)[0]
        if mark in text and 2 <= words(head) <= 6:
            return title_case(head)
    return ""


_AUX = frozenset("is are was were has have had will can could should would may might must does do did "
                 "won't won’t can't can’t keeps keep becomes become became remains remain gets got looks "
                 "appears continues need needs made drew".split())
_NOT_HEAD = frozenset("the a an its their this that these those most more several many some new another "
                      "every all each".split())


_PREPOSITIONS = (SMALL_WORDS - {"and", "of"}) | frozenset(
    "around across over under beyond behind through between among toward towards against inside within without "
    "after before about like than".split())


def headline_subject(title: str) -> str:
    """What a sentence-like headline is about: the noun phrase before its verb, in a heading's case
    ("Harness quality is becoming a first-class differentiator" → "Harness Quality"; "Recursive /
    latent-space multi-agent coordination is emerging …" → its head, "Multi-agent Coordination").
    "" when the headline does not open on a plain noun phrase."""
    text = re.sub(r"\s*\([^)]*\)", "", " ".join(title.split())).strip().rstrip(".:!?")
    if not prose.sentence_like(text):
        return ""
    tokens = text.split()
    at = next((i for i, t in enumerate(tokens[1:7], 1) if t.lower() in _AUX), 0)
    at = at or next((i for i, t in enumerate(tokens[1:6], 1) if re.fullmatch(r"[a-z]{3,}ed", t)), 0)
    if not at:
        return ""
    head = tokens[:at]
    while head and head[0].lower() in _NOT_HEAD:
        head = head[1:]
    cut = next((i for i, w in enumerate(head) if i and w.lower() in _PREPOSITIONS), len(head))
    head = head[:cut]  # "Revenue concentration around foundation model providers" → its head
    if not head or any(w.lower().endswith("est") or w.lower() in ("most", "more") for w in head) \
            or any(re.search(r"[^\w'’-]", w) for w in head[-2:]) or head[-1].lower() in SMALL_WORDS:
        return ""
    if len(head) > 5:
        head = head[-2:]
    if len(head) == 1 and not head[0][:1].isupper():
        return ""
    found = " ".join(head)
    return title_case(found[:1].upper() + found[1:])


_GENERIC_FIELD = frozenset("ai agi api apis llm llms gpu gpus cpu tpu ml rl rag sdk cli ui ux ceo cto pr prs os "
                           "us uk eu x".split())


@lru_cache(maxsize=64)
def _without_links(text: str) -> str:
    """A story's words less its links and handles; once per text, as each word of each title asks."""
    return re.sub(r"https?://\S+|@\w+|\S+\.(?:com|ai|org|io|dev)\S*", " ", text)


def named_in(token: str, text: str, title: str = "") -> bool:
    """Whether the story writes ``token`` as a name: a version or an inner capital ("GPT-5.5",
    "SynthID"), a lab of the field, or a word its ``text`` capitalises inside a sentence and
    never writes in lower case ("Figure" of "…, and Figure showed …"; not "Remote" of "remote
    agents"). Links and handles do not count ("karpathy" of a URL)."""
    core = token.strip("\"'“”‘’()[],.:;!?").removesuffix("’s").removesuffix("'s")
    if not core or core[:1] in "$€£" or core[:1].isdigit() or core.lower() in GENERIC \
            or core.lower() in _GENERIC_FIELD:
        return False
    if re.fullmatch(r"[A-Z]{1,5}-[a-z][a-z-]*", core):
        return False  # "AI-native", "LLM-based": a compound word, not a name
    if any(c.isdigit() for c in core) or any(c.isupper() for c in core[1:]) or core.lower() in FIELD_NAMES:
        return True
    if not core[:1].isupper():
        return False
    plain = _without_links(text)
    inside = rf"[\w,;(]\s+{re.escape(core)}(?![\w-])"
    if re.search(inside, plain):
        return True
    lower = re.search(rf"(?<![\w-]){re.escape(core.lower())}(?![\w-])", f"{plain}\n{title}")
    return bool(title) and not lower and bool(re.search(inside, title))


def _name_runs(title: str, text: str) -> list[tuple[float, int, str]]:
    """The title's runs of name words, each scored: a version or an inner capital counts most, a
    name beyond the field's labs next, the subject of a headline that opens on it too."""
    out = []
    sentence = prose.sentence_like(title)
    spans = phrase_spans(title, keep_common=True)
    opening = re.match(r"[A-Z][\w.+&'’-]*(?: [A-Z0-9][\w.+&'’-]*)*", title)
    if opening and (not spans or spans[0][0] > 0):
        spans.insert(0, (0, opening.end()))  # a title's first word is a name when the story writes it so
    opener = re.match(r"([A-Z][\w.+&'’-]*[\w+]) (?:[a-z]+s|[a-z]+ed)\b", title) if sentence else None
    for s, e in spans:
        tokens = title[s:e].split()
        i = 0
        if s == 0 and opener and tokens[0] == opener.group(1) and opener.group(1).lower() not in GENERIC \
                and opener.group(1).lower() not in _IMPERATIVE and (not text.strip() or named_in(tokens[0], text)):
            # "Quill raises …": the headline's subject; a lab's bare name less than the product it names
            out.append((0.8 if tokens[0].lower() in FIELD_NAMES else 2.5, 0, tokens[0]))
            i = 1
        while i < len(tokens):
            run: list[str] = []
            if sentence and i == 0 and s == 0 and len(tokens) > 1 and tokens[0][:1].isupper() \
                    and tokens[0].lower() not in GENERIC and tokens[0].lower() not in _IMPERATIVE \
                    and not tokens[0].lower().endswith("ing") and named_in(tokens[1], text, title):
                run.append(tokens[0])  # "Dynamic Workflows are available …": the name opens the headline
                i = 1
            while i < len(tokens) and (named_in(tokens[i], text, title if sentence else "")
                                       or (run and (tokens[i][:1].isdigit() or tokens[i].lower() in _GENERIC_FIELD))
                                       or (run and tokens[i].lower() in ("of", "for")
                                           and i + 1 < len(tokens)
                                           and named_in(tokens[i + 1], text, title if sentence else ""))):
                run.append(tokens[i])
                i += 1
            i += 0 if run else 1
            if not run or words(" ".join(run)) > 6:
                continue
            found = " ".join(run).strip(" -–—:,").removesuffix("’s").removesuffix("'s")
            cores = [t.strip("’'s") for t in run]
            score = (2.0 if any(c.lower() not in _GENERIC_FIELD | FIELD_NAMES and (
                any(ch.isdigit() for ch in c) or any(ch.isupper() for ch in c[1:]) and any(ch.islower() for ch in c))
                for c in cores) else 0.0)  # "GPT-5.5", "SynthID"; not "XIV"
            score += 1.0 if any(c.lower() not in FIELD_NAMES for c in cores) else 0.0
            score += 0.5 if len(run) > 1 else 0.0
            out.append((score, s, found))
    return out


def label(title: str, text: str = "") -> str:
    """How a section heading names one story: its most specific name ("Claude Opus 4.8", "Mini
    Shai-Hulud", "Figure"), or for a headline in sentence form the noun phrase it opens with, or
    its title when that is short and whole; "" when none reads as a name. ``text``, the story's
    own words, tells a name from a capitalised common word ("Remote", "Development")."""
    whole = re.sub(r"\s*\([^)]*\)", "", " ".join(title.split())).strip().rstrip(".:!?")
    if not whole:
        return ""
    lead_word = whole.split()[0].lower()
    titled = not prose.sentence_like(whole)
    plain_open = lead_word in GENERIC or lead_word in _IMPERATIVE or lead_word.endswith("ing")
    if words(whole) == 1 and named_in(whole, text):
        return whole  # "Muon", "Kanban": a one-word title the story writes as a name
    capitals = sum(w[:1].isupper() or any(c.isdigit() for c in w) for w in whole.split()[1:])
    if 2 <= words(whole) <= (5 if titled else 3) and not re.search(r"[:;,—–/|?]", title) and not plain_open \
            and capitals and not prose.first_person(whole) and prose.printable(f"{whole}.", 2):
        return title_case(whole)  # "Agent Skills", "Claude for Creative Work"
    if titled and not plain_open:
        for mark in (": ", " — ", " – ", " - ", ", "):
            head = whole.split(mark, 1)[0]
            if mark in whole and 2 <= words(head) <= 5 and prose.printable(f"{head}.", 2):
                return title_case(head)  # "China Thwarts Meta’s Agentic Ambition, U.S. Evaluates …"
        capped = re.match(r"[A-Z][\w.+&'’-]*(?: [A-Z0-9][\w.+&'’-]*){1,3}(?= [a-z]|$)", whole)
        if capped:
            return capped.group(0)  # "Personal Computer is Available to All Mac Users"
    runs = sorted(_name_runs(whole, text), key=lambda r: (-r[0], r[1]))
    if prose.first_person(whole):
        return runs[0][2] if runs and runs[0][0] >= 2.0 else ""
    if runs and runs[0][0] >= 1.0:
        return runs[0][2]
    return headline_subject(whole) or (runs[0][2] if runs else "")


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def join_titles(titles: list[str], texts: list[str] | None = None) -> str:
    """A heading that names the section's subjects, at most ``MAX_HEADING_WORDS`` words, never a
    cut phrase: "GPT-5.5 Instant, RadixArk and Gemma 4". ``texts`` (the stories' own words, in
    the order of ``titles``) tell the names in a title from its capitalised common words."""
    if len(titles) == 1:  # one story: its own headline, when it is short and whole
        whole = re.sub(r"\s*\([^)]*\)", "", " ".join(titles[0].split())).strip().rstrip(".:!?")
        if (3 <= words(whole) <= MAX_HEADING_WORDS and not re.search(r"[:;—–]", whole)
                and prose.printable(f"{whole}.", 3) and not prose.first_person(whole)):
            return title_case(whole)
    picked: list[str] = []
    bare: list[str] = []
    for n, title in enumerate(titles):
        found = label(title, texts[n] if texts and n < len(texts) else "")
        if not found or any(found.casefold() in p.casefold() or p.casefold() in found.casefold() for p in picked):
            continue
        if found.lower() in FIELD_NAMES:
            bare.append(found)  # a lab's bare name says least: the section's other subjects say more
            continue
        if words(_join([*picked, found])) > MAX_HEADING_WORDS:
            continue
        picked.append(found)
        if len(picked) == 3:
            break
    return _join(picked or bare[:1])


IN_BRIEF = "Also Published"
MAX_SECTIONS = 5  # the issue format's themed sections (the watch list aside)


def is_brief(paragraph: Paragraph) -> bool:
    """A paragraph that is only a post's brief ("Orbit Blog published “…”."): no sentence of its own."""
    return (paragraph.kind == "story" and len(paragraph.sentences) == 1
            and paragraph.sentences[0].role == "source" and paragraph.sentences[0].span is None
            and not paragraph.also)


def minor_brief(paragraph: Paragraph) -> bool:
    """A brief that can wait for the issue's end: not a launch, a model, a deal or money, which
    keep their place even with nothing but a title ("Orbit forms $200 million partnership …")."""
    return is_brief(paragraph) and not (LAUNCH.search(paragraph.title) and MAJOR.search(paragraph.title))


SHORT_NOTE = "A short issue: few new stories met the bar since the last one."


def with_short_note(draft: Draft, short: bool = False) -> Draft:
    """Say so when an issue is short (fewer than two themed sections), rather than pad it."""
    if short or len(draft.sections) < 2:
        return replace(draft, note=SHORT_NOTE)
    return draft


NOTHING_NEW = "Nothing new from the sources since the last issue."
NOTHING_IN_FIELD = ("Nothing new in the field since the last issue: every new item was left out, "
                    "each with its reason in the issue's data.")


def empty_lede(left_out: bool = False) -> Paragraph:
    """The lede of a day with no story: true whether the sources said nothing or all they said was left out."""
    return Paragraph((Sentence(NOTHING_IN_FIELD if left_out else NOTHING_NEW, role="attribution"),), kind="note")


def safe_lede(lede: Paragraph) -> Paragraph:
    """A lede that claims nothing but where the top story comes from (when the real one failed)."""
    cited = lede.citations[0] if lede.citations else None
    if cited is None:
        return empty_lede()
    return Paragraph((Sentence(f"Today's top story comes from {cited.source}.", citations=(cited,),
                               role="attribution"),), story_id=lede.story_id, kind="lede")


_FEED_WORDS = frozenset("news blog research engineering changelog hub lab labs team frontier red updates newsroom "
                        "press releases developers developer official".split())
_INTRO = re.compile(r"(Introducing|Announcing|Meet|Launching|Unveiling)\s+(?=[A-Z0-9])(.+)$")
_INTRO_VERBS = {"introducing": "introduces", "announcing": "announces", "meet": "introduces",
                "launching": "launches", "unveiling": "unveils"}


def maker(source_name: str) -> str:
    """Who a lab's or company's feed speaks for, read from its display name: "Anthropic News" →
    "Anthropic", "Cursor Blog" → "Cursor"; "" when the name does not say ("AI at Meta Blog")."""
    name = re.sub(r"\s*\([^)]*\)\s*$", "", source_name).split()
    while name and name[-1].lower() in _FEED_WORDS:
        name.pop()
    if not name or len(name) > 3 or len(name) == len(source_name.split()) or any(w[:1].islower() and
                                                                                 not w[1:2].isupper() for w in name):
        return ""
    return " ".join(name)


def brief(unit: StoryUnit, plain: bool = False) -> str:
    """One sentence that names the source and what it put out, in the title's own words: a lab's
    "Introducing Claude Opus 4.8" is "Anthropic introduces Claude Opus 4.8."; a title that is a
    headline with its maker as subject stands as the sentence; else "Claude Blog published “…”."."""
    verb = source_kind(unit.item.source_kind).brief_verb
    title = " ".join((unit.item.title if unit.id.endswith(":0") else unit.title).split()).rstrip(".")
    made = maker(unit.item.source_name) if source_kind(unit.item.source_kind).primary and unit.id.endswith(":0") else ""
    made = "" if plain else made
    if made and not re.search(rf"(?<![\w-]){re.escape(made)}(?![\w-])", f"{unit.item.title}\n{unit.item.text}"):
        made = ""  # the maker's name is said by LLL only where its post says it too (the verifier's rule)
    if made and ":" not in title and not title.endswith("?"):
        intro = _INTRO.match(title)
        if intro and words(intro.group(2)) <= 10:
            return f"{made} {_INTRO_VERBS[intro.group(1).lower()]} {intro.group(2)}."
        verb_next = re.match(rf"{re.escape(made)} ([a-z]+)\b", title)
        if verb_next and re.fullmatch(r"[a-z]+(?:s|ed)|is|has|was|will", verb_next.group(1)) \
                and verb_next.group(1) not in SMALL_WORDS and prose.sentence_like(title):
            return f"{title}."
    return f"{unit.item.source_name} {verb} {prose.quoted(title)}."


def printable_brief(text: str) -> bool:
    """Whether a brief reads as a sentence; its first word is a source's name, which may open in
    lower case ("xAI News published …"), so a neutral name stands in for it while it is judged."""
    return prose.printable(re.sub(r"^\S+", "Someone", text), 4)


def linked_brief(unit: StoryUnit, text: str) -> str:
    """The brief with its source (or maker) linked to the post."""
    for name in (unit.item.source_name, maker(unit.item.source_name)):
        if name and text.startswith(name):
            return _link(name, unit.item.url) + text[len(name):]
    return text


def fallback_heading(paragraphs: tuple[Paragraph, ...]) -> str:
    """A heading that claims nothing but where the news comes from."""
    names = list(dict.fromkeys(c.source for p in paragraphs for c in p.citations if c.item_id is not None))[:3]
    if not names:
        return "More News"
    return "News from " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def section_of(paragraphs: tuple[Paragraph, ...], texts: dict[str, str] | None = None) -> Section:
    """A section whose heading joins the subjects of the stories told in it (else says where they
    come from). ``texts``: each story's own words, by story id."""
    told = [p for p in paragraphs if p.title]
    heading = join_titles([p.title for p in told], [(texts or {}).get(p.story_id or "", "") for p in told])
    return Section(heading=heading or fallback_heading(paragraphs), paragraphs=paragraphs)


def body_spans(unit: StoryUnit) -> list[tuple[int, int]]:
    """Spans (in the item's text) of the unit's sentences, minus a leading copy of its title.

    A podcast episode is told from its show notes; its transcript is quoted only when the
    episode has no notes, and then without the speakers' labels.
    """
    spans = [(unit.start + s, unit.start + e) for s, e in sentence_spans(unit.text)]
    text = unit.item.text
    podcast = source_kind(unit.item.source_kind).spoken
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
            count = ACTIVITY.match(after)
            if count:
                after = ":" + after[count.end():]
            rest = after.lstrip(":.—–- ")
            if count is None and prose.sentence_like(unit.title) and (
                    (after[:1] in (":", "—", "–") and rest[:1].islower()) or after.strip() in ("", ".")):
                pass  # a bold lead that is its sentence or opens it ("OpenAI pushed Codex further: the biggest …")
            elif not after.strip() or after.lstrip()[:1] in (":", "—", "–", "-", "."):
                if words(rest) < 4:
                    continue
                s = e - len(rest)
        if words(text[s:e]) >= 4 and text[s:e].rstrip("\"'”’)]").endswith((".", "!", "?")):
            out.append((s, e))
    return out


_IMPERATIVE = frozenset("use try get build learn meet see read join discover explore start connect bring make create "
                        "sign watch download register explore find turn unlock give let".split())
_DETERMINER = frozenset("the a an this that its their".split())
_QUANTIFIERS = frozenset("several many some most all both other others each every few they there one two three "
                         "researchers users developers people".split())


def has_actor(sentence: str) -> bool:
    """Whether a sentence says who did something: a name among its first words ("OpenAI pushed
    Codex …", "The new Gemini 3.5 Flash began …"), not a pitch to the reader ("Use your Grok
    account …") nor a phrase with its subject far behind ("A substantial improvement … over Composer 2")."""
    opening = re.findall(r"[\w'’-]+", sentence)[:2]
    if not opening or opening[0].lower() in _IMPERATIVE or re.search(r"\b(?:you|your)\b", sentence, re.I):
        return False
    opener = re.match(r"([A-Z][\w.&'’-]+) (?:[a-z]+ed|[a-z]+s|is|has|was|will|can)\b", sentence)
    if opener and opener.group(1).lower() not in GENERIC | _QUANTIFIERS:
        return True  # "Quarry shipped …", "Genkit is …": one capitalised name opening the sentence
    spans = phrase_spans(sentence, keep_common=True)
    if not spans:
        return False
    before = [w for w in re.findall(r"[\w'’-]+", sentence[:spans[0][0]]) if w.lower() not in _DETERMINER]
    return len(before) <= 2


def link_labels(unit: StoryUnit) -> frozenset[str]:
    """The texts of a unit's links: a digest lists its sources by them."""
    return frozenset(" ".join(link.text.split()) for link in unit.links if link.text)


def lede_candidates(text: str, s: int, e: int,
                    labels: frozenset[str] = frozenset()) -> list[tuple[str, int, bool]]:
    """A sentence that may lead the issue, where its words end, and whether it is the whole
    sentence: the whole sentence, then its opening clause when a colon or a dash closes one that
    reads as a sentence ("OpenAI pushed Codex further into day-to-day workflows: the biggest
    product launch …" gives its first eight words)."""
    sentence = prose.without_credits(text[s:e], labels)
    out = [(sentence, e if sentence == text[s:e] else s + len(sentence) - 1, True)]
    cut = re.search(r"\s*(?::|\s[—–])\s+(?=[a-z])", sentence)
    if cut and prose.sentence_like(sentence[:cut.start()]):
        out.append((sentence[:cut.start()].rstrip(",;") + ".", s + cut.start(), False))
    # a main clause before an aside ("OpenAI announced that … problem, a famous Erdős problem from 1946, …")
    aside = re.search(r",\s+(?=(?:a|an|[a-z]+ing)\b)", sentence)
    if aside and not cut and prose.sentence_like(sentence[:aside.start()]):
        out.append((sentence[:aside.start()] + ".", s + aside.start(), False))
    return out


def _hn_sentence(unit: StoryUnit) -> str:
    """A Hacker News item is its title and its discussion, not its description: the title links
    the article (the story), "discussion on Hacker News" the thread, when the feed gave one."""
    points, comments = unit.item.signals.get("points"), unit.item.signals.get("comments")
    counts = [f"{points:,} points" if points else "", f"{comments:,} comments" if comments else ""]
    said = " and ".join(c for c in counts if c)
    title = unit.item.title.replace('"', "'")
    thread = thread_of(unit)
    if thread:
        where = _link(f"discussion on {source_kind(unit.item.source_kind).forum}", thread)
        return f'"{_link(title, unit.item.url)}", ' + (f"with {said} in the {where}." if said else f"with a {where}.")
    return f'"{_link(title, unit.item.url)}"' + (f", with {said} on Hacker News." if said else ".")


def thread_of(unit: StoryUnit) -> str:
    """The discussion thread an item of a forum's kind links to, beside its article ("" when
    the feed recorded none, or the thread is the item itself, as for an "Ask HN")."""
    thread = discussion(unit.item.signals) if source_kind(unit.item.source_kind).forum else ""
    return thread if thread and thread != unit.item.url else ""


def _coverage_link(unit: StoryUnit, linked: str) -> str:
    """How "It was also covered by …" links a unit: its source's name to the item, or for a
    forum's item its discussion (and the article, when the paragraph does not link it yet)."""
    thread = thread_of(unit)
    if not thread and source_kind(unit.item.source_kind).forum:
        # a front page linking the very article told: its name and its points, not a second link to it
        points = unit.item.signals.get("points")
        counted = f"{points:,} points" if isinstance(points, int) and points else ""
        if f"]({unit.item.url})" in linked or unit.item.url in linked:
            return f"{unit.item.source_name} ({counted})" if counted else unit.item.source_name
        article = _link("the article", unit.item.url)
        return f"{unit.item.source_name} ({article}, {counted})" if counted else f"{unit.item.source_name} ({article})"
    if not thread:
        return _link(unit.item.source_name, unit.item.url)
    where = "a " + _link(f"discussion on {source_kind(unit.item.source_kind).forum}", thread)
    return where if f"]({unit.item.url})" in linked else f"{_link('an article', unit.item.url)} with {where}"


def clock_heading(title: str, source: str, sentence: str = "") -> str:
    """A watch-list item's subheading: the specific thing its sentence says is coming ("Gemini 3.5
    Pro", "Claude Code"), else its story's subject, else its source."""
    runs = sorted(_name_runs(sentence, sentence), key=lambda r: (-r[0], r[1])) if sentence else []
    runs = [r for r in runs if "/" not in r[2] and words(r[2]) <= 5]
    if runs and runs[0][0] >= 2.0 and runs[0][2].casefold() not in title.casefold():
        return runs[0][2]  # a version the headline does not name: "Gemini 3.5 Pro" under "Gemini 3.5 Flash launch"
    text = " ".join(title.split()).rstrip(".:")
    if 0 < words(text) <= 8 and ":" not in text and not re.search(r"[(\[]", text):
        return title_case(text)
    if runs and runs[0][0] >= 1.5:
        return runs[0][2]
    return subject(title) or source


def _link(source: str, url: str) -> str:
    return f"[{source.replace('[', '(').replace(']', ')')}]({url})"


def _citation(unit: StoryUnit) -> Citation:
    return Citation(url=unit.item.url, source=unit.item.source_name, item_id=unit.item.id)


def same_event(lead: StoryUnit, other: StoryUnit) -> bool:
    """Whether ``other`` tells the lead's event (a link to it, or a specific name of its title),
    not merely sits in a digest that mentions everything."""
    if lead.item.canonical_url and any(lead.item.canonical_url in (link.url, link.url.rstrip("/"))
                                       for link in other.links):
        return True
    if other.item.canonical_url and any(other.item.canonical_url in (link.url, link.url.rstrip("/"))
                                        for link in lead.links):
        return True
    if shared(entities(lead.title or lead.content[:200]), entities(other.content[:1500])):
        return True
    # A story-sized unit that the event layer joined tells the event; a whole digest post that
    # mentions everything does not, unless it links the lead or names it.
    return not (other.id.endswith(":0") and source_kind(other.item.source_kind).digest and len(other.text) > 1500)


def coverage(story: Story) -> list[StoryUnit]:
    """The story's units from other sources that tell the lead's event."""
    lead = story.lead
    return [u for u in story.units[1:] if u.item.source_id != lead.item.source_id and same_event(lead, u)]


_TITLE_WORD = re.compile(r"[A-Za-z][\w-]{3,}")


def tellers(story: Story) -> list[StoryUnit]:
    """The coverage that can tell a post which has only its title: units that use the title's own
    words (two or more of them, the field's common names aside), the closest first."""
    lead = story.lead
    wanted = {w.lower() for w in _TITLE_WORD.findall(lead.item.title or lead.title)} - FIELD_NAMES - GENERIC
    scored = []
    for n, unit in enumerate(coverage(story)):
        head = unit.content[:600].lower()
        hits = sum(1 for w in wanted if w in head)
        if hits >= min(2, len(wanted)):
            scored.append((-hits, n, unit))
    return [unit for _hits, _n, unit in sorted(scored, key=lambda x: (x[0], x[1]))]


def lede_first(sections: tuple[tuple[Story, ...], ...], top: Story | None) -> list[tuple[Story, ...]]:
    """The plan's sections with the lede's story first in the first section."""
    out = list(sections)
    at = next((i for i, section in enumerate(out) if any(s is top for s in section)), -1)
    if top is None or at < 0 or (at == 0 and out[0][0] is top):
        return out
    section = out.pop(at)
    out.insert(0, (top, *(s for s in section if s is not top)))
    return out


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
        # sentences the issue has printed, so none is said twice (the clocks' own sentences are theirs)
        self._told: list[str] = [c.finding.sentence for c in plan.clocks]
        self._lede_sentence = ""  # the story whose own sentence the lede is
        self._said_by: dict[str, int] = {}  # source name → paragraphs attributed to it so far
        self._taken: dict[str, str] = {}  # story id → its paragraph's one attribution, when the lede took the rest
        top = self._lede_story(plan)
        lede = self._lede(top) if top is not None else empty_lede(left_out=bool(plan.left_out))
        self._told = [t for t in self._told if t not in {c.finding.sentence for c in plan.clocks}]
        texts = {s.id: s.lead.text for section in plan.sections for s in section}
        told = [self._story_paragraphs(stories) for stories in lede_first(plan.sections, top)]
        briefs = [p for paragraphs in told for p in paragraphs if minor_brief(p) and p.story_id != lede.story_id]
        kept = [tuple(p for p in paragraphs if p not in briefs) for paragraphs in told]
        if len(briefs) >= 2 and sum(bool(k) for k in kept) + 1 + bool(plan.due) <= MAX_SECTIONS:
            # posts with nothing to tell but their titles: one short list at the end, not a line per section
            told = kept
        else:
            briefs = []
        sections = [section_of(paragraphs, texts) for paragraphs in told if paragraphs]
        if briefs:
            sections.append(Section(heading=IN_BRIEF, paragraphs=tuple(briefs)))
        if plan.due:
            sections.append(Section(heading="Clocks Coming Due", paragraphs=tuple(self._due(c) for c in plan.due)))
        clocks = tuple(self._clock(c) for c in plan.clocks) + tuple(self._running(c) for c in plan.running)
        draft = Draft(date=plan.date, title=f"{self.newsletter_name} {m}/{d}/{y}", tags=self.tags,
                      lede=lede, sections=tuple(sections), clocks=clocks)
        return with_short_note(draft, plan.short)

    def _lede_story(self, plan: Plan) -> Story | None:
        """The plan's lede when the issue can tell it; else the first story it can tell (the lede
        rests on the story's paragraph: a digest's bullet with no printable sentence has none)."""
        told, said = list(self._told), dict(self._said_by)
        try:
            for story in (plan.lede, *(s for section in plan.sections for s in section)):
                if story is not None and self._story(story, repeat_source=False) is not None:
                    return story
                self._told = list(told)
            return plan.lede
        finally:
            self._told, self._said_by = told, said

    def _lede(self, story: Story | None) -> Paragraph:
        """One whole sentence of the top story, with its actor: the source's own sentence when
        one fits (6–25 words, names someone, not the source's first person), else a brief."""
        if story is None:
            return empty_lede()
        unit = story.lead
        citation = _citation(unit)
        for teller in (unit, *tellers(story)):
            if source_kind(teller.item.source_kind).title_only:
                continue
            for s, e in body_spans(teller)[:4]:
                for sentence, end, whole in lede_candidates(teller.item.text, s, e, link_labels(teller)):
                    n = prose.words(sentence)
                    if (MIN_LEDE_WORDS <= n <= MAX_LEDE_WORDS and prose.printable(sentence)
                            and not prose.first_person(sentence) and "@" not in sentence
                            and has_actor(sentence)):
                        # a whole sentence is said; an opening clause leaves its sentence to the paragraph
                        self._told.append(teller.item.text[s:e] if whole else sentence)
                        if teller is unit:
                            self._lede_sentence = story.id
                        return Paragraph((Sentence(sentence, citations=(_citation(teller),),
                                                   span=(teller.item.id, s, end)),), story_id=story.id, kind="lede")
        fits = [text for text in (brief(unit), brief(unit, plain=True))
                if MIN_LEDE_WORDS <= prose.words(text) <= MAX_LEDE_WORDS
                and printable_brief(text)]
        text = fits[0] if fits else f"Today's top story comes from {unit.item.source_name}."
        self._told.append(text)
        return Paragraph((Sentence(text, citations=(citation,), role="source"),), story_id=story.id, kind="lede")

    def _story_paragraphs(self, stories: tuple[Story, ...]) -> tuple[Paragraph, ...]:
        out: list[Paragraph] = []
        told_items: set[int] = set()
        last: StoryUnit | None = None
        run = 0  # paragraphs in a row that follow one digest theme
        for story in stories:
            lead = story.lead
            # the digest goes on about one theme, or about the same named thing ("Artificial Analysis
            # reports Gemini 3.5 Flash …", then "Artificial Analysis gave the strongest balanced take …")
            same = (last is not None and last.item.id == lead.item.id and source_kind(lead.item.source_kind).digest
                    and ((bool(lead.theme) and last.theme == lead.theme)
                         or bool(shared(specific(last.title), specific(lead.title)))
                         or _same_opening_name(last.title, lead.title)))
            paragraph = self._story(story, repeat_source=lead.item.id in told_items, follows=run + 1 if same else 0)
            told_items.add(lead.item.id)
            if paragraph is None:
                continue
            alone = self._taken.get(out[-1].story_id or "") if out else None
            if out and last is not None and source_kind(lead.item.source_kind).title_only \
                    and last.item.source_id == lead.item.source_id and len(paragraph.sentences) == 2 \
                    and len(out[-1].sentences) >= 2 and out[-1].sentences[-1].role == "source" \
                    and [x.role for x in paragraph.sentences] == ["attribution", "source"]:
                # one front page's links in a row: one paragraph, "Hacker News pointed to:" said once
                out[-1] = replace(out[-1], sentences=out[-1].sentences + paragraph.sentences[1:],
                                  also=(*out[-1].also, story.id))
                last = lead
                continue
            if same and out and paragraph.sentences[0].role == "attribution" and \
                    all(s.role == "source" for s in paragraph.sentences[1:]):
                # the digest goes on about one theme: one paragraph, its attribution said once
                before = out[-1]
                head = list(before.sentences)
                at = next((i for i, x in enumerate(head) if x.text == alone), -1)
                if at >= 0:  # "AINews reported it." goes on: "AINews reported: <the theme's next story>"
                    head[at:at + 1] = [replace(head[at], text=head[at].text.removesuffix(" it.") + ":"),
                                       *paragraph.sentences[1:]]
                else:
                    head.extend(paragraph.sentences[1:])
                out[-1] = replace(before, sentences=tuple(head), also=(*before.also, story.id))
            else:
                out.append(paragraph)
            run = run + 1 if same else 0
            last = lead
        return tuple(out)

    def _told_subject(self, title: str, day: str) -> str:
        """How the callback names the earlier story: in the earlier issue's own words (its title,
        else the name the heading gave it), or "the story"."""
        earlier = self.earlier(day)
        found = told_as(title, earlier)
        if not found:
            name = subject(title)
            fits = bool(name) and (words(name) >= 2 or bool(specific(name)))
            found = name if fits and name.casefold() in earlier.casefold() else ""
        return f'"{found}", ' if found else "the story "

    def _body(self, unit: StoryUnit, citation: Citation) -> list[Sentence]:
        """The unit's most informative whole sentences; a source's first person is quoted."""
        if source_kind(unit.item.source_kind).title_only:
            return [Sentence(_hn_sentence(unit), citations=(citation,))]
        text = unit.item.text
        labels = link_labels(unit)
        spans = body_spans(unit)
        picked = prose.pick(spans, text, told=self._told, max_words=MAX_STORY_WORDS, labels=labels)
        body = []
        if spans and picked and picked[0] != spans[0]:
            # the story's opening sentence could not be printed (a handle in it): its opening clause
            # still says what the rest is about ("The most urgent story was the Mini Shai-Hulud attack.")
            s, e = spans[0]
            at = text.rfind(unit.title, unit.start, s) if unit.title else -1
            options = [(c, end) for c, end, whole in lede_candidates(text, s, e, labels) if not whole]
            if at >= 0 and prose.sentence_like(unit.title) and not text[at + len(unit.title):s].strip(" :—–-"):
                options.insert(0, (unit.title.rstrip(" .:") + ".", at + len(unit.title.rstrip(" .:"))))
                s = at  # a bold lead that opens the sentence: "The most urgent story was …: @handle reported …"
            for clause, end in options:
                if prose.printable(clause) and "@" not in clause and not prose.repeats(clause, self._told):
                    self._told.append(clause)
                    body.append(Sentence(clause, citations=(citation,), span=(unit.item.id, s, end)))
                    break
        for s, e in picked:
            sentence = prose.without_credits(text[s:e], labels)  # the source's words, less a digest's trailing handles
            if sentence != text[s:e]:
                e = s + len(sentence) - 1  # the span holds the words kept; the closing period is ours
            self._told.append(sentence)
            shown = prose.quoted(sentence) if prose.first_person(sentence) else sentence
            body.append(Sentence(shown, citations=(citation,), span=(unit.item.id, s, e)))
        return body

    def _told_by(self, story: Story) -> tuple[list[Sentence], StoryUnit]:
        """The story's sentences and the unit they come from: its lead's, or for a post with only a
        title, the first coverage of the same event that has some."""
        unit = story.lead
        body = self._body(unit, _citation(unit))
        if not body:
            for other in tellers(story):
                body = self._body(other, _citation(other))
                if body:
                    return body, other
        return body, unit

    def _story(self, story: Story, repeat_source: bool, follows: int = 0) -> Paragraph | None:
        """The story's paragraph (None when nothing of it can be told). ``follows``: how many
        paragraphs before it told the same digest theme; this one reads as the newsletter going on."""
        unit = story.lead
        citation = _citation(unit)
        body, teller = self._told_by(story)
        # the lede took the one sentence the story had: the paragraph names where it comes from
        # (and a digest's next paragraph on the theme goes on from there) rather than say it twice
        taken = not body and self._lede_sentence == story.id
        parts: list[Sentence] = []
        previous = story.previous
        if story.status == "update" and previous is not None and previous.told_in:
            link = self.issue_link(previous.told_in)
            subject = self._told_subject(previous.title, previous.told_in)
            parts.append(Sentence(f"Following up on {subject}discussed here on "
                                  f"[{long_date(previous.told_in)}]({link}):",
                                  citations=(Citation(url=link, source=self.newsletter_name,
                                                      issue_date=previous.told_in),), role="callback"))
        if taken:
            alone = f"{_link(unit.item.source_name, unit.item.url)} {source_kind(unit.item.source_kind).verb} it."
            self._taken[story.id] = alone
            parts.append(Sentence(alone, citations=(citation,), role="attribution"))
        elif not body and not unit.id.endswith(":0"):
            return None  # a digest's bullet with no sentence fit to print: its bold lead alone says too little
        elif teller is not unit or not body:
            text = brief(unit)  # a post with only a title still names who made the news
            if text in self._told:  # the lede said it: the paragraph points at the post instead
                parts.append(Sentence(f"{_link(unit.item.source_name, unit.item.url)} has the announcement.",
                                      citations=(citation,), role="attribution"))
            elif (printable_brief(text)
                  and (teller is not unit or not prose.repeats(unit.item.title, self._told))):
                self._told.append(text)
                parts.append(Sentence(linked_brief(unit, text), citations=(citation,), role="source"))
            elif not body:
                return None
        if body:
            verb = source_kind(teller.item.source_kind).verb
            if teller.kind == "community":
                verb = "recapped a forum thread"
            elif (any(sentence.text.startswith("“") for sentence in body)
                  and not source_kind(teller.item.source_kind).spoken):
                verb = "wrote"
            also = " also" if repeat_source and teller is unit else ""
            said = self._said_by.get(teller.item.source_name, 0)
            self._said_by[teller.item.source_name] = said + 1
            if verb == "reported" and said:
                # a digest told again and again: its attribution varies rather than drum "also reported"
                also, verb = ("", AGAIN[(said - 2) % len(AGAIN)]) if said >= 2 else (" also", verb)
            # the source's name links its item, unless the body links it already (a Hacker News title)
            named = (teller.item.source_name if any(f"]({teller.item.url})" in s.text for s in body)
                     else _link(teller.item.source_name, teller.item.url))
            if follows and teller is unit and not parts and source_kind(unit.item.source_kind).digest:
                name, verb = FOLLOW_ON[min(follows, len(FOLLOW_ON)) - 1]
                named, also = _link(name, unit.item.url), ""
            parts.append(Sentence(f"{named}{also} {verb}:",
                                  citations=(_citation(teller),), role="attribution"))
            parts.extend(body)
        seen: dict[str, StoryUnit] = {}
        for other in coverage(story):
            if other is not teller and other.item.source_id != teller.item.source_id:
                seen.setdefault(other.item.source_name, other)
        if seen:
            linked, links = " ".join(p.text for p in parts), []
            for u in list(seen.values())[:3]:
                links.append(_coverage_link(u, linked))
                linked += " " + links[-1]
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
        following = [(s, e) for s, e in body_spans(unit)
                     if s >= finding.end and prose.printable(unit.item.text[s:e])][:1]
        for s, e in following:
            sentences.append(Sentence(unit.item.text[s:e], citations=(citation,), span=(unit.item.id, s, e)))
        # a clock quoted from a story's coverage is headed by what that unit is about
        title = clock.story.title if unit is clock.story.lead else unit.title or clock.story.title
        return ClockEntry(heading=clock_heading(title, unit.item.source_name, finding.sentence),
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
        return ClockEntry(heading=clock_heading(clock.title, clock.source, clock.sentence),
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


def _same_opening_name(a: str, b: str) -> bool:
    """Two headlines that open on the same name of two or more words ("Artificial Analysis …")."""
    first, second = (re.match(r"(?:[A-Z][\w.&'’-]*\s){1,3}[A-Z][\w.&'’-]*", t) for t in (a, b))
    return first is not None and second is not None and first.group(0) == second.group(0)


def strip_links(markdown: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
