"""Prompt templates: versioned files in ``lll/prompts/``, not strings in code.

A template is Markdown with a small front matter and two parts::

    ---
    name: fact_card
    version: 2
    ---
    ## system
    You turn one news story into a fact card ...
    ## user
    ... {{input}} ...

``{{input}}`` becomes the call's input as compact JSON (keys sorted, so the same input
gives the same bytes). The version and a digest of the file are part of every cache
key: editing a prompt retires the cached answers it produced.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from lll.llm.errors import ModelSetupError

_PART = re.compile(r"^## (system|user)\s*$", re.M)
PLACEHOLDER = "{{input}}"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    system: str
    user: str
    digest: str  # of the file's bytes

    @property
    def id(self) -> str:
        """``fact_card@2``: what the call log records."""
        return f"{self.name}@{self.version}"

    @property
    def cache_version(self) -> str:
        return f"{self.name}@{self.version}#{self.digest}"

    def render(self, inputs: dict[str, Any]) -> tuple[str, str]:
        """(system, user) with the input in place."""
        return self.system, self.user.replace(PLACEHOLDER, dump(inputs))


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_template(text: str, fallback_name: str = "") -> PromptTemplate:
    front: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        head, _, body = text[4:].partition("\n---\n")
        for line in head.splitlines():
            key, _, value = line.partition(":")
            front[key.strip()] = value.strip()
    parts = _PART.split(body)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    name = front.get("name", fallback_name)
    if "version" not in front or "user" not in sections or PLACEHOLDER not in sections["user"]:
        raise ModelSetupError(f"prompt {name!r} needs a version in its front matter, a '## user' part "
                              f"and {PLACEHOLDER} in it")
    return PromptTemplate(name=name, version=front["version"], system=sections.get("system", ""),
                          user=sections["user"], digest=hashlib.sha256(text.encode()).hexdigest()[:12])


@cache
def load_prompt(name: str) -> PromptTemplate:
    """The packaged template ``lll/prompts/NAME.md``."""
    try:
        text = (resources.files("lll") / "prompts" / f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelSetupError(f"no prompt template {name!r} in lll/prompts/") from exc
    return parse_template(text, name)


def packaged_prompts() -> list[str]:
    folder = resources.files("lll") / "prompts"
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".md"))
