"""Podcast transcripts (Podcasting 2.0 ``podcast:transcript``) to plain text.

Handles WebVTT, SRT, the Podcasting 2.0 JSON format, HTML and plain text. Cue
timings and numbers are dropped; consecutive cues of one speaker are joined into
one paragraph that starts with ``Speaker:``.
"""

from __future__ import annotations

import html
import json
import re

from lll.parse.html import html_to_text, tidy_text

_TIMING = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->")
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_SPEAKER = re.compile(r"^([A-Z][\w .'-]{0,40}):\s+(.*)$")


def _paragraphs(cues: list[tuple[str, str]]) -> str:
    """Join (speaker, text) cues: one paragraph per change of speaker."""
    paras: list[str] = []
    current, words = "", list[str]()
    for speaker, text in cues:
        if speaker != current and words:
            paras.append((f"{current}: " if current else "") + " ".join(words))
            words = []
        current = speaker
        words.append(text)
    if words:
        paras.append((f"{current}: " if current else "") + " ".join(words))
    return "\n\n".join(paras)


def _cue_blocks(body: str) -> list[tuple[str, str]]:
    cues: list[tuple[str, str]] = []
    for block in re.split(r"\n\s*\n", body.replace("\r\n", "\n")):
        lines = [ln for ln in block.strip().split("\n") if ln.strip()]
        if not lines or lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timed = [i for i, ln in enumerate(lines) if _TIMING.match(ln)]
        if not timed:
            continue
        text = " ".join(lines[timed[0] + 1 :])
        speaker = ""
        voice = _VOICE.search(text)
        if voice:
            speaker = voice.group(1).strip()
        text = tidy_text(html.unescape(_TAG.sub("", text)))
        named = _SPEAKER.match(text)
        if not speaker and named:
            speaker, text = named.group(1), named.group(2)
        if text:
            cues.append((speaker, text))
    return cues


def _json_transcript(body: str) -> str:
    data = json.loads(body)
    segments = data.get("segments", []) if isinstance(data, dict) else []
    cues = [
        (str(s.get("speaker", "")).strip(), tidy_text(str(s.get("body", ""))))
        for s in segments
        if isinstance(s, dict) and str(s.get("body", "")).strip()
    ]
    return _paragraphs(cues)


def transcript_to_text(body: str, content_type: str = "") -> str:
    """Plain text of a transcript, whatever its format (told by type, else sniffed)."""
    kind = content_type.split(";")[0].strip().lower()
    stripped = body.lstrip("\ufeff").strip()
    if kind in {"application/json", "application/x-json"} or stripped.startswith("{"):
        try:
            return _json_transcript(stripped)
        except (ValueError, AttributeError):
            pass
    if "-->" in stripped and (kind in {"text/vtt", "application/x-subrip", "application/srt", "text/srt"}
                              or stripped.startswith("WEBVTT") or re.match(r"^\d+\s*\n", stripped)):
        return _paragraphs(_cue_blocks(stripped))
    if kind == "text/html" or stripped.startswith("<"):
        return html_to_text(stripped)
    return tidy_text(stripped)
