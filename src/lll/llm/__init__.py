"""Language models for LLL, through simonw's ``llm`` and its plugins.

The public surface: ``open_model`` (a model by name, with LLL's timeout, retries and key
check), ``ModelSession`` (the roles of one draft behind one budget, one content-hash cache
and one call log), ``open_session``/``ModelChoice`` (from ``lll.toml`` and the command
line), the price table and budget (``cost``), versioned prompts (``prompts``) and the
errors (``errors``). The writer that uses them is ``lll.write.llm_writer``.
"""

from lll.llm.cost import Budget, CostReport, PriceTable
from lll.llm.errors import (
                            BudgetExceeded,
                            MissingKeyError,
                            ModelCallError,
                            ModelError,
                            ModelOutputError,
                            ModelSetupError,
                            ModelTimeout,
)
from lll.llm.models import LLMModel, ModelReply, RetryPolicy, open_model
from lll.llm.prompts import PromptTemplate, load_prompt
from lll.llm.session import ModelSession
from lll.llm.setup import ModelChoice, open_session, resolve_roles

__all__ = [
    "Budget", "BudgetExceeded", "CostReport", "LLMModel", "MissingKeyError", "ModelCallError", "ModelChoice",
    "ModelError", "ModelOutputError", "ModelReply", "ModelSession", "ModelSetupError", "ModelTimeout", "PriceTable",
    "PromptTemplate", "RetryPolicy", "load_prompt", "open_model", "open_session", "resolve_roles",
]
