"""A loopback server speaking Anthropic's messages protocol (streamed, as ``llm-anthropic``
always asks), answering from a ``ScriptedModel``. Point the SDK at it with
``ANTHROPIC_BASE_URL``."""

from __future__ import annotations

import json
from typing import Any

from fakes._http import Hang as HttpHang
from fakes._http import ModelServer, Reply, json_reply
from fakes.scripted import Garbage, Good, Hang, ScriptedModel, Status


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


class AnthropicServer(ModelServer):
    """``POST /v1/messages``: structured output as a text block (``output_config``) or as the
    ``output_structured_data`` tool call, whichever the request asks for."""

    def __init__(self, model: ScriptedModel | None = None) -> None:
        super().__init__(model or ScriptedModel())

    @property
    def base(self) -> str:
        return self.server.base

    def _handle(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply | HttpHang:
        if not path.split("?")[0].rstrip("/").endswith("/v1/messages"):
            return json_reply(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
        self.requests.append(body)
        system = _text(body.get("system"))
        user = "\n".join(_text(m.get("content")) for m in body.get("messages", []))
        tools = [t for t in body.get("tools") or [] if t.get("name") == "output_structured_data"]
        schema = ((body.get("output_config") or {}).get("format") or {}).get("schema") or \
            (tools[0]["input_schema"] if tools else None)
        call, outcome, text = self.model.respond(body.get("model", ""), system, user, schema)
        if isinstance(outcome, Hang):
            return HttpHang(outcome.seconds)
        if isinstance(outcome, Status):
            return json_reply(outcome.code, {"type": "error", "error": {"type": "api_error",
                                                                         "message": f"scripted {outcome.code}"}},
                              outcome.headers)
        assert isinstance(outcome, (Good, Garbage))
        message = {"id": f"msg_{call.n}", "type": "message", "role": "assistant", "model": body.get("model", ""),
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": call.tokens_in, "output_tokens": 0}}
        events = [_event("message_start", {"type": "message_start", "message": message})]
        if tools and isinstance(outcome, Good):
            block = {"type": "tool_use", "id": "toolu_1", "name": "output_structured_data", "input": {}}
            delta = {"type": "input_json_delta", "partial_json": text}
        else:
            block = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": text}
        events += [
            _event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            _event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            _event("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": "tool_use" if tools else "end_turn",
                                               "stop_sequence": None},
                                     "usage": {"output_tokens": call.tokens_out}}),
            _event("message_stop", {"type": "message_stop"}),
        ]
        return Reply(200, "".join(events).encode(), {"Content-Type": "text/event-stream"})
