"""``Draft`` → the Markdown of ``issues/DATE.md`` (DEV-ready, with front matter)."""

from __future__ import annotations

import json

from lll.text import spell_number
from lll.write.model import Draft

DISCLOSURE = "Automated draft from LLL"
CLOCKS_SUFFIX = "Clocks Worth Watching"


def clocks_heading(n: int) -> str:
    """"Four Clocks Worth Watching"; "One Clock Worth Watching"."""
    return f"{spell_number(n)} {CLOCKS_SUFFIX}" if n != 1 else "One Clock Worth Watching"


def render_markdown(draft: Draft) -> str:
    lines = [
        "---",
        f"title: {json.dumps(draft.title, ensure_ascii=False)}",
        "published: false",
        f"tags: {', '.join(draft.tags)}",
        f"description: {json.dumps(draft.lede.markdown, ensure_ascii=False)}",
        "---",
        "",
        DISCLOSURE,
        "",
        draft.lede.markdown,
        "",
    ]
    if draft.note:
        lines += [f"*{draft.note}*", ""]
    for section in draft.sections:
        lines += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph.markdown, ""]
    if draft.clocks:
        lines += [f"## {clocks_heading(len(draft.clocks))}", ""]
        for clock in draft.clocks:
            lines += [f"### {clock.heading}", "", clock.paragraph.markdown, ""]
    return "\n".join(lines).rstrip() + "\n"
