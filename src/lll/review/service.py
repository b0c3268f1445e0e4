"""``Review``: what the review page does, as library calls.

    issues/DATE.md (+ .json provenance) → verify now → ``IssueView`` (article, cards, problems)
    editor's Markdown → ``save`` (atomic, previous text kept in issues/history/)
    editor's Markdown → ``approve``: verify → save → publish to the configured targets

Nothing here knows about HTTP. A draft that fails verification is never saved by
``approve`` and never published; ``save`` keeps whatever the editor wrote (it is their
work in progress) and the page keeps saying what fails until it is fixed.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lll.draft import Drafter
from lll.errors import LLLError, PublishSettingsError, VerificationError
from lll.memory import Records
from lll.newsletter import Newsletter
from lll.publish import Ledger, Publishing, Receipt, load_issue
from lll.publish.model import split_markdown
from lll.review.render import Article, ShownSentence, known_sentences, render_article
from lll.store import schema as t
from lll.urls import is_http_url
from lll.verify.claims import links, strip_links
from lll.verify.verifier import VerifyReport

MAX_MARKDOWN = 2_000_000  # characters; an issue is ~20,000
CONTEXT = 140  # characters of the item's text shown on each side of a span
ROLES = {"source": "The source's words", "attribution": "Attribution: names and links the source",
         "callback": "Callback to an earlier issue", "analysis": "Analysis: adds no fact of its own"}


class IssueNotFound(LLLError):
    """No drafted issue for that date."""


@dataclass(frozen=True)
class Quote:
    """The span of an item's text a sentence rests on, with a little of the text around it."""

    before: str
    span: str
    after: str


@dataclass(frozen=True)
class Cited:
    source: str
    title: str
    url: str  # http(s) only; anything else is dropped, never linked
    review_day: str = ""  # an earlier issue: its review page


@dataclass(frozen=True)
class Card:
    """What hovering or clicking a sentence shows."""

    sentence_id: str
    role: str
    edited: bool
    quote: Quote | None
    note: str
    cited: tuple[Cited, ...]
    problems: tuple[str, ...]

    @property
    def id(self) -> str:
        return "card-" + self.sentence_id


@dataclass(frozen=True)
class Problem:
    where: str
    reason: str
    sentence: str
    anchor: str  # the id of the sentence or heading that shows it; "" for the issue's structure


@dataclass(frozen=True)
class LeftOut:
    title: str
    source: str
    reason: str
    ranking: tuple[str, ...]


@dataclass(frozen=True)
class TargetState:
    target: str
    state: str  # a ledger state, or "not published"
    url: str
    error: str
    current: bool  # the target holds the text as saved now


@dataclass(frozen=True)
class IssueView:
    day: str
    title: str
    tags: tuple[str, ...]
    markdown: str
    saved: bool  # the text shown is the file's
    edited: bool  # the file differs from what `lll draft` wrote
    article: Article
    cards: tuple[Card, ...]
    report: VerifyReport
    problems: tuple[Problem, ...]
    left_out: tuple[LeftOut, ...]
    cost: str
    publications: tuple[TargetState, ...]
    targets: tuple[str, ...]

    @property
    def refusal(self) -> str:
        """Why Approve is not possible now ("" when it is)."""
        if not self.report.ok:
            return f"{len(self.report.failures)} problem(s) to fix first: a draft that fails verification " \
                   "is never published"
        if not self.targets:
            return "no publishing targets: set [publish] targets in lll.toml, or start `lll serve --to devto`"
        return ""


@dataclass(frozen=True)
class IssueSummary:
    day: str
    title: str
    problems: int
    edited: bool
    publications: tuple[TargetState, ...]


@dataclass(frozen=True)
class Saved:
    path: Path
    backup: Path | None  # where the previous text went; None when nothing changed
    changed: bool


@dataclass(frozen=True)
class Approval:
    day: str
    saved: Saved
    outcomes: tuple[Receipt | LLLError, ...]

    @property
    def ok(self) -> bool:
        return all(isinstance(o, Receipt) and o.ok for o in self.outcomes)


def clean_markdown(text: str) -> str:
    """The editor's text as a file holds it: browsers send textareas with CRLF."""
    if len(text) > MAX_MARKDOWN:
        raise LLLError(f"the Markdown is {len(text):,} characters; an issue is far shorter than "
                       f"{MAX_MARKDOWN:,}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n"


def cost_line(cost: Mapping[str, Any], writer: str) -> str:
    calls, usd = int(cost.get("model_calls") or 0), float(cost.get("usd") or 0.0)
    if not calls and not usd:
        return "offline, $0.00" if writer in ("", "offline") else f"$0.00 ({writer} writer, no model call)"
    cached = int(cost.get("cached_calls") or 0)
    tokens = f"{int(cost.get('tokens_in') or 0):,} tokens in, {int(cost.get('tokens_out') or 0):,} out"
    return (f"${usd:.4f} · {calls} model call(s){f' ({cached} cached)' if cached else ''} · {tokens} · "
            f"{writer} writer")


def _trim(text: str, keep: int, *, left: bool) -> str:
    """At most ``keep`` characters of ``text`` next to a span, cut at a space."""
    if len(text) <= keep:
        return text
    cut = text[-keep:] if left else text[:keep]
    cut = cut.split(" ", 1)[-1] if left else cut.rsplit(" ", 1)[0]
    return ("…" + cut) if left else (cut + "…")


def _grounds(prov: Mapping[str, Any], items: Mapping[Any, Any]) -> tuple[Quote | None, str, tuple[Cited, ...]]:
    """What a provenance sentence rests on: the quoted span (or why there is none) and its items."""
    cited = []
    for c in prov.get("citations", []):
        item = items.get(c.get("item_id"))
        if c.get("issue_date"):
            cited.append(Cited("this newsletter", f"the issue of {c['issue_date']}", "",
                               review_day=str(c["issue_date"])))
        elif item is not None:
            cited.append(Cited(item.source, item.title, item.url if is_http_url(item.url) else ""))
        else:
            url = str(c.get("url", ""))
            cited.append(Cited(str(c.get("source", "")), "", url if is_http_url(url) else ""))
    quote, note = None, ""
    span = prov.get("span") or {}
    if span:
        item = items.get(span.get("item_id"))
        start, end = int(span.get("start", 0)), int(span.get("end", 0))
        if item is None:
            note = "The item this sentence rests on is no longer in the database."
        elif not 0 <= start < end <= len(item.text):
            note = "The item's text has changed since the draft: the span no longer fits it."
        else:
            text = item.text
            quote = Quote(_trim(text[:start], CONTEXT, left=True), text[start:end],
                          _trim(text[end:], CONTEXT, left=False))
    elif prov.get("role", "source") == "source":
        note = "No single span: the claims are checked against the whole of the cited items."
    return quote, note, tuple(dict.fromkeys(cited))


class Review:
    """The review desk of one newsletter. ``targets``: where Approve publishes (default
    ``[publish] targets``); ``env``: where publishing keys are read (default ``os.environ``)."""

    def __init__(self, letter: Newsletter, *, targets: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.letter = letter
        self.targets = tuple(targets) if targets else tuple(letter.config.publish.targets)
        self.env = os.environ if env is None else env
        self.drafter = Drafter(letter)
        self.issues = self.drafter.issues
        self._write = threading.Lock()  # one save or approve at a time in this process
        self._checked: dict[tuple[str, str], int] = {}  # (day, text hash) → problems, for the index

    # -- reading ---------------------------------------------------------------------------

    @property
    def issues_dir(self) -> Path:
        return self.letter.workspace.issues_dir

    def path(self, day: str) -> Path:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(day)
            Date.fromisoformat(day)
        except ValueError as exc:
            raise LLLError(f"{day!r} is not a date: use YYYY-MM-DD") from exc
        if self.issues.current(day) is None:
            raise IssueNotFound(f"no draft for {day}: run `lll draft --date {day}` first")
        return self.issues.path(day)

    def days(self) -> list[str]:
        """Dates of the drafted issues, newest first (the database's, and files not yet taken in)."""
        return self.issues.days()

    def markdown(self, day: str) -> str:
        self.path(day)  # a date, with a draft
        return self.issues.current(day) or ""

    def provenance(self, day: str) -> dict[str, Any]:
        """The issue's provenance (``issues/DATE.json``); empty when missing or unreadable (a hand-made issue)."""
        try:
            return self.issues.document(day)
        except LLLError:
            return {}

    def check(self, markdown: str) -> VerifyReport:
        return self.drafter.verify_text(markdown)

    def summaries(self) -> list[IssueSummary]:
        records = Records(self.letter.store)
        out = []
        for day in self.days():
            text = self.markdown(day)
            digest = hashlib.sha256(text.encode()).hexdigest()
            if (day, digest) not in self._checked:
                self._checked[(day, digest)] = len(self.check(text).failures)
            row = records.issue(day)
            title = split_markdown(text)[0].get("title") or (row.title if row else day)
            out.append(IssueSummary(day=day, title=title, problems=self._checked[(day, digest)],
                                    edited=bool(row and row.content_hash and row.content_hash != digest),
                                    publications=self.publications(day)))
        return out

    def publications(self, day: str) -> tuple[TargetState, ...]:
        """Each target's state for this issue, from the publication ledger, configured targets first."""
        entries = {e.target: e for e in Ledger(self.letter.store).entries(day)}
        try:
            config = self.letter.config.newsletter
            current = load_issue(self.issues_dir, day, base_url=config.base_url, newsletter=config.name,
                                 markdown=self.markdown(day), document=self.provenance(day)).content_hash
        except LLLError:
            current = ""
        out = []
        for target in dict.fromkeys(self.targets + tuple(sorted(entries))):
            entry = entries.get(target)
            if entry is None:
                out.append(TargetState(target, "not published", "", "", False))
            else:
                url = entry.url if entry.url and is_http_url(entry.url) else ""
                out.append(TargetState(target, entry.state, url, entry.error or "",
                                       bool(current) and entry.done and entry.content_hash == current))
        return tuple(out)

    def view(self, day: str, markdown: str | None = None) -> IssueView:
        """The issue as the page shows it: the saved file, or the editor's unsaved ``markdown``."""
        saved_text = self.markdown(day)
        text = saved_text if markdown is None else clean_markdown(markdown)
        report = self.check(text)
        self._checked[(day, hashlib.sha256(text.encode()).hexdigest())] = len(report.failures)
        data = self.provenance(day)
        front, body = split_markdown(text)
        article = render_article(body, known_sentences(data), report.failures)
        problems = tuple(Problem(f.where, f.reason, f.sentence, article.anchors.get(n, ""))
                         for n, f in enumerate(report.failures))
        row = Records(self.letter.store).issue(day)
        drafted = row.content_hash if row else ""
        left_out = tuple(LeftOut(str(x.get("title", "")), str(x.get("source", "")), str(x.get("reason", "")),
                                 tuple(str(r) for r in x.get("ranking", [])))
                         for x in data.get("left_out", []) if isinstance(x, dict))
        return IssueView(
            day=day, title=front.get("title", day),
            tags=tuple(t.strip() for t in front.get("tags", "").split(",") if t.strip()),
            markdown=text, saved=text == saved_text,
            edited=bool(drafted) and hashlib.sha256(saved_text.encode()).hexdigest() != drafted,
            article=article, cards=self.cards(article.sentences), report=report, problems=problems,
            left_out=left_out, cost=cost_line(data.get("cost") or {}, str(data.get("writer", ""))),
            publications=self.publications(day), targets=self.targets)

    def cards(self, sentences: Sequence[ShownSentence]) -> tuple[Card, ...]:
        ids: set[int] = set()
        urls: set[str] = set()
        for s in sentences:
            if s.provenance is None:
                urls.update(links(s.markdown))
            for prov in (s.provenance, s.was):
                if prov is None:
                    continue
                ids.update(c.get("item_id") for c in prov.get("citations", []) if c.get("item_id"))
                span = prov.get("span") or {}
                if span.get("item_id"):
                    ids.add(span["item_id"])
        items, by_url = self._items(ids, urls)
        return tuple(self._card(s, items, by_url) for s in sentences)

    def _items(self, ids: set[int], urls: set[str]) -> tuple[dict[int, Any], dict[str, Any]]:
        columns = (t.items.c.id, t.items.c.title, t.items.c.url, t.items.c.text, t.sources.c.name.label("source"))
        query = sa.select(*columns).join(t.sources, t.sources.c.id == t.items.c.source_id)
        with self.letter.store.engine.connect() as conn:
            by_id = {r.id: r for r in conn.execute(query.where(t.items.c.id.in_(ids)))} if ids else {}
            # several items may share a URL: the earliest seen wins, on every store
            by_url = {r.url: r for r in conn.execute(query.where(t.items.c.url.in_(urls))
                                                     .order_by(t.items.c.first_seen_at.desc(), t.items.c.id.desc()))
                      } if urls else {}
        return by_id, by_url

    def _card(self, sentence: ShownSentence, items: Mapping[Any, Any], by_url: Mapping[str, Any]) -> Card:
        problems = tuple(f.reason for f in sentence.failures)
        if sentence.provenance is not None:
            role = str(sentence.provenance.get("role", "source"))
            quote, note, cited = _grounds(sentence.provenance, items)
            return Card(sentence.id, ROLES.get(role, role), False, quote, note, cited, problems)
        if sentence.was is not None:  # an edit of a drafted sentence: what that one rested on
            quote, _note, cited = _grounds(sentence.was, items)
            drafted = strip_links(str(sentence.was.get("text", ""))).strip()
            note = ("Edited. The draft had the source's own words, marked below." if quote and quote.span.strip()
                    == drafted else f"Edited from the draft's “{drafted}”")
            return Card(sentence.id, "Edited — not in provenance", True, quote, note, cited, problems)
        cited = tuple(dict.fromkeys(Cited(r.source, r.title, r.url if is_http_url(r.url) else "")
                                    for url in links(sentence.markdown) if (r := by_url.get(url))))
        return Card(sentence.id, "Edited — not in provenance", True, None,
                    "The verifier checks it against the links of its paragraph.", cited, problems)

    # -- writing ---------------------------------------------------------------------------

    def save(self, day: str, markdown: str) -> Saved:
        """Write the editor's text to ``issues/DATE.md`` (atomically); the previous text is
        kept in ``issues/history/DATE.STAMP.md``."""
        text = clean_markdown(markdown)
        with self._write:
            return self._save(day, text)

    def _save(self, day: str, text: str) -> Saved:
        self.path(day)  # a date, with a draft
        path, backup = self.issues.save_edit(day, text)  # the database, then the files
        return Saved(path, backup, backup is not None)

    def approve(self, day: str, markdown: str | None = None) -> Approval:
        """Verify the text (the editor's, or the saved file), save it, and publish it to every
        target. Raises ``VerificationError`` — nothing saved, nothing sent — when it fails.
        Approving twice sends nothing new: the publication ledger already holds it."""
        if not self.targets:
            raise PublishSettingsError("no publishing targets: set [publish] targets in lll.toml, "
                                       "or start `lll serve --to devto`")
        with self._write, self.letter.lock("review approve", wait=False):
            text = self.markdown(day) if markdown is None else clean_markdown(markdown)
            report = self.check(text)
            if not report.ok:
                raise VerificationError(f"the draft for {day} fails verification ({len(report.failures)} "
                                        f"problem(s): {'; '.join(report.lines()[:2])}); nothing was saved "
                                        "or published")
            saved = self._save(day, text)
            outcomes = Publishing(self.letter, env=self.env).publish_all(day, self.targets)
        return Approval(day, saved, tuple(outcomes))
