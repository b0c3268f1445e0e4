"""The verifier: every figure, date, quoted phrase and name of each paragraph is
found in the items that paragraph cites; every link is a URL LLL fetched (or one the
fetched feed recorded on an item the same paragraph cites: its discussion thread); the
issue has the anatomy of ``issue-format.md``. Works on a ``Draft`` and on a
Markdown file edited by hand alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lll.text import NUMBER_WORDS, sentences, words
from lll.verify.claims import Evidence, EvidenceIndex, claims, links, strip_links

Resolver = Callable[[str], "Evidence | None"]
_TAG = re.compile(r"^[a-z0-9]+$")
_CLOCKS = re.compile(r"^(?P<n>\w+) Clocks? Worth Watching$")


@dataclass(frozen=True)
class Block:
    """A checkable piece: a heading, the lede or a paragraph, with its sentences."""

    where: str
    kind: str  # lede | heading | paragraph
    sentences: tuple[str, ...]
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    where: str
    sentence: str
    claim: str
    kind: str  # figure | date | quote | name | link | structure
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    failures: tuple[Failure, ...]
    claims_checked: int
    paragraphs: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        return [f"{f.where}: {f.reason} — in: {f.sentence[:160]}" for f in self.failures]


@dataclass(frozen=True)
class ParsedIssue:
    front: dict[str, str]
    body: list[str]


def split_front_matter(markdown: str) -> ParsedIssue:
    lines = markdown.splitlines()
    front: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, _, value = line.partition(":")
                front[key.strip()] = value.strip().strip('"')
            lines = lines[end + 1:]
    return ParsedIssue(front, lines)


def looks_like_issue(markdown: str) -> bool:
    """An issue's Markdown, however edited, keeps its front matter's title or the disclosure line;
    a text with neither is some other file."""
    parsed = split_front_matter(markdown)
    return "title" in parsed.front or any(line.strip().strip("*_ ") == "Automated draft from LLL"
                                          for line in parsed.body)


def markdown_blocks(markdown: str) -> tuple[ParsedIssue, list[tuple[str, str]]]:
    """(kind, text) blocks: ``h2``, ``h3`` or ``p``, in order."""
    parsed = split_front_matter(markdown)
    blocks: list[tuple[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", " ".join(line.strip() for line in para)))
            para.clear()

    for line in parsed.body:
        stripped = line.strip()
        if stripped.startswith("### "):
            flush()
            blocks.append(("h3", stripped[4:].strip()))
        elif stripped.startswith(("## ", "# ")):
            flush()
            blocks.append(("h2", stripped.lstrip("#").strip()))
        elif not stripped:
            flush()
        else:
            para.append(stripped)
    flush()
    return parsed, blocks


def blocks_from_markdown(markdown: str) -> list[Block]:
    """The checkable blocks of an issue. Headings are checked against the links of the
    paragraphs under them; the lede against every link of the issue."""
    _parsed, raw = markdown_blocks(markdown)
    out: list[Block] = []
    all_links = tuple(u for kind, text in raw if kind == "p" for u in links(text))
    body = [b for b in raw if not (b[0] == "p" and b[1].strip("*_ ") == "Automated draft from LLL")]
    lede_done = False
    section = 0
    for i, (kind, text) in enumerate(body):
        if kind == "p" and _is_note(text):
            continue
        if kind == "p" and not lede_done:
            out.append(Block("lede", "lede", (text,), all_links))
            lede_done = True
        elif kind in ("h2", "h3"):
            section += kind == "h2"
            if _CLOCKS.match(text):
                continue
            under: list[str] = []
            for later_kind, later in body[i + 1:]:
                if later_kind == "h2" or (kind == "h3" and later_kind == "h3"):
                    break
                if later_kind == "p":
                    under += links(later)
            out.append(Block(f"heading “{text}”", "heading", (text,), tuple(under)))
        elif kind == "p":
            count = sum(1 for b in out if b.kind == "paragraph") + 1
            out.append(Block(f"section {section}, paragraph {count}", "paragraph",
                             tuple(sentences(text)) or (text,), tuple(links(text))))
    return out


def _is_note(text: str) -> bool:
    """The italic line that says an issue is short."""
    return text.startswith("*") and text.endswith("*") and "short issue" in text.lower()


def check_structure(markdown: str, newsletter_name: str | None = None) -> list[Failure]:
    """The anatomy of issue-format.md: title, tags, disclosure, lede, sections, clocks."""
    parsed, raw = markdown_blocks(markdown)
    problems: list[str] = []
    title = parsed.front.get("title", "")
    if not re.search(r"\d{2}/\d{2}/\d{4}$", title):
        problems.append(f"title {title!r} does not end with the issue date MM/DD/YYYY")
    elif newsletter_name and not title.startswith(newsletter_name):
        problems.append(f"title {title!r} does not start with the newsletter name {newsletter_name!r}")
    tags = [t.strip() for t in parsed.front.get("tags", "").split(",") if t.strip()]
    if not 1 <= len(tags) <= 4 or not all(_TAG.match(t) for t in tags):
        problems.append(f"tags {tags} must be 1 to 4 lowercase alphanumeric words")
    if parsed.front.get("published", "false") != "false":
        problems.append("front matter must say published: false (a person publishes)")
    paragraphs = [text for kind, text in raw if kind == "p" and not _is_note(text)]
    if not paragraphs or paragraphs[0].strip("*_ ") != "Automated draft from LLL":
        problems.append("the first line of the body must be the disclosure “Automated draft from LLL”")
    lede = paragraphs[1] if len(paragraphs) > 1 else ""
    if not lede or len(sentences(lede)) != 1 or words(lede) > 30:
        problems.append("the lede must be one sentence of at most ~25 words")
    short = any(_is_note(text) for kind, text in raw if kind == "p")
    h2 = [text for kind, text in raw if kind == "h2"]
    clocks = [i for i, text in enumerate(h2) if _CLOCKS.match(text)]
    themed = len(h2) - len(clocks)
    if not short and not 2 <= themed <= 5:
        problems.append(f"{themed} themed sections: an issue has 2 to 5 (or says it is a short issue)")
    if clocks:
        if clocks[-1] != len(h2) - 1:
            problems.append("the clocks list must be the last section")
        start = next(i for i, (k, t) in enumerate(raw) if k == "h2" and t == h2[clocks[-1]])
        n_items = sum(1 for k, _ in raw[start + 1:] if k == "h3")
        word = _CLOCKS.match(h2[clocks[-1]]).group("n")  # type: ignore[union-attr]
        if word not in NUMBER_WORDS or NUMBER_WORDS.index(word) != n_items:
            problems.append(f"the heading says {word} clocks but the section has {n_items}")
        if not 1 <= n_items <= 5:
            problems.append(f"{n_items} clocks: the watch list has 1 to 5")
    return [Failure("structure", "", "", "structure", p) for p in problems]


def _display_name_words(sentence: str, display_names: frozenset[str]) -> set[str]:
    """Words of the sources' display names that stand, whole, in ``sentence``: the writer's own
    attribution ("Today's top story comes from Claude Code Changelog") names the source, and
    that is no claim about the story. Only the whole display name counts, never a word of it alone."""
    found: set[str] = set()
    for name in display_names:
        if name and name in sentence:
            found.update(re.findall(r"[\w&'’-]+", name))
    return found


def verify_blocks(blocks: Sequence[Block], resolve: Resolver, names: frozenset[str] = frozenset(),
                  display_names: frozenset[str] = frozenset()) -> VerifyReport:
    failures: list[Failure] = []
    checked = 0
    cache: dict[str, Evidence | None] = {}

    def evidence_for(urls: Sequence[str]) -> tuple[list[Evidence], list[str]]:
        found: list[Evidence] = []
        missing: list[str] = []
        for url in dict.fromkeys(urls):
            if url not in cache:
                cache[url] = resolve(url)
            evidence = cache[url]
            if evidence is not None:
                found.append(evidence)
            else:
                missing.append(url)
        return found, missing

    for block in blocks:
        found, missing = evidence_for(block.links)
        # A URL recorded on an item the paragraph cites (its discussion thread) is that item's own.
        recorded = {u for e in found for u in e.recorded}
        missing = [u for u in missing if u not in recorded]
        if block.kind == "paragraph":
            for url in missing:
                sentence = next((s for s in block.sentences if url in links(s)),
                                next((s for s in block.sentences if url in s), block.sentences[0]))
                failures.append(Failure(block.where, sentence, url, "link", f"link {url} is not a URL LLL fetched"))
        index = EvidenceIndex(found, names | frozenset(e.source for e in found))
        for sentence in block.sentences:
            named = _display_name_words(strip_links(sentence), display_names) if display_names else set()
            for claim in claims(sentence):
                if claim.kind == "name" and claim.text in named:
                    continue
                checked += 1
                reason = index.supports(claim)
                if reason:
                    failures.append(Failure(block.where, sentence, claim.text, claim.kind, reason))
    return VerifyReport(tuple(failures), checked, sum(b.kind == "paragraph" for b in blocks))


def verify_markdown(markdown: str, resolve: Resolver, *, names: frozenset[str] = frozenset(),
                    newsletter_name: str | None = None, display_names: frozenset[str] = frozenset()) -> VerifyReport:
    """Verify an issue's Markdown (drafted or edited by hand). ``display_names`` are the
    sources' names as the writer's attribution uses them."""
    blocks = blocks_from_markdown(markdown)
    report = verify_blocks(blocks, resolve, names, display_names)
    structure = check_structure(markdown, newsletter_name)
    loose = unfetched_links(markdown, blocks, resolve)
    return VerifyReport(tuple(structure) + report.failures + tuple(loose), report.claims_checked,
                        report.paragraphs)


def unfetched_links(markdown: str, blocks: Sequence[Block], resolve: Resolver) -> list[Failure]:
    """Links of the whole issue that no block carries (a reference link whose definition is in
    another paragraph, a link in a heading or the clocks list) and that LLL did not fetch."""
    body = "\n".join(split_front_matter(markdown).body)
    carried = {u for b in blocks if b.kind == "paragraph" for u in b.links}
    failures = []
    for url in dict.fromkeys(links(body)):
        if url not in carried and resolve(url) is None:
            failures.append(Failure("links", url, url, "link", f"link {url} is not a URL LLL fetched"))
    return failures
