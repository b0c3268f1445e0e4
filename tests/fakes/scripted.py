"""The scripted model behind the fake servers.

It answers LLL's prompts the way a careful model would, from the input alone: fact cards
made of the sources' own sentences, an issue composed from the cards, repairs that put
the source's sentence back. Tests script what goes wrong, per task (``fact_card``,
``compose``, ``repair``, ``judge``): an HTTP status, a hang, garbage, or a change to the
good answer. Every request is logged with the tokens it was charged, counted the same
way for the reply the server sends, so a test can check LLL's accounting to the token.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lll.text import sentences
from lll.verify.claims import claims
from lll.write.offline import short_title

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """The fake tokenizer: words and punctuation marks."""
    return len(_TOKEN.findall(text))


@dataclass
class Status:
    """Answer with this HTTP status (and headers)."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Garbage:
    """A 200 whose content is not the JSON asked for."""

    text: str = "Sure! Here is the issue you asked for: {not json"


@dataclass
class Hang:
    seconds: float = 30.0


@dataclass
class Good:
    """The scripted model's own answer, optionally changed by ``mutate(answer, input)``."""

    mutate: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None


Outcome = Status | Garbage | Hang | Good


@dataclass
class Call:
    n: int
    task: str
    model: str
    system: str
    user: str
    schema: dict[str, Any] | None
    tokens_in: int
    tokens_out: int = 0
    status: int = 200
    text: str = ""


def prompt_input(user: str) -> dict[str, Any]:
    match = re.search(r"```json\n(.*?)\n```", user, re.S)
    if not match:
        return {}
    try:
        return json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}


class ScriptedModel:
    """Answers by task; ``script(task, *outcomes)`` queues what the next calls of a task get."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.queues: dict[str, list[Outcome]] = {}
        self.always: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    # -- scripting ---------------------------------------------------------------------------

    def script(self, task: str, *outcomes: Outcome) -> None:
        self.queues.setdefault(task, []).extend(outcomes)

    def every(self, task: str, outcome: Outcome) -> None:
        """Every call of ``task`` (``*`` for all) gets ``outcome`` after its queue runs out."""
        self.always[task] = outcome

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.queues.clear()
            self.always.clear()

    # -- answering ---------------------------------------------------------------------------

    def respond(self, model: str, system: str, user: str, schema: dict[str, Any] | None) -> tuple[Call, Outcome, str]:
        """(the logged call, what to do, the text to send when it is a 200)."""
        data = prompt_input(user)
        task = str(data.get("task", "other"))
        with self._lock:
            queue = self.queues.get(task) or []
            outcome = queue.pop(0) if queue else self.always.get(task) or self.always.get("*") or Good()
            call = Call(len(self.calls) + 1, task, model, system, user, schema, count_tokens(system) + count_tokens(user))
            self.calls.append(call)
        text = ""
        if isinstance(outcome, Good):
            answer = BRAINS.get(task, lambda d: {})(data)
            if outcome.mutate:
                answer = outcome.mutate(answer, data)
            text = json.dumps(answer, ensure_ascii=False)
        elif isinstance(outcome, Garbage):
            text = outcome.text
        if isinstance(outcome, (Good, Garbage)):
            call.text = text
            call.tokens_out = count_tokens(text)
        else:
            call.status = outcome.code if isinstance(outcome, Status) else 0
            call.tokens_in = 0  # nothing is charged for a failed request
        return call, outcome, text

    def charged(self) -> tuple[int, int]:
        """(tokens in, tokens out) of every answered request."""
        ok = [c for c in self.calls if c.status == 200]
        return sum(c.tokens_in for c in ok), sum(c.tokens_out for c in ok)

    def tasks(self) -> list[str]:
        return [c.task for c in self.calls]


# -- the brains: what a careful model would answer -------------------------------------------


def _clause(sentence: str, value: str) -> str:
    """The shortest clause of ``sentence`` (cut at , ; : and dashes) that holds ``value``."""
    parts = [p.strip() for p in re.split(r"[,;:]\s+|\s+[—–-]\s+", sentence)]
    holding = [p for p in parts if value in p and len(p.split()) >= 3]
    return min(holding, key=len) if holding else sentence


def _card(data: dict[str, Any]) -> dict[str, Any]:
    source = (data.get("sources") or [{}])[0]
    found = [s for s in sentences(source.get("text", "")) if len(s.split()) >= 6]
    what = " ".join((found[0] if found else data.get("title", "")).split()[:30])
    figures, dates = [], []
    for sentence in found[:10]:
        for claim in claims(sentence):
            if claim.kind == "figure" and len(figures) < 4 and not re.fullmatch(r"\d", claim.text):
                figures.append({"value": claim.text, "source_span": _clause(sentence, claim.text)})
            elif claim.kind == "date" and len(dates) < 3:
                dates.append({"value": claim.text, "source_span": _clause(sentence, claim.text)})
    who = list(dict.fromkeys(c.text for c in claims(what)[1:] if c.kind == "name"))[:5]
    why = next((s for s in found[1:] if len(s.split()) <= 25), "")
    return {"who": who, "what": what, "figures": figures, "dates": dates, "why_it_matters": why}


def _compose(data: dict[str, Any]) -> dict[str, Any]:
    stories = {s["id"]: s for section in data.get("sections", []) for s in section}
    lede = stories.get(data.get("lede_story") or "")
    lede_text = (f"{short_title(lede['title'], limit=14)}, {lede['sources'][0]['name']} reports."
                 if lede else "Today's news.")
    sections = []
    for section in data.get("sections", []):
        paragraphs = []
        for story in section:
            card, source = story["card"], story["sources"][0]
            what = card.get("what", story["title"])
            link = f"[{source['name']}]({source['url']})"
            if story.get("same_item"):
                link = f"[The same source]({source['url']}) also"
            first = {"text": f"{link} reported: {what}", "kind": "report"}
            if story.get("callback"):
                cb = story["callback"]
                first = {"text": f"Following up on the story discussed here on [{cb['date']}]({cb['url']}), "
                                 f"{link} reported: {what}", "kind": "callback"}
            spans = list(dict.fromkeys(f["source_span"] for f in card.get("figures", [])
                                       if f["source_span"] not in what))[:2]
            more = [{"text": "The figures: " + "; ".join(spans) + ".", "kind": "report"}] if spans else []
            why = card.get("why_it_matters", "")
            analysis = [{"text": why, "kind": "analysis"}] if why and why != what else []
            paragraphs.append({"story": story["id"], "sentences": [first, *more, *analysis]})
        titles = [short_title(s["title"], limit=5) for s in section[:2]]
        sections.append({"heading": " and ".join(titles), "paragraphs": paragraphs})
    clocks = [{"story": c["story"], "heading": short_title(c["title"], limit=6),
               "sentences": [{"text": f"[{c['source']['name']}]({c['source']['url']}) noted: {c['sentence']}",
                              "kind": "report"}]} for c in data.get("clocks", [])]
    return {"lede": lede_text, "sections": sections, "clocks": clocks}


_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def _repair(data: dict[str, Any]) -> dict[str, Any]:
    fixes = []
    for item in data.get("items", []):
        text, problems = item["text"], " ".join(item["problems"])
        allowed = item.get("allowed_links") or []
        if "link" in problems and allowed:
            text = _LINK.sub(lambda m, ok=allowed: m.group(0) if m.group(2) in ok else f"[{m.group(1)}]({ok[0]})",
                             text)
        elif item["part"] == "sentence" and item.get("closest_source_sentence"):
            text = item["closest_source_sentence"]
        fixes.append({"id": item["id"], "text": text, "drop": False})
    return {"fixes": fixes}


BRAINS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "fact_card": _card,
    "compose": _compose,
    "repair": _repair,
    "judge": lambda data: {"flags": []},
    "one_prompt": lambda data: {"issue": ""},  # the benchmark's baseline counts its prompt, not its prose
}


# -- mutations a test can ask for ------------------------------------------------------------


def wrong_figure(answer: dict[str, Any], _input: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add 7 to the first figure of the first paragraph that has one (83.1% -> 90.1%)."""
    for section in answer["sections"]:
        for paragraph in section["paragraphs"]:
            for sentence in paragraph["sentences"]:
                if sentence.get("kind") == "callback":
                    continue  # its number is a date ("April 9"), not a figure
                text = sentence["text"]
                urls = [m.span(2) for m in _LINK.finditer(text)]
                for match in re.finditer(r"(?<![\w.])\d+(?=[\d.,]*%|\b)", text):
                    if any(a <= match.start() < b for a, b in urls):
                        continue
                    sentence["text"] = text[:match.start()] + str(int(match.group(0)) + 7) + text[match.end():]
                    WRONG.append((match.group(0), str(int(match.group(0)) + 7), sentence["text"]))
                    return answer
    raise AssertionError("no figure to change")


WRONG: list[tuple[str, str, str]] = []  # (figure, wrong figure, the sentence) of every wrong_figure


def invented_url(answer: dict[str, Any], _input: dict[str, Any] | None = None) -> dict[str, Any]:
    """Point the first link of the second paragraph at a URL nobody fetched."""
    paragraphs = [p for s in answer["sections"] for p in s["paragraphs"]]
    target = paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]
    sentence = target["sentences"][0]
    sentence["text"] = _LINK.sub(lambda m: f"[{m.group(1)}](https://invented.example.com/scoop)", sentence["text"],
                                 count=1)
    return answer


def stubborn(answer: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A repair that gives every rejected text back unchanged."""
    return {"fixes": [{"id": item["id"], "text": item["text"], "drop": False} for item in data.get("items", [])]}


def flag_first(answer: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A judge that flags the first sentence it was shown."""
    first = data["stories"][0]["sentences"][0]
    return {"flags": [{"id": first["id"], "reason": "stronger than the card"}]}
