"""The model layer's errors, under ``LLLError``::

    LLLError
    └── ModelError                 a model could not give LLL what it asked for
        ├── ModelSetupError        unknown model, missing key, key refused: the user must act (exit 2)
        │   └── MissingKeyError    one line naming the env var or the `llm keys set` command
        ├── ModelCallError         the call failed after LLL's retries (429, 5xx, connection)
        │   └── ModelTimeout       no answer within the timeout, after LLL's retries
        ├── ModelOutputError       the reply is not the JSON asked for (garbage, truncated, refused)
        └── BudgetExceeded         the next call could cross the budget, so it was not made

Only ``ModelSetupError`` stops a draft. The others cost the issue its prose, never its
truth: the writer falls back to the offline writer for what the model could not write.
"""

from __future__ import annotations

from lll.errors import LLLError


class ModelError(LLLError):
    """A model could not give LLL what it asked for."""

    def __init__(self, message: str, *, model: str = "") -> None:
        super().__init__(message)
        self.model = model


class ModelSetupError(ModelError):
    """The model cannot be used as configured; the message says what to do."""


class MissingKeyError(ModelSetupError):
    """The model needs an API key that is neither in the environment nor in `llm keys`."""

    def __init__(self, model: str, env_var: str | None, key_name: str) -> None:
        fix = f"set {env_var} or run `llm keys set {key_name}`" if env_var else f"run `llm keys set {key_name}`"
        super().__init__(f"model {model} needs an API key: {fix}", model=model)
        self.env_var = env_var
        self.key_name = key_name


class ModelCallError(ModelError):
    """The call failed after LLL's retries."""

    def __init__(self, message: str, *, model: str = "", status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message, model=model)
        self.status = status
        self.attempts = attempts


class ModelTimeout(ModelCallError):
    """No answer within the timeout, after LLL's retries."""


class ModelOutputError(ModelError):
    """The reply is not what was asked for: not JSON, not the schema, truncated or refused."""


class BudgetExceeded(ModelError):
    """The next call could take the draft past its budget, so it was not made."""

    def __init__(self, message: str, *, model: str = "", spent: float = 0.0, cap: float = 0.0) -> None:
        super().__init__(message, model=model)
        self.spent = spent
        self.cap = cap
