"""A draft as data: paragraphs made of sentences, each sentence knowing what it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Citation:
    """An item (or an earlier issue) that a sentence rests on."""

    url: str
    source: str
    item_id: int | None = None
    issue_date: str | None = None


@dataclass(frozen=True)
class Sentence:
    """Markdown text; ``span`` = (item id, start, end) of the source words it copies, if any."""

    text: str
    citations: tuple[Citation, ...] = ()
    span: tuple[int, int, int] | None = None
    role: str = "source"  # source | attribution | callback | analysis


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[Sentence, ...]
    story_id: str = ""
    kind: str = "story"  # story | clock | revisit | note
    title: str = ""  # the story's title, for headings made from the paragraphs under them
    also: tuple[str, ...] = ()  # stories told further on in this paragraph (a digest going on about one theme)

    @property
    def markdown(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def citations(self) -> tuple[Citation, ...]:
        seen: dict[str, Citation] = {}
        for sentence in self.sentences:
            for citation in sentence.citations:
                seen.setdefault(citation.url, citation)
        return tuple(seen.values())

    def without(self, texts: set[str]) -> Paragraph | None:
        """The paragraph minus the given sentences; None when no source sentence is left."""
        kept = tuple(s for s in self.sentences if s.text not in texts)
        if not any(s.role == "source" for s in kept):
            return None
        return replace(self, sentences=kept)


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class ClockEntry:
    heading: str
    paragraph: Paragraph
    due: str
    phrase: str
    precision: str
    story_id: str
    item_id: int
    sentence: str


@dataclass(frozen=True)
class Draft:
    date: str
    title: str
    tags: tuple[str, ...]
    lede: Paragraph
    sections: tuple[Section, ...]
    clocks: tuple[ClockEntry, ...]
    note: str = ""
    dropped: tuple[str, ...] = field(default_factory=tuple)
