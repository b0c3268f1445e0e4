"""The one interface LLL owns over simonw's ``llm``: a model chosen by name, called with
LLL's timeout, retries and accounting.

``open_model("gpt-4o-mini")`` finds the model through ``llm`` (its OpenAI models, any
OpenAI-compatible server listed in ``extra-openai-models.yaml`` in ``llm``'s folder
(``$LLM_USER_PATH``), and plugins such as ``llm-anthropic`` and ``llm-ollama``), checks
that its key is there (environment or ``llm keys``) and says in one line how to fix it
when it is not. ``complete`` makes one call: structured output through a JSON schema when
the model supports it, a timeout on every attempt, retries with exponential backoff on
429, 5xx, timeouts and dropped connections (``Retry-After`` honoured), and the tokens the
provider reported. The SDKs' own retries are turned off so that LLL's are the only ones.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lll.llm.errors import MissingKeyError, ModelCallError, ModelOutputError, ModelSetupError, ModelTimeout

LOCAL_MODULES = ("llm_ollama", "llm_gguf", "llm_llama", "lll.llm.local")
RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_ANTHROPIC_PATCH = threading.Lock()


@dataclass(frozen=True)
class ModelReply:
    text: str
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    seconds: float
    attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float = 60.0
    retries: int = 2
    backoff: float = 1.0
    max_backoff: float = 30.0


class _Deadline(Exception):
    """The whole call outlived its deadline (a backstop for plugins without a timeout)."""


def open_model(name: str, policy: RetryPolicy | None = None,
               sleep: Callable[[float], None] = time.sleep) -> LLMModel:
    """The model called ``name`` (a model id or alias known to ``llm``, or ``gguf:PATH``)."""
    if name.startswith("gguf:"):
        from lll.llm.local import gguf_model

        return LLMModel(name, gguf_model(name[5:]), policy or RetryPolicy(), sleep)
    import llm

    try:
        model = llm.get_model(name)
    except llm.UnknownModelError as exc:
        raise ModelSetupError(
            f"unknown model {name!r}: `llm models` lists the models installed; an OpenAI-compatible server "
            f"goes in extra-openai-models.yaml in `llm`'s folder ($LLM_USER_PATH), other providers come "
            f"from plugins (`llm install llm-anthropic`, `llm install llm-ollama`)", model=name) from exc
    wrapped = LLMModel(name, model, policy or RetryPolicy(), sleep)
    wrapped.check_key()
    return wrapped


class LLMModel:
    """A model with LLL's timeout, retries and token accounting."""

    def __init__(self, name: str, model: Any, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep):
        self.name = name
        self.model = model
        self.policy = policy
        self._sleep = sleep
        self._bound_openai_client()

    @property
    def model_id(self) -> str:
        return str(getattr(self.model, "model_id", self.name))

    @property
    def local(self) -> bool:
        return type(self.model).__module__.startswith(LOCAL_MODULES)

    @property
    def supports_schema(self) -> bool:
        return bool(getattr(self.model, "supports_schema", False))

    def _key_fix(self) -> tuple[str | None, str]:
        return getattr(self.model, "key_env_var", None), str(getattr(self.model, "needs_key", "") or "")

    def check_key(self) -> None:
        """Raise ``MissingKeyError`` (one line naming the fix) when the key is nowhere."""
        env_var, key_name = self._key_fix()
        if not key_name:
            return
        import llm

        if not llm.get_key(alias=key_name, env=env_var):
            raise MissingKeyError(self.name, env_var, key_name)

    def _bound_openai_client(self) -> None:
        """``llm``'s OpenAI models build a client per call: give it LLL's timeout and no retries."""
        original = getattr(self.model, "get_client", None)
        if original is None or not type(self.model).__module__.startswith("llm.default_plugins.openai"):
            return
        timeout = self.policy.timeout

        def get_client(key: Any, *, async_: bool = False) -> Any:
            return original(key, async_=async_).with_options(timeout=timeout, max_retries=0)

        self.model.get_client = get_client

    @contextlib.contextmanager
    def _bounded_anthropic(self) -> Iterator[None]:
        """``llm-anthropic`` builds ``anthropic.Anthropic(...)`` inside ``execute``; while LLL
        calls it, that name gives a client with LLL's timeout and no retries of its own."""
        if not type(self.model).__module__.startswith("llm_anthropic"):
            yield
            return
        import anthropic
        import llm_anthropic

        with _ANTHROPIC_PATCH:
            original = llm_anthropic.Anthropic
            llm_anthropic.Anthropic = functools.partial(anthropic.Anthropic, timeout=self.policy.timeout,
                                                        max_retries=0)
            try:
                yield
            finally:
                llm_anthropic.Anthropic = original

    def complete(self, system: str, prompt: str, *, schema: dict[str, Any] | None = None,
                 max_tokens: int | None = None) -> ModelReply:
        """One answer, retried on 429, 5xx, timeouts and dropped connections."""
        attempts = 1 + max(0, self.policy.retries)
        started = time.perf_counter()
        for attempt in range(1, attempts + 1):
            try:
                text, usage = self._once(system, prompt, schema, max_tokens)
            except Exception as exc:  # noqa: BLE001 - every failure is translated below
                error, wait = self._translate(exc, attempt)
                if wait is None or attempt == attempts:
                    raise error from exc
                self._sleep(wait)
                continue
            return ModelReply(text=text, tokens_in=usage[0], tokens_out=usage[1], cached_tokens=usage[2],
                              seconds=time.perf_counter() - started, attempts=attempt)
        raise AssertionError("unreachable")

    # -- one attempt -------------------------------------------------------------------------

    def _once(self, system: str, prompt: str, schema: dict[str, Any] | None,
              max_tokens: int | None) -> tuple[str, tuple[int, int, int]]:
        options: dict[str, Any] = {}
        if max_tokens and "max_tokens" in getattr(getattr(self.model, "Options", None), "model_fields", {}):
            options["max_tokens"] = max_tokens
        kwargs: dict[str, Any] = {"system": system or None, "stream": False, **options}
        if schema is not None and self.supports_schema:
            kwargs["schema"] = schema
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                with self._bounded_anthropic():
                    response = self.model.prompt(prompt, **kwargs)
                    text = response.text()
                    if not text.strip() and response.tool_calls():
                        text = json.dumps(response.tool_calls()[0].arguments)
                    result["text"] = text
                    result["usage"] = response.usage()
                    result["raw"] = response.response_json
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                result["error"] = exc

        worker = threading.Thread(target=run, name=f"lll-model-{self.name}", daemon=True)
        worker.start()
        worker.join(self.policy.timeout * 2 + 5)
        if worker.is_alive():
            raise _Deadline(f"no answer in {self.policy.timeout * 2 + 5:.0f} s")
        if "error" in result:
            raise result["error"]
        _check_finish(result.get("raw"), self.name)
        return result["text"], _tokens(result["usage"], system, prompt, result["text"])

    def _translate(self, exc: BaseException, attempt: int) -> tuple[Exception, float | None]:
        """(LLL error, seconds to wait before retrying or None when not worth retrying)."""
        import llm

        status = getattr(exc, "status_code", None)
        names = {c.__name__ for c in type(exc).__mro__}
        if isinstance(exc, (ModelOutputError, ModelSetupError)):
            return exc, None
        if isinstance(exc, llm.errors.NeedsKeyException):
            env_var, key_name = self._key_fix()
            return MissingKeyError(self.name, env_var, key_name or "KEYNAME"), None
        if status in (401, 403):
            env_var, key_name = self._key_fix()
            fix = f"check {env_var} or `llm keys set {key_name}`" if env_var else "check the server's key"
            return ModelSetupError(f"{self.name}: the provider refused the key (HTTP {status}): {fix}",
                                   model=self.name), None
        if isinstance(status, int):
            error = ModelCallError(f"{self.name}: HTTP {status} after {attempt} attempt(s)", model=self.name,
                                   status=status, attempts=attempt)
            return error, self._wait(exc, attempt) if status in RETRY_STATUSES else None
        if isinstance(exc, _Deadline) or any("Timeout" in n for n in names):
            return ModelTimeout(f"{self.name}: no answer within {self.policy.timeout:g} s, "
                                f"{attempt} attempt(s)", model=self.name, attempts=attempt), self._wait(exc, attempt)
        if "APIConnectionError" in names or isinstance(exc, (ConnectionError, OSError)):
            return ModelCallError(f"{self.name}: cannot connect ({exc}) after {attempt} attempt(s)",
                                  model=self.name, attempts=attempt), self._wait(exc, attempt)
        if isinstance(exc, llm.ModelError):
            return ModelOutputError(f"{self.name} declined: {exc}", model=self.name), None
        return ModelCallError(f"{self.name}: {type(exc).__name__}: {exc}", model=self.name, attempts=attempt), None

    def _wait(self, exc: BaseException, attempt: int) -> float:
        response = getattr(exc, "response", None)
        header = response.headers.get("retry-after") if response is not None else None
        try:
            if header is not None:
                return min(max(float(str(header)), 0.0), self.policy.max_backoff)
        except ValueError:
            pass
        return min(self.policy.backoff * 2.0 ** (attempt - 1), self.policy.max_backoff)


def _check_finish(raw: Any, name: str) -> None:
    """A reply cut off at its token limit is not an answer."""
    if not isinstance(raw, dict):
        return
    reason = raw.get("stop_reason")
    choices = raw.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason", reason)
        message = choices[0].get("message") or {}
        if isinstance(message, dict) and message.get("refusal"):
            raise ModelOutputError(f"{name} declined: {message['refusal']}", model=name)
    if reason in ("length", "max_tokens"):
        raise ModelOutputError(f"{name}: the reply was cut off at its token limit", model=name)


def _tokens(usage: Any, system: str, prompt: str, text: str) -> tuple[int, int, int]:
    """(in, out, cached) as the provider reported them; estimated (4 characters a token)
    only for a model that reports nothing."""
    details = (usage.details or {}) if usage is not None else {}
    cached = int((details.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0)
    cache_read = int(details.get("cache_read_input_tokens", 0) or 0)
    tokens_in = usage.input if usage is not None and usage.input is not None else (len(system) + len(prompt)) // 4
    tokens_out = usage.output if usage is not None and usage.output is not None else len(text) // 4
    return int(tokens_in) + cache_read, int(tokens_out), cached + cache_read
