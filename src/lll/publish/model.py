"""What publishers take and give: a frozen ``PublishableIssue`` and a ``Receipt``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any

from lll.errors import LLLError, PublishError
from lll.publish.render import Anchor, render_html, render_text

_RELATIVE_ISSUE_LINK = re.compile(r"\]\((\d{4}-\d{2}-\d{2})\.md\)")
_RELATIVE_ISSUE_CALLBACK = re.compile(r"\[([^\]]*)\]\(\d{4}-\d{2}-\d{2}\.md\)")
_TAG_CHARS = re.compile(r"[^a-z0-9]")

#: Ledger states that mean "the target holds this content" (nothing to do if the hash matches).
DONE_STATES = frozenset({"draft", "public", "sent", "published"})


@dataclass(frozen=True)
class PublishableIssue:
    """One verified issue, ready for any target. ``body_markdown`` has no front matter."""

    date: str
    title: str
    tags: tuple[str, ...]
    description: str
    body_markdown: str
    html: str
    text: str
    content_hash: str
    url: str = ""  # the issue's archive page, when [newsletter] base_url is set
    anchors: tuple[Anchor, ...] = ()
    newsletter: str = ""

    @property
    def marker(self) -> str:
        """A hidden line that identifies the issue on a target that keeps Markdown."""
        return f"<!-- lll-issue: {self.date} -->"


@dataclass(frozen=True)
class Receipt:
    """What one publish did. Never carries a key."""

    target: str
    date: str
    action: str  # created | updated | unchanged | adopted | sent | would create | would update | ...
    state: str  # the ledger state after it: draft | public | sent | partial | published | failed | unclear
    remote_id: str = ""
    url: str = ""
    content_hash: str = ""
    message: str = ""
    dry_run: bool = False
    details: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)  # what the ledger keeps for the next run

    @property
    def ok(self) -> bool:
        return self.state not in ("failed", "partial", "unclear")

    def summary_line(self) -> str:
        where = f" {self.remote_id}" if self.remote_id else ""
        url = f" <{self.url}>" if self.url else ""
        note = f": {self.message}" if self.message else ""
        prefix = "dry run: " if self.dry_run else ""
        return f"{prefix}{self.target} {self.date}: {self.action}{where}{url} [{self.state}]{note}"


def devto_tags(tags: tuple[str, ...] | list[str], limit: int = 4) -> tuple[str, ...]:
    """DEV's rule: at most 4 tags, each lowercase alphanumeric (hyphens and spaces are
    rejected too, so they are removed, never replaced), at most 20 characters."""
    out: list[str] = []
    for tag in tags:
        clean = _TAG_CHARS.sub("", str(tag).lower())[:20]
        if clean and clean not in out:
            out.append(clean)
    return tuple(out[:limit])


def content_hash(title: str, tags: tuple[str, ...], description: str, body: str) -> str:
    payload = json.dumps({"title": title, "tags": list(tags), "description": description, "body": body},
                         ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def split_markdown(markdown: str) -> tuple[dict[str, str], str]:
    """(front matter, body). Quoted values are JSON strings, as the drafter writes them."""
    front: dict[str, str] = {}
    body = markdown
    lines = markdown.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if not sep:
                    continue
                value = value.strip()
                if value.startswith('"'):
                    try:
                        value = str(json.loads(value))
                    except ValueError:
                        value = value.strip('"')
                front[key.strip()] = value
            body = "\n".join(lines[end + 1:])
    body = body.strip("\n") + "\n"
    # A body that starts with a rule would be read as front matter by DEV and refused by Buttondown.
    if body.lstrip().startswith("---"):
        body = "***" + body.lstrip()[3:]
    return front, body


def issue_url(base_url: str, day: str) -> str:
    return f"{base_url.rstrip('/')}/{day}.html" if base_url else ""


def _story_map(data: Mapping[str, Any]) -> dict[str, str]:
    """Paragraph Markdown → story id, from ``issues/DATE.json``."""
    found: dict[str, str] = {}
    paragraphs = [p for s in data.get("sections", []) for p in s.get("paragraphs", [])]
    paragraphs += [c.get("paragraph", {}) for c in data.get("clocks", [])]
    for p in paragraphs:
        if p.get("story_id") and p.get("markdown"):
            found.setdefault(p["markdown"], p["story_id"])
    return found


def load_issue(issues_dir: Path, day: str, *, base_url: str = "", newsletter: str = "",
               markdown: str | None = None, document: dict[str, Any] | None = None) -> PublishableIssue:
    """Build the issue of ``day`` from its text (possibly edited by hand) and provenance (story
    ids for anchors; optional): ``markdown`` and ``document`` when given (the database's, through
    ``lll.issues.Issues``), else ``issues/DAY.md`` and ``issues/DAY.json``."""
    try:
        Date.fromisoformat(day)
    except ValueError as exc:
        raise LLLError(f"{day!r} is not a date: use YYYY-MM-DD") from exc
    md_path = issues_dir / f"{day}.md"
    if markdown is None:
        if not md_path.exists():
            raise PublishError(f"no draft for {day} ({md_path} is missing): run `lll draft --date {day}` first")
        markdown = md_path.read_text(encoding="utf-8")
    front, body = split_markdown(markdown)
    if base_url:
        body = _RELATIVE_ISSUE_LINK.sub(lambda m: f"]({issue_url(base_url, m.group(1))})", body)
    else:  # no archive to point at: "discussed here on May 19" stays, unlinked, rather than a dead link
        body = _RELATIVE_ISSUE_CALLBACK.sub(r"\1", body)
    data: dict[str, Any] = dict(document) if document is not None else {}
    json_path = issues_dir / f"{day}.json"
    if document is None and json_path.exists():
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except ValueError:
            data = {}
    title = front.get("title") or str(data.get("title", "")) or f"{newsletter} {day}".strip()
    tags = tuple(t.strip() for t in front.get("tags", ",".join(data.get("tags", []))).split(",") if t.strip())
    description = front.get("description", "")
    lede = str(data.get("lede", {}).get("markdown", "")) or description
    rendered = render_html(body, _story_map(data), lede=lede)
    return PublishableIssue(
        date=day, title=title, tags=tags, description=description, body_markdown=body, html=rendered.html,
        text=render_text(body), content_hash=content_hash(title, tags, description, body),
        url=issue_url(base_url, day), anchors=rendered.anchors, newsletter=newsletter)
