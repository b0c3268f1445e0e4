"""A loopback server speaking OpenAI's chat-completions protocol, answering from a
``ScriptedModel``. Point ``llm`` at it with ``extra-openai-models.yaml`` (``write_models_yaml``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fakes._http import Hang as HttpHang
from fakes._http import ModelServer, Reply, json_reply
from fakes.scripted import Garbage, Good, Hang, ScriptedModel, Status


def _content(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


class OpenAIServer(ModelServer):
    """``POST /v1/chat/completions`` (non-streamed and streamed)."""

    def __init__(self, model: ScriptedModel | None = None) -> None:
        super().__init__(model or ScriptedModel())

    @property
    def base(self) -> str:
        return f"{self.server.base}/v1"

    def _handle(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply | HttpHang:
        if not path.rstrip("/").endswith("/chat/completions"):
            return json_reply(404, {"error": {"message": f"no route {path}"}})
        self.requests.append(body)
        messages = body.get("messages", [])
        system = "\n".join(_content(m) for m in messages if m.get("role") == "system")
        user = "\n".join(_content(m) for m in messages if m.get("role") != "system")
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        call, outcome, text = self.model.respond(body.get("model", ""), system, user, schema)
        if isinstance(outcome, Hang):
            return HttpHang(outcome.seconds)
        if isinstance(outcome, Status):
            return json_reply(outcome.code, {"error": {"message": f"scripted {outcome.code}", "type": "scripted"}},
                              outcome.headers)
        assert isinstance(outcome, (Good, Garbage))
        usage = {"prompt_tokens": call.tokens_in, "completion_tokens": call.tokens_out,
                 "total_tokens": call.tokens_in + call.tokens_out}
        if body.get("stream"):
            return self._stream(body, text, usage)
        return json_reply(200, {
            "id": f"chatcmpl-{call.n}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage})

    def _stream(self, body: dict[str, Any], text: str, usage: dict[str, int]) -> Reply:
        base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "")}
        chunks = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": text},
                                       "finish_reason": None}]),
                  dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]),
                  dict(base, choices=[], usage=usage)]
        data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Reply(200, data.encode(), {"Content-Type": "text/event-stream"})


def write_models_yaml(folder: Path, base: str, names: list[str]) -> Path:
    """``extra-openai-models.yaml`` in ``folder`` (use it as ``LLM_USER_PATH``): each name a
    model served by the fake server, with structured output."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in names:
        lines += [f"- model_id: {name}", f"  model_name: {name}", f"  api_base: {base}", "  supports_schema: true"]
    path = folder / "extra-openai-models.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
